//! The tolerant reader for POST and PUT bodies: turns what an IdP sends into the canonical
//! stored document.
//!
//! The canonical document has attribute keys in the schema's case and order, core
//! attributes at the top level and extension attributes nested under their URN key. It
//! never holds `schemas`, `id`, `meta`, `groups`, `password`, `members` (returned apart, as
//! member ids) or any other read-only attribute: those are ignored on input, not errors,
//! as are unknown attributes and unknown schema URNs (IDP-WIRE-FORMATS.md checklist 5).

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::path::{split_attr_path, AttrPath};
use crate::schema::{AttrDef, Mutability, ResourceType, SchemaDef};
use crate::value::{coerce_attr, coerce_simple, describe, Dotted};

/// A Group body: the canonical document and, when the body had a `members` key, the
/// member ids it lists (`Some(vec![])` for `null` or `[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct NormalizedGroup {
    pub doc: Value,
    pub members: Option<Vec<String>>,
}

/// Normalises a User body (POST or PUT). `userName` is required and non-empty.
pub fn normalize_user(input: &Value) -> Result<Value, ScimError> {
    let (doc, _) = normalize(ResourceType::User, input)?;
    require_string(
        &doc,
        "userName",
        "the user's sign-in name, usually the email address",
    )?;
    Ok(doc)
}

/// Normalises a Group body (POST or PUT). `displayName` is required and non-empty.
pub fn normalize_group(input: &Value) -> Result<NormalizedGroup, ScimError> {
    let (doc, members) = normalize(ResourceType::Group, input)?;
    require_string(&doc, "displayName", "the group's name")?;
    let members = members.map(|m| member_ids(&m)).transpose()?;
    Ok(NormalizedGroup { doc, members })
}

/// Checks an identifying name (a userName, a group's displayName): present, not blank,
/// and free of control characters. PRECIS (RFC 8264 §9.1), which our uniqueness keys
/// follow, disallows controls in identifiers; a NUL or an escape sequence in a sign-in
/// name would also reach logs, terminals and other systems' C strings.
pub(crate) fn require_string(doc: &Value, attr: &str, what: &str) -> Result<(), ScimError> {
    match doc.get(attr).and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => match s.char_indices().find(|(_, c)| c.is_control()) {
            Some((at, c)) => Err(ScimError::invalid_value(format!(
                "{attr} ({what}) must not contain control characters, but has U+{:04X} at byte {at}",
                u32::from(c)
            ))),
            None => Ok(()),
        },
        _ => Err(ScimError::invalid_value(format!(
            "{attr} ({what}) is required and must not be empty"
        ))),
    }
}

/// The member ids of a `members` value: `[{"value": id, ...}, ...]`, a single such
/// object, or bare id strings. Duplicates are dropped; order is kept.
pub(crate) fn member_ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let items: Vec<&Value> = match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let id = match item {
            Value::String(s) => Some(s.as_str()),
            Value::Object(m) => m
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .and_then(|(_, v)| v.as_str()),
            _ => None,
        };
        match id.map(str::trim) {
            Some(id) if !id.is_empty() => {
                if !ids.iter().any(|x| x == id) {
                    ids.push(id.to_owned());
                }
            }
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "members[{i}] must be an object with a \"value\" holding the member's id, but the request has {}",
                    describe(item)
                )))
            }
        }
    }
    Ok(ids)
}

/// Checks that `schemas` lists the resource type's core schema (RFC 7643 §3).
fn check_schemas(rt: ResourceType, body: &Map<String, Value>) -> Result<(), ScimError> {
    let listed = body
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .and_then(|(_, v)| v.as_array())
        .is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|s| s.eq_ignore_ascii_case(rt.core_urn()))
        });
    if listed {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!(
            "the request must list the schema {} in its \"schemas\" array",
            rt.core_urn()
        )))
    }
}

/// Normalises a body; returns the canonical document and the raw `members` value.
fn normalize(rt: ResourceType, input: &Value) -> Result<(Value, Option<Value>), ScimError> {
    let Value::Object(body) = input else {
        return Err(ScimError::invalid_syntax(format!(
            "the request body must be a JSON object (a SCIM {} resource), but it is {}",
            rt.name(),
            describe(input)
        )));
    };
    check_schemas(rt, body)?;
    let mut builder = DocBuilder::new(rt);
    for (key, value) in body {
        builder.put_key(key, value)?;
    }
    Ok(builder.finish())
}

/// Collects attribute values per schema while reading keys in any of the accepted
/// spellings, then writes them out in canonical order.
pub(crate) struct DocBuilder {
    rt: ResourceType,
    /// One map per schema of `rt` (core first), keyed by canonical attribute name.
    parts: Vec<(&'static SchemaDef, Map<String, Value>)>,
    members: Option<Value>,
}

impl DocBuilder {
    pub(crate) fn new(rt: ResourceType) -> Self {
        DocBuilder {
            rt,
            parts: rt.schemas().map(|s| (s, Map::new())).collect(),
            members: None,
        }
    }

    /// Reads one top-level key of a body: a core attribute (possibly dotted), a
    /// URN-qualified attribute, or an extension URN holding an object.
    pub(crate) fn put_key(&mut self, key: &str, value: &Value) -> Result<(), ScimError> {
        if key.eq_ignore_ascii_case("schemas") {
            return Ok(());
        }
        if let Some(schema) = self.rt.schema(key) {
            return self.put_schema_object(schema, value);
        }
        let Ok(path) = split_attr_path(key) else {
            return Ok(());
        };
        let schema = match &path.urn {
            Some(urn) => match self.rt.schema(urn) {
                Some(s) => s,
                None => return Ok(()), // an unknown extension: ignored
            },
            None => self.rt.core_schema(),
        };
        self.put_attr(schema, &path, value)
    }

    /// `"urn:...:enterprise:2.0:User": {"department": ...}` (or the core URN holding core
    /// attributes, which some clients send).
    fn put_schema_object(
        &mut self,
        schema: &'static SchemaDef,
        value: &Value,
    ) -> Result<(), ScimError> {
        match value {
            Value::Null => {
                if let Some((_, part)) = self.parts.iter_mut().find(|(s, _)| s.id == schema.id) {
                    part.clear();
                }
                Ok(())
            }
            Value::Object(map) => {
                for (k, v) in map {
                    if let Ok(path) = split_attr_path(k) {
                        if path.urn.is_none() {
                            self.put_attr(schema, &path, v)?;
                        }
                    }
                }
                Ok(())
            }
            other => Err(ScimError::invalid_value(format!(
                "{} must hold an object of the extension's attributes, but the request has {}",
                schema.id,
                describe(other)
            ))),
        }
    }

    /// Sets one attribute (or, for `name.givenName`, one sub-attribute) of `schema`.
    /// Unknown, read-only and write-only attributes are skipped.
    fn put_attr(
        &mut self,
        schema: &'static SchemaDef,
        path: &AttrPath,
        value: &Value,
    ) -> Result<(), ScimError> {
        let def = schema.attribute(&path.attr).or_else(|| {
            if schema.is_core() {
                crate::schema::common_attributes()
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(&path.attr))
            } else {
                None
            }
        });
        let Some(def) = def else { return Ok(()) };
        if self.rt == ResourceType::Group && def.name == "members" && path.sub_attr.is_none() {
            self.members = Some(value.clone());
            return Ok(());
        }
        if matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
            return Ok(());
        }
        let name = qualified_name(schema, def);
        let Some((_, part)) = self.parts.iter_mut().find(|(s, _)| s.id == schema.id) else {
            return Ok(());
        };
        match &path.sub_attr {
            None => put_whole(part, def, &name, value),
            Some(sub) => put_sub(part, def, &name, sub, value),
        }
    }

    /// The canonical document and the raw `members` value.
    pub(crate) fn finish(self) -> (Value, Option<Value>) {
        let mut doc = Map::new();
        for (schema, mut part) in self.parts {
            let mut ordered = Map::new();
            let defs = schema.attributes.iter().chain(if schema.is_core() {
                crate::schema::common_attributes()
            } else {
                &[]
            });
            for def in defs {
                if let Some(v) = part.remove(def.name) {
                    ordered.insert(def.name.to_owned(), v);
                }
            }
            if schema.is_core() {
                doc.extend(ordered);
            } else if !ordered.is_empty() {
                doc.insert(schema.id.to_owned(), Value::Object(ordered));
            }
        }
        (Value::Object(doc), self.members)
    }
}

fn qualified_name(schema: &SchemaDef, def: &AttrDef) -> String {
    if schema.is_core() {
        def.name.to_owned()
    } else {
        format!("{}:{}", schema.id, def.name)
    }
}

fn put_whole(
    part: &mut Map<String, Value>,
    def: &AttrDef,
    name: &str,
    value: &Value,
) -> Result<(), ScimError> {
    match coerce_attr(def, &name, value)? {
        None => {
            part.remove(def.name);
        }
        // A complex value after dotted keys (`name.givenName` then `name`): merge.
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
    Ok(())
}

/// A dotted key such as `name.givenName` in a body. Only single-valued complex
/// attributes can be addressed this way; anything else is ignored like an unknown key.
fn put_sub(
    part: &mut Map<String, Value>,
    def: &AttrDef,
    name: &str,
    sub: &str,
    value: &Value,
) -> Result<(), ScimError> {
    if def.multi_valued {
        return Ok(());
    }
    let Some(sub_def) = def.sub_attribute(sub) else {
        return Ok(());
    };
    if sub_def.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    let coerced = coerce_simple(sub_def, &Dotted(&name, sub_def.name), value)?;
    let entry = part
        .entry(def.name.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Some(obj) = entry.as_object_mut() {
        match coerced {
            Some(v) => {
                obj.insert(sub_def.name.to_owned(), v);
            }
            None => {
                obj.remove(sub_def.name);
            }
        }
        if obj.is_empty() {
            part.remove(def.name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
