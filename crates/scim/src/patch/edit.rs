//! The edits one PATCH operation makes to one attribute of a document: the whole
//! attribute, a sub-attribute, or the values a value filter selects.

use serde_json::{Map, Value};

use super::PatchOpKind;
use crate::error::ScimError;
use crate::filter::eval::{get_ci, matches_element};
use crate::filter::{CompValue, CompareOp, Filter};
use crate::schema::{AttrDef, SchemaDef};
use crate::unicode::fold_case;
use crate::value::{coerce_attr, coerce_simple, coerce_single, ensure_one_primary};

/// One attribute (and optionally a value filter and sub-attribute) that an operation
/// targets.
pub(super) struct Target {
    pub(super) schema: &'static SchemaDef,
    pub(super) def: &'static AttrDef,
    pub(super) filter: Option<Filter>,
    pub(super) sub: Option<&'static AttrDef>,
}

impl Target {
    pub(super) fn name(&self) -> String {
        let mut s = if self.schema.is_core() {
            String::new()
        } else {
            format!("{}:", self.schema.id)
        };
        s.push_str(self.def.name);
        if let Some(f) = &self.filter {
            s.push_str(&format!("[{f}]"));
        }
        if let Some(sub) = self.sub {
            s.push('.');
            s.push_str(sub.name);
        }
        s
    }
}

/// Takes a multi-valued attribute's values out of the document (a lone object counts as
/// one value).
fn take_values(part: &mut Map<String, Value>, name: &str) -> Vec<Value> {
    match part.remove(name) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(single) => vec![single],
    }
}

/// Puts values back, keeping one primary (preferring the values just written), or
/// removes the attribute when none are left.
fn put_values(part: &mut Map<String, Value>, name: &str, mut items: Vec<Value>, written: &[usize]) {
    items.retain(|v| !v.as_object().is_some_and(Map::is_empty));
    if items.is_empty() {
        return;
    }
    ensure_one_primary(&mut items, written);
    part.insert(name.to_owned(), Value::Array(items));
}

/// The whole attribute (`path: "emails"`, `"active"`, `"name"`).
pub(super) fn whole(
    part: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let def = t.def;
    let name = t.name();
    match kind {
        PatchOpKind::Remove => match value {
            Some(listed) if def.multi_valued => {
                let Some(Value::Array(gone)) = coerce_attr(def, &name, listed)? else {
                    return Ok(());
                };
                let mut items = take_values(part, def.name);
                items.retain(|v| !gone.iter().any(|g| same_value(def, v, g)));
                put_values(part, def.name, items, &[]);
            }
            _ => {
                part.remove(def.name);
            }
        },
        PatchOpKind::Add | PatchOpKind::Replace => {
            let Some(v) = value else {
                if kind == PatchOpKind::Replace {
                    part.remove(def.name);
                }
                return Ok(());
            };
            let coerced = coerce_attr(def, &name, v)?;
            match coerced {
                None if kind == PatchOpKind::Replace => {
                    part.remove(def.name);
                }
                None => {}
                Some(Value::Array(new)) if kind == PatchOpKind::Add => {
                    let mut items = take_values(part, def.name);
                    let mut written = Vec::new();
                    for v in new {
                        match items.iter().position(|x| *x == v) {
                            Some(i) => written.push(i),
                            None => {
                                written.push(items.len());
                                items.push(v);
                            }
                        }
                    }
                    put_values(part, def.name, items, &written);
                }
                // RFC 7644 §3.5.2.3: replacing a complex attribute merges sub-attributes.
                Some(Value::Object(new)) if !def.multi_valued => match part.get_mut(def.name) {
                    Some(Value::Object(existing)) => existing.extend(new),
                    _ => {
                        part.insert(def.name.to_owned(), Value::Object(new));
                    }
                },
                Some(v) => {
                    part.insert(def.name.to_owned(), v);
                }
            }
        }
    }
    Ok(())
}

/// A sub-attribute of a single-valued complex attribute (`name.givenName`).
pub(super) fn single_sub(
    part: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target,
    sub: &AttrDef,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let new = match (kind, value) {
        (PatchOpKind::Remove, _) | (_, None) => None,
        (_, Some(v)) => coerce_simple(sub, &t.name(), v)?,
    };
    if kind == PatchOpKind::Add && new.is_none() {
        return Ok(());
    }
    let slot = part
        .entry(t.def.name.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(obj) = slot {
        match new {
            Some(v) => {
                obj.insert(sub.name.to_owned(), v);
            }
            None => {
                obj.remove(sub.name);
            }
        }
        if obj.is_empty() {
            part.remove(t.def.name);
        }
    }
    Ok(())
}

/// A sub-attribute of every value of a multi-valued attribute (`emails.type`, no filter).
pub(super) fn every_sub(
    part: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target,
    sub: &AttrDef,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let new = match (kind, value) {
        (PatchOpKind::Remove, _) | (_, None) => None,
        (_, Some(v)) => coerce_simple(sub, &t.name(), v)?,
    };
    if kind == PatchOpKind::Add && new.is_none() {
        return Ok(());
    }
    let mut items = take_values(part, t.def.name);
    if items.is_empty() {
        if let Some(v) = &new {
            items.push(Value::Object(Map::from_iter([(
                sub.name.to_owned(),
                v.clone(),
            )])));
        }
    } else {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            set_or_remove(item, sub, new.clone());
        }
    }
    put_values(part, t.def.name, items, &[]);
    Ok(())
}

/// `emails[type eq "work"]` or `emails[type eq "work"].value`.
pub(super) fn filtered(
    part: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target,
    filter: &Filter,
    sub: Option<&AttrDef>,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let def = t.def;
    let name = t.name();
    let mut items = take_values(part, def.name);
    let matched: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, v)| matches_element(filter, def, v))
        .map(|(i, _)| i)
        .collect();
    let new = match (kind, value, sub) {
        (PatchOpKind::Remove, _, _) | (_, None, _) => None,
        (_, Some(v), Some(sub)) => coerce_simple(sub, &name, v)?,
        (_, Some(v), None) => coerce_single(def, &name, v)?,
    };
    let mut written = Vec::new();
    match (kind, sub, new) {
        (PatchOpKind::Add, _, None) => {}
        (PatchOpKind::Remove | PatchOpKind::Replace, None, None) => {
            let mut i = 0;
            items.retain(|_| {
                let keep = !matched.contains(&i);
                i += 1;
                keep
            });
        }
        (_, Some(sub), new) if !matched.is_empty() || new.is_none() => {
            for &i in &matched {
                if let Some(obj) = items.get_mut(i).and_then(Value::as_object_mut) {
                    set_or_remove(obj, sub, new.clone());
                }
            }
            written = matched;
        }
        (_, None, Some(new)) if !matched.is_empty() => {
            for &i in &matched {
                match (kind, items.get_mut(i), &new) {
                    (PatchOpKind::Add, Some(Value::Object(existing)), Value::Object(fields)) => {
                        existing.extend(fields.clone())
                    }
                    (_, Some(slot), _) => *slot = new.clone(),
                    (_, None, _) => {}
                }
            }
            written = matched;
        }
        (_, sub, Some(new)) => {
            // Nothing matched: add a value built from the filter's conditions.
            let Some(mut element) = element_from_filter(filter, def) else {
                return Err(ScimError::no_target(format!(
                    "no value of {} matches [{filter}], so there is nothing to {}",
                    def.name,
                    kind.as_str()
                )));
            };
            match (sub, new) {
                (Some(sub), v) => {
                    element.insert(sub.name.to_owned(), v);
                }
                (None, Value::Object(fields)) => element.extend(fields),
                (None, _) => {}
            }
            let element = coerce_single(def, &name, &Value::Object(element))?;
            if let Some(element) = element {
                written.push(items.len());
                items.push(element);
            }
        }
        // Clearing a sub-attribute of no value: nothing to do.
        (_, Some(_), None) => {}
    }
    put_values(part, def.name, items, &written);
    Ok(())
}

fn set_or_remove(obj: &mut Map<String, Value>, sub: &AttrDef, new: Option<Value>) {
    match new {
        Some(v) => {
            obj.insert(sub.name.to_owned(), v);
        }
        None => {
            obj.remove(sub.name);
        }
    }
}

/// For a filter that is a conjunction of `sub eq value` conditions, the value they
/// describe (`type eq "work"` → `{"type": "work"}`); `None` for any other filter.
fn element_from_filter(filter: &Filter, def: &AttrDef) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => {
            let sub = def.sub_attribute(&path.attr)?;
            let v = match value {
                CompValue::String(s) => Value::String(s.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Null => return None,
            };
            Some(Map::from_iter([(sub.name.to_owned(), v)]))
        }
        Filter::And(l, r) => {
            let mut m = element_from_filter(l, def)?;
            m.extend(element_from_filter(r, def)?);
            Some(m)
        }
        _ => None,
    }
}

/// Whether a stored value is the one a remove-by-value-list names: by `value` when both
/// have one (case-insensitively unless `value` is caseExact), else exactly.
fn same_value(def: &AttrDef, stored: &Value, listed: &Value) -> bool {
    let value_def = def.sub_attribute("value");
    match (value_def, get_ci(stored, "value"), get_ci(listed, "value")) {
        (Some(vd), Some(Value::String(a)), Some(Value::String(b))) => {
            if vd.case_exact {
                a == b
            } else {
                fold_case(a) == fold_case(b)
            }
        }
        (Some(_), Some(a), Some(b)) => a == b,
        _ => stored == listed,
    }
}
