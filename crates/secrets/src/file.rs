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
mod tests {
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
}
