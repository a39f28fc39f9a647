//! Applying PATCH operations to a canonical document (RFC 7644 §3.5.2.1–3).
//!
//! The operations apply to a copy; the document changes only if all succeed (a PATCH is
//! atomic). Choices where the RFC is silent or real clients disagree with it:
//! - `replace` (or `add`) with a value filter that matches nothing, such as Entra's
//!   `emails[type eq "work"].value` for a user without a work email, adds a new value built
//!   from the filter's `eq` conditions (`{"type": "work", "value": ...}`) instead of the
//!   RFC's `noTarget`; only filters that are not plain `eq` conjunctions answer `noTarget`.
//! - An explicit path to a read-only attribute is `400 mutability`; read-only keys inside a
//!   no-path object (Okta sends `{"id": ..., "displayName": ...}`) are ignored.
//! - Paths into unknown extension schemas and `password` are ignored (never stored);
//!   unknown attributes of known schemas are `400 invalidPath`.
//! - `add` with `null` or `[]` changes nothing; `replace` with them clears.
//! - `remove` with a value list on a multi-valued attribute removes those values (the
//!   JumpCloud/Entra member shape, accepted for every multi-valued attribute).

use serde_json::{Map, Value};

use super::members::member_change;
use super::{PatchOp, PatchOpKind, PatchOutcome};
use crate::error::ScimError;
use crate::filter::eval::{get_ci, matches_element};
use crate::filter::resolve::resolve_relative;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::path::{split_attr_path, PatchPath};
use crate::resource::require_string;
use crate::schema::{find_attr, AttrDef, Mutability, ResourceType, SchemaDef};
use crate::unicode::fold_case;
use crate::value::{coerce_attr, coerce_simple, coerce_single, describe, ensure_one_primary};

/// Applies `ops` in order to `doc` (a canonical document as [`crate::normalize_user`]
/// produces). Operations on a group's `members` are returned as member changes and not
/// applied. On error `doc` is left unchanged.
pub fn apply_patch(
    rt: ResourceType,
    doc: &mut Value,
    ops: &[PatchOp],
) -> Result<PatchOutcome, ScimError> {
    let mut work = match doc {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let mut state = State {
        rt,
        touched: Vec::new(),
        outcome: PatchOutcome::default(),
    };
    for (i, op) in ops.iter().enumerate() {
        state.apply(&mut work, op).map_err(|e| ScimError {
            detail: format!("Operations[{i}]: {}", e.detail),
            ..e
        })?;
    }
    for schema in rt.extensions() {
        if work
            .get(schema.id)
            .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
        {
            work.remove(schema.id);
        }
    }
    let work = Value::Object(work);
    match rt {
        ResourceType::User => require_string(&work, "userName", "the user's sign-in name")?,
        ResourceType::Group => require_string(&work, "displayName", "the group's name")?,
    }
    let mut changed: Vec<String> = Vec::new();
    for (urn, name) in &state.touched {
        let lookup = |d: &Value| {
            let container = if rt.core_urn() == *urn {
                Some(d)
            } else {
                d.get(*urn)
            };
            container.and_then(|c| c.get(*name)).cloned()
        };
        let label = if rt.core_urn() == *urn {
            (*name).to_owned()
        } else {
            format!("{urn}:{name}")
        };
        if lookup(doc) != lookup(&work) && !changed.contains(&label) {
            changed.push(label);
        }
    }
    if !state.outcome.member_changes.is_empty() {
        changed.push("members".to_owned());
    }
    state.outcome.changed = changed;
    *doc = work;
    Ok(state.outcome)
}

/// One attribute (and optionally a value filter and sub-attribute) that an operation
/// targets.
struct Target {
    schema: &'static SchemaDef,
    def: &'static AttrDef,
    filter: Option<Filter>,
    sub: Option<&'static AttrDef>,
}

impl Target {
    fn name(&self) -> String {
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

struct State {
    rt: ResourceType,
    touched: Vec<(&'static str, &'static str)>,
    outcome: PatchOutcome,
}

impl State {
    fn apply(&mut self, work: &mut Map<String, Value>, op: &PatchOp) -> Result<(), ScimError> {
        let Some(path) = &op.path else {
            return match &op.value {
                Some(Value::Object(attrs)) => {
                    for (key, value) in attrs {
                        self.apply_key(work, op.op, key, value)?;
                    }
                    Ok(())
                }
                Some(other) => Err(ScimError::invalid_value(format!(
                    "without a path, the value of {} must be an object of attributes, not {}",
                    op.op.as_str(),
                    describe(other)
                ))),
                None => Err(ScimError::no_target(format!(
                    "{} needs a path or an object value",
                    op.op.as_str()
                ))),
            };
        };
        self.apply_path(work, op.op, path, op.value.as_ref())
    }

    /// One key of a no-path object value: `displayName`, `name.givenName`,
    /// `urn:...:User:employeeNumber`, or an extension URN holding an object. Unknown,
    /// read-only and write-only keys are ignored.
    fn apply_key(
        &mut self,
        work: &mut Map<String, Value>,
        kind: PatchOpKind,
        key: &str,
        value: &Value,
    ) -> Result<(), ScimError> {
        if key.eq_ignore_ascii_case("schemas") {
            return Ok(());
        }
        if let Some(schema) = self.rt.schema(key) {
            return self.apply_schema_object(work, kind, schema, value);
        }
        let Ok(path) = split_attr_path(key) else {
            return Ok(());
        };
        let Ok((urn, def)) = find_attr(self.rt, path.urn.as_deref(), &path.attr) else {
            return Ok(());
        };
        let Some(schema) = self.rt.schema(urn) else {
            return Ok(());
        };
        if self.is_members(def) {
            if path.sub_attr.is_none() {
                self.push_member_change(kind, def, None, Some(value))?;
            }
            return Ok(());
        }
        let sub = match &path.sub_attr {
            None => None,
            Some(s) => match def.sub_attribute(s) {
                Some(sub) => Some(sub),
                None => return Ok(()),
            },
        };
        if !is_writable(def) || sub.is_some_and(|s| !is_writable(s)) {
            return Ok(());
        }
        self.apply_target(
            work,
            kind,
            Target {
                schema,
                def,
                filter: None,
                sub,
            },
            Some(value),
        )
    }

    fn apply_schema_object(
        &mut self,
        work: &mut Map<String, Value>,
        kind: PatchOpKind,
        schema: &'static SchemaDef,
        value: &Value,
    ) -> Result<(), ScimError> {
        match value {
            Value::Object(attrs) => {
                for (k, v) in attrs {
                    if let Ok(path) = split_attr_path(k) {
                        if path.urn.is_none() {
                            let qualified = if schema.is_core() {
                                k.clone()
                            } else {
                                format!("{}:{k}", schema.id)
                            };
                            self.apply_key(work, kind, &qualified, v)?;
                        }
                    }
                }
                Ok(())
            }
            Value::Null if kind == PatchOpKind::Replace && !schema.is_core() => {
                for def in schema.attributes.iter().filter(|d| is_writable(d)) {
                    self.apply_target(
                        work,
                        PatchOpKind::Remove,
                        Target {
                            schema,
                            def,
                            filter: None,
                            sub: None,
                        },
                        None,
                    )?;
                }
                Ok(())
            }
            Value::Null => Ok(()),
            other => Err(ScimError::invalid_value(format!(
                "{} must hold an object of the extension's attributes, not {}",
                schema.id,
                describe(other)
            ))),
        }
    }

    fn apply_path(
        &mut self,
        work: &mut Map<String, Value>,
        kind: PatchOpKind,
        path: &PatchPath,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        let urn = path.attr.urn.as_deref();
        if urn.is_some_and(|u| self.rt.schema(u).is_none()) {
            return Ok(()); // an extension Keybridge does not serve: ignored
        }
        let (urn, def) =
            find_attr(self.rt, urn, &path.attr.attr).map_err(|e| e.into_path_error())?;
        let Some(schema) = self.rt.schema(urn) else {
            return Ok(());
        };
        if self.is_members(def) {
            return self.push_member_change(kind, def, Some(path), value);
        }
        if def.mutability == Mutability::WriteOnly {
            return Ok(()); // password: never stored
        }
        let sub_name = path.attr.sub_attr.as_ref().or(path.sub_attr.as_ref());
        let sub = match sub_name {
            None => None,
            Some(s) => Some(def.sub_attribute(s).ok_or_else(|| {
                ScimError::invalid_path(format!("\"{}\" has no sub-attribute \"{s}\"", def.name))
            })?),
        };
        let filter = match &path.value_filter {
            None => None,
            Some(f) => {
                if !def.is_complex() || !def.multi_valued {
                    return Err(ScimError::invalid_path(format!(
                        "\"{path}\": a value filter needs a multi-valued attribute such as emails"
                    )));
                }
                Some(
                    resolve_relative(def, f.clone())
                        .map_err(|e| ScimError::invalid_path(e.detail))?,
                )
            }
        };
        let target = Target {
            schema,
            def,
            filter,
            sub,
        };
        for d in std::iter::once(def).chain(sub) {
            let frozen = match d.mutability {
                Mutability::ReadOnly => true,
                Mutability::Immutable => container(work, schema)
                    .and_then(|c| c.get(def.name))
                    .is_some(),
                _ => false,
            };
            if frozen {
                return Err(ScimError::mutability(format!(
                    "{} is {} and cannot be changed by a client",
                    target.name(),
                    d.mutability.as_str()
                )));
            }
        }
        self.apply_target(work, kind, target, value)
    }

    fn is_members(&self, def: &AttrDef) -> bool {
        self.rt == ResourceType::Group && def.name == "members"
    }

    fn push_member_change(
        &mut self,
        kind: PatchOpKind,
        def: &'static AttrDef,
        path: Option<&PatchPath>,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        if let Some(change) = member_change(kind, def, path, value)? {
            self.outcome.member_changes.push(change);
        }
        Ok(())
    }

    fn apply_target(
        &mut self,
        work: &mut Map<String, Value>,
        kind: PatchOpKind,
        target: Target,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        self.touched.push((target.schema.id, target.def.name));
        let value = value.filter(|v| !v.is_null());
        with_container(work, target.schema, |part| {
            match (&target.filter, target.sub) {
                (None, None) => whole(part, kind, &target, value),
                (None, Some(sub)) if !target.def.multi_valued => {
                    single_sub(part, kind, &target, sub, value)
                }
                (None, Some(sub)) => every_sub(part, kind, &target, sub, value),
                (Some(filter), sub) => filtered(part, kind, &target, filter, sub, value),
            }
        })
    }
}

fn is_writable(def: &AttrDef) -> bool {
    matches!(
        def.mutability,
        Mutability::ReadWrite | Mutability::Immutable
    )
}

fn container<'a>(
    work: &'a Map<String, Value>,
    schema: &SchemaDef,
) -> Option<&'a Map<String, Value>> {
    if schema.is_core() {
        Some(work)
    } else {
        work.get(schema.id).and_then(Value::as_object)
    }
}

/// Runs `f` on the map that holds `schema`'s attributes: the document itself for the
/// core schema, the object under the URN key for an extension (dropped when left empty).
fn with_container<R>(
    work: &mut Map<String, Value>,
    schema: &SchemaDef,
    f: impl FnOnce(&mut Map<String, Value>) -> R,
) -> R {
    if schema.is_core() {
        return f(work);
    }
    let mut part = match work.remove(schema.id) {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let result = f(&mut part);
    if !part.is_empty() {
        work.insert(schema.id.to_owned(), Value::Object(part));
    }
    result
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
fn whole(
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
fn single_sub(
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
fn every_sub(
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
fn filtered(
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
