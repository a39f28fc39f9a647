//! The [`SecretStore`] trait and the choice of backend.

use std::fmt;
use std::path::PathBuf;

use crate::error::SecretsError;
use crate::file::FileStore;
use crate::keychain::KeychainStore;
use crate::secret::Secret;

/// Longest accepted secret name. Far above any real name, well below every keychain's
/// attribute limit, so a name that works in one backend works in all.
pub const MAX_KEY_LEN: usize = 128;

/// Somewhere secrets are kept, by name (`token/jumpcloud`, `oidc/client-id`).
///
/// `Send + Sync` so one store can be shared by the HTTP server's tasks and the desktop
/// shell's command handlers. Calls block (a keychain round trip, a file write); async
/// callers should use `spawn_blocking`.
pub trait SecretStore: Send + Sync {
    /// The secret stored under `key`, or `None` if there is none.
    fn get(&self, key: &str) -> Result<Option<Secret>, SecretsError>;

    /// Stores `secret` under `key`, replacing any previous value.
    fn set(&self, key: &str, secret: &Secret) -> Result<(), SecretsError>;

    /// Removes the secret under `key`; `true` if there was one.
    fn delete(&self, key: &str) -> Result<bool, SecretsError>;
}

/// Checks a secret name: 1 to [`MAX_KEY_LEN`] ASCII letters, digits and `- _ . / : @`,
/// not starting or ending with `/`. Names appear in keychain UIs and in the file, so
/// they are kept plain and printable.
pub(crate) fn validate_key(key: &str) -> Result<(), SecretsError> {
    let reason = if key.is_empty() {
        Some("it is empty")
    } else if key.len() > MAX_KEY_LEN {
        Some("it is longer than 128 characters")
    } else if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./:@".contains(&b))
    {
        Some("only ASCII letters, digits and - _ . / : @ are allowed")
    } else if key.starts_with('/') || key.ends_with('/') {
        Some("it must not start or end with /")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(SecretsError::InvalidKey {
            key: key.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Checks a name and a value before either backend stores them, so both refuse the same
/// things.
pub(crate) fn validate_entry(key: &str, secret: &Secret) -> Result<(), SecretsError> {
    validate_key(key)?;
    if secret.is_empty() {
        return Err(SecretsError::EmptySecret {
            key: key.to_owned(),
        });
    }
    Ok(())
}

/// Which backend to use. Every variant carries the data directory: the keychain derives
/// its namespace from it (two Keybridge instances with different data directories keep
/// separate secrets), the file store keeps its file in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// The OS keychain; an error if there is none.
    Keychain(PathBuf),
    /// The owner-only file in this directory.
    File(PathBuf),
    /// The file if it already exists in this directory, else the keychain if one is
    /// available, else the file.
    Auto(PathBuf),
}

/// Which backend [`open_store`] chose, with where it keeps the secrets. `Display` reads
/// as a phrase for a log line: "secrets are kept in {backend}".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// The OS keychain, under this service name.
    Keychain {
        /// The keychain service name, e.g. `Keybridge:3f9c0a1b2d4e5f60`.
        service: String,
    },
    /// The owner-only file at this path.
    File {
        /// The secrets file.
        path: PathBuf,
    },
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Keychain { service } => write!(f, "the OS keychain (service \"{service}\")"),
            Backend::File { path } => write!(f, "the owner-only file {}", path.display()),
        }
    }
}

/// The store [`open_store`] opened and the facts to report about the choice.
pub struct OpenedStore {
    /// The store to use.
    pub store: Box<dyn SecretStore>,
    /// Which backend it is and where it keeps secrets.
    pub backend: Backend,
    /// For [`StoreKind::Auto`] falling back to the file: why the keychain was not used
    /// (the message of the [`SecretsError::KeychainUnavailable`] it met).
    pub keychain_unavailable: Option<String>,
}

impl fmt::Debug for OpenedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedStore")
            .field("backend", &self.backend)
            .field("keychain_unavailable", &self.keychain_unavailable)
            .finish_non_exhaustive()
    }
}

/// Opens the secrets backend `kind` asks for and checks that it works now (the keychain
/// answers, the file is private and readable), so a misconfiguration shows at start-up
/// rather than at the first token check.
///
/// `Auto` stays with a secrets file that already exists: once a server has fallen back to
/// the file, a keychain that appears later must not hide the secrets kept there.
pub fn open_store(kind: StoreKind) -> Result<OpenedStore, SecretsError> {
    match kind {
        StoreKind::Keychain(data_dir) => open_keychain(KeychainStore::for_data_dir(&data_dir)),
        StoreKind::File(dir) => open_file(&dir, None),
        StoreKind::Auto(data_dir) => {
            if FileStore::exists_in(&data_dir) {
                return open_file(&data_dir, None);
            }
            match open_keychain(KeychainStore::for_data_dir(&data_dir)) {
                Ok(opened) => Ok(opened),
                Err(err @ SecretsError::KeychainUnavailable { .. }) => {
                    open_file(&data_dir, Some(err.to_string()))
                }
                Err(err) => Err(err),
            }
        }
    }
}

fn open_keychain(store: KeychainStore) -> Result<OpenedStore, SecretsError> {
    store.probe()?;
    Ok(OpenedStore {
        backend: Backend::Keychain {
            service: store.service().to_owned(),
        },
        store: Box::new(store),
        keychain_unavailable: None,
    })
}

fn open_file(
    dir: &std::path::Path,
    keychain_unavailable: Option<String>,
) -> Result<OpenedStore, SecretsError> {
    let store = FileStore::open(dir)?;
    Ok(OpenedStore {
        backend: Backend::File {
            path: store.path().to_owned(),
        },
        store: Box::new(store),
        keychain_unavailable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_are_valid() {
        for key in [
            "token/jumpcloud",
            "oidc/client-id",
            "api-key",
            "a",
            "x.y:z@w_1",
        ] {
            assert!(validate_key(key).is_ok(), "{key} should be valid");
        }
    }

    #[test]
    fn odd_names_are_rejected_with_a_reason() {
        let too_long = "k".repeat(MAX_KEY_LEN + 1);
        for key in [
            "",
            "/lead",
            "trail/",
            "sp ace",
            "tab\t",
            "é",
            "new\nline",
            &too_long,
        ] {
            match validate_key(key) {
                Err(SecretsError::InvalidKey { key: got, .. }) => assert_eq!(got, key),
                other => panic!("{key:?} gave {other:?}"),
            }
        }
        assert!(validate_key(&"k".repeat(MAX_KEY_LEN)).is_ok());
    }

    #[test]
    fn empty_values_are_refused() {
        let err = validate_entry("token/x", &Secret::new("")).expect_err("empty accepted");
        assert!(matches!(err, SecretsError::EmptySecret { .. }));
        assert!(err.to_string().contains("delete the secret instead"));
    }

    #[test]
    fn file_kind_opens_the_file_store_in_that_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let opened = open_store(StoreKind::File(dir.path().to_owned())).expect("open");
        assert_eq!(
            opened.backend,
            Backend::File {
                path: dir.path().join("secrets.json")
            }
        );
        assert_eq!(opened.keychain_unavailable, None);
        opened.store.set("token/x", &Secret::new("v")).expect("set");
        assert!(dir.path().join("secrets.json").is_file());
    }

    #[test]
    fn auto_stays_with_an_existing_secrets_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        FileStore::open(dir.path())
            .expect("open")
            .set("token/x", &Secret::new("kept"))
            .expect("set");
        let opened = open_store(StoreKind::Auto(dir.path().to_owned())).expect("open");
        assert!(matches!(opened.backend, Backend::File { .. }));
        assert_eq!(opened.keychain_unavailable, None);
        let kept = opened.store.get("token/x").expect("get").expect("present");
        assert_eq!(kept.expose(), "kept");
    }

    #[test]
    fn opening_a_damaged_file_fails_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        FileStore::open(dir.path())
            .expect("open")
            .set("token/x", &Secret::new("v"))
            .expect("set");
        // Overwriting in place keeps the file's private mode.
        std::fs::write(dir.path().join("secrets.json"), "not json").expect("write");
        for kind in [
            StoreKind::File(dir.path().to_owned()),
            StoreKind::Auto(dir.path().to_owned()),
        ] {
            let err = open_store(kind).expect_err("damaged");
            assert!(matches!(err, SecretsError::CorruptFile { .. }), "{err:?}");
        }
    }

    #[test]
    fn backend_display_names_the_place() {
        let keychain = Backend::Keychain {
            service: "Keybridge:abc".into(),
        };
        assert_eq!(
            keychain.to_string(),
            "the OS keychain (service \"Keybridge:abc\")"
        );
        let file = Backend::File {
            path: PathBuf::from("/d/secrets.json"),
        };
        assert_eq!(file.to_string(), "the owner-only file /d/secrets.json");
    }
}
