//! The values an expression works on: JSON's shapes plus Go's dates, durations and
//! time zones, with integers and floats kept apart as Expr keeps Go's `int` and `float64`.
//!
//! Containers are immutable and shared (`Arc`), so passing `jcUser` around or returning
//! an element of an array never copies. Every container records its nesting depth, so
//! no value deeper than [`MAX_VALUE_DEPTH`] can be built and every recursive walk over a
//! value (printing, comparing, dropping) is bounded.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::dates::{GoTime, Zone};

/// The deepest nesting of arrays and maps a value may have.
pub const MAX_VALUE_DEPTH: u32 = 128;

/// A value of the expression language.
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    Array(Arc<Array>),
    Map(Arc<Map>),
    /// Go's `time.Time`: an instant and the zone it is shown in.
    Time(Arc<GoTime>),
    /// Go's `time.Duration`, in nanoseconds.
    Duration(i64),
    /// Go's `*time.Location`, as returned by `timezone(…)`.
    Location(Arc<Zone>),
}

/// An array and its nesting depth.
#[derive(Debug, Default)]
pub struct Array {
    depth: u32,
    pub items: Vec<Value>,
}

/// A map with string keys and its nesting depth. Entries are kept sorted by key (the
/// order Go prints them in) in one vector: maps here are small and built once, so a
/// binary search beats a tree and building costs one allocation.
#[derive(Debug, Default)]
pub struct Map {
    depth: u32,
    entries: Vec<(Arc<str>, Value)>,
}

impl Array {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl Map {
    pub fn get(&self, key: &str) -> Option<&Value> {
        // Small maps (most records) are scanned: comparing lengths first skips almost
        // every string comparison.
        if self.entries.len() <= 16 {
            return self
                .entries
                .iter()
                .find(|(k, _)| k.len() == key.len() && **k == *key)
                .map(|(_, v)| v);
        }
        self.entries
            .binary_search_by(|(k, _)| k.as_bytes().cmp(key.as_bytes()))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// [`Map::get`] for a key that is usually the very string the map was built with
    /// (the shared names of `jcUser`, interned when an expression is compiled): a scan
    /// comparing pointers finds it without comparing text.
    pub fn get_shared(&self, key: &Arc<str>) -> Option<&Value> {
        match self.entries.iter().find(|(k, _)| Arc::ptr_eq(k, key)) {
            Some((_, v)) => Some(v),
            None => self.get(key),
        }
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Arc<str>> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn string(s: String) -> Value {
        Value::Str(Arc::from(s))
    }

    /// Builds an array; its depth is one more than its deepest element.
    pub fn array(items: Vec<Value>) -> Value {
        let depth = 1 + items.iter().map(Value::depth).max().unwrap_or(0);
        Value::Array(Arc::new(Array { depth, items }))
    }

    /// Builds a map from entries in any order; of repeated keys the last one wins. Its
    /// depth is one more than its deepest value.
    pub fn map(entries: impl IntoIterator<Item = (Arc<str>, Value)>) -> Value {
        let mut entries: Vec<(Arc<str>, Value)> = entries.into_iter().collect();
        let key_order =
            |a: &(Arc<str>, Value), b: &(Arc<str>, Value)| a.0.as_bytes().cmp(b.0.as_bytes());
        // Most maps are built in key order already; checking is cheaper than sorting.
        if !entries.is_sorted_by(|a, b| key_order(a, b).is_lt()) {
            // Stable, so repeated keys stay in insertion order and the last can win.
            entries.sort_by(key_order);
            dedup_keeping_last(&mut entries);
        }
        let depth = 1 + entries.iter().map(|(_, v)| v.depth()).max().unwrap_or(0);
        Value::Map(Arc::new(Map { depth, entries }))
    }

    /// Builds a map from entries already in key order, with no repeated key (the
    /// caller builds them so): nothing to check or sort.
    pub(crate) fn map_sorted(entries: Vec<(Arc<str>, Value)>) -> Value {
        debug_assert!(entries.is_sorted_by(|a, b| a.0.as_bytes() < b.0.as_bytes()));
        let depth = 1 + entries.iter().map(|(_, v)| v.depth()).max().unwrap_or(0);
        Value::Map(Arc::new(Map { depth, entries }))
    }

    /// The empty map, shared.
    pub fn empty_map() -> Value {
        static EMPTY: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
        EMPTY.get_or_init(|| Value::map(Vec::new())).clone()
    }

    /// Nesting depth: 0 for scalars, 1 for a flat array or map.
    pub fn depth(&self) -> u32 {
        match self {
            Value::Array(a) => a.depth,
            Value::Map(m) => m.depth,
            _ => 0,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(&a.items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// A map's value under `key`, nil when missing or when `self` is no map.
    pub fn get(&self, key: &str) -> &Value {
        static NIL: Value = Value::Nil;
        match self {
            Value::Map(m) => m.get(key).unwrap_or(&NIL),
            _ => &NIL,
        }
    }

    /// The name Go's `%T` prints for the dynamic type, which Expr's runtime errors use.
    pub fn go_type(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::Array(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::Time(_) => "time.Time",
            Value::Duration(_) => "time.Duration",
            Value::Location(_) => "*time.Location",
        }
    }

    /// The name Expr's `type()` builtin returns.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Time(_) => "time.Time",
            Value::Duration(_) => "time.Duration",
            Value::Location(_) => "time.Location",
        }
    }

    /// A number as `f64`, for mixed int/float arithmetic.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Converts JSON into a value. JSON integers that fit `i64` become ints, every other
    /// number a float. Nesting beyond [`MAX_VALUE_DEPTH`] reads as nil rather than
    /// failing, since such input cannot come from JumpCloud's API.
    pub fn from_json(json: &serde_json::Value) -> Value {
        from_json_at(json, 0)
    }

    /// Converts a value into JSON for callers that want `serde_json` (the preview).
    /// Dates become RFC 3339 strings and durations nanoseconds, as Go marshals them; a
    /// float that is a whole number becomes an integer so it prints as Go prints it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Nil => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    J::from(*f as i64)
                } else {
                    serde_json::Number::from_f64(*f).map_or(J::Null, J::Number)
                }
            }
            Value::Str(s) => J::String(s.to_string()),
            Value::Array(a) => J::Array(a.items.iter().map(Value::to_json).collect()),
            Value::Map(m) => J::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
            Value::Time(t) => J::String(t.rfc3339_nano()),
            Value::Duration(d) => J::from(*d),
            Value::Location(_) => J::Object(serde_json::Map::new()),
        }
    }
}

/// Removes all but the last of each run of equal keys in a sorted vector, in place.
fn dedup_keeping_last(entries: &mut Vec<(Arc<str>, Value)>) {
    let mut write = 0;
    for read in 0..entries.len() {
        let is_last_of_run = entries
            .get(read + 1)
            .is_none_or(|next| next.0 != entries[read].0);
        if is_last_of_run {
            entries.swap(write, read);
            write += 1;
        }
    }
    entries.truncate(write);
}

fn from_json_at(json: &serde_json::Value, depth: u32) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::str(s),
        _ if depth >= MAX_VALUE_DEPTH => Value::Nil,
        J::Array(items) => Value::array(items.iter().map(|v| from_json_at(v, depth + 1)).collect()),
        J::Object(entries) => Value::map(
            entries
                .iter()
                .map(|(k, v)| (Arc::from(k.as_str()), from_json_at(v, depth + 1))),
        ),
    }
}

/// Expr's `==`: numbers compare by value across int and float, arrays and maps compare
/// deeply, values of different types are simply unequal.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            a.as_f64() == b.as_f64()
        }
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            Arc::ptr_eq(x, y)
                || (x.items.len() == y.items.len()
                    && x.items.iter().zip(&y.items).all(|(p, q)| equal(p, q)))
        }
        (Value::Map(x), Value::Map(y)) => {
            Arc::ptr_eq(x, y)
                || (x.entries.len() == y.entries.len()
                    && x.entries
                        .iter()
                        .zip(y.entries.iter())
                        .all(|((k1, v1), (k2, v2))| k1 == k2 && equal(v1, v2)))
        }
        (Value::Time(x), Value::Time(y)) => x.instant_nanos() == y.instant_nanos(),
        (Value::Duration(x), Value::Duration(y)) => x == y,
        (Value::Location(x), Value::Location(y)) => x.name() == y.name(),
        _ => false,
    }
}

/// Ordering for `<`, `sort` and friends: numbers, strings, dates and durations.
/// `None` when the two values cannot be ordered.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            a.as_f64()?.partial_cmp(&b.as_f64()?)
        }
        (Value::Str(x), Value::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Time(x), Value::Time(y)) => Some(x.instant_nanos().cmp(&y.instant_nanos())),
        (Value::Duration(x), Value::Duration(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        equal(self, other)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::string(s)
    }
}
