//! The SCIM 2.0 protocol (RFC 7643 / RFC 7644) as Keybridge speaks it: schemas, resource
//! normalisation (the tolerant reader), filters, PATCH, projection and errors.
//!
//! Invariant: this crate does no I/O. It turns request JSON into typed, validated values
//! and documents into response JSON; storage and HTTP live elsewhere.

pub mod datetime;
pub mod error;
pub mod filter;
pub mod list;
pub mod patch;
pub mod path;
pub mod projection;
pub mod resource;
pub mod schema;
pub mod unicode;
mod value;

pub use error::{ScimError, ScimType};
pub use filter::{parse_filter, resolve_filter, CompValue, CompareOp, Filter};
pub use list::{list_response, parse_list_params, parse_search_request, ListQuery};
pub use patch::{apply_patch, parse_patch, MemberChange, PatchOp, PatchOpKind, PatchOutcome};
pub use path::{parse_attr_path, parse_patch_path, AttrPath, PatchPath};
pub use projection::{parse_attribute_list, project};
pub use resource::{normalize_group, normalize_user, NormalizedGroup};
pub use schema::{resolve_attr, ResolvedAttr, ResourceType};
pub use unicode::username_key;

#[cfg(test)]
mod robustness_tests;
