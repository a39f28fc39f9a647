use super::*;
use crate::store::{Store, StoreError, StoreOptions};

/// A migrated store in `dir` with `n` people, written through the store's own writer
/// (WAL, not checkpointed while the returned store is open).
async fn store_with_people(dir: &Path, n: usize) -> Store {
    let store = Store::open(dir, StoreOptions::default()).expect("open");
    for i in 0..n {
        store
            .write(move |conn| -> Result<(), StoreError> {
                conn.execute(
                    "INSERT INTO people (id, user_name, user_name_key, active, state, doc, version, created, modified)
                     VALUES (?1, ?2, ?2, 1, 'invited', '{}', 1, 'now', 'now')",
                    rusqlite::params![format!("id-{i}"), format!("user{i}@example.com")],
                )?;
                Ok(())
            })
            .await
            .expect("insert");
    }
    store
}

fn user_names(db: &Path) -> Vec<String> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let mut stmt = conn
        .prepare("SELECT user_name FROM people ORDER BY seq")
        .expect("prepare");
    let names = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<Vec<String>, _>>()
        .expect("rows");
    names
}

#[tokio::test]
async fn a_backup_of_an_open_store_holds_its_committed_writes_and_verifies() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let store = store_with_people(data.path(), 3).await;
    let file = out.path().join("kb.backup");
    let info = backup(data.path(), &file).expect("backup");
    assert_eq!(info.people, 3);
    assert_eq!(info.schema_version, migrations::latest_version());
    assert_eq!(verify(&file).expect("verify"), info);
    assert_eq!(user_names(&file).len(), 3);
    // One self-contained file: no WAL beside it, owner-only.
    assert!(!sibling(&file, "-wal").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    store.close().await;
}

#[tokio::test]
async fn a_second_backup_to_the_same_name_replaces_the_first() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let store = store_with_people(data.path(), 1).await;
    let file = out.path().join("kb.backup");
    backup(data.path(), &file).expect("first");
    store.close().await;
    let store = store_with_people(data.path(), 0).await;
    store
        .write(|conn| -> Result<(), StoreError> {
            conn.execute("DELETE FROM people", [])?;
            Ok(())
        })
        .await
        .expect("delete");
    assert_eq!(backup(data.path(), &file).expect("second").people, 0);
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    store.close().await;
}

#[test]
fn backing_up_a_missing_store_names_the_path() {
    let data = tempfile::tempdir().expect("tempdir");
    let err = backup(data.path(), &data.path().join("b")).expect_err("no store");
    assert!(matches!(err, BackupError::NoStore(_)), "{err}");
}

#[test]
fn verify_refuses_what_is_not_a_keybridge_backup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are not the droids").expect("write");
    assert!(matches!(verify(&text), Err(BackupError::NotABackup { .. })));

    let empty_db = dir.path().join("empty.db");
    Connection::open(&empty_db)
        .and_then(|c| c.execute_batch("CREATE TABLE t (x)"))
        .expect("create");
    assert!(matches!(
        verify(&empty_db),
        Err(BackupError::NotABackup { .. })
    ));

    let newer = dir.path().join("newer.db");
    Connection::open(&newer)
        .and_then(|c| c.pragma_update(None, "user_version", 999))
        .expect("create");
    assert!(matches!(
        verify(&newer),
        Err(BackupError::TooNew { found: 999, .. })
    ));
}

#[tokio::test]
async fn verify_refuses_a_damaged_backup() {
    let data = tempfile::tempdir().expect("tempdir");
    let store = store_with_people(data.path(), 200).await;
    let file = data.path().join("kb.backup");
    backup(data.path(), &file).expect("backup");
    store.close().await;
    // Overwrite the middle of the file (table and index pages, not the header).
    let mut bytes = std::fs::read(&file).expect("read");
    let len = bytes.len();
    for b in &mut bytes[len / 3..len / 3 + 4096] {
        *b = 0x5a;
    }
    std::fs::write(&file, &bytes).expect("write");
    let err = verify(&file).expect_err("damaged");
    assert!(
        matches!(
            err,
            BackupError::Damaged { .. } | BackupError::NotABackup { .. }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn restore_replaces_the_store_and_keeps_the_old_one() {
    let source = tempfile::tempdir().expect("tempdir");
    let target = tempfile::tempdir().expect("tempdir");
    let store = store_with_people(source.path(), 2).await;
    let file = source.path().join("kb.backup");
    backup(source.path(), &file).expect("backup");
    store.close().await;

    // The target has a store of its own, closed by a crash: its last writes are only in
    // the WAL. Forgetting the store leaves the writer's connection open, as a killed
    // process would leave its files.
    let old = store_with_people(target.path(), 5).await;
    let db = target.path().join(DB_FILE);
    assert!(sibling(&db, "-wal").exists());
    std::mem::forget(old);

    let info = restore(target.path(), &file).expect("restore");
    assert_eq!(info.people, 2);
    assert_eq!(
        user_names(&db),
        vec!["user0@example.com", "user1@example.com"]
    );
    assert_eq!(user_names(&sibling(&db, REPLACED_SUFFIX)).len(), 5);
    // The store opens, migrates and serves from the restored file.
    let reopened = Store::open(target.path(), StoreOptions::default()).expect("reopen");
    reopened.close().await;
}

#[tokio::test]
async fn restore_is_refused_while_the_data_directory_is_locked() {
    let source = tempfile::tempdir().expect("tempdir");
    let store = store_with_people(source.path(), 1).await;
    let file = source.path().join("kb.backup");
    backup(source.path(), &file).expect("backup");
    store.close().await;

    let target = tempfile::tempdir().expect("tempdir");
    let before = store_with_people(target.path(), 3).await;
    before.close().await;
    let lock = DataDirLock::acquire(target.path(), "keybridge serve").expect("lock");
    let err = restore(target.path(), &file).expect_err("refused");
    assert!(
        matches!(err, BackupError::Locked(LockError::Held { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("Stop that bridge first"), "{err}");
    assert_eq!(user_names(&target.path().join(DB_FILE)).len(), 3);
    drop(lock);
    restore(target.path(), &file).expect("restore once the bridge stopped");
}

#[test]
fn restore_into_a_fresh_directory_creates_it() {
    let source = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let store = rt.block_on(store_with_people(source.path(), 4));
    let file = source.path().join("kb.backup");
    backup(source.path(), &file).expect("backup");
    rt.block_on(store.close());
    let target = source.path().join("new").join("data");
    restore(&target, &file).expect("restore");
    assert_eq!(user_names(&target.join(DB_FILE)).len(), 4);
    assert!(!sibling(&target.join(DB_FILE), REPLACED_SUFFIX).exists());
}
