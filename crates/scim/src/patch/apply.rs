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

use super::edit::{every_sub, filtered, single_sub, whole, Target};
use super::members::member_change;
use super::{PatchOp, PatchOpKind, PatchOutcome};
use crate::error::ScimError;
use crate::filter::resolve::resolve_relative;
use crate::path::{split_attr_path, PatchPath};
use crate::resource::require_string;
use crate::schema::{find_attr, AttrDef, Mutability, ResourceType, SchemaDef};
use crate::value::describe;

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
