//! The SCIM User a table produces for one JumpCloud user, with the outcome of every
//! row — what the desktop app shows live and what `keybridge map` prints.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::error::ExprError;
use crate::jumpcloud::normalize_jc_user_ref;
use crate::table::{Applies, CompiledTable};
use crate::target::{Target, CORE_USER_SCHEMA};
use crate::value::Value;

/// What happened to one row.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RowResult {
    /// The attribute was set to `value`.
    Set { value: serde_json::Value },
    /// The source was nil (or, for a direct row, unset): the attribute is left out.
    Omitted,
    /// A create-only row on an update.
    SkippedOnUpdate,
    /// Evaluation failed; the attribute is left out.
    Failed { error: ExprError, text: String },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowOutcome {
    /// 0-based index of the row in the table.
    pub row: usize,
    pub target: String,
    #[serde(flatten)]
    pub result: RowResult,
}

/// The SCIM User and how each row contributed to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Preview {
    /// The exact SCIM User resource (keys sorted, as JumpCloud's Go code sends them).
    pub user: serde_json::Value,
    pub rows: Vec<RowOutcome>,
    pub is_create: bool,
}

impl Preview {
    pub fn errors(&self) -> impl Iterator<Item = &RowOutcome> {
        self.rows.iter().filter(|r| matches!(r.result, RowResult::Failed { .. }))
    }
}

/// Maps `jc_user` (a JumpCloud system-user object as the API returns it) with `table`.
/// `provider_user` is the current SCIM resource at the service provider (None on
/// create); `is_create` decides whether create-only rows apply.
pub fn preview(
    jc_user: &serde_json::Value,
    provider_user: Option<&serde_json::Value>,
    table: &CompiledTable,
    is_create: bool,
) -> Preview {
    let env = environment(jc_user, provider_user);
    let mapped = map_user(&env, table, is_create);
    Preview {
        user: mapped.user.to_json(),
        rows: mapped
            .rows
            .into_iter()
            .map(|(row, target, result)| RowOutcome {
                row,
                target,
                result: match result {
                    Outcome::Set(v) => RowResult::Set { value: v.to_json() },
                    Outcome::Omitted => RowResult::Omitted,
                    Outcome::Skipped => RowResult::SkippedOnUpdate,
                    Outcome::Failed(error) => RowResult::Failed {
                        text: error.to_string(),
                        error,
                    },
                },
            })
            .collect(),
        is_create,
    }
}

/// `[jcUser, providerUser]`, the variables of a mapping expression.
pub fn environment(jc_user: &serde_json::Value, provider_user: Option<&serde_json::Value>) -> [Value; 2] {
    let provider = provider_user.map_or_else(Value::empty_map, Value::from_json);
    [normalize_jc_user_ref(jc_user), provider]
}

pub(crate) enum Outcome {
    Set(Value),
    Omitted,
    Skipped,
    Failed(ExprError),
}

/// The SCIM User as a value, and each row's `(index, target, outcome)`.
pub struct Mapped {
    pub user: Value,
    pub(crate) rows: Vec<(usize, String, Outcome)>,
}

impl Mapped {
    /// The errors of failed rows, as `row N (target): error` lines.
    pub fn failures(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter_map(|(i, target, o)| match o {
                Outcome::Failed(e) => Some(format!("row {} ({target}): {e}", i + 1)),
                _ => None,
            })
            .collect()
    }
}

/// Maps an already-built environment; the fast path under [`preview`].
pub fn map_user(env: &[Value], table: &CompiledTable, is_create: bool) -> Mapped {
    let mut builder = UserBuilder::default();
    let mut rows = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let outcome = if row.applies == Applies::CreateOnly && !is_create {
            Outcome::Skipped
        } else {
            match CompiledTable::row_value(row, env) {
                Ok(Some(v)) => {
                    builder.set(&row.target, v.clone());
                    Outcome::Set(v)
                }
                Ok(None) => Outcome::Omitted,
                Err(e) => Outcome::Failed(e),
            }
        };
        rows.push((row.index, row.target.display(), outcome));
    }
    Mapped {
        user: builder.finish(),
        rows,
    }
}

/// Collects attributes into the nested SCIM shape and the `schemas` list.
#[derive(Default)]
struct UserBuilder {
    top: BTreeMap<Arc<str>, Value>,
    /// Complex attributes under construction: (schema, attribute) → sub-attributes.
    complex: BTreeMap<(Option<String>, String), BTreeMap<Arc<str>, Value>>,
    /// Extension schemas in order of first use, each with its attributes.
    extensions: Vec<(String, BTreeMap<Arc<str>, Value>)>,
}

impl UserBuilder {
    fn set(&mut self, target: &Target, value: Value) {
        let (attr, sub) = (target.path[0].as_str(), target.path.get(1));
        if let Some(sub) = sub {
            self.complex
                .entry((target.schema.clone(), attr.to_string()))
                .or_default()
                .insert(Arc::from(sub.as_str()), value);
            // Make sure the schema is listed in first-use order.
            if let Some(schema) = &target.schema {
                self.extension(schema);
            }
            return;
        }
        match &target.schema {
            None => {
                self.top.insert(Arc::from(attr), value);
            }
            Some(schema) => {
                self.extension(schema).insert(Arc::from(attr), value);
            }
        }
    }

    fn extension(&mut self, schema: &str) -> &mut BTreeMap<Arc<str>, Value> {
        let i = match self.extensions.iter().position(|(s, _)| s == schema) {
            Some(i) => i,
            None => {
                self.extensions.push((schema.to_string(), BTreeMap::new()));
                self.extensions.len() - 1
            }
        };
        &mut self.extensions[i].1
    }

    fn finish(mut self) -> Value {
        for ((schema, attr), subs) in std::mem::take(&mut self.complex) {
            let value = Value::map(subs);
            match schema {
                None => {
                    self.top.insert(Arc::from(attr.as_str()), value);
                }
                Some(schema) => {
                    self.extension(&schema).insert(Arc::from(attr.as_str()), value);
                }
            }
        }
        let mut schemas = vec![Value::str(CORE_USER_SCHEMA)];
        for (schema, attrs) in self.extensions {
            schemas.push(Value::str(&schema));
            self.top.insert(Arc::from(schema.as_str()), Value::map(attrs));
        }
        self.top.insert(Arc::from("schemas"), Value::array(schemas));
        Value::map(self.top)
    }
}
