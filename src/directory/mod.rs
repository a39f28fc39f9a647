//! The account's directory: people and groups with the account's rules (lifecycle,
//! uniqueness, built-in groups), on top of the store.
//!
//! Invariant: every change goes through a `Store::write` job that also writes its audit
//! event; a failed request writes its failure event in the same way, with the change
//! itself rolled back.

pub mod audit;
mod groups;
mod list;
mod people;
mod render;
pub mod rules;
mod schema_info;

use keybridge_scim::ScimError;

pub use list::{ListPage, ListRequest};
pub use render::etag;

use crate::store::{Store, StoreError};

/// Who asked: the bearer token's name (for the audit log), or the local admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    pub fn admin() -> Actor {
        Actor("local admin".into())
    }
}

/// Settings of the account that change how requests are read.
#[derive(Debug, Clone, Default)]
pub struct AccountSettings {
    /// The 1Password profile: `externalId` is always the email's local part, whatever the
    /// identity provider sent.
    pub onepassword_compat: bool,
}

/// What can go wrong in a directory operation.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The request broke a protocol or account rule; already in SCIM form.
    #[error(transparent)]
    Rejected(#[from] ScimError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for DirectoryError {
    fn from(e: rusqlite::Error) -> Self {
        DirectoryError::Store(StoreError::Sqlite(e))
    }
}

impl DirectoryError {
    /// The SCIM error a client sees. Store failures become 500 without internals.
    pub fn to_scim(&self) -> ScimError {
        match self {
            DirectoryError::Rejected(e) => e.clone(),
            DirectoryError::Store(StoreError::Sqlite(e)) if is_busy(e) => {
                ScimError::new(503, None, "the directory is busy; retry the request")
            }
            DirectoryError::Store(_) => ScimError::new(
                500,
                None,
                "the directory could not complete the request; see the Keybridge log",
            ),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Preconditions a client may attach (`If-Match`).
#[derive(Debug, Clone, Default)]
pub struct Precondition {
    pub if_match: Option<String>,
}

/// The directory: cheap to clone.
#[derive(Clone)]
pub struct Directory {
    store: Store,
    settings: std::sync::Arc<std::sync::RwLock<AccountSettings>>,
}

impl Directory {
    /// Opens the directory on `store`, creating the built-in groups on first use.
    pub async fn open(store: Store) -> Result<Directory, DirectoryError> {
        let settings = store
            .read(|conn| -> Result<AccountSettings, DirectoryError> {
                let compat = crate::store::settings::get(conn, "onepassword_compat")?;
                Ok(AccountSettings {
                    onepassword_compat: compat.as_deref() == Some("true"),
                })
            })
            .await?;
        store.write(groups::ensure_builtin_groups).await?;
        Ok(Directory {
            store,
            settings: std::sync::Arc::new(std::sync::RwLock::new(settings)),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn settings(&self) -> AccountSettings {
        self.settings.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Turns the 1Password compatibility profile on or off (persisted).
    pub async fn set_onepassword_compat(&self, on: bool) -> Result<(), DirectoryError> {
        self.store
            .write(move |conn| -> Result<(), DirectoryError> {
                crate::store::settings::set(
                    conn,
                    "onepassword_compat",
                    if on { "true" } else { "false" },
                )?;
                Ok(())
            })
            .await?;
        if let Ok(mut s) = self.settings.write() {
            s.onepassword_compat = on;
        }
        Ok(())
    }
}

/// A new resource id. Time-ordered (UUID version 7) rather than random: the ids are keys
/// of two indexes (people or groups by id, events by resource), and random keys land each
/// insert on a different B-tree leaf, so every write dirtied (and had to log to the WAL)
/// pages that time-ordered keys share with the writes just before them. The time it
/// carries is already public as `meta.created`.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A required, non-empty text attribute (`userName`, a group's `displayName`), trimmed.
fn required_text(doc: &serde_json::Value, attr: &str) -> Result<String, ScimError> {
    match doc
        .get(attr)
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
    {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(ScimError::invalid_value(format!(
            "{attr} is required and cannot be empty"
        ))),
    }
}

/// Checks `If-Match` against the current version.
fn check_precondition(pre: &Precondition, version: i64) -> Result<(), ScimError> {
    let Some(if_match) = pre.if_match.as_deref() else {
        return Ok(());
    };
    let current = etag(version);
    let matches = if_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || weak_eq(tag, &current));
    if matches {
        Ok(())
    } else {
        Err(ScimError::precondition_failed(format!(
            "the resource has changed (its version is now {current}); read it again and retry"
        )))
    }
}

/// Weak comparison (RFC 7232 §2.3.2): `W/"3"` equals `"3"`.
fn weak_eq(a: &str, b: &str) -> bool {
    a.trim_start_matches("W/") == b.trim_start_matches("W/")
}

#[cfg(test)]
mod tests {
    use super::new_id;

    #[test]
    fn new_ids_are_time_ordered_uuids() {
        let first = new_id();
        let ids: Vec<String> = (0..1000).map(|_| new_id()).collect();
        for id in std::iter::once(&first).chain(&ids) {
            let parsed = uuid::Uuid::parse_str(id).expect("a UUID");
            assert_eq!(parsed.get_version_num(), 7, "{id}");
        }
        // Made one after another in one process, they sort in the order they were made:
        // what keeps index inserts on the same B-tree leaves.
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids);
        assert!(first < ids[0]);
    }
}
