//! Validation and coercion of client-supplied attribute values, shared by resource
//! bodies (POST/PUT) and PATCH so both accept exactly the same shapes.
//!
//! Tolerances (what real IdPs send): `"True"`/`"False"` strings for booleans; a single
//! value for a multi-valued attribute; a bare value for a complex attribute that has a
//! `value` sub-attribute (Entra's `"manager": "id"` → `{"value": "id"}`); unknown and
//! read-only sub-attributes are dropped. `null`, `[]` and `{}` mean "unassigned"
//! (RFC 7643 §2.5). Anything else of the wrong JSON type is `400 invalidValue` naming
//! the attribute.

use std::fmt;

use serde_json::{Map, Value};

use crate::datetime::parse_datetime;
use crate::error::ScimError;
use crate::schema::{AttrDef, AttrType, Mutability};

/// A sub-attribute's name for error details (`name.givenName`), written out only when an
/// error needs it: coercing a body took a `format!` per sub-attribute otherwise.
pub(crate) struct Dotted<'a>(pub &'a dyn fmt::Display, pub &'a str);

impl fmt::Display for Dotted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Coerces `value` for the attribute `def` (called `name` in error details). `None` means
/// the value leaves the attribute unassigned.
pub(crate) fn coerce_attr(
    def: &AttrDef,
    name: &dyn fmt::Display,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    if !def.multi_valued {
        return coerce_single(def, name, value);
    }
    let items: Vec<&Value> = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if let Some(v) = coerce_single(def, name, item)? {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    // A body listing several primaries keeps the first (RFC 7643 §2.4 allows one).
    ensure_one_primary(&mut out, &[]);
    Ok(Some(Value::Array(out)))
}

/// Coerces one value (one element of a multi-valued attribute, or a single-valued one).
pub(crate) fn coerce_single(
    def: &AttrDef,
    name: &dyn fmt::Display,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if !def.is_complex() {
        return coerce_simple(def, name, value);
    }
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, v) in map {
                let Some(sub) = def.sub_attribute(key) else {
                    continue;
                };
                if sub.mutability == Mutability::ReadOnly {
                    continue;
                }
                if let Some(v) = coerce_simple(sub, &Dotted(name, sub.name), v)? {
                    out.insert(sub.name.to_owned(), v);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        Value::Array(_) => Err(ScimError::invalid_value(format!(
            "{name} must be {}, not an array",
            if def.multi_valued {
                "an array of objects"
            } else {
                "an object"
            }
        ))),
        bare => match def.sub_attribute("value") {
            Some(value_def) => {
                let v = coerce_simple(value_def, &Dotted(name, "value"), bare)?;
                Ok(v.map(|v| {
                    let mut m = Map::new();
                    m.insert("value".to_owned(), v);
                    Value::Object(m)
                }))
            }
            None => Err(ScimError::invalid_value(format!(
                "{name} must be an object"
            ))),
        },
    }
}

/// Coerces a value of a simple (non-complex) attribute or sub-attribute.
pub(crate) fn coerce_simple(
    def: &AttrDef,
    name: &dyn fmt::Display,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    let wrong = |expected: &str| {
        Err(ScimError::invalid_value(format!(
            "{name} must be {expected}, but the request has {}",
            describe(value)
        )))
    };
    match (def.attr_type, value) {
        (_, Value::Null) => Ok(None),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => {
            Ok(Some(value.clone()))
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, _) => wrong("a string"),
        (AttrType::Boolean, Value::Bool(_)) => Ok(Some(value.clone())),
        (AttrType::Boolean, Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => {
            Ok(Some(Value::Bool(true)))
        }
        (AttrType::Boolean, Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => {
            Ok(Some(Value::Bool(false)))
        }
        (AttrType::Boolean, _) => wrong("true or false"),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => {
            Ok(Some(value.clone()))
        }
        (AttrType::Integer, _) => wrong("a whole number"),
        (AttrType::Decimal, Value::Number(_)) => Ok(Some(value.clone())),
        (AttrType::Decimal, _) => wrong("a number"),
        (AttrType::DateTime, Value::String(s)) if parse_datetime(s).is_some() => {
            Ok(Some(value.clone()))
        }
        (AttrType::DateTime, _) => wrong("a dateTime such as \"2024-05-01T12:00:00Z\""),
        (AttrType::Complex, _) => coerce_single(def, name, value),
    }
}

/// A short description of a JSON value for error details (never the whole value: it may
/// be large or sensitive).
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Leaves at most one value with `primary: true`; the others get `primary: false`. The
/// survivor is the last primary among `preferred` (the values a PATCH just wrote: RFC 7644
/// §3.5.2 says setting a new primary clears the others), else the first primary.
pub(crate) fn ensure_one_primary(values: &mut [Value], preferred: &[usize]) {
    let is_primary = |v: &Value| v.get("primary").and_then(Value::as_bool) == Some(true);
    let primaries: Vec<usize> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| is_primary(v))
        .map(|(i, _)| i)
        .collect();
    if primaries.len() < 2 {
        return;
    }
    let keeper = preferred
        .iter()
        .rev()
        .find(|i| primaries.contains(i))
        .or(primaries.first())
        .copied();
    for i in primaries {
        if Some(i) != keeper {
            if let Some(obj) = values.get_mut(i).and_then(Value::as_object_mut) {
                obj.insert("primary".to_owned(), Value::Bool(false));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ResourceType, ENTERPRISE_USER};
    use serde_json::json;

    fn user_attr(name: &str) -> &'static AttrDef {
        ResourceType::User
            .core_schema()
            .attribute(name)
            .unwrap_or_else(|| panic!("{name}"))
    }

    #[test]
    fn boolean_strings_are_accepted_in_any_case() {
        let active = user_attr("active");
        assert_eq!(
            coerce_attr(active, &"active", &json!("False")),
            Ok(Some(json!(false)))
        );
        assert_eq!(
            coerce_attr(active, &"active", &json!("TRUE")),
            Ok(Some(json!(true)))
        );
        assert!(coerce_attr(active, &"active", &json!("yes")).is_err());
    }

    #[test]
    fn wrong_types_name_the_attribute() {
        let e = coerce_attr(user_attr("userName"), &"userName", &json!(12)).err();
        assert_eq!(
            e.map(|e| e.detail),
            Some("userName must be a string, but the request has a number".into())
        );
        let e = coerce_attr(
            user_attr("emails"),
            &"emails",
            &json!([{"value": "a", "primary": "maybe"}]),
        )
        .err();
        assert!(e.is_some_and(|e| e.detail.starts_with("emails.primary")));
    }

    #[test]
    fn a_single_value_is_wrapped_and_duplicates_dropped() {
        let emails = user_attr("emails");
        assert_eq!(
            coerce_attr(emails, &"emails", &json!({"value": "a"})),
            Ok(Some(json!([{"value": "a"}])))
        );
        assert_eq!(
            coerce_attr(emails, &"emails", &json!(["a", {"value": "a"}])),
            Ok(Some(json!([{"value": "a"}])))
        );
    }

    #[test]
    fn empty_values_are_unassigned() {
        let emails = user_attr("emails");
        for v in [json!(null), json!([]), json!([{}]), json!([null])] {
            assert_eq!(coerce_attr(emails, &"emails", &v), Ok(None), "{v}");
        }
        assert_eq!(
            coerce_attr(user_attr("name"), &"name", &json!({"givenName": null})),
            Ok(None)
        );
    }

    #[test]
    fn only_the_first_primary_survives_in_a_body() {
        let v = coerce_attr(
            user_attr("emails"),
            &"emails",
            &json!([
                {"value": "a", "primary": true}, {"value": "b", "primary": "True"}
            ]),
        );
        assert_eq!(
            v,
            Ok(Some(
                json!([{"value": "a", "primary": true}, {"value": "b", "primary": false}])
            ))
        );
    }

    #[test]
    fn manager_as_a_bare_string_becomes_an_object() {
        let manager = ResourceType::User
            .extension(ENTERPRISE_USER)
            .and_then(|s| s.attribute("manager"));
        let manager = manager.unwrap_or_else(|| panic!("manager"));
        assert_eq!(
            coerce_attr(manager, &"manager", &json!("m1")),
            Ok(Some(json!({"value": "m1"})))
        );
        assert_eq!(
            coerce_attr(
                manager,
                &"manager",
                &json!({"value": "m1", "displayName": "Boss"})
            ),
            Ok(Some(json!({"value": "m1"})))
        );
    }

    #[test]
    fn sub_attribute_names_get_canonical_case_and_unknown_ones_are_dropped() {
        let v = coerce_attr(
            user_attr("name"),
            &"name",
            &json!({"GIVENNAME": "Ada", "nick": "x"}),
        );
        assert_eq!(v, Ok(Some(json!({"givenName": "Ada"}))));
    }
}
