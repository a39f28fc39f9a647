//! The SCIM User a table produces for one JumpCloud user, with the outcome of every
//! row — what the desktop app shows live and what `keybridge map` prints.

use serde::Serialize;

use crate::error::ExprError;
use crate::eval::Scratch;
use crate::jumpcloud::normalize_jc_user_ref;
use crate::table::{Applies, CompiledTable};
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
                        error: *error,
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
    /// Boxed: errors are rare and keeping the outcome small keeps the per-user list
    /// of outcomes a small allocation.
    Failed(Box<ExprError>),
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
        // The usual answer, found without walking the table's rows.
        if !self
            .outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Failed(_)))
        {
            return Vec::new();
        }
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
    let mut outcomes = Vec::with_capacity(table.rows.len());
    let mut scratch = Scratch::take();
    for row in &table.rows {
        let outcome = if row.applies == Applies::CreateOnly && !is_create {
            Outcome::Skipped
        } else {
            CompiledTable::row_value(row, env, &mut scratch)
        };
        outcomes.push(outcome);
    }
    scratch.give_back();
    let value_of = |i: usize| match outcomes.get(i) {
        Some(Outcome::Set(v)) => Some(v),
        _ => None,
    };
    let user = table.layout.build(&value_of);
    Mapped {
        user,
        table,
        outcomes,
    }
}
