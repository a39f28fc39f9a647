//! The file backend: an owner-only JSON file in the data directory.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::error::SecretsError;
use crate::secret::Secret;
use crate::store::{validate_entry, validate_key, SecretStore};

/// The name of the secrets file inside the directory given to [`FileStore::open`].
pub const FILE_NAME: &str = "secrets.json";

/// The format this build reads and writes; a file with a higher number is refused
/// rather than misread.
const FORMAT_VERSION: u64 = 1;

/// Distinguishes temp files of concurrent writers in one process (the pid separates
/// processes).
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Secrets in one JSON file, `secrets.json`, for headless servers (which have no OS
/// keychain) and tests.
///
/// The file holds the secrets in plain text, so it is protected by the file system: on
/// Unix it is created `0600` in a directory created `0700`, and a file that others could
/// read or change, or a directory others could write to (and so swap the file), is
/// refused with an error saying how to fix it. On Windows the file inherits the data
/// directory's ACL, which under the user profile is private to the user.
///
/// Every write goes to a temp file that is fsynced and renamed over the old one, so a
/// crash leaves either the old or the new file, never a torn one. Every read goes to
/// the file, so edits by another process (`keybridge secrets set` while the server runs)
/// are seen. Writes within one process are serialised; two processes writing at the same
/// moment may lose one update, which is why one data directory belongs to one instance.
pub struct FileStore {
    dir: PathBuf,
    path: PathBuf,
    /// Serialises read-modify-write cycles; it guards the file, not memory.
    write_lock: Mutex<()>,
}

/// The file's shape. Secrets sit under a versioned envelope so the format can grow; the
/// version is checked through [`VersionOnly`] before this is parsed.
#[derive(Deserialize)]
struct Contents {
    #[serde(default)]
    secrets: BTreeMap<String, Secret>,
}

/// Read first, on its own, so a newer file is reported as such rather than as damaged.
#[derive(Deserialize)]
struct VersionOnly {
    version: u64,
}

/// The only place a secret's value is serialised: this private wrapper, used to write
/// the file. `Secret` itself has no `Serialize`.
#[derive(Serialize)]
struct ContentsOut<'a> {
    version: u64,
    secrets: BTreeMap<&'a str, Exposed<'a>>,
}

struct Exposed<'a>(&'a Secret);

impl Serialize for Exposed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.expose())
    }
}

impl FileStore {
    /// Opens the store in `dir`, creating the directory (owner-only) if it is missing.
    /// An existing secrets file is checked now — permissions, format — so problems show
    /// at start-up. The file itself is created by the first [`set`](SecretStore::set).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, SecretsError> {
        let dir = dir.into();
        prepare_dir(&dir)?;
        let store = Self {
            path: dir.join(FILE_NAME),
            dir,
            write_lock: Mutex::new(()),
        };
        store.load()?;
        Ok(store)
    }

    /// Whether `dir` already holds a secrets file (of any kind; opening checks it).
    pub fn exists_in(dir: &Path) -> bool {
        fs::symlink_metadata(dir.join(FILE_NAME)).is_ok()
    }

    /// The secrets file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(&self) -> Result<BTreeMap<String, Secret>, SecretsError> {
        let metadata = match fs::symlink_metadata(&self.path) {
            Ok(metadata) => metadata,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(source) => return Err(self.io_error("inspect the secrets file", source)),
        };
        if !metadata.is_file() {
            return Err(SecretsError::NotARegularFile {
                path: self.path.clone(),
            });
        }
        check_private_file(&self.path, &metadata)?;

        let mut file =
            File::open(&self.path).map_err(|e| self.io_error("open the secrets file", e))?;
        // Sized up front so reading does not reallocate and leave unzeroed copies behind.
        let capacity = usize::try_from(metadata.len())
            .unwrap_or(0)
            .saturating_add(1);
        let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
        file.read_to_end(&mut bytes)
            .map_err(|e| self.io_error("read the secrets file", e))?;
        self.parse(&bytes)
    }

    fn parse(&self, bytes: &[u8]) -> Result<BTreeMap<String, Secret>, SecretsError> {
        let version: VersionOnly =
            serde_json::from_slice(bytes).map_err(|err| self.corrupt(&err))?;
        if version.version != FORMAT_VERSION {
            return Err(SecretsError::UnsupportedFileVersion {
                path: self.path.clone(),
                found: version.version,
                supported: FORMAT_VERSION,
            });
        }
        let contents: Contents = serde_json::from_slice(bytes).map_err(|err| self.corrupt(&err))?;
        Ok(contents.secrets)
    }

    /// A damaged-file error that names the position only: serde_json's own messages
    /// quote pieces of the input, and the input is secrets.
    fn corrupt(&self, err: &serde_json::Error) -> SecretsError {
        let what = match err.classify() {
            serde_json::error::Category::Io => "it could not be read",
            serde_json::error::Category::Syntax => "it is not valid JSON",
            serde_json::error::Category::Data => "it does not have the expected fields",
            serde_json::error::Category::Eof => "it ends too early",
        };
        SecretsError::CorruptFile {
            path: self.path.clone(),
            reason: format!("{what}, at line {} column {}", err.line(), err.column()),
        }
    }

    fn save(&self, secrets: &BTreeMap<String, Secret>) -> Result<(), SecretsError> {
        let contents = ContentsOut {
            version: FORMAT_VERSION,
            secrets: secrets
                .iter()
                .map(|(key, secret)| (key.as_str(), Exposed(secret)))
                .collect(),
        };
        let mut bytes = Zeroizing::new(
            serde_json::to_vec_pretty(&contents)
                .map_err(|e| self.io_error("encode the secrets file", io::Error::other(e)))?,
        );
        bytes.push(b'\n');
        self.write_atomically(&bytes)
    }

    /// Temp file in the same directory (so the rename is atomic), fsync, rename, then
    /// fsync the directory so the rename itself survives a power cut.
    fn write_atomically(&self, bytes: &[u8]) -> Result<(), SecretsError> {
        let temp = self.dir.join(format!(
            ".{FILE_NAME}.{}.{}.tmp",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = write_new_private_file(&temp, bytes)
            .map_err(|e| self.io_error("write a new secrets file", e))
            .and_then(|()| {
                fs::rename(&temp, &self.path)
                    .map_err(|e| self.io_error("replace the secrets file", e))
            });
        if written.is_err() {
            // Best effort: the error that matters is the one already in hand.
            let _ = fs::remove_file(&temp);
            return written;
        }
        sync_dir(&self.dir).map_err(|e| SecretsError::FileIo {
            path: self.dir.clone(),
            action: "flush the secrets directory",
            source: e,
        })
    }

    fn io_error(&self, action: &'static str, source: io::Error) -> SecretsError {
        SecretsError::FileIo {
            path: self.path.clone(),
            action,
            source,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic while holding the lock leaves no in-memory state to distrust: the file
        // is either the old or the new one.
        self.write_lock.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SecretStore for FileStore {
    fn get(&self, key: &str) -> Result<Option<Secret>, SecretsError> {
        validate_key(key)?;
        Ok(self.load()?.remove(key))
    }

    fn set(&self, key: &str, secret: &Secret) -> Result<(), SecretsError> {
        validate_entry(key, secret)?;
        let _guard = self.lock();
        let mut secrets = self.load()?;
        secrets.insert(key.to_owned(), secret.clone());
        self.save(&secrets)
    }

    fn delete(&self, key: &str) -> Result<bool, SecretsError> {
        validate_key(key)?;
        let _guard = self.lock();
        let mut secrets = self.load()?;
        if secrets.remove(key).is_none() {
            return Ok(false);
        }
        self.save(&secrets)?;
        Ok(true)
    }
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Creates the directory owner-only if missing; refuses one others can write to.
fn prepare_dir(dir: &Path) -> Result<(), SecretsError> {
    let io_error = |action, source| SecretsError::FileIo {
        path: dir.to_path_buf(),
        action,
        source,
    };
    match fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => check_dir_not_shared(dir, &metadata),
        Ok(_) => Err(io_error(
            "use the secrets directory",
            io::Error::other("it exists but is not a directory"),
        )),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            create_private_dir(dir).map_err(|e| io_error("create the secrets directory", e))
        }
        Err(err) => Err(io_error("inspect the secrets directory", err)),
    }
}

#[cfg(unix)]
mod platform {
    use std::fs::{DirBuilder, File, Metadata, OpenOptions};
    use std::io;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    use std::path::Path;

    use crate::error::SecretsError;

    pub(super) fn create_private_dir(dir: &Path) -> io::Result<()> {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }

    pub(super) fn new_private_file_options() -> OpenOptions {
        let mut options = OpenOptions::new();
        options.mode(0o600);
        options
    }

    pub(super) fn check_private_file(path: &Path, metadata: &Metadata) -> Result<(), SecretsError> {
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretsError::InsecureFile {
                path: path.to_path_buf(),
                mode,
            });
        }
        Ok(())
    }

    pub(super) fn check_dir_not_shared(
        dir: &Path,
        metadata: &Metadata,
    ) -> Result<(), SecretsError> {
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(SecretsError::InsecureDirectory {
                path: dir.to_path_buf(),
                mode,
            });
        }
        Ok(())
    }

    pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
}

#[cfg(not(unix))]
mod platform {
    use std::fs::{self, Metadata, OpenOptions};
    use std::io;
    use std::path::Path;

    use crate::error::SecretsError;

    pub(super) fn create_private_dir(dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    pub(super) fn new_private_file_options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Windows protects files with ACLs inherited from the directory; there are no mode
    /// bits to check.
    pub(super) fn check_private_file(_: &Path, _: &Metadata) -> Result<(), SecretsError> {
        Ok(())
    }

    pub(super) fn check_dir_not_shared(_: &Path, _: &Metadata) -> Result<(), SecretsError> {
        Ok(())
    }

    /// Windows cannot open a directory to flush it; `rename` there is already durable
    /// enough for this use.
    pub(super) fn sync_dir(_: &Path) -> io::Result<()> {
        Ok(())
    }
}

use platform::{
    check_dir_not_shared, check_private_file, create_private_dir, new_private_file_options,
    sync_dir,
};

fn write_new_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options: OpenOptions = new_private_file_options();
    let mut file = options.write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests;
