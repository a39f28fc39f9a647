//! What JumpCloud adds to Expr for attribute mappings: the normalised `jcUser`, and the
//! functions `notNullOrEmpty`, `toScimEmails`, `toScimAddresses`, `toScimPhoneNumbers`.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::builtins::{arg, builtin, invalid, Builtin};
use crate::error::Fault;
use crate::eval::Budget;
use crate::value::Value;

pub(crate) const BUILTINS: &[Builtin] = &[
    builtin("notNullOrEmpty", not_null_or_empty, 1, 1),
    builtin("toScimEmails", to_scim_emails, 1, 1),
    builtin("toScimAddresses", to_scim_addresses, 1, 1),
    builtin("toScimPhoneNumbers", to_scim_phone_numbers, 1, 1),
];

const ADDRESS_FIELDS: &[&str] = &[
    "type",
    "streetAddress",
    "extendedAddress",
    "poBox",
    "locality",
    "region",
    "postalCode",
    "country",
];
const PHONE_FIELDS: &[&str] = &["type", "number"];
const ATTRIBUTE_FIELDS: &[&str] = &["name", "value"];

/// How a top-level attribute of `jcUser` is normalised.
#[derive(Clone, Copy)]
enum Shape {
    Id,
    Text,
    Flag,
    Records(&'static [&'static str]),
}

/// The top-level attributes of `jcUser`.
const TOP: &[(&str, Shape)] = &[
    ("id", Shape::Id),
    ("username", Shape::Text),
    ("email", Shape::Text),
    ("firstname", Shape::Text),
    ("middlename", Shape::Text),
    ("lastname", Shape::Text),
    ("displayname", Shape::Text),
    ("jobTitle", Shape::Text),
    ("department", Shape::Text),
    ("costCenter", Shape::Text),
    ("company", Shape::Text),
    ("employeeIdentifier", Shape::Text),
    ("employeeType", Shape::Text),
    ("description", Shape::Text),
    ("location", Shape::Text),
    ("manager", Shape::Text),
    ("alternateEmail", Shape::Text),
    ("state", Shape::Text),
    ("created", Shape::Text),
    ("activated", Shape::Flag),
    ("suspended", Shape::Flag),
    ("addresses", Shape::Records(ADDRESS_FIELDS)),
    ("phoneNumbers", Shape::Records(PHONE_FIELDS)),
    ("attributes", Shape::Records(ATTRIBUTE_FIELDS)),
];

/// Every top-level name of `jcUser`, `id` included.
pub fn jc_user_fields() -> impl Iterator<Item = &'static str> {
    TOP.iter().map(|(name, _)| *name)
}

/// Shared key strings, so normalising a user does not allocate its keys again.
pub(crate) fn key(name: &str) -> Arc<str> {
    static KEYS: OnceLock<BTreeMap<&'static str, Arc<str>>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        jc_user_fields()
            .chain(ADDRESS_FIELDS.iter().copied())
            .chain(PHONE_FIELDS.iter().copied())
            .chain(ATTRIBUTE_FIELDS.iter().copied())
            .chain([
                "value", "primary", "_id", "work", "home", "mobile", "fax", "other", "schemas",
            ])
            .chain([crate::target::CORE_USER_SCHEMA])
            .map(|k| (k, Arc::from(k)))
            .collect()
    });
    keys.get(name).cloned().unwrap_or_else(|| Arc::from(name))
}

/// The shared key of `TOP[i]`.
fn top_key(i: usize) -> Arc<str> {
    static KEYS: OnceLock<Vec<Arc<str>>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| TOP.iter().map(|(name, _)| Arc::from(*name)).collect());
    keys.get(i).cloned().unwrap_or_else(|| Arc::from(""))
}

/// A string value for a fixed word, shared rather than allocated each time.
pub(crate) fn word(text: &str) -> Value {
    Value::Str(key(text))
}

fn empty_string() -> Value {
    static EMPTY: OnceLock<Arc<str>> = OnceLock::new();
    Value::Str(EMPTY.get_or_init(|| Arc::from("")).clone())
}

/// Builds `jcUser` from a JumpCloud system-user object (`GET /api/systemusers/{id}`):
/// `id` from `_id`, unset strings as `""`, unset booleans as `false`, unset arrays as
/// `[]`, addresses and phone numbers with all their fields. Other attributes pass
/// through unchanged.
pub fn normalize_jc_user(json: serde_json::Value) -> Value {
    normalize_jc_user_ref(&json)
}

/// [`normalize_jc_user`] without taking ownership.
pub fn normalize_jc_user_ref(json: &serde_json::Value) -> Value {
    const NONE: Option<&serde_json::Value> = None;
    let empty = serde_json::Map::new();
    let obj = json.as_object().unwrap_or(&empty);
    // One pass over the input: known attributes into their slots, others kept as-is.
    let mut slots = [NONE; TOP.len()];
    let mut api_id = None;
    let mut out: Vec<(Arc<str>, Value)> = Vec::with_capacity(TOP.len() + 4);
    for (k, v) in obj {
        match TOP.iter().position(|(name, _)| name == k) {
            Some(i) => slots[i] = Some(v).filter(|v| !v.is_null()),
            None if k == "_id" => api_id = Some(v).filter(|v| !v.is_null()),
            None => out.push((key(k), Value::from_json(v))),
        }
    }
    for (i, (_, shape)) in TOP.iter().enumerate() {
        let given = slots[i];
        let value = match shape {
            Shape::Id => api_id.or(given).map_or_else(empty_string, Value::from_json),
            Shape::Text => given.map_or_else(empty_string, Value::from_json),
            Shape::Flag => given.map_or(Value::Bool(false), Value::from_json),
            Shape::Records(fields) => records(given, fields),
        };
        out.push((top_key(i), value));
    }
    Value::map(out)
}

/// An array of objects with `fields` filled in as `""` when unset.
fn records(v: Option<&serde_json::Value>, fields: &[&str]) -> Value {
    static EMPTY: OnceLock<Value> = OnceLock::new();
    let Some(items) = v.and_then(serde_json::Value::as_array) else {
        return EMPTY.get_or_init(|| Value::array(Vec::new())).clone();
    };
    let normalized = items
        .iter()
        .map(|item| match item.as_object() {
            Some(obj) => {
                let mut out: Vec<(Arc<str>, Value)> = obj
                    .iter()
                    .map(|(k, v)| (key(k), Value::from_json(v)))
                    .collect();
                for f in fields {
                    if !out.iter().any(|(k, v)| &**k == *f && !v.is_nil()) {
                        out.push((key(f), empty_string()));
                    }
                }
                Value::map(out)
            }
            None => Value::from_json(item),
        })
        .collect();
    Value::array(normalized)
}

type R = Result<Value, Fault>;

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Str(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// False for nil, `""`, `[]` and `{}`; true for anything else.
fn not_null_or_empty(_: &mut Budget, args: &[Value], _: usize) -> R {
    Ok(Value::Bool(!is_empty(arg(args, 0))))
}

fn entry(name: &str, value: Value) -> (Arc<str>, Value) {
    (key(name), value)
}

/// Builds the SCIM multi-valued list from one record or an array of them; the first
/// element is the primary one; elements `convert` skips are left out; nothing at all
/// gives nil.
fn scim_list(
    name: &str,
    v: &Value,
    b: &mut Budget,
    pos: usize,
    convert: fn(&Value, bool) -> Option<Value>,
) -> R {
    let items: Vec<&Value> = match v {
        Value::Nil => return Ok(Value::Nil),
        Value::Array(a) => a.items.iter().filter(|i| !i.is_nil()).collect(),
        Value::Map(_) | Value::Str(_) => vec![v],
        other => return Err(invalid(name, other, pos)),
    };
    b.charge(items.len() * 8, pos)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if !matches!(item, Value::Map(_) | Value::Str(_)) {
            return Err(invalid(name, item, pos));
        }
        if let Some(converted) = convert(item, out.is_empty()) {
            out.push(converted);
        }
    }
    if out.is_empty() {
        return Ok(Value::Nil);
    }
    Ok(Value::array(out))
}

fn with_primary(mut entries: Vec<(Arc<str>, Value)>, primary: bool) -> Value {
    if primary {
        entries.push((key("primary"), Value::Bool(true)));
    }
    Value::map(entries)
}

/// `toScimEmails(email)`: nil or `""` → nil, else `[{value, type: "work", primary: true}]`.
fn to_scim_emails(b: &mut Budget, args: &[Value], pos: usize) -> R {
    scim_list("toScimEmails", arg(args, 0), b, pos, |email, primary| {
        let address = email.as_str().filter(|s| !s.is_empty())?;
        let entries = vec![
            entry("value", Value::str(address)),
            entry("type", word("work")),
        ];
        Some(with_primary(entries, primary))
    })
}

/// `toScimAddresses(addr)`: type (default "work"), street, locality, region, postal
/// code and country, empty fields left out.
fn to_scim_addresses(b: &mut Budget, args: &[Value], pos: usize) -> R {
    scim_list("toScimAddresses", arg(args, 0), b, pos, |addr, primary| {
        let map = addr.as_map()?;
        let mut entries = Vec::with_capacity(7);
        let kind = map
            .get("type")
            .filter(|t| !is_empty(t))
            .cloned()
            .unwrap_or_else(|| word("work"));
        entries.push((key("type"), kind));
        for field in [
            "streetAddress",
            "locality",
            "region",
            "postalCode",
            "country",
        ] {
            if let Some(v) = map.get(field).filter(|v| !is_empty(v)) {
                entries.push((key(field), v.clone()));
            }
        }
        Some(with_primary(entries, primary))
    })
}

/// JumpCloud's phone types as SCIM's.
fn scim_phone_type(jc_type: &str) -> &'static str {
    match jc_type {
        "work" => "work",
        "home" => "home",
        "mobile" | "work_mobile" => "mobile",
        "work_fax" => "fax",
        _ => "other",
    }
}

/// `toScimPhoneNumbers(phone)`: `[{value: phone.number, type, primary: true}]`.
fn to_scim_phone_numbers(b: &mut Budget, args: &[Value], pos: usize) -> R {
    scim_list(
        "toScimPhoneNumbers",
        arg(args, 0),
        b,
        pos,
        |phone, primary| {
            let map = phone.as_map()?;
            let number = map.get("number").filter(|v| !is_empty(v))?.clone();
            let kind = scim_phone_type(map.get("type").and_then(Value::as_str).unwrap_or(""));
            let entries = vec![entry("value", number), entry("type", word(kind))];
            Some(with_primary(entries, primary))
        },
    )
}
