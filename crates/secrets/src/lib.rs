//! Secrets for Keybridge: bearer tokens, OIDC client IDs and API keys.
//!
//! Every secret is a [`Secret`], which redacts itself in `Debug`/`Display` and has no
//! `Serialize`, so leaking one into a log line or a JSON answer is a type error rather
//! than a review miss. Secrets live behind the [`SecretStore`] trait with two backends:
//!
//! - [`KeychainStore`]: the OS keychain (macOS Keychain, Windows Credential Manager,
//!   the Secret Service on Linux), the default on desktops;
//! - [`FileStore`]: an owner-only JSON file in the data directory, for headless servers
//!   (which have no keychain) and for tests.
//!
//! [`open_store`] picks one from a [`StoreKind`] and says which it picked, so the CLI and
//! the desktop shell can tell the admin where the secrets went.
//!
//! Testing: unit tests use an in-memory keychain and temp directories; a test in
//! `tests/keychain_unavailable.rs` checks that a missing Secret Service gives
//! [`SecretsError::KeychainUnavailable`] quickly; `tests/real_keychain.rs` runs against
//! the real OS keychain when `KEYBRIDGE_REAL_KEYCHAIN=1`, which
//! `crates/secrets/test-real-keychain.sh` sets up on Linux with a throwaway GNOME Keyring
//! (install its packages with `scripts/install-keyring-test-deps.sh`).

mod error;
mod file;
mod keychain;
mod secret;
mod store;

pub use error::SecretsError;
pub use file::{FileStore, FILE_NAME};
pub use keychain::{KeychainStore, SERVICE};
pub use secret::{serialize_exposed, Secret};
pub use store::{open_store, Backend, OpenedStore, SecretStore, StoreKind, MAX_KEY_LEN};
