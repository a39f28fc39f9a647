//! The one error type of the secrets boundary.

use std::io;
use std::path::PathBuf;

/// What can go wrong keeping a secret. Messages are written for the admin who reads them
/// and say what to do next; none of them ever contains a secret's value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// No OS keychain could be reached: no Secret Service on the session bus (a headless
    /// server, a container), the keychain is locked and unlocking was refused, or the
    /// platform store failed. Stable so callers can offer the file store instead.
    #[error(
        "no OS keychain is available ({reason}); run with --secrets file to keep secrets \
         in an owner-only file in the data directory"
    )]
    KeychainUnavailable {
        /// What the platform said, for diagnosis.
        reason: String,
    },

    /// The keychain works but refused this one operation (an unreadable value, duplicate
    /// items, a platform limit).
    #[error("the OS keychain could not {action} secret `{key}`: {reason}")]
    Keychain {
        /// The secret's name.
        key: String,
        /// `read`, `store` or `delete`.
        action: &'static str,
        /// What went wrong, without the value.
        reason: String,
    },

    /// Secret names are short ASCII paths like `token/jumpcloud`, so they mean the same in
    /// every keychain and in the file.
    #[error("`{key}` is not a valid secret name: {reason}")]
    InvalidKey {
        /// The rejected name (names are not secret).
        key: String,
        /// Why it was rejected.
        reason: &'static str,
    },

    /// An empty value is never a valid token or key, and some keychains cannot store one;
    /// removing a secret is [`delete`](crate::SecretStore::delete).
    #[error("refusing to store an empty value for secret `{key}`; delete the secret instead")]
    EmptySecret {
        /// The secret's name.
        key: String,
    },

    /// Reading or writing the secrets file or its directory failed.
    #[error("could not {action} {}: {source}", .path.display())]
    FileIo {
        /// The file or directory involved.
        path: PathBuf,
        /// What was being done, e.g. `read the secrets file`.
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The secrets file can be read or written by other users, so its contents may have
    /// been seen or planted; Keybridge will not use it until the owner decides.
    #[error(
        "the secrets file {} has mode {mode:03o}, so other users can read or change it; \
         refusing to use it. If you trust its contents run `chmod 600 {}`, otherwise delete \
         it and store the secrets again",
        .path.display(), .path.display()
    )]
    InsecureFile {
        /// The secrets file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// Other users can write to the directory, so they could swap the secrets file.
    #[error(
        "the secrets directory {} has mode {mode:03o}, so other users could replace the \
         secrets file; run `chmod go-w {}` or use another data directory",
        .path.display(), .path.display()
    )]
    InsecureDirectory {
        /// The directory holding the secrets file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// The secrets file path is a symlink, directory or device rather than a plain file.
    #[error(
        "{} is not a regular file (a symlink, directory or device); Keybridge only keeps \
         secrets in a plain file it owns. Move it away and store the secrets again",
        .path.display()
    )]
    NotARegularFile {
        /// The offending path.
        path: PathBuf,
    },

    /// The secrets file is not the JSON Keybridge writes (hand-edited, truncated by a
    /// disk failure). The reason names only a position, never the contents.
    #[error(
        "the secrets file {} is damaged ({reason}); restore it from a backup, or delete it \
         and store the secrets again",
        .path.display()
    )]
    CorruptFile {
        /// The secrets file.
        path: PathBuf,
        /// Where parsing failed.
        reason: String,
    },

    /// The file was written by a newer Keybridge whose format this one does not know.
    #[error(
        "the secrets file {} has format version {found}, but this Keybridge understands \
         only version {supported}; upgrade Keybridge",
        .path.display()
    )]
    UnsupportedFileVersion {
        /// The secrets file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
        /// The version this build writes and reads.
        supported: u64,
    },
}
