//! Turning PATCH operations on a group's `members` into [`MemberChange`]s.
//!
//! The shapes real clients send: JumpCloud and Entra remove with a value list
//! (`{"op":"remove","path":"members","value":[{"value":"id"}]}`), Okta with a filter
//! (`members[value eq "id"]`), everyone adds with a value list, Okta also replaces the
//! whole list, and no-path operations may carry a `members` key.

use serde_json::Value;

use super::{MemberChange, PatchOpKind};
use crate::error::ScimError;
use crate::filter::resolve::resolve_relative;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::path::PatchPath;
use crate::resource::member_ids;
use crate::schema::AttrDef;

/// The change for one operation on `members`; `None` when it changes nothing (adding an
/// empty list).
pub(super) fn member_change(
    kind: PatchOpKind,
    members: &'static AttrDef,
    path: Option<&PatchPath>,
    value: Option<&Value>,
) -> Result<Option<MemberChange>, ScimError> {
    if let Some(p) = path {
        if p.attr.sub_attr.is_some() || p.sub_attr.is_some() {
            return Err(ScimError::invalid_path(format!(
                "\"{p}\": change membership with the path \"members\" and a value list, or remove with members[value eq \"id\"]"
            )));
        }
    }
    let filter = path.and_then(|p| p.value_filter.as_ref());
    let ids = || {
        value
            .map(member_ids)
            .transpose()
            .map(Option::unwrap_or_default)
    };
    Ok(match (kind, filter) {
        (PatchOpKind::Add, None) => {
            let ids = ids()?;
            (!ids.is_empty()).then_some(MemberChange::Add(ids))
        }
        (PatchOpKind::Replace, None) => Some(MemberChange::Replace(ids()?)),
        (PatchOpKind::Remove, None) => match value {
            None | Some(Value::Null) => Some(MemberChange::RemoveAll),
            Some(_) => {
                let ids = ids()?;
                (!ids.is_empty()).then_some(MemberChange::Remove(ids))
            }
        },
        (PatchOpKind::Remove, Some(filter)) => {
            let resolved = resolve_relative(members, filter.clone()).map_err(|e| ScimError::invalid_path(e.detail))?;
            Some(match value_eq_ids(&resolved) {
                Some(ids) => MemberChange::Remove(ids),
                None => MemberChange::RemoveWhere(resolved),
            })
        }
        (PatchOpKind::Add | PatchOpKind::Replace, Some(_)) => {
            return Err(ScimError::invalid_path(format!(
                "{} with a members[...] filter is not supported: {} members with the path \"members\" and a value list",
                kind.as_str(),
                kind.as_str()
            )))
        }
    })
}

/// `value eq "a"` or `value eq "a" or value eq "b" ...` → the ids; anything else `None`.
fn value_eq_ids(filter: &Filter) -> Option<Vec<String>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(id),
        } if path.attr == "value" && path.urn.is_none() && path.sub_attr.is_none() => {
            Some(vec![id.clone()])
        }
        Filter::Or(l, r) => {
            let mut ids = value_eq_ids(l)?;
            for id in value_eq_ids(r)? {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            Some(ids)
        }
        _ => None,
    }
}
