//! The SCIM 2.0 protocol (RFC 7643 / RFC 7644) as Keybridge speaks it: schemas, resource
//! normalisation (the tolerant reader), filters, PATCH, projection and errors.
//!
//! Invariant: this crate does no I/O. It turns request JSON into typed, validated values
//! and documents into response JSON; storage and HTTP live elsewhere.

pub mod error;
pub mod filter;
pub mod path;
pub mod schema;

pub use error::{ScimError, ScimType};
