//! PATCH (RFC 7644 §3.5.2): parsing the request and applying its operations to a
//! canonical document, tolerant of what JumpCloud, Okta and Entra send.
//!
//! Group membership is not applied to the document: members are rows in the store, so
//! every operation on `members` becomes a [`MemberChange`] that the store applies as row
//! deltas (concurrent PATCHes then never lose each other's updates).

use serde_json::Value;

use crate::error::ScimError;
use crate::filter::Filter;
use crate::path::{parse_patch_path, PatchPath};
use crate::schema::{ResourceType, PATCH_OP};
use crate::value::describe;

mod apply;
mod edit;
mod members;

pub use apply::apply_patch;

/// The kind of a PATCH operation; `op` is matched case-insensitively (Entra sends
/// `Add`, `Replace`, `Remove`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

impl PatchOpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOpKind::Add => "add",
            PatchOpKind::Remove => "remove",
            PatchOpKind::Replace => "replace",
        }
    }
}

/// One operation of a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: PatchOpKind,
    /// `None`: the value is an object of attributes (add/replace without a path).
    pub path: Option<PatchPath>,
    /// As sent; `Some(Value::Null)` for an explicit `null` (which clears).
    pub value: Option<Value>,
}

/// A change to a group's membership, in request order.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    /// Add these user ids (already-present members are kept once).
    Add(Vec<String>),
    /// Remove these user ids (absent ones are ignored).
    Remove(Vec<String>),
    /// Remove every member.
    RemoveAll,
    /// Make the membership exactly these ids.
    Replace(Vec<String>),
    /// Remove the members matching this filter; its paths are relative to one member
    /// (`value`, `type`, `display`), as inside `members[...]`.
    RemoveWhere(Filter),
}

/// What a PATCH did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatchOutcome {
    /// Top-level attributes whose value changed, canonical names, in the order first
    /// touched; extension attributes are URN-qualified; `members` if membership changed.
    pub changed: Vec<String>,
    pub member_changes: Vec<MemberChange>,
}

/// Parses a PatchOp request body (RFC 7644 §3.5.2).
///
/// `Operations` must be a non-empty array (else `invalidSyntax`); `schemas`, if present,
/// must list the PatchOp URN; `op` is case-insensitive; `remove` without `path` is
/// `noTarget`; `add`/`replace` need a `value` (`null` is a value: it clears). A path that
/// is just an extension URN (`"path": "urn:...:enterprise:2.0:User"`) is read as a no-path
/// operation whose value sits under that URN.
pub fn parse_patch(body: &Value) -> Result<Vec<PatchOp>, ScimError> {
    let Value::Object(map) = body else {
        return Err(ScimError::invalid_syntax(format!(
            "the PATCH body must be a JSON object with \"schemas\" and \"Operations\", but it is {}",
            describe(body)
        )));
    };
    let get = |name: &str| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    if let Some(schemas) = get("schemas") {
        let listed = schemas.as_array().is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|s| s.eq_ignore_ascii_case(PATCH_OP))
        });
        if !listed {
            return Err(ScimError::invalid_syntax(format!(
                "a PATCH request must list the schema {PATCH_OP} in \"schemas\""
            )));
        }
    }
    let ops = match get("Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        Some(Value::Array(_)) => {
            return Err(ScimError::invalid_syntax("\"Operations\" is empty: a PATCH needs at least one operation"))
        }
        _ => {
            return Err(ScimError::invalid_syntax(
                "a PATCH request needs an \"Operations\" array of {\"op\", \"path\", \"value\"} objects",
            ))
        }
    };
    ops.iter()
        .enumerate()
        .map(|(i, op)| parse_op(i, op))
        .collect()
}

fn parse_op(index: usize, op: &Value) -> Result<PatchOp, ScimError> {
    let at = |detail: String| format!("Operations[{index}]: {detail}");
    let Value::Object(map) = op else {
        return Err(ScimError::invalid_syntax(at(format!(
            "an operation must be an object, not {}",
            describe(op)
        ))));
    };
    let get = |name: &str| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let mut kind = match get("op").and_then(Value::as_str).map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("add") => PatchOpKind::Add,
        Some(s) if s.eq_ignore_ascii_case("remove") => PatchOpKind::Remove,
        Some(s) if s.eq_ignore_ascii_case("replace") => PatchOpKind::Replace,
        Some(s) => {
            return Err(ScimError::invalid_syntax(at(format!(
                "unknown op \"{s}\"; expected add, remove or replace"
            ))))
        }
        None => {
            return Err(ScimError::invalid_syntax(at(
                "\"op\" (add, remove or replace) is missing".into(),
            )))
        }
    };
    let path_text = match get("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim()),
        Some(other) => {
            return Err(ScimError::invalid_path(at(format!(
                "\"path\" must be a string, not {}",
                describe(other)
            ))))
        }
    };
    let mut value = get("value").cloned();
    if kind != PatchOpKind::Remove && value.is_none() {
        return Err(ScimError::invalid_syntax(at(format!(
            "{} needs a \"value\" (use null to clear an attribute)",
            kind.as_str()
        ))));
    }
    let path = match path_text {
        None => None,
        Some(text) if is_schema_urn(text) => {
            // Removing a whole extension clears every attribute it holds: the same as
            // replacing it with null.
            if kind == PatchOpKind::Remove {
                kind = PatchOpKind::Replace;
                value = Some(Value::Null);
            }
            let mut wrapped = serde_json::Map::new();
            wrapped.insert(text.to_owned(), value.take().unwrap_or(Value::Null));
            value = Some(Value::Object(wrapped));
            None
        }
        Some(text) => Some(parse_patch_path(text).map_err(|e| ScimError {
            detail: at(e.detail),
            ..e
        })?),
    };
    if kind == PatchOpKind::Remove && path.is_none() {
        return Err(ScimError::no_target(at(
            "remove needs a \"path\" naming what to remove".into(),
        )));
    }
    Ok(PatchOp {
        op: kind,
        path,
        value,
    })
}

fn is_schema_urn(text: &str) -> bool {
    [ResourceType::User, ResourceType::Group]
        .into_iter()
        .any(|rt| rt.schema(text).is_some())
}

#[cfg(test)]
mod tests;
