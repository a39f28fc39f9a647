//! The data directory's lock: `keybridge serve` holds an exclusive advisory lock on
//! `DATA/keybridge.lock` for as long as it runs, and `keybridge restore` takes the same
//! lock before it replaces the store, so a restore can never pull the database out from
//! under a serving bridge (and a bridge cannot start in the middle of a restore).
//!
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on Windows): it is
//! released when the holding process exits, however it exits, so a bridge killed with
//! SIGKILL leaves no stale lock behind. The file's content is informational only.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "keybridge.lock";

/// Why the data directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another Keybridge is using {dir} (a running `keybridge serve`, or a restore in progress): it holds {lock}. Stop that bridge first (Ctrl-C, or your service manager), then try again")]
    Held { dir: PathBuf, lock: PathBuf },
    #[error("cannot lock {lock}: {source}")]
    Io {
        lock: PathBuf,
        source: std::io::Error,
    },
}

/// Holds the data directory's exclusive lock until dropped.
#[derive(Debug)]
pub struct DataDirLock {
    // Kept open: closing the file releases the lock.
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// Takes the exclusive lock without waiting; `LockError::Held` when another process
    /// has it. The data directory must exist.
    pub fn acquire(data_dir: &Path, holder: &str) -> Result<DataDirLock, LockError> {
        let path = data_dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            lock: path.clone(),
            source,
        };
        // Not truncated on open: truncating would erase the holder's note before we know
        // whether we may take the lock.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // Called through the trait by name: std's inherent `File::try_lock` is newer than
        // our minimum Rust version.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    dir: data_dir.to_owned(),
                    lock: path,
                })
            }
            Err(fs4::TryLockError::Error(e)) => return Err(io(e)),
        }
        // Who holds it, for an admin who looks at the file; failing to write the note
        // does not weaken the lock.
        let note = format!("{holder} (pid {})\n", std::process::id());
        let _ = file
            .set_len(0)
            .and_then(|()| file.write_all(note.as_bytes()));
        Ok(DataDirLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = DataDirLock::acquire(dir.path(), "serve").expect("first");
        // flock locks belong to the open file description, so a second open in the same
        // process conflicts just as another process would.
        assert!(matches!(
            DataDirLock::acquire(dir.path(), "restore"),
            Err(LockError::Held { .. })
        ));
        drop(first);
        DataDirLock::acquire(dir.path(), "restore").expect("free again");
    }
}
