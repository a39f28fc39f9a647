//! Attribute paths (RFC 7644 §3.10) and PATCH paths (§3.5.2).

use crate::filter::Filter;

/// `[URN ":"] attr ["." subAttr]`, with names as written until resolved against a schema.
/// After resolution (`schema::resolve_*`) `urn` is always set and names carry the
/// schema's canonical case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub attr: String,
    pub sub_attr: Option<String>,
}

/// A PATCH `path`: an attribute path, optionally with a value filter and a sub-attribute
/// after it (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub value_filter: Option<Filter>,
    /// Only with `value_filter`: the sub-attribute after `]`.
    pub sub_attr: Option<String>,
}
