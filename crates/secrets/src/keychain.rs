//! The OS keychain backend, through the `keyring` crate.

use std::path::Path;

use keyring::{CredentialBuilder, Entry};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::error::SecretsError;
use crate::secret::Secret;
use crate::store::{validate_entry, validate_key, SecretStore};

/// The application part of every keychain service name.
pub const SERVICE: &str = "Keybridge";

/// A name read by [`KeychainStore::probe`]; it is never written, so the read answers
/// "no entry" on a working keychain.
const PROBE_KEY: &str = "keybridge-probe";

/// Secrets in the OS keychain: the macOS Keychain, the Windows Credential Manager, or a
/// Secret Service (GNOME Keyring, KWallet) on Linux.
///
/// Each secret is one keychain item with service `Keybridge:<namespace>` and the secret's
/// name as the account. The namespace keeps two Keybridge instances (two data
/// directories) on one machine from reading each other's tokens.
pub struct KeychainStore {
    service: String,
    /// `None` is the platform's keychain; tests put an in-memory store here instead of
    /// swapping keyring's process-wide default, which would race with other tests.
    builder: Option<Box<CredentialBuilder>>,
}

impl KeychainStore {
    /// The store for the instance whose data lives in `data_dir`. The namespace is the
    /// first 16 hex digits of the SHA-256 of the directory's canonical path (its absolute
    /// path if it does not exist yet): stable across runs, short in keychain UIs, and it
    /// does not show the user's directory layout.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        let path = std::fs::canonicalize(data_dir)
            .or_else(|_| std::path::absolute(data_dir))
            .unwrap_or_else(|_| data_dir.to_path_buf());
        let digest = Sha256::digest(path.as_os_str().as_encoded_bytes());
        let namespace: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self::from_namespace(&namespace)
    }

    /// The store for an explicit namespace, e.g. one per test run. The namespace follows
    /// the rules of secret names (ASCII letters, digits, `- _ . / : @`).
    pub fn with_namespace(namespace: &str) -> Result<Self, SecretsError> {
        validate_key(namespace)?;
        Ok(Self::from_namespace(namespace))
    }

    fn from_namespace(namespace: &str) -> Self {
        Self {
            service: format!("{SERVICE}:{namespace}"),
            builder: None,
        }
    }

    /// The keychain service name of this store's items, e.g. `Keybridge:3f9c0a1b2d4e5f60`.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Checks that the keychain answers, by reading a name that is never written. Does
    /// not prompt on a working keychain, since nothing is found to unlock.
    pub fn probe(&self) -> Result<(), SecretsError> {
        self.get(PROBE_KEY).map(|_| ())
    }

    fn entry(&self, key: &str, action: &'static str) -> Result<Entry, SecretsError> {
        let built = match &self.builder {
            Some(builder) => builder
                .build(None, &self.service, key)
                .map(Entry::new_with_credential),
            None => Entry::new(&self.service, key),
        };
        built.map_err(|err| keychain_error(key, action, err))
    }

    #[cfg(test)]
    pub(crate) fn with_builder(namespace: &str, builder: Box<CredentialBuilder>) -> Self {
        Self {
            builder: Some(builder),
            ..Self::from_namespace(namespace)
        }
    }
}

impl SecretStore for KeychainStore {
    fn get(&self, key: &str) -> Result<Option<Secret>, SecretsError> {
        validate_key(key)?;
        match self.entry(key, "read")?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(keychain_error(key, "read", err)),
        }
    }

    fn set(&self, key: &str, secret: &Secret) -> Result<(), SecretsError> {
        validate_entry(key, secret)?;
        self.entry(key, "store")?
            .set_password(secret.expose())
            .map_err(|err| keychain_error(key, "store", err))
    }

    fn delete(&self, key: &str) -> Result<bool, SecretsError> {
        validate_key(key)?;
        match self.entry(key, "delete")?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(err) => Err(keychain_error(key, "delete", err)),
        }
    }
}

impl std::fmt::Debug for KeychainStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeychainStore")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// Turns a keyring error into ours. A platform failure or refused access means there is
/// no usable keychain (no Secret Service on the bus, a locked keychain, no session): that
/// is the stable [`SecretsError::KeychainUnavailable`] callers can act on. Everything
/// else concerns this one item. `NoEntry` is handled by the callers, where it is an
/// answer rather than an error.
fn keychain_error(key: &str, action: &'static str, err: keyring::Error) -> SecretsError {
    let reason = match err {
        keyring::Error::PlatformFailure(inner) | keyring::Error::NoStorageAccess(inner) => {
            return SecretsError::KeychainUnavailable {
                reason: inner.to_string(),
            };
        }
        keyring::Error::BadEncoding(mut bytes) => {
            // The bytes are the stored secret: wipe them, never show them.
            bytes.zeroize();
            "the stored value is not UTF-8 text; remove it with the system's keychain tool \
             and store it again"
                .to_owned()
        }
        keyring::Error::Ambiguous(items) => format!(
            "{} keychain items match it; remove the duplicates with the system's keychain tool",
            items.len()
        ),
        keyring::Error::TooLong(what, limit) => {
            format!("the {what} is longer than this keychain's limit of {limit}")
        }
        keyring::Error::Invalid(what, why) => format!("the {what} is invalid: {why}"),
        keyring::Error::NoEntry => "there is no such item".to_owned(),
        other => other.to_string(),
    };
    SecretsError::Keychain {
        key: key.to_owned(),
        action,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, MutexGuard};

    use keyring::credential::{Credential, CredentialApi, CredentialBuilderApi};

    use super::*;

    /// An in-memory keychain shared by every credential it builds (keyring's own mock
    /// forgets a value as soon as its `Entry` is dropped, and the store makes a fresh
    /// `Entry` per call), with one injectable failure.
    /// Item values by (service, account).
    type Items = HashMap<(String, String), Vec<u8>>;

    #[derive(Default, Clone)]
    struct FakeKeychain {
        items: Arc<Mutex<Items>>,
        fail_next: Arc<Mutex<Option<keyring::Error>>>,
    }

    impl FakeKeychain {
        fn items(&self) -> MutexGuard<'_, Items> {
            self.items.lock().unwrap_or_else(|e| e.into_inner())
        }
        fn fail_next(&self, err: keyring::Error) {
            *self.fail_next.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
        }
        fn take_failure(&self) -> keyring::Result<()> {
            match self
                .fail_next
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
            {
                Some(err) => Err(err),
                None => Ok(()),
            }
        }
        fn store(&self, namespace: &str) -> KeychainStore {
            KeychainStore::with_builder(namespace, Box::new(self.clone()))
        }
    }

    #[derive(Debug)]
    struct FakeCredential {
        id: (String, String),
        keychain: FakeKeychain,
    }

    impl std::fmt::Debug for FakeKeychain {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("FakeKeychain")
        }
    }

    impl CredentialApi for FakeCredential {
        fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
            self.keychain.take_failure()?;
            self.keychain
                .items()
                .insert(self.id.clone(), secret.to_vec());
            Ok(())
        }
        fn get_secret(&self) -> keyring::Result<Vec<u8>> {
            self.keychain.take_failure()?;
            self.keychain
                .items()
                .get(&self.id)
                .cloned()
                .ok_or(keyring::Error::NoEntry)
        }
        fn delete_credential(&self) -> keyring::Result<()> {
            self.keychain.take_failure()?;
            self.keychain
                .items()
                .remove(&self.id)
                .map(|_| ())
                .ok_or(keyring::Error::NoEntry)
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    impl CredentialBuilderApi for FakeKeychain {
        fn build(
            &self,
            _target: Option<&str>,
            service: &str,
            user: &str,
        ) -> keyring::Result<Box<Credential>> {
            Ok(Box::new(FakeCredential {
                id: (service.to_owned(), user.to_owned()),
                keychain: self.clone(),
            }))
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    #[test]
    fn stores_reads_overwrites_and_deletes() {
        let fake = FakeKeychain::default();
        let store = fake.store("ns");
        assert!(store.get("token/jumpcloud").expect("get").is_none());
        store
            .set("token/jumpcloud", &Secret::new("one"))
            .expect("set");
        store
            .set("token/jumpcloud", &Secret::new("two"))
            .expect("overwrite");
        let got = store.get("token/jumpcloud").expect("get").expect("present");
        assert_eq!(got.expose(), "two");
        assert!(store.delete("token/jumpcloud").expect("delete"));
        assert!(!store.delete("token/jumpcloud").expect("second delete"));
        assert!(store.get("token/jumpcloud").expect("get").is_none());
    }

    #[test]
    fn items_are_named_by_namespaced_service_and_key() {
        let fake = FakeKeychain::default();
        fake.store("ns")
            .set("oidc/client-id", &Secret::new("cid"))
            .expect("set");
        let items = fake.items();
        assert_eq!(
            items.get(&("Keybridge:ns".to_owned(), "oidc/client-id".to_owned())),
            Some(&b"cid".to_vec())
        );
    }

    #[test]
    fn two_namespaces_do_not_see_each_others_secrets() {
        let fake = FakeKeychain::default();
        let a = fake.store("a");
        let b = fake.store("b");
        a.set("token/x", &Secret::new("from-a")).expect("set");
        assert!(b.get("token/x").expect("get").is_none());
        assert!(!b.delete("token/x").expect("delete"));
        assert_eq!(
            a.get("token/x").expect("get").expect("present").expose(),
            "from-a"
        );
    }

    #[test]
    fn data_directories_get_distinct_stable_namespaces() {
        let one = tempfile::tempdir().expect("tempdir");
        let two = tempfile::tempdir().expect("tempdir");
        let first = KeychainStore::for_data_dir(one.path());
        let again = KeychainStore::for_data_dir(one.path());
        let other = KeychainStore::for_data_dir(two.path());
        assert_eq!(first.service(), again.service());
        assert_ne!(first.service(), other.service());
        let namespace = first
            .service()
            .strip_prefix("Keybridge:")
            .expect("service prefix");
        assert_eq!(namespace.len(), 16);
        assert!(namespace.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn a_missing_data_directory_still_gets_a_namespace() {
        let parent = tempfile::tempdir().expect("tempdir");
        let missing = parent.path().join("not-yet");
        let before = KeychainStore::for_data_dir(&missing);
        assert!(before.service().starts_with("Keybridge:"));
    }

    #[test]
    fn no_secret_service_is_reported_as_keychain_unavailable() {
        let fake = FakeKeychain::default();
        let store = fake.store("ns");
        let dbus = std::io::Error::other("D-Bus error: no such socket");
        fake.fail_next(keyring::Error::PlatformFailure(Box::new(dbus)));
        let err = store.get("token/x").expect_err("should fail");
        let SecretsError::KeychainUnavailable { reason } = &err else {
            panic!("wrong error: {err:?}");
        };
        assert_eq!(reason, "D-Bus error: no such socket");
        assert_eq!(
            err.to_string(),
            "no OS keychain is available (D-Bus error: no such socket); run with --secrets \
             file to keep secrets in an owner-only file in the data directory"
        );
    }

    #[test]
    fn a_locked_keychain_is_reported_as_keychain_unavailable() {
        let fake = FakeKeychain::default();
        let store = fake.store("ns");
        let locked = std::io::Error::other("prompt dismissed");
        fake.fail_next(keyring::Error::NoStorageAccess(Box::new(locked)));
        let err = store.set("token/x", &Secret::new("v")).expect_err("fails");
        assert!(matches!(err, SecretsError::KeychainUnavailable { .. }));
        fake.fail_next(keyring::Error::NoStorageAccess(Box::new(
            std::io::Error::other("locked"),
        )));
        assert!(matches!(
            store.probe(),
            Err(SecretsError::KeychainUnavailable { .. })
        ));
        assert!(store.probe().is_ok(), "a working keychain probes fine");
    }

    #[test]
    fn a_non_utf8_value_is_an_error_that_does_not_show_the_bytes() {
        let fake = FakeKeychain::default();
        let store = fake.store("ns");
        fake.items().insert(
            ("Keybridge:ns".into(), "token/x".into()),
            b"qzx\xffjvw".to_vec(),
        );
        let err = store.get("token/x").expect_err("bad encoding");
        assert!(matches!(err, SecretsError::Keychain { action: "read", .. }));
        let message = err.to_string();
        assert!(message.contains("not UTF-8"), "{message}");
        let shown = format!("{message} {err:?}");
        assert!(!shown.contains("qzx") && !shown.contains("jvw"), "{shown}");
    }

    #[test]
    fn duplicate_items_are_an_item_error_not_unavailability() {
        let fake = FakeKeychain::default();
        let store = fake.store("ns");
        fake.fail_next(keyring::Error::Ambiguous(Vec::new()));
        let err = store.delete("token/x").expect_err("ambiguous");
        assert!(matches!(
            err,
            SecretsError::Keychain {
                action: "delete",
                ..
            }
        ));
        assert!(err.to_string().contains("remove the duplicates"));
    }

    #[test]
    fn invalid_names_and_empty_values_never_reach_the_keychain() {
        let fake = FakeKeychain::default();
        let store = fake.store("ns");
        assert!(matches!(
            store.set("bad name", &Secret::new("v")),
            Err(SecretsError::InvalidKey { .. })
        ));
        assert!(matches!(
            store.set("token/x", &Secret::new("")),
            Err(SecretsError::EmptySecret { .. })
        ));
        assert!(fake.items().is_empty());
        assert!(matches!(
            KeychainStore::with_namespace("has space"),
            Err(SecretsError::InvalidKey { .. })
        ));
    }
}
