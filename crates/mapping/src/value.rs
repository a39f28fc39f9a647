//! The values an expression works on: JSON's shapes plus Go's dates, durations and
//! time zones, with integers and floats kept apart as Expr keeps Go's `int` and `float64`.
//!
//! Containers are immutable and shared (`Arc`), so passing `jcUser` around or returning
//! an element of an array never copies. Every container records its nesting depth, so
//! no value deeper than [`MAX_VALUE_DEPTH`] can be built and every recursive walk over a
//! value (printing, comparing, dropping) is bounded.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicU32, Ordering as MemoryOrdering};
use std::sync::Arc;

use crate::dates::{GoTime, Zone};

/// The deepest nesting of arrays and maps a value may have.
pub const MAX_VALUE_DEPTH: u32 = 128;

/// A value of the expression language.
///
/// An array or a map is one shared allocation (its elements, behind an `Arc<[…]>`);
/// its nesting depth sits beside it in the variant, where it costs no space (the
/// variant's tag leaves room for it), rather than in a header that would need a second
/// allocation.
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    Array(Array, Depth),
    Map(Map, Depth),
    /// Go's `time.Time`: an instant and the zone it is shown in.
    Time(Arc<GoTime>),
    /// Go's `time.Duration`, in nanoseconds.
    Duration(i64),
    /// Go's `*time.Location`, as returned by `timezone(…)`.
    Location(Arc<Zone>),
}

/// The nesting depth of an array or map: 1 for a flat one.
pub type Depth = u32;

/// One entry of a map.
pub type Entry = (Arc<str>, Value);

/// The elements of an array, shared.
#[derive(Clone, Debug)]
pub struct Array(Arc<[Value]>);

/// The entries of a map, shared, sorted by key (the order Go prints them in): maps here
/// are small and built once, so a sorted slice beats a tree and building costs one
/// allocation.
#[derive(Clone, Debug)]
pub struct Map(Arc<[Entry]>);

impl Array {
    pub fn items(&self) -> &[Value] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn ptr_eq(a: &Array, b: &Array) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl Map {
    pub fn get(&self, key: &str) -> Option<&Value> {
        // Small maps (most records) are scanned: comparing lengths first skips almost
        // every string comparison.
        if self.0.len() <= 16 {
            return self
                .0
                .iter()
                .find(|(k, _)| k.len() == key.len() && **k == *key)
                .map(|(_, v)| v);
        }
        self.0
            .binary_search_by(|(k, _)| k.as_bytes().cmp(key.as_bytes()))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// [`Map::get`] for a key that is usually the very string the map was built with
    /// (the shared names of `jcUser`, interned when an expression is compiled): a scan
    /// comparing pointers finds it without comparing text.
    pub fn get_shared(&self, key: &Arc<str>) -> Option<&Value> {
        match self.0.iter().find(|(k, _)| Arc::ptr_eq(k, key)) {
            Some((_, v)) => Some(v),
            None => self.get(key),
        }
    }

    /// [`Map::get_shared`] for a lookup site that reads maps of one shape again and
    /// again (`jcUser.email` for every user, `.type` for every address): the entry is
    /// tried first where `hint` last found it, then searched for as usual.
    pub(crate) fn get_hinted(&self, key: &Arc<str>, hint: &Hint) -> Option<&Value> {
        let at = hint.get();
        if let Some((k, v)) = self.0.get(at) {
            if Arc::ptr_eq(k, key) {
                return Some(v);
            }
        }
        match self.0.iter().position(|(k, _)| Arc::ptr_eq(k, key)) {
            Some(i) => {
                hint.set(i);
                self.0.get(i).map(|(_, v)| v)
            }
            None => self.get(key),
        }
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Arc<str>> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn ptr_eq(a: &Map, b: &Map) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

/// Where a lookup site last found its key, for [`Map::get_hinted`]. Only a guess: a
/// wrong one costs a search, never a wrong answer. Atomic so that compiled tables stay
/// shareable between threads; relaxed, as nothing else is ordered by it.
#[derive(Debug, Default)]
pub(crate) struct Hint(AtomicU32);

impl Hint {
    pub const fn new() -> Hint {
        Hint(AtomicU32::new(0))
    }

    fn get(&self) -> usize {
        self.0.load(MemoryOrdering::Relaxed) as usize
    }

    fn set(&self, at: usize) {
        self.0.store(
            u32::try_from(at).unwrap_or(u32::MAX),
            MemoryOrdering::Relaxed,
        );
    }
}

/// One more than the deepest of `values`.
fn depth_over<'v>(values: impl Iterator<Item = &'v Value>) -> Depth {
    1 + values.map(Value::depth).max().unwrap_or(0)
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
        Value::array_from(items)
    }

    /// Builds an array from an iterator. An iterator whose length is known exactly
    /// (a slice's or a `Vec`'s, mapped) is collected straight into the shared
    /// allocation; any other goes through a vector first.
    pub(crate) fn array_from(items: impl IntoIterator<Item = Value>) -> Value {
        let items: Arc<[Value]> = items.into_iter().collect();
        let depth = depth_over(items.iter());
        Value::Array(Array(items), depth)
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
        Value::map_sorted(entries)
    }

    /// Builds a map from entries already in key order, with no repeated key (the
    /// caller builds them so): nothing to check or sort. Like [`Value::array_from`],
    /// an iterator of known length is collected straight into the shared allocation.
    pub(crate) fn map_sorted(entries: impl IntoIterator<Item = Entry>) -> Value {
        let entries: Arc<[Entry]> = entries.into_iter().collect();
        debug_assert!(entries.is_sorted_by(|a, b| a.0.as_bytes() < b.0.as_bytes()));
        let depth = depth_over(entries.iter().map(|(_, v)| v));
        Value::Map(Map(entries), depth)
    }

    /// Builds a map from entries in key order, without repeated keys, of which the
    /// absent ones are left out: counted first, so that the present ones are collected
    /// straight into the map's one allocation, with no buffer to fetch from the thread.
    pub(crate) fn map_sorted_present<const N: usize>(parts: [Option<Entry>; N]) -> Value {
        let n = parts.iter().filter(|p| p.is_some()).count();
        let mut present = parts.into_iter().flatten();
        // `present` yields exactly `n` entries: the fallback is never taken, it only
        // keeps the iterator's length known.
        Value::map_sorted((0..n).map(|_| {
            present
                .next()
                .unwrap_or_else(|| (Arc::from(""), Value::Nil))
        }))
    }

    /// Builds a map from the entries `fill` pushes, in key order and without repeated
    /// keys, gathered in a buffer this thread keeps: the map is then the only
    /// allocation. `fill` may build maps itself (they get a buffer of their own), or
    /// push and drain entries above the length it was given, as a stack.
    pub(crate) fn map_sorted_with(fill: impl FnOnce(&mut Vec<Entry>)) -> Value {
        thread_local! {
            static BUFFER: std::cell::Cell<Vec<Entry>> = const { std::cell::Cell::new(Vec::new()) };
        }
        let mut buffer = BUFFER.with(std::cell::Cell::take);
        buffer.clear();
        fill(&mut buffer);
        let map = Value::map_sorted(buffer.drain(..));
        BUFFER.with(|cell| cell.set(buffer));
        map
    }

    /// The empty map, shared.
    pub fn empty_map() -> Value {
        static EMPTY: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
        EMPTY.get_or_init(|| Value::map(Vec::new())).clone()
    }

    /// Nesting depth: 0 for scalars, 1 for a flat array or map.
    pub fn depth(&self) -> u32 {
        match self {
            Value::Array(_, depth) | Value::Map(_, depth) => *depth,
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
            Value::Array(a, _) => Some(a.items()),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m, _) => Some(m),
            _ => None,
        }
    }

    /// A map's value under `key`, nil when missing or when `self` is no map.
    pub fn get(&self, key: &str) -> &Value {
        static NIL: Value = Value::Nil;
        match self {
            Value::Map(m, _) => m.get(key).unwrap_or(&NIL),
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
            Value::Array(..) => "[]interface {}",
            Value::Map(..) => "map[string]interface {}",
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
            Value::Array(..) => "array",
            Value::Map(..) => "map",
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
            Value::Array(a, _) => J::Array(a.items().iter().map(Value::to_json).collect()),
            Value::Map(m, _) => J::Object(
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
        (Value::Array(x, _), Value::Array(y, _)) => {
            Array::ptr_eq(x, y)
                || (x.len() == y.len() && x.items().iter().zip(y.items()).all(|(p, q)| equal(p, q)))
        }
        (Value::Map(x, _), Value::Map(y, _)) => {
            Map::ptr_eq(x, y)
                || (x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
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
