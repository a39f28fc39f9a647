//! Bearer tokens: 256 random bits, shown once; the store keeps only their SHA-256 digests
//! and the check compares digests in constant time.
//!
//! Rotation without downtime: `rotate` issues a new token for a name while the previous
//! one stays valid for a grace period (7 days unless told otherwise), so the identity
//! provider can be switched to the new token at leisure; `retire` ends the changeover
//! at once. At most two tokens per name are valid at a time.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use keybridge_secrets::Secret;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::store::{self, format_timestamp, now_timestamp, Store, StoreError};

/// How long a rotated-out token stays valid unless told otherwise: long enough to update
/// the identity provider over a week's leave, short enough that a forgotten changeover
/// ends by itself.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);
/// The longest grace period `rotate` accepts.
pub const MAX_GRACE: Duration = Duration::from_secs(90 * 24 * 3600);

/// Token names: short, printable, used in logs and events.
const MAX_NAME_LEN: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a token named '{0}' already exists; revoke it first or choose another name")]
    Exists(String),
    #[error("no token is named '{0}'")]
    Unknown(String),
    #[error("a token name is 1 to 64 letters, digits, '-', '_' or '.'; '{0}' is not")]
    BadName(String),
    #[error("'{name}' is already changing over: its previous token stays valid until {until}; finish with `keybridge token retire {name}` before rotating again")]
    ChangeoverInProgress { name: String, until: String },
    #[error(
        "'{0}' has no previous token to retire; `keybridge token rotate {0}` starts a changeover"
    )]
    NothingToRetire(String),
    #[error("the grace period can be at most 90 days")]
    GraceTooLong,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The prefix makes a leaked token recognisable to secret scanners.
const PREFIX: &str = "kb_";

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// 256 fresh random bits in the token format.
fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Issues a new token named `name` and returns its plaintext (the only time it exists
/// outside the client).
pub async fn issue(store: &Store, name: &str) -> Result<Secret, TokenError> {
    if !valid_name(name) {
        return Err(TokenError::BadName(name.to_owned()));
    }
    let token = generate();
    let d = digest(&token);
    let name = name.to_owned();
    store
        .write(move |conn| -> Result<(), TokenError> {
            if store::tokens::exists(conn, &name)? {
                return Err(TokenError::Exists(name));
            }
            store::tokens::insert(conn, &name, &d, &now_timestamp())?;
            Ok(())
        })
        .await?;
    Ok(Secret::new(token))
}

/// A rotation's result: the new token's plaintext (shown once) and until when the
/// previous token is still accepted.
#[derive(Debug)]
pub struct Rotation {
    pub token: Secret,
    pub previous_valid_until: String,
}

/// Issues a new token for `name`; the current one stays valid for `grace` (or until
/// `retire`). Refused while a previous token of `name` is still valid, so a rotation never
/// silently cuts off a token an identity provider may still be using.
pub async fn rotate(store: &Store, name: &str, grace: Duration) -> Result<Rotation, TokenError> {
    if grace > MAX_GRACE {
        return Err(TokenError::GraceTooLong);
    }
    let token = generate();
    let d = digest(&token);
    let name = name.to_owned();
    let until = store
        .write(move |conn| -> Result<String, TokenError> {
            let now = OffsetDateTime::now_utc();
            match store::tokens::previous_expires(conn, &name)? {
                None => return Err(TokenError::Unknown(name)),
                Some(Some(until)) if still_valid(&until, now) => {
                    return Err(TokenError::ChangeoverInProgress { name, until })
                }
                Some(_) => {}
            }
            let until = format_timestamp(now + grace);
            store::tokens::rotate(conn, &name, &d, &until, &format_timestamp(now))?;
            Ok(until)
        })
        .await?;
    Ok(Rotation {
        token: Secret::new(token),
        previous_valid_until: until,
    })
}

/// Ends the changeover of `name`: its previous token stops working now.
pub async fn retire(store: &Store, name: &str) -> Result<(), TokenError> {
    let name = name.to_owned();
    store
        .write(move |conn| -> Result<(), TokenError> {
            match store::tokens::previous_expires(conn, &name)? {
                None => Err(TokenError::Unknown(name)),
                Some(None) => Err(TokenError::NothingToRetire(name)),
                Some(Some(_)) => {
                    store::tokens::retire_previous(conn, &name)?;
                    Ok(())
                }
            }
        })
        .await
}

/// Whether a stored expiry is still in the future. An expiry we cannot read counts as
/// passed: a token is refused rather than accepted forever.
fn still_valid(expires: &str, now: OffsetDateTime) -> bool {
    OffsetDateTime::parse(expires, &Rfc3339).is_ok_and(|t| t > now)
}

/// Whether a token's previous token is still accepted (for listings).
pub fn previous_is_valid(row: &store::tokens::TokenRow) -> bool {
    row.previous_digest.is_some()
        && row
            .previous_expires
            .as_deref()
            .is_some_and(|e| still_valid(e, OffsetDateTime::now_utc()))
}

/// Revokes the token named `name` (and its previous token during a changeover).
pub async fn revoke(store: &Store, name: &str) -> Result<(), TokenError> {
    let name = name.to_owned();
    store
        .write(move |conn| -> Result<(), TokenError> {
            if store::tokens::delete(conn, &name)? {
                Ok(())
            } else {
                Err(TokenError::Unknown(name))
            }
        })
        .await
}

/// Every token's name and dates (never digests).
pub async fn list(store: &Store) -> Result<Vec<store::tokens::TokenRow>, TokenError> {
    store
        .read(|conn| -> Result<_, TokenError> { Ok(store::tokens::all(conn)?) })
        .await
}

/// How stale the verifier's copy of the digests may be when it finds a token: a revoke
/// or a retire done by another process reaches a running bridge within this time.
const HIT_MAX_AGE: Duration = Duration::from_secs(1);
/// How stale it may be when it does not find a token: a token issued while the bridge
/// runs works almost at once, and failed attempts cannot reload more than ten times a
/// second.
const MISS_MAX_AGE: Duration = Duration::from_millis(100);

/// Checks presented tokens against the stored digests. Keeps the digests in memory and
/// re-reads them when its copy is older than `HIT_MAX_AGE` (or `MISS_MAX_AGE` when the
/// token was not found).
#[derive(Clone)]
pub struct TokenVerifier {
    store: Store,
    cache: Arc<RwLock<Cache>>,
    reload_lock: Arc<tokio::sync::Mutex<()>>,
}

struct Entry {
    name: String,
    digest: [u8; 32],
    /// Set for a previous token during a changeover: refused from then on.
    expires: Option<OffsetDateTime>,
}

struct Cache {
    entries: Vec<Entry>,
    loaded: Option<Instant>,
}

impl TokenVerifier {
    pub fn new(store: Store) -> TokenVerifier {
        TokenVerifier {
            store,
            cache: Arc::new(RwLock::new(Cache {
                entries: Vec::new(),
                loaded: None,
            })),
            reload_lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The name of the token `presented` is, if it is one.
    ///
    /// One request re-reads the digests at a time. A request whose token was found does
    /// not wait for someone else's reload (its copy is at most that reload older); one
    /// whose token was not found waits, then looks again, so a token issued a moment ago
    /// is never refused because another request happened to be reloading.
    pub async fn verify(&self, presented: &str) -> Result<Option<String>, StoreError> {
        let d = digest(presented);
        match self.lookup(&d) {
            Some(name) => {
                if !self.is_stale(HIT_MAX_AGE) {
                    return Ok(Some(name));
                }
                let Ok(_reloading) = self.reload_lock.try_lock() else {
                    return Ok(Some(name));
                };
                if !self.is_stale(HIT_MAX_AGE) {
                    return Ok(self.lookup(&d));
                }
                match self.reload_inner().await {
                    Ok(()) => Ok(self.lookup(&d)),
                    // A token we know stays usable while the store cannot be read.
                    Err(e) => {
                        tracing::warn!(error = %e, "could not re-read the tokens; using the copy in memory");
                        Ok(Some(name))
                    }
                }
            }
            None => {
                if !self.is_stale(MISS_MAX_AGE) {
                    return Ok(None);
                }
                let _reloading = self.reload_lock.lock().await;
                // Whoever held the lock may just have reloaded.
                if self.is_stale(MISS_MAX_AGE) {
                    self.reload_inner().await?;
                }
                Ok(self.lookup(&d))
            }
        }
    }

    /// Whether the copy in memory is older than `max_age` (or was never loaded).
    fn is_stale(&self, max_age: Duration) -> bool {
        self.cache
            .read()
            .ok()
            .and_then(|c| c.loaded.map(|t| t.elapsed()))
            .is_none_or(|age| age > max_age)
    }

    /// Re-reads the digests (after an issue or a revoke in this process).
    pub async fn reload(&self) -> Result<(), StoreError> {
        self.reload_inner().await
    }

    async fn reload_inner(&self) -> Result<(), StoreError> {
        let rows = self
            .store
            .read(|conn| -> Result<_, StoreError> { store::tokens::all(conn) })
            .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in rows {
            if let Ok(d) = <[u8; 32]>::try_from(r.digest.as_slice()) {
                entries.push(Entry {
                    name: r.name.clone(),
                    digest: d,
                    expires: None,
                });
            }
            let previous = r
                .previous_digest
                .as_deref()
                .and_then(|p| <[u8; 32]>::try_from(p).ok());
            if let Some(d) = previous {
                // An unreadable expiry makes the previous token expired already.
                let expires = r
                    .previous_expires
                    .as_deref()
                    .and_then(|e| OffsetDateTime::parse(e, &Rfc3339).ok())
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH);
                entries.push(Entry {
                    name: r.name,
                    digest: d,
                    expires: Some(expires),
                });
            }
        }
        if let Ok(mut c) = self.cache.write() {
            c.entries = entries;
            c.loaded = Some(Instant::now());
        }
        Ok(())
    }

    /// Compares against every digest without stopping early, so timing does not tell how
    /// much of a digest matched or which entry did.
    fn lookup(&self, d: &[u8; 32]) -> Option<String> {
        let cache = self.cache.read().ok()?;
        let mut found = None;
        for entry in &cache.entries {
            if bool::from(entry.digest.ct_eq(d)) {
                found = Some(entry);
            }
        }
        let entry = found?;
        match entry.expires {
            Some(t) if t <= OffsetDateTime::now_utc() => None,
            _ => Some(entry.name.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_short_and_printable() {
        assert!(valid_name("jumpcloud"));
        assert!(valid_name("okta-prod_2.0"));
        assert!(!valid_name(""));
        assert!(!valid_name("has space"));
        assert!(!valid_name(&"x".repeat(65)));
    }

    #[tokio::test]
    async fn an_issued_token_verifies_and_a_revoked_one_does_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Default::default()).expect("open");
        let token = issue(&store, "jc").await.expect("issue");
        assert!(token.expose().starts_with("kb_"));
        assert_eq!(token.expose().len(), 3 + 43);
        let verifier = TokenVerifier::new(store.clone());
        assert_eq!(
            verifier.verify(token.expose()).await.expect("verify"),
            Some("jc".into())
        );
        assert_eq!(verifier.verify("kb_wrong").await.expect("verify"), None);
        assert!(matches!(
            issue(&store, "jc").await,
            Err(TokenError::Exists(_))
        ));
        revoke(&store, "jc").await.expect("revoke");
        verifier.reload().await.expect("reload");
        assert_eq!(verifier.verify(token.expose()).await.expect("verify"), None);
    }

    #[tokio::test]
    async fn during_a_rotation_both_tokens_verify_until_the_previous_is_retired() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Default::default()).expect("open");
        let old = issue(&store, "jc").await.expect("issue");
        let rotation = rotate(&store, "jc", DEFAULT_GRACE).await.expect("rotate");
        let new = rotation.token;
        assert_ne!(old.expose(), new.expose());
        let verifier = TokenVerifier::new(store.clone());
        for t in [&old, &new] {
            assert_eq!(
                verifier.verify(t.expose()).await.expect("verify"),
                Some("jc".into())
            );
        }
        let rows = list(&store).await.expect("list");
        assert!(previous_is_valid(&rows[0]));
        assert!(matches!(
            rotate(&store, "jc", DEFAULT_GRACE).await,
            Err(TokenError::ChangeoverInProgress { .. })
        ));
        retire(&store, "jc").await.expect("retire");
        verifier.reload().await.expect("reload");
        assert_eq!(verifier.verify(old.expose()).await.expect("verify"), None);
        assert_eq!(
            verifier.verify(new.expose()).await.expect("verify"),
            Some("jc".into())
        );
        assert!(matches!(
            retire(&store, "jc").await,
            Err(TokenError::NothingToRetire(_))
        ));
        assert!(matches!(
            rotate(&store, "nobody", DEFAULT_GRACE).await,
            Err(TokenError::Unknown(_))
        ));
        assert!(matches!(
            rotate(&store, "jc", MAX_GRACE + Duration::from_secs(1)).await,
            Err(TokenError::GraceTooLong)
        ));
    }

    #[tokio::test]
    async fn a_previous_token_stops_working_when_its_grace_period_ends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Default::default()).expect("open");
        let old = issue(&store, "okta").await.expect("issue");
        let new = rotate(&store, "okta", Duration::ZERO)
            .await
            .expect("rotate")
            .token;
        let verifier = TokenVerifier::new(store.clone());
        assert_eq!(verifier.verify(old.expose()).await.expect("verify"), None);
        assert_eq!(
            verifier.verify(new.expose()).await.expect("verify"),
            Some("okta".into())
        );
        // An expired changeover does not block the next rotation.
        let newer = rotate(&store, "okta", DEFAULT_GRACE)
            .await
            .expect("rotate again")
            .token;
        verifier.reload().await.expect("reload");
        assert_eq!(verifier.verify(old.expose()).await.expect("verify"), None);
        for t in [&new, &newer] {
            assert_eq!(
                verifier.verify(t.expose()).await.expect("verify"),
                Some("okta".into())
            );
        }
    }

    #[tokio::test]
    async fn a_revoke_by_another_process_reaches_a_busy_verifier_within_a_second() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Default::default()).expect("open");
        let token = issue(&store, "jc").await.expect("issue");
        let verifier = TokenVerifier::new(store.clone());
        assert!(verifier
            .verify(token.expose())
            .await
            .expect("verify")
            .is_some());
        // Another handle on the same file, as `keybridge token revoke` would open.
        let other = Store::open(dir.path(), Default::default()).expect("open again");
        revoke(&other, "jc").await.expect("revoke");
        other.close().await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while verifier
            .verify(token.expose())
            .await
            .expect("verify")
            .is_some()
        {
            assert!(Instant::now() < deadline, "the revoked token still works");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(verifier
            .cache
            .read()
            .map(|c| c.loaded.is_some())
            .unwrap_or(false));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_first_requests_all_verify() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Default::default()).expect("open");
        let token = issue(&store, "jc").await.expect("issue");
        let verifier = TokenVerifier::new(store.clone());
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (v, t) = (verifier.clone(), token.expose().to_owned());
                tokio::spawn(async move { v.verify(&t).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.expect("join").expect("verify"), Some("jc".into()));
        }
    }
}
