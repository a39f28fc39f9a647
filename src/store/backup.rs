//! Online backup and offline restore of the store.
//!
//! A backup is `VACUUM INTO` from a separate read-only connection: it reads one snapshot
//! (a WAL read transaction), so it is consistent while `keybridge serve` keeps writing in
//! another process, and it never blocks the writer. The copy is written to a temporary
//! file beside the destination, checked, synced and renamed into place, so a crash or a
//! full disk never leaves a half-written file under the backup's name.
//!
//! A restore replaces the data directory's store with a verified copy of a backup. It
//! holds the data directory's lock (see `lock.rs`) while it works, so it refuses to run
//! while a bridge serves from that directory, and a bridge cannot start halfway through.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::lock::{DataDirLock, LockError};
use super::{create_private_dir, migrations, DB_FILE};

/// The name under which a restore keeps the store it replaced.
pub const REPLACED_SUFFIX: &str = ".before-restore";

/// Why a backup or restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("there is no Keybridge store at {0}; check --data-dir")]
    NoStore(PathBuf),
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a Keybridge backup: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error("{path} is damaged (SQLite's integrity check says: {report}); use another backup")]
    Damaged { path: PathBuf, report: String },
    #[error("{path} was written by a newer Keybridge (schema version {found}, this one knows {known}); restore it with that version or newer")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(transparent)]
    Locked(#[from] LockError),
}

/// What a backup file holds, as found by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub schema_version: i64,
    pub people: u64,
    pub groups: u64,
    pub memberships: u64,
    pub bytes: u64,
}

fn sqlite_err(path: &Path) -> impl FnOnce(rusqlite::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Copies the store in `data_dir` to `dest` while a bridge may be serving from it.
/// An existing file at `dest` is replaced only once the new copy is complete and checked.
pub fn backup(data_dir: &Path, dest: &Path) -> Result<BackupInfo, BackupError> {
    let source = data_dir.join(DB_FILE);
    if !source.is_file() {
        return Err(BackupError::NoStore(source));
    }
    if dest.is_dir() {
        return Err(BackupError::Io {
            path: dest.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "is a directory; name the backup file",
            ),
        });
    }
    // The process id keeps two backups to the same name from writing one temporary file.
    let partial = sibling(dest, &format!(".partial-{}", std::process::id()));
    let result = copy_database(&source, &partial).and_then(|()| {
        let info = verify(&partial)?;
        replace_file(&partial, dest)?;
        Ok(info)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Checks that `file` is a whole, undamaged Keybridge store this binary can open.
pub fn verify(file: &Path) -> Result<BackupInfo, BackupError> {
    let meta = std::fs::metadata(file).map_err(io_err(file))?;
    if !meta.is_file() {
        return Err(not_a_backup(file, "not a regular file"));
    }
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err(file))?;
    // The first read is where SQLite notices that a file is not a database at all.
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| not_a_backup(file, &e.to_string()))?;
    let report = integrity_report(&conn).map_err(|e| not_a_backup(file, &e.to_string()))?;
    if report != "ok" {
        return Err(BackupError::Damaged {
            path: file.to_owned(),
            report,
        });
    }
    let known = migrations::latest_version();
    if found > known {
        return Err(BackupError::TooNew {
            path: file.to_owned(),
            found,
            known,
        });
    }
    let count = |table: &str| -> Result<u64, BackupError> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n.max(0) as u64)
        .map_err(|_| not_a_backup(file, &format!("it has no `{table}` table")))
    };
    if found < 1 {
        return Err(not_a_backup(file, "it has no Keybridge schema"));
    }
    Ok(BackupInfo {
        schema_version: found,
        people: count("people")?,
        groups: count("groups")?,
        memberships: count("memberships")?,
        bytes: meta.len(),
    })
}

/// Replaces the store in `data_dir` with the backup `file`. Refuses while a bridge serves
/// from `data_dir`. The replaced store is kept as `keybridge.db.before-restore`.
pub fn restore(data_dir: &Path, file: &Path) -> Result<BackupInfo, BackupError> {
    create_private_dir(data_dir).map_err(|e| BackupError::Io {
        path: data_dir.to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let _lock = DataDirLock::acquire(data_dir, "keybridge restore")?;
    let info = verify(file)?;
    let store = data_dir.join(DB_FILE);
    let incoming = sibling(&store, ".restoring");
    // A restore that crashed earlier may have left its temporary file.
    remove_if_present(&incoming)?;
    let result = copy_database(file, &incoming)
        .and_then(|()| verify(&incoming).map(|_| ()))
        .and_then(|()| swap_in(&store, &incoming));
    if result.is_err() {
        let _ = std::fs::remove_file(&incoming);
    }
    result.map(|()| info)
}

/// Puts `incoming` in place of `store`. The store file is always either the old one,
/// whole, or the new one: the old store's WAL is folded into it and the old `-wal`/`-shm`
/// are removed *before* the rename, because a WAL left beside the new file would be
/// replayed into it on the next open.
fn swap_in(store: &Path, incoming: &Path) -> Result<(), BackupError> {
    if store.is_file() {
        // Best effort: a damaged old store must not prevent restoring a good backup.
        if let Ok(conn) = Connection::open_with_flags(store, OpenFlags::SQLITE_OPEN_READ_WRITE) {
            let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
            let _ = conn.close();
        }
        let kept = sibling(store, REPLACED_SUFFIX);
        std::fs::copy(store, &kept).map_err(io_err(&kept))?;
        sync_file(&kept)?;
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        remove_if_present(&sibling(store, suffix))?;
    }
    replace_file(incoming, store)
}

/// Writes a compact, self-contained copy of the database at `source` to `dest`, which
/// must not exist. The copy is owner-only (it holds the directory and token digests)
/// and in rollback-journal mode, so it is one file until a bridge opens it.
fn copy_database(source: &Path, dest: &Path) -> Result<(), BackupError> {
    create_owner_only(dest)?;
    let conn = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err(source))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(sqlite_err(source))?;
    let target = dest.to_string_lossy().into_owned();
    conn.execute("VACUUM INTO ?1", [&target])
        .map_err(sqlite_err(source))?;
    drop(conn);
    let copy = Connection::open(dest).map_err(sqlite_err(dest))?;
    // The copy inherits the source's WAL flag; rollback mode keeps it a single file.
    copy.pragma_update(None, "journal_mode", "DELETE")
        .map_err(sqlite_err(dest))?;
    copy.close().map_err(|(_, e)| sqlite_err(dest)(e))?;
    sync_file(dest)
}

fn integrity_report(conn: &Connection) -> rusqlite::Result<String> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let lines = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(lines.join("; "))
}

fn not_a_backup(path: &Path, reason: &str) -> BackupError {
    BackupError::NotABackup {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn create_owner_only(path: &Path) -> Result<(), BackupError> {
    remove_if_present(path)?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop).map_err(io_err(path))
}

fn remove_if_present(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

fn sync_file(path: &Path) -> Result<(), BackupError> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.sync_all())
        .map_err(io_err(path))
}

/// Renames `from` over `to` and makes the rename durable.
fn replace_file(from: &Path, to: &Path) -> Result<(), BackupError> {
    std::fs::rename(from, to).map_err(io_err(to))?;
    // On Unix a rename is durable only once the directory itself is synced.
    #[cfg(unix)]
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
