//! In-memory evaluation of a filter against a canonical resource document (core
//! attributes at the top level, extension attributes under their URN key).
//!
//! Semantics (RFC 7644 §3.4.2.2): a multi-valued attribute matches if any of its values
//! does; `ne` is the negation of `eq` (so an absent attribute is "not equal"); strings
//! whose attribute is not `caseExact` compare after full Unicode case folding; dateTimes
//! compare as instants; `pr` needs a non-null, non-empty value.

use std::cmp::Ordering;

use serde_json::Value;

use super::{CompValue, CompareOp, Filter};
use crate::datetime::parse_datetime;
use crate::path::AttrPath;
use crate::schema::{resolve_attr, AttrDef, AttrType, ResourceType};
use crate::unicode::fold_case;

/// What names in a filter refer to: a resource's attributes, or (inside `attr[...]`) the
/// sub-attributes of one value of a complex attribute.
#[derive(Clone, Copy)]
enum Scope {
    Resource(ResourceType),
    Element(&'static AttrDef),
}

impl Filter {
    /// True if the resource `doc` (of type `rt`) satisfies the filter. Attributes that do
    /// not resolve never match (resolve filters first to reject them with an error).
    pub fn matches(&self, rt: ResourceType, doc: &Value) -> bool {
        eval(self, Scope::Resource(rt), doc)
    }
}

/// True if one value `element` of the complex attribute `parent` satisfies a resolved
/// value filter (the filter inside `parent[...]`).
pub(crate) fn matches_element(filter: &Filter, parent: &'static AttrDef, element: &Value) -> bool {
    eval(filter, Scope::Element(parent), element)
}

fn eval(filter: &Filter, scope: Scope, doc: &Value) -> bool {
    match filter {
        Filter::And(l, r) => eval(l, scope, doc) && eval(r, scope, doc),
        Filter::Or(l, r) => eval(l, scope, doc) || eval(r, scope, doc),
        Filter::Not(inner) => !eval(inner, scope, doc),
        Filter::Present(path) => lookup(scope, doc, path, false)
            .is_some_and(|(_, values)| values.iter().any(|v| is_present(v))),
        Filter::Compare { path, op, value } => {
            let found = lookup(scope, doc, path, true);
            let any = |op: CompareOp| {
                found.as_ref().is_some_and(|(def, values)| {
                    values.iter().any(|actual| compare(def, actual, op, value))
                })
            };
            match (op, value) {
                (CompareOp::Eq, CompValue::Null) => !found
                    .as_ref()
                    .is_some_and(|(_, v)| v.iter().any(|x| is_present(x))),
                (CompareOp::Ne, CompValue::Null) => found
                    .as_ref()
                    .is_some_and(|(_, v)| v.iter().any(|x| is_present(x))),
                // Any-value semantics (RFC 7644 §3.4.2.2): some value differs; a resource
                // without the attribute counts as "not equal".
                (CompareOp::Ne, _) => match &found {
                    Some((_, values)) if values.iter().any(|x| is_present(x)) => any(CompareOp::Ne),
                    _ => true,
                },
                (op, _) => any(*op),
            }
        }
        Filter::ValuePath { attr, filter } => {
            let Scope::Resource(rt) = scope else {
                return false;
            };
            let Ok(resolved) = resolve_attr(rt, attr) else {
                return false;
            };
            let Some(value) = attr_value(doc, &resolved) else {
                return false;
            };
            let elements: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            elements
                .into_iter()
                .any(|el| eval(filter, Scope::Element(resolved.attr), el))
        }
    }
}

/// Case-insensitive key lookup: documents are canonical, but tolerate other spellings.
pub(crate) fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn attr_value<'a>(doc: &'a Value, resolved: &crate::schema::ResolvedAttr) -> Option<&'a Value> {
    let container = if resolved.is_extension() {
        get_ci(doc, resolved.urn)?
    } else {
        doc
    };
    get_ci(container, resolved.attr.name)
}

/// The definition of the compared leaf and every value found at `path` (one per value of
/// a multi-valued attribute).
fn lookup<'a>(
    scope: Scope,
    doc: &'a Value,
    path: &AttrPath,
    implicit_value: bool,
) -> Option<(&'static AttrDef, Vec<&'a Value>)> {
    match scope {
        Scope::Element(parent) => {
            if path.urn.is_some() || path.sub_attr.is_some() {
                return None;
            }
            let def = parent.sub_attribute(&path.attr)?;
            Some((def, get_ci(doc, def.name).into_iter().collect()))
        }
        Scope::Resource(rt) => {
            let resolved = resolve_attr(rt, path).ok()?;
            let sub = match resolved.sub_attr {
                Some(sub) => Some(sub),
                None if implicit_value && resolved.attr.is_complex() => {
                    Some(resolved.attr.sub_attribute("value")?)
                }
                None => None,
            };
            let value = attr_value(doc, &resolved);
            let elements: Vec<&Value> = match value {
                None => Vec::new(),
                Some(Value::Array(items)) => items.iter().collect(),
                Some(v) => vec![v],
            };
            match sub {
                None => Some((resolved.attr, elements)),
                Some(sub) => Some((
                    sub,
                    elements
                        .into_iter()
                        .filter_map(|el| get_ci(el, sub.name))
                        .collect(),
                )),
            }
        }
    }
}

/// `pr`: "has a non-empty value, or contains a non-empty node for complex attributes".
fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(map) => map.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(def: &AttrDef, actual: &Value, op: CompareOp, expected: &CompValue) -> bool {
    match def.attr_type {
        AttrType::Boolean => {
            let want = match expected {
                CompValue::Bool(b) => *b,
                CompValue::String(s) if s.eq_ignore_ascii_case("true") => true,
                CompValue::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return false,
            };
            actual.as_bool().is_some_and(|b| match op {
                CompareOp::Eq => b == want,
                CompareOp::Ne => b != want,
                _ => false,
            })
        }
        AttrType::Integer | AttrType::Decimal => {
            let (Some(a), CompValue::Number(e)) = (actual.as_number(), expected) else {
                return false;
            };
            let ord = match (a.as_i64(), e.as_i64()) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => a
                    .as_f64()
                    .zip(e.as_f64())
                    .and_then(|(x, y)| x.partial_cmp(&y)),
            };
            ord.is_some_and(|o| ordering_matches(op, o))
        }
        AttrType::DateTime => {
            let (Some(a), CompValue::String(e)) = (actual.as_str(), expected) else {
                return false;
            };
            match (parse_datetime(a), parse_datetime(e)) {
                (Some(x), Some(y)) if !op.is_substring() => ordering_matches(op, x.cmp(&y)),
                _ => compare_strings(def.case_exact, a, op, e),
            }
        }
        AttrType::String | AttrType::Reference | AttrType::Binary => {
            let Some(a) = actual.as_str() else {
                return false;
            };
            let e = match expected {
                CompValue::String(s) => s.clone(),
                CompValue::Number(n) => n.to_string(),
                _ => return false,
            };
            compare_strings(def.case_exact, a, op, &e)
        }
        AttrType::Complex => false,
    }
}

fn compare_strings(case_exact: bool, actual: &str, op: CompareOp, expected: &str) -> bool {
    let (a, e) = if case_exact {
        (actual.to_owned(), expected.to_owned())
    } else {
        (fold_case(actual), fold_case(expected))
    };
    match op {
        CompareOp::Co => a.contains(&e),
        CompareOp::Sw => a.starts_with(&e),
        CompareOp::Ew => a.ends_with(&e),
        _ => ordering_matches(op, a.cmp(&e)),
    }
}

fn ordering_matches(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
