//! Where each row's value goes in the SCIM User, worked out once per table: the
//! top-level keys in the order JSON prints them, the nesting below each (its keys sorted
//! too), and the extension schemas. Building a user is then one walk over that tree,
//! reading each row's value where the row left it: no sorting, searching or
//! intermediate objects per user.

use std::sync::Arc;

use crate::target::Target;
use crate::value::{Entry, Value};

#[derive(Debug)]
pub(crate) struct UserLayout {
    /// Top-level entries in key order; `schemas` is one of them.
    top: Vec<(Arc<str>, Node)>,
    /// Extension schemas in order of first appearance in the table, with their index
    /// in `top`.
    extensions: Vec<(Arc<str>, usize)>,
    /// The `schemas` arrays for the common cases, shared: no extension has a value,
    /// or all of them have.
    core_only: Value,
    all_schemas: Value,
}

/// A place in the SCIM User: the value of one compiled row, an object of named parts
/// (keys in order), or the `schemas` list.
#[derive(Debug)]
enum Node {
    Row(usize),
    Object(Vec<(Arc<str>, Node)>),
    Schemas,
}

impl Node {
    /// Adds the row `row` at `path` below this object. Tables never map an attribute
    /// and one of its sub-attributes, so a path never runs into a row.
    fn insert(parts: &mut Vec<(Arc<str>, Node)>, path: &[&str], row: usize) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let i = match parts.iter().position(|(k, _)| &**k == *first) {
            Some(i) => i,
            None => {
                let node = if rest.is_empty() {
                    Node::Row(row)
                } else {
                    Node::Object(Vec::new())
                };
                parts.push((Arc::from(*first), node));
                parts.len() - 1
            }
        };
        if let Node::Object(children) = &mut parts[i].1 {
            Node::insert(children, rest, row);
        }
    }

    fn sort(parts: &mut [(Arc<str>, Node)]) {
        parts.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (_, node) in parts.iter_mut() {
            if let Node::Object(children) = node {
                Node::sort(children);
            }
        }
    }

    /// Whether any row below this node has a value.
    fn has_value<'v>(&self, values: &impl Fn(usize) -> Option<&'v Value>) -> bool {
        match self {
            Node::Row(row) => values(*row).is_some(),
            Node::Object(parts) => parts.iter().any(|(_, n)| n.has_value(values)),
            Node::Schemas => true,
        }
    }

    /// Pushes `(key, value)` for each of `parts` that has a value onto `entries`. An
    /// object's parts go above its parent's on that stack, then are drained into its
    /// own map. One call per object rather than per attribute: the calls cost more than
    /// the rest of the walk.
    fn build_parts<'v>(
        parts: &[(Arc<str>, Node)],
        values: &impl Fn(usize) -> Option<&'v Value>,
        schemas: &Value,
        entries: &mut Vec<Entry>,
    ) {
        for (key, node) in parts {
            let value = match node {
                Node::Row(row) => match values(*row) {
                    Some(v) => v.clone(),
                    None => continue,
                },
                Node::Schemas => schemas.clone(),
                Node::Object(children) => {
                    let start = entries.len();
                    Node::build_parts(children, values, schemas, entries);
                    if entries.len() == start {
                        continue;
                    }
                    // Keys are in order, so building the map does not sort.
                    Value::map_sorted(entries.drain(start..))
                }
            };
            entries.push((key.clone(), value));
        }
    }
}

impl UserLayout {
    /// The layout for rows writing `targets`, in row order.
    pub fn new(targets: &[&Target]) -> UserLayout {
        let mut top: Vec<(Arc<str>, Node)> = vec![(Arc::from("schemas"), Node::Schemas)];
        let mut extension_names: Vec<&str> = Vec::new();
        for (row, t) in targets.iter().enumerate() {
            let path: Vec<&str> = match &t.schema {
                None => t.path.iter().map(String::as_str).collect(),
                Some(schema) => {
                    if !extension_names.contains(&schema.as_str()) {
                        extension_names.push(schema);
                    }
                    std::iter::once(schema.as_str())
                        .chain(t.path.iter().map(String::as_str))
                        .collect()
                }
            };
            Node::insert(&mut top, &path, row);
        }
        Node::sort(&mut top);
        let extensions: Vec<(Arc<str>, usize)> = extension_names
            .iter()
            .map(|name| {
                let slot = top.iter().position(|(k, _)| &**k == *name).unwrap_or(0);
                (Arc::from(*name), slot)
            })
            .collect();
        let core_only = Value::array(vec![crate::jumpcloud::core_schema()]);
        let all_schemas = Value::array(
            std::iter::once(crate::jumpcloud::core_schema())
                .chain(extensions.iter().map(|(s, _)| Value::Str(s.clone())))
                .collect(),
        );
        UserLayout {
            top,
            extensions,
            core_only,
            all_schemas,
        }
    }

    /// The SCIM User given each compiled row's value (None: left out).
    pub fn build<'v>(&self, values: &impl Fn(usize) -> Option<&'v Value>) -> Value {
        let has_value = |slot: usize| self.top.get(slot).is_some_and(|(_, n)| n.has_value(values));
        let present = self
            .extensions
            .iter()
            .filter(|(_, slot)| has_value(*slot))
            .count();
        let schemas = if present == 0 {
            self.core_only.clone()
        } else if present == self.extensions.len() {
            self.all_schemas.clone()
        } else {
            let mut list = vec![crate::jumpcloud::core_schema()];
            for (schema, slot) in &self.extensions {
                if has_value(*slot) {
                    list.push(Value::Str(schema.clone()));
                }
            }
            Value::array(list)
        };
        Value::map_sorted_with(|entries| Node::build_parts(&self.top, values, &schemas, entries))
    }
}
