//! Tests of the file backend (kept apart: they outweigh the code).

use super::*;

fn open(dir: &Path) -> FileStore {
    FileStore::open(dir).expect("open file store")
}

fn read(store: &FileStore, key: &str) -> Option<String> {
    store
        .get(key)
        .expect("get")
        .map(|secret| secret.expose().to_owned())
}

#[test]
fn a_stored_secret_reads_back_after_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    assert_eq!(read(&store, "token/jumpcloud"), None);
    store
        .set("token/jumpcloud", &Secret::new("tok-1"))
        .expect("set");
    store
        .set("oidc/client-id", &Secret::new("client \"quoted\" é"))
        .expect("set");
    drop(store);
    let reopened = open(dir.path());
    assert_eq!(read(&reopened, "token/jumpcloud").as_deref(), Some("tok-1"));
    assert_eq!(
        read(&reopened, "oidc/client-id").as_deref(),
        Some("client \"quoted\" é")
    );
}

#[test]
fn setting_again_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    store.set("token/x", &Secret::new("old")).expect("set");
    store.set("token/x", &Secret::new("new")).expect("set");
    assert_eq!(read(&store, "token/x").as_deref(), Some("new"));
}

#[test]
fn delete_says_whether_there_was_a_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    store.set("token/x", &Secret::new("v")).expect("set");
    store.set("token/y", &Secret::new("w")).expect("set");
    assert!(store.delete("token/x").expect("delete"));
    assert!(!store.delete("token/x").expect("delete again"));
    assert!(!store.delete("never/set").expect("delete missing"));
    assert_eq!(read(&store, "token/x"), None);
    assert_eq!(read(&store, "token/y").as_deref(), Some("w"));
}

#[test]
fn deleting_from_a_store_without_a_file_creates_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    assert!(!store.delete("token/x").expect("delete"));
    assert!(!store.path().exists());
}

#[test]
fn the_file_is_versioned_json_keyed_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    store.set("token/x", &Secret::new("v")).expect("set");
    let text = fs::read_to_string(store.path()).expect("read file");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"version": 1, "secrets": {"token/x": "v"}})
    );
}

#[test]
fn writes_leave_no_temp_files_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    for i in 0..5 {
        store
            .set("token/x", &Secret::new(format!("v{i}")))
            .expect("set");
    }
    store.delete("token/x").expect("delete");
    let names: Vec<_> = fs::read_dir(dir.path())
        .expect("read dir")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from(FILE_NAME)]);
}

#[test]
fn concurrent_writers_in_one_process_lose_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = std::sync::Arc::new(open(dir.path()));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                store
                    .set(&format!("token/{i}"), &Secret::new(format!("v{i}")))
                    .expect("set");
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread");
    }
    for i in 0..8 {
        assert_eq!(read(&store, &format!("token/{i}")), Some(format!("v{i}")));
    }
}

#[test]
fn a_damaged_file_gives_a_clear_error_without_its_contents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    store.set("token/x", &Secret::new("v")).expect("set");
    fs::write(
        store.path(),
        r#"{"version": 1, "secrets": {"token/x": "leaky-secret""#,
    )
    .expect("truncate");
    let err = store.get("token/x").expect_err("damaged file");
    assert!(matches!(err, SecretsError::CorruptFile { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("is damaged"), "{message}");
    assert!(message.contains("line 1"), "{message}");
    assert!(!message.contains("leaky"), "{message}");
    let reopened = FileStore::open(dir.path()).expect_err("open checks the file");
    assert!(matches!(reopened, SecretsError::CorruptFile { .. }));
}

#[test]
fn a_file_of_the_wrong_shape_does_not_quote_its_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    store.set("token/x", &Secret::new("v")).expect("set");
    fs::write(store.path(), r#"{"version": 1, "secrets": "leaky-secret"}"#).expect("write");
    let err = store.get("token/x").expect_err("wrong shape");
    let message = format!("{err} {err:?}");
    assert!(message.contains("expected fields"), "{message}");
    assert!(!message.contains("leaky"), "{message}");
}

#[test]
fn a_file_from_a_newer_version_is_refused_as_such() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    store.set("token/x", &Secret::new("v")).expect("set");
    fs::write(store.path(), r#"{"version": 2, "vault": []}"#).expect("write");
    let err = store.get("token/x").expect_err("newer version");
    assert!(
        matches!(
            err,
            SecretsError::UnsupportedFileVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade Keybridge"));
}

#[test]
fn names_and_values_are_checked_before_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    assert!(matches!(
        store.set("", &Secret::new("v")),
        Err(SecretsError::InvalidKey { .. })
    ));
    assert!(matches!(
        store.get("has space"),
        Err(SecretsError::InvalidKey { .. })
    ));
    assert!(matches!(
        store.set("token/x", &Secret::new("")),
        Err(SecretsError::EmptySecret { .. })
    ));
    assert!(!store.path().exists());
}

#[test]
fn debug_shows_the_path_and_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    store.set("token/x", &Secret::new("hunter2")).expect("set");
    let secret = store.get("token/x").expect("get").expect("present");
    assert_eq!(format!("{secret:?}"), "[redacted]");
    let printed = format!("{store:?}");
    assert!(printed.contains(FILE_NAME) && !printed.contains("hunter2"));
}

#[test]
fn a_directory_in_place_of_the_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join(FILE_NAME)).expect("mkdir");
    let err = FileStore::open(dir.path()).expect_err("not a file");
    assert!(
        matches!(err, SecretsError::NotARegularFile { .. }),
        "{err:?}"
    );
}

#[cfg(unix)]
mod unix {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn the_file_is_0600_and_a_created_directory_0700() {
        let parent = tempfile::tempdir().expect("tempdir");
        let dir = parent.path().join("data").join("secrets");
        let store = open(&dir);
        store.set("token/x", &Secret::new("v")).expect("set");
        assert_eq!(mode(store.path()), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&parent.path().join("data")), 0o700);
    }

    #[test]
    fn a_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(dir.path());
        store.set("token/x", &Secret::new("v")).expect("set");
        chmod(store.path(), 0o644);
        let err = store.get("token/x").expect_err("world-readable");
        assert!(
            matches!(err, SecretsError::InsecureFile { mode: 0o644, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert!(FileStore::open(dir.path()).is_err());
        assert!(store.set("token/y", &Secret::new("w")).is_err());
        chmod(store.path(), 0o600);
        assert_eq!(read(&store, "token/x").as_deref(), Some("v"));
    }

    #[test]
    fn a_file_the_group_can_write_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(dir.path());
        store.set("token/x", &Secret::new("v")).expect("set");
        chmod(store.path(), 0o620);
        assert!(matches!(
            store.get("token/x"),
            Err(SecretsError::InsecureFile { .. })
        ));
    }

    #[test]
    fn a_directory_others_can_write_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        chmod(dir.path(), 0o777);
        let err = FileStore::open(dir.path()).expect_err("shared dir");
        assert!(
            matches!(err, SecretsError::InsecureDirectory { mode: 0o777, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("chmod go-w"));
        chmod(dir.path(), 0o755);
        assert!(FileStore::open(dir.path()).is_ok(), "readable is fine");
    }

    #[test]
    fn a_symlink_in_place_of_the_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let elsewhere = dir.path().join("elsewhere.json");
        fs::write(&elsewhere, r#"{"version":1,"secrets":{}}"#).expect("write");
        chmod(&elsewhere, 0o600);
        std::os::unix::fs::symlink(&elsewhere, dir.path().join(FILE_NAME)).expect("symlink");
        let err = FileStore::open(dir.path()).expect_err("symlink");
        assert!(
            matches!(err, SecretsError::NotARegularFile { .. }),
            "{err:?}"
        );
    }
}
