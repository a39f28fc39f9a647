//! Where each row's value goes in the SCIM User, worked out once per table: the
//! top-level keys in the order JSON prints them, the nesting below each, and the
//! extension schemas. Building a user is then filling slots, with no sorting or
//! searching per user.

use std::sync::Arc;

use crate::target::Target;
use crate::value::Value;

#[derive(Debug)]
pub(crate) struct UserLayout {
    /// Top-level keys in key order.
    keys: Vec<Arc<str>>,
    /// The slot of `schemas`.
    schemas: usize,
    /// Extension schemas in order of first appearance in the table, with their slot.
    extensions: Vec<(Arc<str>, usize)>,
    /// For each compiled row: its top-level slot and the path below it.
    rows: Vec<(usize, Vec<Arc<str>>)>,
    /// The `schemas` arrays for the common cases, shared: no extension has a value,
    /// or all of them have.
    core_only: Value,
    all_schemas: Value,
}

/// A value being built: nothing yet, a value, or an object of named parts.
enum Slot {
    Empty,
    Value(Value),
    Object(Vec<(Arc<str>, Slot)>),
}

impl UserLayout {
    /// The layout for rows writing `targets`, in row order.
    pub fn new(targets: &[&Target]) -> UserLayout {
        let top_key = |t: &Target| -> Arc<str> {
            match &t.schema {
                None => Arc::from(t.path.first().map_or("", String::as_str)),
                Some(schema) => Arc::from(schema.as_str()),
            }
        };
        let mut keys: Vec<Arc<str>> = targets.iter().map(|t| top_key(t)).collect();
        keys.push(Arc::from("schemas"));
        keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        keys.dedup();
        let slot_of = |key: &str| keys.iter().position(|k| &**k == key).unwrap_or(0);
        let mut extensions: Vec<(Arc<str>, usize)> = Vec::new();
        for t in targets {
            if let Some(schema) = &t.schema {
                if !extensions.iter().any(|(s, _)| &**s == schema.as_str()) {
                    extensions.push((Arc::from(schema.as_str()), slot_of(schema)));
                }
            }
        }
        let rows = targets
            .iter()
            .map(|t| {
                let below = match &t.schema {
                    None => t.path.get(1..).unwrap_or_default(),
                    Some(_) => &t.path[..],
                };
                (
                    slot_of(&top_key(t)),
                    below.iter().map(|k| Arc::from(k.as_str())).collect(),
                )
            })
            .collect();
        let schemas = slot_of("schemas");
        let core_only = Value::array(vec![crate::jumpcloud::core_schema()]);
        let all_schemas = Value::array(
            std::iter::once(crate::jumpcloud::core_schema())
                .chain(extensions.iter().map(|(s, _)| Value::Str(s.clone())))
                .collect(),
        );
        UserLayout {
            keys,
            schemas,
            extensions,
            rows,
            core_only,
            all_schemas,
        }
    }

    pub fn builder(&self) -> UserBuilder<'_> {
        UserBuilder {
            layout: self,
            slots: (0..self.keys.len()).map(|_| Slot::Empty).collect(),
        }
    }
}

pub(crate) struct UserBuilder<'l> {
    layout: &'l UserLayout,
    slots: Vec<Slot>,
}

impl UserBuilder<'_> {
    /// Sets the value of the `row`-th compiled row.
    pub fn set(&mut self, row: usize, value: Value) {
        let Some((slot, path)) = self.layout.rows.get(row) else {
            return;
        };
        if let Some(target) = self.slots.get_mut(*slot) {
            place(target, path, value);
        }
    }

    pub fn finish(self) -> Value {
        let layout = self.layout;
        let mut entries = Vec::with_capacity(self.slots.len());
        let has_value = |slot: &usize| !matches!(self.slots.get(*slot), Some(Slot::Empty) | None);
        let present = layout
            .extensions
            .iter()
            .filter(|(_, slot)| has_value(slot))
            .count();
        let schemas = if present == 0 {
            layout.core_only.clone()
        } else if present == layout.extensions.len() {
            layout.all_schemas.clone()
        } else {
            let mut list = vec![crate::jumpcloud::core_schema()];
            for (schema, slot) in &layout.extensions {
                if has_value(slot) {
                    list.push(Value::Str(schema.clone()));
                }
            }
            Value::array(list)
        };
        let mut schemas = Some(schemas);
        for (i, (key, slot)) in layout.keys.iter().zip(self.slots).enumerate() {
            if i == layout.schemas {
                entries.push((key.clone(), schemas.take().unwrap_or_default()));
            } else if let Some(value) = into_value(slot) {
                entries.push((key.clone(), value));
            }
        }
        // Already in key order, so building the map does not sort.
        Value::map(entries)
    }
}

fn place(slot: &mut Slot, path: &[Arc<str>], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *slot = Slot::Value(value);
        return;
    };
    if !matches!(slot, Slot::Object(_)) {
        *slot = Slot::Object(Vec::new());
    }
    if let Slot::Object(parts) = slot {
        let i = match parts.iter().position(|(k, _)| k == first) {
            Some(i) => i,
            None => {
                parts.push((first.clone(), Slot::Empty));
                parts.len() - 1
            }
        };
        place(&mut parts[i].1, rest, value);
    }
}

fn into_value(slot: Slot) -> Option<Value> {
    match slot {
        Slot::Empty => None,
        Slot::Value(v) => Some(v),
        Slot::Object(parts) => Some(Value::map(
            parts
                .into_iter()
                .filter_map(|(k, s)| into_value(s).map(|v| (k, v))),
        )),
    }
}
