//! Mapping tables: which SCIM attribute gets which value. A table is plain data
//! (serialisable, what the UI edits and the store keeps); compiling it validates every
//! row at once and yields a [`CompiledTable`] that maps users without parsing again.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::ExprError;
use crate::eval::{Limits, Scratch};
use crate::expression::Expression;
use crate::jumpcloud::{self, Projection};
use crate::preview::Outcome;
use crate::target::Target;
use crate::user_layout::UserLayout;
use crate::value::{Hint, Value};

/// The variables a mapping expression sees, in slot order.
pub const MAPPING_VARIABLES: &[&str] = &["jcUser", "providerUser"];

/// How a row finds its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A path into `jcUser` (`firstname`, `addresses[0].locality`, `jcUser.` optional)
    /// or the name of a custom attribute.
    Direct,
    /// An Expr program.
    Expression,
    /// A fixed JSON value.
    Constant,
}

/// When a row applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applies {
    #[default]
    CreateAndUpdate,
    CreateOnly,
}

/// One row of a mapping table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MappingRow {
    pub kind: SourceKind,
    /// A string for `direct` and `expression` rows; any JSON value for `constant`.
    pub source: serde_json::Value,
    /// `userName`, `name.givenName`, `$enterpriseUser.department`, `urn:…:attr`.
    pub target: String,
    #[serde(default)]
    pub applies: Applies,
}

/// A team's mapping table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MappingTable {
    #[serde(default = "format_version")]
    pub version: u32,
    pub rows: Vec<MappingRow>,
}

fn format_version() -> u32 {
    1
}

/// The column of a row an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Source,
    Target,
}

/// What is wrong with one row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowError {
    /// 0-based row index.
    pub row: usize,
    pub column: Column,
    pub message: String,
    /// For an expression, the located error (line, column, caret).
    pub expr_error: Option<ExprError>,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let column = match self.column {
            Column::Source => "source",
            Column::Target => "target",
        };
        match &self.expr_error {
            Some(e) => write!(f, "row {} ({column}): {e}", self.row + 1),
            None => write!(f, "row {} ({column}): {}", self.row + 1, self.message),
        }
    }
}

/// Why a table cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error("the mapping table is not valid: {0}")]
    Format(String),
    #[error("{}", list_rows(.0))]
    Rows(Vec<RowError>),
}

fn list_rows(errors: &[RowError]) -> String {
    let mut out = format!(
        "{} row(s) of the mapping table are not valid:",
        errors.len()
    );
    for e in errors {
        out.push('\n');
        out.push_str(&e.to_string());
    }
    out
}

impl MappingTable {
    /// Reads a table from JSON: `{"version": 1, "rows": [...]}` or just the rows array.
    pub fn from_json(text: &str) -> Result<MappingTable, TableError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Table(MappingTable),
            Rows(Vec<MappingRow>),
        }
        match serde_json::from_str::<Either>(text) {
            Ok(Either::Table(t)) => Ok(t),
            Ok(Either::Rows(rows)) => Ok(MappingTable { version: 1, rows }),
            Err(_) => {
                // Untagged errors say nothing useful; retry as a table for the detail.
                let detail = serde_json::from_str::<MappingTable>(text)
                    .err()
                    .map_or_else(|| "unexpected shape".to_string(), |e| e.to_string());
                Err(TableError::Format(detail))
            }
        }
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Every problem of every row; empty when the table is valid.
    pub fn validate(&self) -> Vec<RowError> {
        match CompiledTable::compile(self) {
            Ok(_) => Vec::new(),
            Err(TableError::Rows(errors)) => errors,
            Err(TableError::Format(m)) => vec![RowError {
                row: 0,
                column: Column::Source,
                message: m,
                expr_error: None,
            }],
        }
    }
}

/// A step of a direct path.
#[derive(Debug)]
enum PathStep {
    /// A key, and where it was last found.
    Key(Arc<str>, Hint),
    Index(usize),
}

#[derive(Debug)]
enum Source {
    Path(Vec<PathStep>),
    CustomAttribute(String),
    Expression(Expression),
    Constant(Value),
}

#[derive(Debug)]
pub(crate) struct CompiledRow {
    pub index: usize,
    pub target: Target,
    /// The target as shown, shared rather than rebuilt for every user.
    pub display: Arc<str>,
    pub applies: Applies,
    source: Source,
}

/// A validated table, ready to map any number of users.
#[derive(Debug)]
pub struct CompiledTable {
    pub(crate) rows: Vec<CompiledRow>,
    /// The `jcUser` attributes the rows read (None: any of them may be read).
    projection: Option<Projection>,
    pub(crate) layout: UserLayout,
}

impl CompiledTable {
    /// Validates and compiles every row, reporting all bad rows at once.
    pub fn compile(table: &MappingTable) -> Result<CompiledTable, TableError> {
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        for (index, row) in table.rows.iter().enumerate() {
            let target = Target::parse(&row.target);
            let source = compile_source(row);
            match (target, source) {
                (Ok(target), Ok(source)) => {
                    if let Some(earlier) = rows
                        .iter()
                        .find(|r: &&CompiledRow| r.target.overlaps(&target))
                    {
                        errors.push(RowError {
                            row: index,
                            column: Column::Target,
                            message: format!(
                                "{} overlaps {} of row {}",
                                target.display(),
                                earlier.target.display(),
                                earlier.index + 1
                            ),
                            expr_error: None,
                        });
                        continue;
                    }
                    rows.push(CompiledRow {
                        index,
                        display: Arc::from(target.display()),
                        target,
                        applies: row.applies,
                        source,
                    });
                }
                (target, source) => {
                    if let Err(e) = source {
                        errors.push(RowError { row: index, ..e });
                    }
                    if let Err(message) = target {
                        errors.push(RowError {
                            row: index,
                            column: Column::Target,
                            message,
                            expr_error: None,
                        });
                    }
                }
            }
        }
        if errors.is_empty() {
            let projection = jc_user_fields(&rows).map(|fields| Projection::of(&fields));
            let targets: Vec<&Target> = rows.iter().map(|r| &r.target).collect();
            let layout = UserLayout::new(&targets);
            Ok(CompiledTable {
                rows,
                projection,
                layout,
            })
        } else {
            Err(TableError::Rows(errors))
        }
    }

    /// `[jcUser, providerUser]` for this table: the JumpCloud user normalised, as far as
    /// the rows read it, and the provider's current record (an empty map on create).
    pub fn environment(
        &self,
        jc_user: &serde_json::Value,
        provider_user: Option<&serde_json::Value>,
    ) -> [Value; 2] {
        let provider = provider_user.map_or_else(Value::empty_map, Value::from_json);
        [
            jumpcloud::normalize_projected(jc_user, self.projection.as_ref()),
            provider,
        ]
    }

    /// Evaluates one row's source; nil leaves the attribute out. The outcome is
    /// returned as it is kept, rather than as a `Result` of an `Option` to convert: the
    /// error is large, and moving it through each row showed in profiles.
    pub(crate) fn row_value(row: &CompiledRow, env: &[Value], scratch: &mut Scratch) -> Outcome {
        let jc_user = env.first().unwrap_or(&Value::Nil);
        let value = match &row.source {
            // Checked before it is cloned: an unset attribute is then neither cloned
            // nor dropped.
            Source::Path(steps) => return direct(follow(jc_user, steps)),
            Source::CustomAttribute(name) => unset_as_nil(custom_attribute(jc_user, name)),
            Source::Expression(e) => match e.eval_unbound(env, Limits::default(), scratch) {
                Ok(v) => v,
                Err(fault) => return Outcome::Failed(Box::new(fault.bind(e.source()))),
            },
            Source::Constant(v) => v.clone(),
        };
        if value.is_nil() {
            Outcome::Omitted
        } else {
            Outcome::Set(value)
        }
    }
}

/// The top-level `jcUser` attributes the rows read; None when some row may read any.
fn jc_user_fields(rows: &[CompiledRow]) -> Option<Vec<Arc<str>>> {
    let mut fields = Vec::new();
    for row in rows {
        match &row.source {
            Source::Path(steps) => match steps.first() {
                Some(PathStep::Key(k, _)) => fields.push(k.clone()),
                _ => return None,
            },
            Source::CustomAttribute(_) => fields.push(Arc::from("attributes")),
            Source::Expression(e) => fields.extend(e.fields_of(0)?),
            Source::Constant(_) => {}
        }
    }
    Some(fields)
}

fn source_error(message: impl Into<String>) -> RowError {
    RowError {
        row: 0,
        column: Column::Source,
        message: message.into(),
        expr_error: None,
    }
}

fn compile_source(row: &MappingRow) -> Result<Source, RowError> {
    let text = || {
        row.source.as_str().ok_or_else(|| {
            source_error("the source of a direct or expression row must be a string")
        })
    };
    match row.kind {
        SourceKind::Constant => Ok(Source::Constant(Value::from_json(&row.source))),
        SourceKind::Expression => Expression::compile(text()?, MAPPING_VARIABLES)
            .map(Source::Expression)
            .map_err(|e| RowError {
                message: e.message.clone(),
                expr_error: Some(e),
                ..source_error("")
            }),
        SourceKind::Direct => compile_direct(text()?),
    }
}

/// `firstname`, `jcUser.addresses[0].locality`: a path when its first name is an
/// attribute of `jcUser`, otherwise the name of a custom attribute.
fn compile_direct(text: &str) -> Result<Source, RowError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(source_error("the source is empty"));
    }
    let path = trimmed.strip_prefix("jcUser.").unwrap_or(trimmed);
    let first = path.split(['.', '[']).next().unwrap_or("");
    if !jumpcloud::jc_user_fields().any(|f| f == first) {
        return Ok(Source::CustomAttribute(trimmed.to_string()));
    }
    let mut steps = Vec::new();
    for segment in path.split('.') {
        let (name, mut rest) = segment
            .split_once('[')
            .map_or((segment, ""), |(n, r)| (n, r));
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(source_error(format!(
                "{segment:?} in {text:?} is not an attribute name"
            )));
        }
        steps.push(PathStep::Key(jumpcloud::key(name), Hint::default()));
        while !rest.is_empty() {
            let (index, after) = rest
                .split_once(']')
                .ok_or_else(|| source_error(format!("unclosed [ in {text:?}")))?;
            let index = index.trim().parse::<usize>().map_err(|_| {
                source_error(format!("[{index}] in {text:?} is not an array index"))
            })?;
            steps.push(PathStep::Index(index));
            rest = after.strip_prefix('[').unwrap_or(after);
            if !after.is_empty() && !after.starts_with('[') {
                return Err(source_error(format!("unexpected {after:?} in {text:?}")));
            }
        }
    }
    Ok(Source::Path(steps))
}

fn follow<'v>(value: &'v Value, steps: &[PathStep]) -> &'v Value {
    static NIL: Value = Value::Nil;
    let mut current = value;
    for step in steps {
        current = match (step, current) {
            (PathStep::Key(k, hint), Value::Map(m, _)) => match m.get_hinted(k, hint) {
                Some(v) => v,
                None => return &NIL,
            },
            (PathStep::Index(i), Value::Array(a, _)) => match a.items().get(*i) {
                Some(v) => v,
                None => return &NIL,
            },
            _ => return &NIL,
        };
    }
    current
}

/// A direct row's outcome: what the path reads, unless it is nil or unset.
fn direct(v: &Value) -> Outcome {
    match v {
        Value::Nil => Outcome::Omitted,
        Value::Str(s) if s.is_empty() => Outcome::Omitted,
        Value::Array(a, _) if a.is_empty() => Outcome::Omitted,
        _ => Outcome::Set(v.clone()),
    }
}

/// The value of the first custom attribute (`attributes[]`) called `name`.
fn custom_attribute(jc_user: &Value, name: &str) -> Value {
    jc_user
        .get("attributes")
        .as_array()
        .and_then(|attrs| attrs.iter().find(|a| a.get("name").as_str() == Some(name)))
        .map_or(Value::Nil, |a| a.get("value").clone())
}

/// A direct mapping copies what is set: JumpCloud's unset attributes (normalised to
/// `""` or `[]`) leave the SCIM attribute out rather than sending it empty.
fn unset_as_nil(v: Value) -> Value {
    match &v {
        Value::Str(s) if s.is_empty() => Value::Nil,
        Value::Array(a, _) if a.is_empty() => Value::Nil,
        _ => v,
    }
}

fn row(kind: SourceKind, source: &str, target: &str) -> MappingRow {
    MappingRow {
        kind,
        source: serde_json::Value::String(source.to_string()),
        target: target.to_string(),
        applies: Applies::CreateAndUpdate,
    }
}

/// The default table for a 1Password-style application (JumpCloud's defaults);
/// "restore defaults" is this table.
pub fn default_table() -> MappingTable {
    use SourceKind::{Direct, Expression};
    MappingTable {
        version: 1,
        rows: vec![
            row(Direct, "email", "userName"),
            row(Direct, "company", "$enterpriseUser.organization"),
            row(Direct, "costCenter", "$enterpriseUser.costCenter"),
            row(Direct, "department", "$enterpriseUser.department"),
            row(Direct, "employeeIdentifier", "$enterpriseUser.employeeNumber"),
            row(Direct, "employeeType", "userType"),
            row(Direct, "firstname", "name.givenName"),
            row(Direct, "jobTitle", "title"),
            row(Direct, "lastname", "name.familyName"),
            row(
                Expression,
                "notNullOrEmpty(jcUser.displayname) ? jcUser.displayname : (notNullOrEmpty(jcUser.lastname) ? jcUser.firstname + ' ' + jcUser.lastname : jcUser.firstname)",
                "displayName",
            ),
            row(
                Expression,
                "notNullOrEmpty(providerUser.externalId) ? providerUser.externalId : jcUser.id",
                "externalId",
            ),
            row(
                Expression,
                "notNullOrEmpty(providerUser.locale) ? providerUser.locale : 'en-US'",
                "locale",
            ),
            row(
                Expression,
                "notNullOrEmpty(providerUser.preferredLanguage) ? providerUser.preferredLanguage : 'en-US'",
                "preferredLanguage",
            ),
            row(
                Expression,
                "toScimAddresses(find(jcUser.addresses, .type == 'work') ?? first(jcUser.addresses))",
                "addresses",
            ),
            row(Expression, "toScimEmails(jcUser.email)", "emails"),
            row(
                Expression,
                "toScimPhoneNumbers(find(jcUser.phoneNumbers, .type == 'work') ?? first(jcUser.phoneNumbers))",
                "phoneNumbers",
            ),
        ],
    }
}

/// The group mapping: JumpCloud group `name` → SCIM Group `displayName`.
pub fn map_group(group: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": group.get("name").cloned().unwrap_or(serde_json::Value::Null),
    })
}
