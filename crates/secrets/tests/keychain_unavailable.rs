//! Without a Secret Service (a server, a container, CI), the keychain must answer with
//! `KeychainUnavailable` at once: no panic, no hang, and `Auto` falls back to the file.
//!
//! The session bus address is process-wide state and tests run in parallel threads, so
//! the checks run in a child process: this test binary re-executed with
//! `DBUS_SESSION_BUS_ADDRESS` pointing at a socket that does not exist.
#![cfg(target_os = "linux")]

use std::process::Command;
use std::time::{Duration, Instant};

use keybridge_secrets::{
    open_store, Backend, KeychainStore, Secret, SecretStore, SecretsError, StoreKind,
};

/// Set in the child so its half runs only there.
const CHILD: &str = "KEYBRIDGE_SECRETS_TEST_CHILD";

#[test]
fn without_a_secret_service_the_keychain_is_reported_unavailable() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("current test binary");
    let started = Instant::now();
    let output = Command::new(exe)
        .args([
            "child_checks_keychain_unavailable",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, scratch.path())
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-such-bus", scratch.path().display()),
        )
        // Keep libdbus from trying to autolaunch a bus through X11.
        .env_remove("DISPLAY")
        .output()
        .expect("run child");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "child ran no test:\n{stdout}\n{stderr}"
    );
    assert!(
        elapsed < Duration::from_secs(20),
        "took {elapsed:?}: the keychain must fail fast"
    );
}

#[test]
fn child_checks_keychain_unavailable() {
    let Some(scratch) = std::env::var_os(CHILD) else {
        return; // only meaningful inside the child started above
    };
    let data_dir = std::path::PathBuf::from(scratch).join("data");

    let store = KeychainStore::for_data_dir(&data_dir);
    let unavailable = |result: Result<(), SecretsError>, what: &str| match result {
        Err(SecretsError::KeychainUnavailable { reason }) => {
            assert!(!reason.is_empty(), "{what}: empty reason");
            println!("{what}: KeychainUnavailable ({reason})");
        }
        other => panic!("{what}: expected KeychainUnavailable, got {other:?}"),
    };
    unavailable(store.probe(), "probe");
    unavailable(store.get("token/x").map(|_| ()), "get");
    unavailable(store.set("token/x", &Secret::new("v")), "set");
    unavailable(store.delete("token/x").map(|_| ()), "delete");

    let err = open_store(StoreKind::Keychain(data_dir.clone())).expect_err("no keychain");
    let message = err.to_string();
    assert!(
        message.starts_with("no OS keychain is available (")
            && message.ends_with(
                "run with --secrets file to keep secrets in an owner-only file in the data directory"
            ),
        "{message}"
    );

    let opened = open_store(StoreKind::Auto(data_dir.clone())).expect("auto falls back");
    assert_eq!(
        opened.backend,
        Backend::File {
            path: data_dir.join("secrets.json")
        }
    );
    let why = opened.keychain_unavailable.expect("fallback reason");
    assert!(why.starts_with("no OS keychain is available"), "{why}");
    opened
        .store
        .set("token/x", &Secret::new("v"))
        .expect("set in file");
    assert!(data_dir.join("secrets.json").is_file());
}
