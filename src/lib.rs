//! Keybridge's core: the SCIM bridge, the directory it maintains, and everything the
//! desktop app and the `keybridge` command share. No Tauri, no webview.
//!
//! Dependencies point one way: `bridge` → `directory` → `store`; `keybridge_scim` (the
//! protocol) and `keybridge_mapping` (the expression language) are pure crates used by
//! all; `keybridge_secrets` keeps secrets.

pub mod app;
pub mod bridge;
pub mod directory;
pub mod logging;
pub mod mappings;
pub mod sso;
pub mod store;
pub mod tokens;

pub use keybridge_mapping as mapping;
pub use keybridge_scim as scim;
pub use keybridge_secrets as secrets;
