//! What JumpCloud adds to Expr for attribute mappings: the normalised `jcUser`, and the
//! functions `notNullOrEmpty`, `toScimEmails`, `toScimAddresses`, `toScimPhoneNumbers`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, OnceLock};

use crate::builtins::{arg, builtin, invalid, Builtin};
use crate::error::Fault;
use crate::eval::Budget;
use crate::value::{Hint, Value};

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
/// Positions in [`ADDRESS_FIELDS`], so that reading an address's field needs no search
/// for its name.
mod address {
    pub const TYPE: usize = 0;
    pub const STREET_ADDRESS: usize = 1;
    pub const LOCALITY: usize = 4;
    pub const REGION: usize = 5;
    pub const POSTAL_CODE: usize = 6;
    pub const COUNTRY: usize = 7;
}
const PHONE_FIELDS: &[&str] = &["type", "number"];
const ATTRIBUTE_FIELDS: &[&str] = &["name", "value"];

/// How a top-level attribute of `jcUser` is normalised.
#[derive(Clone, Copy)]
enum Shape {
    Id,
    Text,
    /// Text that takes a few values across a directory (a department, a state): shared
    /// between users rather than copied for each, see [`categorical`].
    Category,
    Flag,
    Records(Record),
}

/// The kinds of records `jcUser` has lists of. Named rather than told apart by the
/// address of their field list: a constant's address is not guaranteed to be the same
/// at each use (and, after an unrelated change, was not).
#[derive(Clone, Copy)]
enum Record {
    Address,
    Phone,
    Attribute,
}

/// The top-level attributes of `jcUser`, in key order so that the normalised map is
/// built sorted.
const TOP: &[(&str, Shape)] = &[
    ("activated", Shape::Flag),
    ("addresses", Shape::Records(Record::Address)),
    ("alternateEmail", Shape::Text),
    ("attributes", Shape::Records(Record::Attribute)),
    ("company", Shape::Category),
    ("costCenter", Shape::Category),
    ("created", Shape::Text),
    ("department", Shape::Category),
    ("description", Shape::Text),
    ("displayname", Shape::Text),
    ("email", Shape::Text),
    ("employeeIdentifier", Shape::Text),
    ("employeeType", Shape::Category),
    ("firstname", Shape::Text),
    ("id", Shape::Id),
    ("jobTitle", Shape::Category),
    ("lastname", Shape::Text),
    ("location", Shape::Category),
    ("manager", Shape::Text),
    ("middlename", Shape::Text),
    ("phoneNumbers", Shape::Records(Record::Phone)),
    ("state", Shape::Category),
    ("suspended", Shape::Flag),
    ("username", Shape::Text),
];

/// Every top-level name of `jcUser`, `id` included.
pub fn jc_user_fields() -> impl Iterator<Item = &'static str> {
    TOP.iter().map(|(name, _)| *name)
}

/// A fast hash for the short, trusted key names below (std's SipHash guards against
/// attacker-chosen keys, which a fixed table of names does not need).
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Fixed names → their shared string and, for top-level attributes, their index in
/// [`TOP`].
type NameTable = HashMap<&'static str, (Arc<str>, Option<usize>), BuildHasherDefault<NameHasher>>;

/// Every fixed name the normaliser and JumpCloud's functions use.
fn names() -> &'static NameTable {
    static NAMES: OnceLock<NameTable> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = NameTable::default();
        let others = ADDRESS_FIELDS
            .iter()
            .chain(PHONE_FIELDS)
            .chain(ATTRIBUTE_FIELDS)
            .chain(&[
                "value", "primary", "_id", "work", "home", "mobile", "fax", "other", "schemas",
            ])
            .chain(&[crate::target::CORE_USER_SCHEMA]);
        for name in others {
            names.insert(*name, (Arc::from(*name), None));
        }
        for (i, (name, _)) in TOP.iter().enumerate() {
            names.insert(*name, (Arc::from(*name), Some(i)));
        }
        names
    })
}

/// The longest name in [`TOP`].
const LONGEST_TOP_NAME: usize = 18;
/// An empty place in [`TOP_BY_LENGTH`].
const NO_INDEX: u8 = u8::MAX;

/// The indexes in [`TOP`] of the names of each length, built when compiling (a name
/// longer than [`LONGEST_TOP_NAME`], or more than four of one length, fails the build),
/// so that finding a name needs no initialisation check or indirection.
const TOP_BY_LENGTH: [[u8; 4]; LONGEST_TOP_NAME + 1] = {
    let mut table = [[NO_INDEX; 4]; LONGEST_TOP_NAME + 1];
    let mut i = 0;
    while i < TOP.len() {
        let len = TOP[i].0.len();
        let mut j = 0;
        while table[len][j] != NO_INDEX {
            j += 1;
        }
        table[len][j] = i as u8;
        i += 1;
    }
    table
};

/// The index of `name` in [`TOP`]. Names are bucketed by length and told apart by
/// their first byte before their text is compared: cheaper than hashing each key of
/// each user.
fn top_index(name: &str) -> Option<usize> {
    let bytes = name.as_bytes();
    let first = bytes.first()?;
    TOP_BY_LENGTH
        .get(bytes.len())?
        .iter()
        .take_while(|&&i| i != NO_INDEX)
        .map(|&i| usize::from(i))
        .find(|&i| {
            TOP.get(i)
                .is_some_and(|(n, _)| n.as_bytes().first() == Some(first) && n.as_bytes() == bytes)
        })
}

/// Shared key strings, so normalising a user does not allocate its keys again.
pub(crate) fn key(name: &str) -> Arc<str> {
    match names().get(name) {
        Some((shared, _)) => shared.clone(),
        None => Arc::from(name),
    }
}

/// The names every mapped user needs, shared and reached without a lookup.
struct Words {
    primary: Arc<str>,
    kind: Arc<str>,
    value: Arc<str>,
    work: Arc<str>,
    home: Arc<str>,
    mobile: Arc<str>,
    fax: Arc<str>,
    other: Arc<str>,
    core_schema: Arc<str>,
    /// The shared keys of `ADDRESS_FIELDS`, `PHONE_FIELDS`, `ATTRIBUTE_FIELDS`.
    address_fields: Vec<Arc<str>>,
    phone_fields: Vec<Arc<str>>,
    attribute_fields: Vec<Arc<str>>,
    /// The shared keys of `TOP`.
    top: Vec<Arc<str>>,
    /// The indexes of each record field list in key order, so that a normalised record
    /// is built sorted.
    address_order: Vec<usize>,
    phone_order: Vec<usize>,
    attribute_order: Vec<usize>,
}

/// The indexes of `fields` in key order.
fn key_order(fields: &[&str]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..fields.len()).collect();
    order.sort_by(|a, b| fields[*a].as_bytes().cmp(fields[*b].as_bytes()));
    order
}

fn words() -> &'static Words {
    static WORDS: OnceLock<Words> = OnceLock::new();
    WORDS.get_or_init(|| {
        let all = |fields: &[&str]| fields.iter().map(|f| key(f)).collect();
        Words {
            primary: key("primary"),
            kind: key("type"),
            value: key("value"),
            work: key("work"),
            home: key("home"),
            mobile: key("mobile"),
            fax: key("fax"),
            other: key("other"),
            core_schema: key(crate::target::CORE_USER_SCHEMA),
            address_fields: all(ADDRESS_FIELDS),
            phone_fields: all(PHONE_FIELDS),
            attribute_fields: all(ATTRIBUTE_FIELDS),
            top: TOP.iter().map(|(name, _)| key(name)).collect(),
            address_order: key_order(ADDRESS_FIELDS),
            phone_order: key_order(PHONE_FIELDS),
            attribute_order: key_order(ATTRIBUTE_FIELDS),
        }
    })
}

/// The core User schema URN as a shared string value.
pub(crate) fn core_schema() -> Value {
    Value::Str(words().core_schema.clone())
}

/// A categorical attribute's value. Such values repeat from user to user, so short
/// ones are kept in a small per-thread table and shared: mapping a user then copies
/// (and later frees) only the strings that are its own — names, e-mail, ids. The table
/// is direct-mapped and bounded (256 strings of at most 32 bytes per thread): a value
/// not in it costs one lookup more than copying it.
fn categorical(v: &serde_json::Value) -> Value {
    const SLOTS: usize = 256;
    const LONGEST: usize = 32;
    /// A shared value and its fingerprint.
    type Slot = Option<(Fingerprint, Arc<str>)>;
    // Initialised at compile time, so reaching it needs no first-use check.
    thread_local! {
        static SHARED: std::cell::RefCell<[Slot; SLOTS]> =
            const { std::cell::RefCell::new([const { None }; SLOTS]) };
    }
    let Some(text) = v.as_str() else {
        return Value::from_json(v);
    };
    if text.is_empty() {
        return empty_string();
    }
    if text.len() > LONGEST {
        return Value::str(text);
    }
    let print = Fingerprint::of(text.as_bytes());
    SHARED.with(|shared| {
        let Ok(mut shared) = shared.try_borrow_mut() else {
            return Value::str(text);
        };
        match shared.get_mut(print.slot() % SLOTS) {
            Some(Some((p, s))) if *p == print && (print.is_whole() || **s == *text) => {
                Value::Str(s.clone())
            }
            Some(entry) => {
                let s: Arc<str> = Arc::from(text);
                *entry = Some((print, s.clone()));
                Value::Str(s)
            }
            None => Value::str(text),
        }
    })
}

/// A short string's length and its first and last eight bytes. Two strings of at most
/// 16 bytes with the same fingerprint are equal, so finding a categorical value needs
/// no comparison of its text (a call to `memcmp` cost more than the rest of the lookup).
#[derive(Clone, Copy, PartialEq)]
struct Fingerprint {
    len: usize,
    head: u64,
    tail: u64,
}

impl Fingerprint {
    fn of(text: &[u8]) -> Fingerprint {
        // Eight bytes as a word; fewer shifted in one by one, which for a given length
        // tells them apart just as well.
        let word = |part: &[u8]| match part.get(..8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
            Some(w) => u64::from_le_bytes(w),
            None => part.iter().fold(0, |w, &b| (w << 8) | u64::from(b)),
        };
        let len = text.len();
        let tail = match len.checked_sub(8) {
            Some(start) if start > 0 => word(text.get(start..).unwrap_or_default()),
            _ => 0,
        };
        Fingerprint {
            len,
            head: word(text),
            tail,
        }
    }

    /// Whether the fingerprint covers every byte.
    fn is_whole(&self) -> bool {
        self.len <= 16
    }

    /// The slot in a table of 256 (values that collide only take turns in it).
    fn slot(&self) -> usize {
        let mixed = (self.head ^ self.tail.rotate_left(29) ^ self.len as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (mixed >> 56) as usize
    }
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
    normalize_projected(json, None)
}

/// The attributes of `jcUser` a mapping table reads, so that a user can be normalised
/// without building what no row looks at.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Projection {
    /// Bit `i` set: `TOP[i]` is read.
    top: u32,
    /// The indexes of the bits set in `top`, ascending (so in key order).
    top_list: Vec<usize>,
    /// Other (passed-through) attributes that are read.
    others: Vec<String>,
}

impl Projection {
    pub fn of(fields: &[Arc<str>]) -> Projection {
        let mut p = Projection::default();
        for field in fields {
            match names().get(&**field) {
                Some((_, Some(i))) => p.top |= 1 << i,
                _ => {
                    if !p.others.iter().any(|o| **o == **field) {
                        p.others.push(field.to_string());
                    }
                }
            }
        }
        p.top_list = (0..TOP.len()).filter(|&i| p.wants_top(i)).collect();
        p
    }

    fn wants_top(&self, i: usize) -> bool {
        self.top & (1 << i) != 0
    }
}

/// Normalises the attributes `projection` names (all of them for None).
pub(crate) fn normalize_projected(
    json: &serde_json::Value,
    projection: Option<&Projection>,
) -> Value {
    const NONE: Option<&serde_json::Value> = None;
    // One pass over the input: known attributes into their slots, others kept as-is.
    let mut slots = [NONE; TOP.len()];
    let mut api_id = None;
    // Attributes passed through as they are; most users have none that a table reads.
    let mut others: Vec<(Arc<str>, Value)> = Vec::new();
    for (k, v) in json.as_object().into_iter().flatten() {
        match top_index(k) {
            Some(i) => slots[i] = Some(v).filter(|v| !v.is_null()),
            _ if k == "_id" => api_id = Some(v).filter(|v| !v.is_null()),
            _ if projection.is_none_or(|p| p.others.iter().any(|o| o == k)) => {
                others.push((key(k), Value::from_json(v)))
            }
            _ => {}
        }
    }
    let top_keys = &words().top;
    let value = |i: usize| {
        let given = slots[i];
        let value = match TOP.get(i).map_or(Shape::Text, |(_, shape)| *shape) {
            Shape::Id => api_id.or(given).map_or_else(empty_string, Value::from_json),
            Shape::Text => given.map_or_else(empty_string, Value::from_json),
            Shape::Category => given.map_or_else(empty_string, categorical),
            Shape::Flag => given.map_or(Value::Bool(false), Value::from_json),
            Shape::Records(kind) => records(given, kind),
        };
        let key = top_keys.get(i).cloned().unwrap_or_else(|| Arc::from(""));
        (key, value)
    };
    // The known attributes come in key order, and a list of known length is collected
    // straight into the map's one allocation; other attributes make building it sort.
    match projection {
        Some(p) if others.is_empty() => Value::map_sorted(p.top_list.iter().map(|&i| value(i))),
        Some(p) => Value::map(p.top_list.iter().map(|&i| value(i)).chain(others)),
        None if others.is_empty() => Value::map_sorted((0..TOP.len()).map(value)),
        None => Value::map((0..TOP.len()).map(value).chain(others)),
    }
}

/// A record kind's fields, their shared keys and their order.
/// Bit i of the mask: `fields[i]` is categorical (every part of an address, which is
/// mostly an office's; a phone's type; a custom attribute's name).
fn record_keys(
    kind: Record,
) -> (
    &'static [&'static str],
    &'static [Arc<str>],
    &'static [usize],
    u32,
) {
    let w = words();
    match kind {
        Record::Address => (
            ADDRESS_FIELDS,
            &w.address_fields,
            &w.address_order,
            u32::MAX,
        ),
        Record::Phone => (PHONE_FIELDS, &w.phone_fields, &w.phone_order, 1),
        Record::Attribute => (ATTRIBUTE_FIELDS, &w.attribute_fields, &w.attribute_order, 1),
    }
}

/// The most fields a record kind has.
const MAX_RECORD_FIELDS: usize = 8;

/// An array of records of `kind`, each with all its fields (`""` when unset).
fn records(v: Option<&serde_json::Value>, kind: Record) -> Value {
    static EMPTY: OnceLock<Value> = OnceLock::new();
    let Some(items) = v.and_then(serde_json::Value::as_array) else {
        return EMPTY.get_or_init(|| Value::array(Vec::new())).clone();
    };
    let (fields, keys, order, categories) = record_keys(kind);
    Value::array_from(items.iter().map(|item| match item.as_object() {
        Some(obj) => record(obj, fields, keys, order, categories),
        None => Value::from_json(item),
    }))
}

fn record(
    obj: &serde_json::Map<String, serde_json::Value>,
    fields: &[&str],
    keys: &[Arc<str>],
    order: &[usize],
    categories: u32,
) -> Value {
    // The known fields by their index in `fields`, converted only when the map is
    // built (references need no dropping); any other attribute kept as it is.
    let mut known: [Option<&serde_json::Value>; MAX_RECORD_FIELDS] = [None; MAX_RECORD_FIELDS];
    let mut others: Vec<(Arc<str>, Value)> = Vec::new();
    for (k, v) in obj {
        match fields.iter().position(|f| *f == k) {
            Some(_) if v.is_null() => {}
            Some(i) if i < MAX_RECORD_FIELDS => known[i] = Some(v),
            _ => others.push((key(k), Value::from_json(v))),
        }
    }
    // `keys`, `order` and `known` all have an entry for each field.
    let known_in_order = order.iter().map(|&i| {
        let shared = keys.get(i).cloned().unwrap_or_else(|| Arc::from(""));
        let value = match known.get(i).copied().flatten() {
            None => empty_string(),
            Some(v) if categories & (1 << i) != 0 => categorical(v),
            Some(v) => Value::from_json(v),
        };
        (shared, value)
    });
    // Known fields come in key order, a list of known length that is collected straight
    // into the map's one allocation; other attributes (rare) make building it sort.
    if others.is_empty() {
        return Value::map_sorted(known_in_order);
    }
    Value::map(known_in_order.chain(others))
}

type R = Result<Value, Fault>;

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Str(s) => s.is_empty(),
        Value::Array(a, _) => a.is_empty(),
        Value::Map(m, _) => m.is_empty(),
        _ => false,
    }
}

/// False for nil, `""`, `[]` and `{}`; true for anything else.
fn not_null_or_empty(_: &mut Budget, args: &[Value], _: usize) -> R {
    Ok(Value::Bool(!is_empty(arg(args, 0))))
}

/// Builds the SCIM multi-valued list from one record or an array of them; the first
/// element is the primary one; elements `convert` skips are left out; nothing at all
/// gives nil.
fn scim_list(
    name: &str,
    v: &Value,
    b: &mut Budget,
    pos: usize,
    convert: impl Fn(&Value, bool) -> Option<Value>,
) -> R {
    let items: &[Value] = match v {
        Value::Nil => return Ok(Value::Nil),
        Value::Array(a, _) => a.items(),
        Value::Map(..) | Value::Str(_) => std::slice::from_ref(v),
        other => return Err(invalid(name, other, pos)),
    };
    b.charge(items.len() * 8, pos)?;
    // One record (what the default table passes) becomes an array of one, built without
    // gathering it in a vector first.
    if let [item] = items {
        if item.is_nil() {
            return Ok(Value::Nil);
        }
        if !matches!(item, Value::Map(..) | Value::Str(_)) {
            return Err(invalid(name, item, pos));
        }
        return Ok(convert(item, true).map_or(Value::Nil, |v| Value::array_from([v])));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter().filter(|i| !i.is_nil()) {
        if !matches!(item, Value::Map(..) | Value::Str(_)) {
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

fn primary_entry(primary: bool) -> Option<(Arc<str>, Value)> {
    primary.then(|| (words().primary.clone(), Value::Bool(true)))
}

/// `toScimEmails(email)`: nil or `""` → nil, else `[{value, type: "work", primary: true}]`.
fn to_scim_emails(b: &mut Budget, args: &[Value], pos: usize) -> R {
    scim_list("toScimEmails", arg(args, 0), b, pos, |email, primary| {
        email.as_str().filter(|s| !s.is_empty())?;
        let w = words();
        let kind = (w.kind.clone(), Value::Str(w.work.clone()));
        let value = (w.value.clone(), email.clone());
        // Entries in key order.
        Some(match primary_entry(primary) {
            Some(primary) => Value::map_sorted([primary, kind, value]),
            None => Value::map_sorted([kind, value]),
        })
    })
}

/// `toScimAddresses(addr)`: type (default "work"), street, locality, region, postal
/// code and country, empty fields left out.
fn to_scim_addresses(b: &mut Budget, args: &[Value], pos: usize) -> R {
    scim_list("toScimAddresses", arg(args, 0), b, pos, |addr, primary| {
        let map = addr.as_map()?;
        let w = words();
        // The shared key of an address field, by its position in ADDRESS_FIELDS.
        // Where each field was last found: records are mostly the normalised ones,
        // all of one shape.
        static HINTS: [Hint; ADDRESS_FIELDS.len()] = [const { Hint::new() }; ADDRESS_FIELDS.len()];
        let field = |i: usize| {
            let key = w.address_fields.get(i)?;
            let value = map
                .get_hinted(key, HINTS.get(i)?)
                .filter(|v| !is_empty(v))?;
            Some((key.clone(), value.clone()))
        };
        // Entries in key order.
        Some(Value::map_sorted_present([
            field(address::COUNTRY),
            field(address::LOCALITY),
            field(address::POSTAL_CODE),
            primary_entry(primary),
            field(address::REGION),
            field(address::STREET_ADDRESS),
            Some(
                field(address::TYPE)
                    .unwrap_or_else(|| (w.kind.clone(), Value::Str(w.work.clone()))),
            ),
        ]))
    })
}

/// JumpCloud's phone types as SCIM's.
fn scim_phone_type(jc_type: &str) -> Arc<str> {
    let w = words();
    match jc_type {
        "work" => w.work.clone(),
        "home" => w.home.clone(),
        "mobile" | "work_mobile" => w.mobile.clone(),
        "work_fax" => w.fax.clone(),
        _ => w.other.clone(),
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
            static NUMBER: Hint = Hint::new();
            static KIND: Hint = Hint::new();
            let map = phone.as_map()?;
            let w = words();
            let number = w
                .phone_fields
                .get(1)
                .and_then(|k| map.get_hinted(k, &NUMBER))
                .filter(|v| !is_empty(v))?
                .clone();
            let kind = scim_phone_type(
                map.get_hinted(&w.kind, &KIND)
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            );
            let kind = (w.kind.clone(), Value::Str(kind));
            let value = (w.value.clone(), number);
            // Entries in key order.
            Some(match primary_entry(primary) {
                Some(primary) => Value::map_sorted([primary, kind, value]),
                None => Value::map_sorted([kind, value]),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::{normalize_projected, Projection, TOP};
    use std::sync::Arc;

    #[test]
    fn top_level_attributes_are_listed_in_key_order() {
        assert!(TOP
            .windows(2)
            .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
        assert!(
            TOP.len() <= 32,
            "the projection keeps one bit per attribute"
        );
    }

    #[test]
    fn address_field_positions_name_the_fields() {
        use super::{address, ADDRESS_FIELDS};
        for (i, name) in [
            (address::TYPE, "type"),
            (address::STREET_ADDRESS, "streetAddress"),
            (address::LOCALITY, "locality"),
            (address::REGION, "region"),
            (address::POSTAL_CODE, "postalCode"),
            (address::COUNTRY, "country"),
        ] {
            assert_eq!(ADDRESS_FIELDS[i], name);
        }
    }

    #[test]
    fn categorical_attributes_read_the_same_whether_shared_or_not() {
        let long = "a department whose name is longer than thirty-two bytes";
        for _ in 0..2 {
            for (department, expected) in [
                (serde_json::json!("Sales"), r#""Sales""#),
                (serde_json::json!(long), &*format!("{long:?}")),
                (serde_json::json!(""), r#""""#),
                (serde_json::json!(7), "7"),
                (serde_json::json!(null), r#""""#),
            ] {
                let user = serde_json::json!({"department": department, "addresses": [{"locality": "Paris", "country": 1}]});
                let v = normalize_projected(&user, None);
                let json = crate::gojson::to_json(v.get("department")).unwrap_or_default();
                assert_eq!(json, expected);
                let address = crate::gojson::to_json(v.get("addresses")).unwrap_or_default();
                assert!(
                    address.contains(r#""country":1,"extendedAddress":"","locality":"Paris""#),
                    "{address}"
                );
            }
        }
    }

    #[test]
    fn short_strings_with_the_same_fingerprint_are_equal() {
        use super::Fingerprint;
        let words = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "work",
            "home",
            "Paris",
            "R&D",
            "abcdefg",
            "abcdefh",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
            "abcdefgxi",
            "1 Main Street",
            "1 Main Streex",
            "0123456789abcdef",
            "0123456789abcdeF",
            "0123456789xbcdef",
        ];
        for a in words {
            for b in words {
                let same = Fingerprint::of(a.as_bytes()) == Fingerprint::of(b.as_bytes());
                assert_eq!(same, a == b, "{a:?} {b:?}");
            }
        }
        assert!(!Fingerprint::of(b"0123456789abcdefg").is_whole());
    }

    #[test]
    fn a_projection_normalises_only_the_attributes_read() {
        let user = serde_json::json!({"_id": "1", "email": "e", "state": "ACTIVATED", "extra": 1, "more": 2});
        let fields: Vec<Arc<str>> = ["id", "firstname", "extra"]
            .into_iter()
            .map(Arc::from)
            .collect();
        let v = normalize_projected(&user, Some(&Projection::of(&fields)));
        let json = crate::gojson::to_json(&v).unwrap_or_default();
        assert_eq!(json, r#"{"extra":1,"firstname":"","id":"1"}"#);
    }
}
