//! Resolution of a parsed filter against a resource type's schemas: every attribute must
//! exist, names get their canonical case and URN, and each comparison must make sense for
//! the attribute's type. What leaves here is safe to translate to storage queries.

use super::{CompValue, CompareOp, Filter};
use crate::datetime::parse_datetime;
use crate::error::ScimError;
use crate::path::AttrPath;
use crate::schema::{resolve_attr, AttrDef, AttrType, ResolvedAttr, ResourceType, Returned};

/// Resolves every attribute of `filter` for resources of type `rt`.
///
/// - Names are matched case-insensitively, with or without the core URN; extension
///   attributes need their URN. Unknown attributes are `400 invalidFilter` naming them.
/// - A comparison on a complex attribute without a sub-attribute means its `value`
///   sub-attribute (`emails co "x"` ≡ `emails.value co "x"`), and is rewritten so.
/// - Value paths keep relative sub-attribute names inside (canonical case, no URN).
/// - Comparisons that make no sense are rejected: ordering on booleans and binaries,
///   `co`/`sw`/`ew` on anything but strings, values of the wrong type, `null` (use `pr`).
/// - `"true"`/`"false"` strings compared with booleans become booleans, and numbers
///   compared with strings become strings (what a tolerant reader accepts).
pub fn resolve_filter(rt: ResourceType, filter: Filter) -> Result<Filter, ScimError> {
    Ok(match filter {
        Filter::And(l, r) => Filter::And(
            Box::new(resolve_filter(rt, *l)?),
            Box::new(resolve_filter(rt, *r)?),
        ),
        Filter::Or(l, r) => Filter::Or(
            Box::new(resolve_filter(rt, *l)?),
            Box::new(resolve_filter(rt, *r)?),
        ),
        Filter::Not(inner) => Filter::Not(Box::new(resolve_filter(rt, *inner)?)),
        Filter::Present(path) => {
            let resolved = resolve(rt, &path)?;
            Filter::Present(resolved.to_path())
        }
        Filter::Compare { path, op, value } => {
            let resolved = implicit_value(resolve(rt, &path)?)?;
            let value = check_comparison(resolved.leaf(), &resolved.display_name(), op, value)?;
            Filter::Compare {
                path: resolved.to_path(),
                op,
                value,
            }
        }
        Filter::ValuePath { attr, filter } => {
            let resolved = resolve(rt, &attr)?;
            if resolved.sub_attr.is_some() || !resolved.attr.is_complex() {
                return Err(ScimError::invalid_filter(format!(
                    "\"{}[...]\": a value filter needs a complex attribute such as emails or members",
                    resolved.display_name()
                )));
            }
            let inner = resolve_relative(resolved.attr, *filter)?;
            Filter::ValuePath {
                attr: resolved.to_path(),
                filter: Box::new(inner),
            }
        }
    })
}

fn resolve(rt: ResourceType, path: &AttrPath) -> Result<ResolvedAttr, ScimError> {
    let resolved = resolve_attr(rt, path).map_err(|e| e.into_filter_error())?;
    if resolved.leaf().returned == Returned::Never {
        return Err(ScimError::invalid_filter(format!(
            "\"{}\" is never returned and cannot be used in a filter",
            resolved.display_name()
        )));
    }
    Ok(resolved)
}

/// `emails eq "x"` compares `emails.value` (and `manager eq "id"` `manager.value`); a complex attribute without `value` cannot be
/// compared as a whole.
fn implicit_value(resolved: ResolvedAttr) -> Result<ResolvedAttr, ScimError> {
    if resolved.sub_attr.is_some() || !resolved.attr.is_complex() {
        return Ok(resolved);
    }
    match resolved.attr.sub_attribute("value") {
        Some(value) => Ok(ResolvedAttr {
            sub_attr: Some(value),
            ..resolved
        }),
        _ => Err(ScimError::invalid_filter(format!(
            "\"{}\" is complex: compare one of its sub-attributes ({})",
            resolved.display_name(),
            sub_names(resolved.attr)
        ))),
    }
}

fn sub_names(def: &AttrDef) -> String {
    def.sub_attributes
        .iter()
        .map(|s| format!("{}.{}", def.name, s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Resolves the filter inside `parent[...]`: its names are sub-attributes of `parent`.
pub(crate) fn resolve_relative(
    parent: &'static AttrDef,
    filter: Filter,
) -> Result<Filter, ScimError> {
    let sub = |path: &AttrPath| -> Result<&'static AttrDef, ScimError> {
        let found = match (&path.urn, &path.sub_attr) {
            (None, None) => parent.sub_attribute(&path.attr),
            _ => None,
        };
        found.ok_or_else(|| {
            ScimError::invalid_filter(format!(
                "\"{path}\" inside {0}[...] is not a sub-attribute of {0}; use one of: {1}",
                parent.name,
                parent
                    .sub_attributes
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    };
    Ok(match filter {
        Filter::And(l, r) => Filter::And(
            Box::new(resolve_relative(parent, *l)?),
            Box::new(resolve_relative(parent, *r)?),
        ),
        Filter::Or(l, r) => Filter::Or(
            Box::new(resolve_relative(parent, *l)?),
            Box::new(resolve_relative(parent, *r)?),
        ),
        Filter::Not(inner) => Filter::Not(Box::new(resolve_relative(parent, *inner)?)),
        Filter::Present(path) => Filter::Present(AttrPath::new(sub(&path)?.name)),
        Filter::Compare { path, op, value } => {
            let def = sub(&path)?;
            let name = format!("{}.{}", parent.name, def.name);
            let value = check_comparison(def, &name, op, value)?;
            Filter::Compare {
                path: AttrPath::new(def.name),
                op,
                value,
            }
        }
        Filter::ValuePath { .. } => {
            return Err(ScimError::invalid_filter(format!(
                "value filters cannot be nested inside {}[...]",
                parent.name
            )))
        }
    })
}

/// Checks that `op value` makes sense for an attribute of type `def.attr_type`, and
/// coerces the value where a tolerant reader should.
fn check_comparison(
    def: &AttrDef,
    name: &str,
    op: CompareOp,
    value: CompValue,
) -> Result<CompValue, ScimError> {
    let ty = def.attr_type;
    let reject = |why: &str| {
        Err(ScimError::invalid_filter(format!(
            "\"{name} {op} {value}\": {why}"
        )))
    };
    if value == CompValue::Null {
        return reject(&format!(
            "comparing with null is not supported; use \"{name} pr\" or \"not ({name} pr)\""
        ));
    }
    if op.is_substring()
        && !matches!(
            ty,
            AttrType::String | AttrType::Reference | AttrType::Binary
        )
    {
        return reject(&format!(
            "\"{op}\" applies to strings, and {name} is a {}",
            ty.as_str()
        ));
    }
    if op.is_ordering() && matches!(ty, AttrType::Boolean | AttrType::Binary) {
        return reject(&format!("{name} is a {} and has no order", ty.as_str()));
    }
    match (ty, &value) {
        (AttrType::Boolean, CompValue::Bool(_)) => Ok(value),
        (AttrType::Boolean, CompValue::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(CompValue::Bool(true))
        }
        (AttrType::Boolean, CompValue::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(CompValue::Bool(false))
        }
        (AttrType::Boolean, _) => {
            reject(&format!("{name} is a boolean: compare with true or false"))
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, CompValue::String(_)) => {
            Ok(value)
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, CompValue::Number(n)) => {
            Ok(CompValue::String(n.to_string()))
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, _) => reject(&format!(
            "{name} is a string: compare with a \"quoted string\""
        )),
        (AttrType::Integer, CompValue::Number(n)) if n.is_i64() || n.is_u64() => Ok(value),
        (AttrType::Integer, _) => reject(&format!(
            "{name} is an integer: compare with a whole number"
        )),
        (AttrType::Decimal, CompValue::Number(_)) => Ok(value),
        (AttrType::Decimal, _) => reject(&format!("{name} is a decimal: compare with a number")),
        (AttrType::DateTime, CompValue::String(s)) if parse_datetime(s).is_some() => Ok(value),
        (AttrType::DateTime, _) => reject(&format!(
            "{name} is a dateTime: compare with a quoted time such as \"2024-05-01T12:00:00Z\""
        )),
        (AttrType::Complex, _) => reject(&format!(
            "{name} is complex: compare one of its sub-attributes ({})",
            sub_names(def)
        )),
    }
}
