//! The SCIM User a table produces for one JumpCloud user, with the outcome of every
//! row — what the desktop app shows live and what `keybridge map` prints.

use std::sync::Arc;

use serde::Serialize;

use crate::error::ExprError;
use crate::jumpcloud::normalize_jc_user_ref;
use crate::table::{Applies, CompiledTable};
use crate::target::CORE_USER_SCHEMA;
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
        self.rows
            .iter()
            .filter(|r| matches!(r.result, RowResult::Failed { .. }))
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
    let env = table.environment(jc_user, provider_user);
    let mapped = map_user(&env, table, is_create);
    Preview {
        user: mapped.user.to_json(),
        rows: table
            .rows
            .iter()
            .zip(mapped.outcomes)
            .map(|(row, result)| RowOutcome {
                row: row.index,
                target: row.display.to_string(),
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
pub fn environment(
    jc_user: &serde_json::Value,
    provider_user: Option<&serde_json::Value>,
) -> [Value; 2] {
    let provider = provider_user.map_or_else(Value::empty_map, Value::from_json);
    [normalize_jc_user_ref(jc_user), provider]
}

pub(crate) enum Outcome {
    Set(Value),
    Omitted,
    Skipped,
    Failed(ExprError),
}

/// The SCIM User as a value, and the outcome of each row of the table.
pub struct Mapped<'t> {
    pub user: Value,
    table: &'t CompiledTable,
    outcomes: Vec<Outcome>,
}

impl Mapped<'_> {
    /// The errors of failed rows, as `row N (target): error` lines.
    pub fn failures(&self) -> Vec<String> {
        self.table
            .rows
            .iter()
            .zip(&self.outcomes)
            .filter_map(|(row, o)| match o {
                Outcome::Failed(e) => Some(format!("row {} ({}): {e}", row.index + 1, row.display)),
                _ => None,
            })
            .collect()
    }
}

/// Maps an already-built environment; the fast path under [`preview`].
pub fn map_user<'t>(env: &[Value], table: &'t CompiledTable, is_create: bool) -> Mapped<'t> {
    let mut builder = UserBuilder {
        top: Vec::with_capacity(table.rows.len() + 2),
        ..UserBuilder::default()
    };
    let mut outcomes = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let outcome = if row.applies == Applies::CreateOnly && !is_create {
            Outcome::Skipped
        } else {
            match CompiledTable::row_value(row, env) {
                Ok(Some(v)) => {
                    builder.set(row.schema.as_ref(), &row.keys, v.clone());
                    Outcome::Set(v)
                }
                Ok(None) => Outcome::Omitted,
                Err(e) => Outcome::Failed(e),
            }
        };
        outcomes.push(outcome);
    }
    Mapped {
        user: builder.finish(),
        table,
        outcomes,
    }
}

type Entries = Vec<(Arc<str>, Value)>;

/// Collects attributes into the nested SCIM shape and the `schemas` list.
#[derive(Default)]
struct UserBuilder {
    top: Entries,
    /// Complex attributes under construction: schema, attribute, sub-attributes.
    complex: Vec<(Option<Arc<str>>, Arc<str>, Entries)>,
    /// Extension schemas in order of first use, each with its attributes.
    extensions: Vec<(Arc<str>, Entries)>,
}

impl UserBuilder {
    fn set(&mut self, schema: Option<&Arc<str>>, keys: &[Arc<str>], value: Value) {
        let (Some(attr), sub) = (keys.first(), keys.get(1)) else {
            return;
        };
        if let Some(schema) = schema {
            // List the schema in first-use order even when only a sub-attribute is set.
            self.extension(schema);
        }
        if let Some(sub) = sub {
            let slot = self
                .complex
                .iter()
                .position(|(s, a, _)| s.as_ref() == schema && a == attr);
            let i = slot.unwrap_or_else(|| {
                self.complex
                    .push((schema.cloned(), attr.clone(), Vec::new()));
                self.complex.len() - 1
            });
            self.complex[i].2.push((sub.clone(), value));
            return;
        }
        match schema {
            None => self.top.push((attr.clone(), value)),
            Some(schema) => self.extension(schema).push((attr.clone(), value)),
        }
    }

    fn extension(&mut self, schema: &Arc<str>) -> &mut Entries {
        let i = match self.extensions.iter().position(|(s, _)| s == schema) {
            Some(i) => i,
            None => {
                self.extensions.push((schema.clone(), Vec::new()));
                self.extensions.len() - 1
            }
        };
        &mut self.extensions[i].1
    }

    fn finish(mut self) -> Value {
        for (schema, attr, subs) in std::mem::take(&mut self.complex) {
            let value = Value::map(subs);
            match schema {
                None => self.top.push((attr, value)),
                Some(schema) => self.extension(&schema).push((attr, value)),
            }
        }
        let mut schemas = Vec::with_capacity(1 + self.extensions.len());
        schemas.push(crate::jumpcloud::word(CORE_USER_SCHEMA));
        for (schema, attrs) in self.extensions {
            schemas.push(Value::Str(schema.clone()));
            self.top.push((schema, Value::map(attrs)));
        }
        self.top
            .push((crate::jumpcloud::key("schemas"), Value::array(schemas)));
        Value::map(self.top)
    }
}
