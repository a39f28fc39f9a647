//! The attribute-mapping table as the Mapping page edits it: rows with direct /
//! expression / constant sources, validation located to the exact cell, a live preview
//! of the SCIM User a draft produces, save and restore defaults.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::error::RowProblem;
use super::{App, AppError};
use crate::mapping::{
    Applies, Column, CompiledTable, MappingRow, MappingTable, RowError, RowResult, SourceKind,
    TableError,
};
use crate::mappings::{self, MappingsError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SourceKindView {
    Direct,
    Expression,
    Constant,
}

/// One row as the editor shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MappingRowView {
    pub kind: SourceKindView,
    /// A jcUser path for `direct`, an Expr program for `expression`, any JSON for
    /// `constant`.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
    pub source: Value,
    /// `userName`, `name.givenName`, `$enterpriseUser.department`, or a URN path.
    pub target: String,
    pub create_only: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MappingTableView {
    /// 0 for the built-in default.
    pub version: u32,
    pub saved_at: Option<String>,
    pub saved_by: Option<String>,
    pub rows: Vec<MappingRowView>,
}

/// What one row did in a preview.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RowPreview {
    pub row: u32,
    pub target: String,
    /// `set`, `omitted`, `skipped_on_update` or `failed`.
    pub status: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
    pub value: Option<Value>,
    pub problem: Option<RowProblem>,
}

/// The SCIM User a draft table makes of a JumpCloud user, or why it cannot.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MappingPreview {
    /// The exact payload JumpCloud would send; `null` while the table has invalid rows.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
    pub user: Value,
    pub rows: Vec<RowPreview>,
    /// Cells that must be fixed before the table can map anything.
    pub problems: Vec<RowProblem>,
}

fn to_table(rows: &[MappingRowView]) -> MappingTable {
    MappingTable {
        version: 1,
        rows: rows
            .iter()
            .map(|r| MappingRow {
                kind: match r.kind {
                    SourceKindView::Direct => SourceKind::Direct,
                    SourceKindView::Expression => SourceKind::Expression,
                    SourceKindView::Constant => SourceKind::Constant,
                },
                source: r.source.clone(),
                target: r.target.trim().to_owned(),
                applies: if r.create_only {
                    Applies::CreateOnly
                } else {
                    Applies::CreateAndUpdate
                },
            })
            .collect(),
    }
}

fn to_view(table: &MappingTable) -> Vec<MappingRowView> {
    table
        .rows
        .iter()
        .map(|r| MappingRowView {
            kind: match r.kind {
                SourceKind::Direct => SourceKindView::Direct,
                SourceKind::Expression => SourceKindView::Expression,
                SourceKind::Constant => SourceKindView::Constant,
            },
            source: r.source.clone(),
            target: r.target.clone(),
            create_only: r.applies == Applies::CreateOnly,
        })
        .collect()
}

fn small(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn row_problem(e: &RowError) -> RowProblem {
    RowProblem {
        row: small(e.row),
        column: match e.column {
            Column::Source => "source".into(),
            Column::Target => "target".into(),
        },
        message: e
            .expr_error
            .as_ref()
            .map_or_else(|| e.message.clone(), |x| x.message.clone()),
        line: e.expr_error.as_ref().map(|x| small(x.line)),
        col: e.expr_error.as_ref().map(|x| small(x.col)),
        source_line: e.expr_error.as_ref().map(|x| x.source_line.clone()),
    }
}

fn from_mappings(e: MappingsError) -> AppError {
    match e {
        MappingsError::InvalidRows(rows) | MappingsError::Table(TableError::Rows(rows)) => {
            AppError::InvalidMapping(rows.iter().map(row_problem).collect())
        }
        other => AppError::Mapping(other),
    }
}

/// Every cell of `rows` that cannot be used.
pub fn validate(rows: &[MappingRowView]) -> Vec<RowProblem> {
    to_table(rows).validate().iter().map(row_problem).collect()
}

/// What `rows` (a draft, saved or not) make of `jc_user`.
pub fn preview(rows: &[MappingRowView], jc_user: &Value, is_create: bool) -> MappingPreview {
    let table = to_table(rows);
    let compiled = match CompiledTable::compile(&table) {
        Ok(c) => c,
        Err(TableError::Rows(errors)) => {
            return MappingPreview {
                user: Value::Null,
                rows: Vec::new(),
                problems: errors.iter().map(row_problem).collect(),
            }
        }
        Err(TableError::Format(message)) => {
            return MappingPreview {
                user: Value::Null,
                rows: Vec::new(),
                problems: vec![RowProblem {
                    row: 0,
                    column: "source".into(),
                    message,
                    line: None,
                    col: None,
                    source_line: None,
                }],
            }
        }
    };
    let p = crate::mapping::preview(jc_user, None, &compiled, is_create);
    MappingPreview {
        user: p.user,
        rows: p
            .rows
            .into_iter()
            .map(|r| {
                let (status, value, problem) = match r.result {
                    RowResult::Set { value } => ("set", Some(value), None),
                    RowResult::Omitted => ("omitted", None, None),
                    RowResult::SkippedOnUpdate => ("skipped_on_update", None, None),
                    RowResult::Failed { error, .. } => (
                        "failed",
                        None,
                        Some(RowProblem {
                            row: small(r.row),
                            column: "source".into(),
                            message: error.message.clone(),
                            line: Some(small(error.line)),
                            col: Some(small(error.col)),
                            source_line: Some(error.source_line.clone()),
                        }),
                    ),
                };
                RowPreview {
                    row: small(r.row),
                    target: r.target,
                    status: status.into(),
                    value,
                    problem,
                }
            })
            .collect(),
        problems: Vec::new(),
    }
}

/// The preview for a JumpCloud user given as JSON text, as the admin pasted it.
pub fn preview_text(
    rows: &[MappingRowView],
    jc_user_json: &str,
    is_create: bool,
) -> Result<MappingPreview, AppError> {
    let user: Value = serde_json::from_str(jc_user_json).map_err(|e| {
        AppError::Invalid(format!(
            "the JumpCloud user is not valid JSON ({e}); fix it, or load the sample"
        ))
    })?;
    Ok(preview(rows, &user, is_create))
}

/// [`sample_jc_user`] as indented JSON text, for the editor.
pub fn sample_jc_user_text() -> String {
    serde_json::to_string_pretty(&sample_jc_user()).unwrap_or_default()
}

/// A JumpCloud system user as JumpCloud's API returns one, for the preview.
pub fn sample_jc_user() -> Value {
    json!({
        "_id": "64b7f1c2a9e3d10012345678",
        "username": "ada.lovelace",
        "email": "ada.lovelace@example.com",
        "firstname": "Ada",
        "lastname": "Lovelace",
        "displayname": "",
        "jobTitle": "Analyst",
        "department": "Engineering",
        "company": "Example Ltd",
        "costCenter": "R&D",
        "employeeIdentifier": "E-1815",
        "employeeType": "Employee",
        "activated": true,
        "suspended": false,
        "addresses": [
            {"type": "work", "streetAddress": "12 St James's Square", "locality": "London",
             "postalCode": "SW1Y 4JH", "country": "GB"}
        ],
        "phoneNumbers": [{"type": "work", "number": "+44 20 7946 0000"}],
        "attributes": [{"name": "badge", "value": "1815"}]
    })
}

impl App {
    /// The table in force.
    pub async fn mapping(&self) -> Result<MappingTableView, AppError> {
        let current = mappings::current(&self.store)
            .await
            .map_err(from_mappings)?;
        Ok(MappingTableView {
            version: u32::try_from(current.version).unwrap_or(u32::MAX),
            saved_at: current.saved_at,
            saved_by: current.actor,
            rows: to_view(&current.table),
        })
    }

    /// Validates `rows` (every bad cell reported) and saves them as a new version.
    pub async fn save_mapping(
        &self,
        rows: &[MappingRowView],
    ) -> Result<MappingTableView, AppError> {
        mappings::save(&self.store, "local admin", &to_table(rows), None)
            .await
            .map_err(from_mappings)?;
        self.mapping().await
    }

    /// Saves the default table as a new version.
    pub async fn restore_default_mapping(&self) -> Result<MappingTableView, AppError> {
        mappings::restore_defaults(&self.store, "local admin")
            .await
            .map_err(from_mappings)?;
        self.mapping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expression_error_is_placed_under_the_source_cell_with_its_position() {
        let mut rows = to_view(&crate::mapping::default_table());
        rows[2].kind = SourceKindView::Expression;
        rows[2].source = json!("jcUser.firstname +");
        rows[4].target = "noSuchAttribute".into();
        let problems = validate(&rows);
        let cells: Vec<_> = problems
            .iter()
            .map(|p| (p.row, p.column.as_str()))
            .collect();
        assert_eq!(cells, [(2, "source"), (4, "target")]);
        assert!(problems[0].line == Some(1) && problems[0].col.is_some());
    }

    #[test]
    fn the_default_table_previews_the_sample_user() {
        let rows = to_view(&crate::mapping::default_table());
        let p = preview(&rows, &sample_jc_user(), true);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.user["userName"], "ada.lovelace@example.com");
        assert_eq!(p.user["displayName"], "Ada Lovelace");
        assert!(p.rows.iter().all(|r| r.status != "failed"), "{:?}", p.rows);
    }

    #[test]
    fn an_invalid_draft_previews_nothing_and_says_which_cell() {
        let rows = vec![MappingRowView {
            kind: SourceKindView::Expression,
            source: json!("(("),
            target: "userName".into(),
            create_only: false,
        }];
        let p = preview(&rows, &sample_jc_user(), true);
        assert_eq!(p.user, Value::Null);
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].column, "source");
    }
}
