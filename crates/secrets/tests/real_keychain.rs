//! The real OS keychain, not a stand-in: store, read, overwrite and delete a secret.
//!
//! Runs only with `KEYBRIDGE_REAL_KEYCHAIN=1`, because it needs an unlocked keychain; on
//! Linux `crates/secrets/test-real-keychain.sh` provides a throwaway GNOME Keyring on a
//! private session bus and runs it. Without the variable it returns at once, so plain
//! `cargo test` stays independent of the desktop.

use keybridge_secrets::{open_store, Backend, KeychainStore, Secret, SecretStore, StoreKind};

fn enabled() -> bool {
    let on = std::env::var("KEYBRIDGE_REAL_KEYCHAIN").is_ok_and(|v| v == "1");
    if !on {
        eprintln!("skipped: set KEYBRIDGE_REAL_KEYCHAIN=1 to test the real OS keychain");
    }
    on
}

/// A namespace of its own per run, so a run never meets items left by an earlier one.
fn run_namespace() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("test-{}-{nanos}", std::process::id())
}

#[test]
fn real_keychain_stores_reads_and_deletes_a_secret() {
    if !enabled() {
        return;
    }
    let store = KeychainStore::with_namespace(&run_namespace()).expect("namespace");
    store.probe().expect("the keychain answers");
    let key = "token/jumpcloud";

    assert!(store.get(key).expect("get before set").is_none());
    store
        .set(key, &Secret::new("first-tøken"))
        .expect("store in the keychain");
    let read = store.get(key).expect("read back").expect("present");
    assert_eq!(read.expose(), "first-tøken");

    store
        .set(key, &Secret::new("second-token"))
        .expect("overwrite");
    let read = store.get(key).expect("read back").expect("present");
    assert_eq!(read.expose(), "second-token");

    let other =
        KeychainStore::with_namespace(&format!("{}-other", run_namespace())).expect("namespace");
    assert!(
        other.get(key).expect("other namespace").is_none(),
        "namespaces must not share items"
    );

    assert!(store.delete(key).expect("delete"));
    assert!(store.get(key).expect("get after delete").is_none());
    assert!(!store.delete(key).expect("second delete"));
}

#[test]
fn real_keychain_is_what_auto_chooses() {
    if !enabled() {
        return;
    }
    let data_dir = tempfile::tempdir().expect("tempdir");
    let opened = open_store(StoreKind::Auto(data_dir.path().to_owned())).expect("open");
    assert!(
        matches!(opened.backend, Backend::Keychain { .. }),
        "chose {} ({:?})",
        opened.backend,
        opened.keychain_unavailable
    );
    assert!(!data_dir.path().join("secrets.json").exists());
    opened
        .store
        .set("oidc/client-id", &Secret::new("cid"))
        .expect("set");
    let read = opened
        .store
        .get("oidc/client-id")
        .expect("get")
        .expect("present");
    assert_eq!(read.expose(), "cid");
    assert!(opened.store.delete("oidc/client-id").expect("delete"));
}
