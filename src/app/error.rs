//! The one error type of the `app` boundary, and [`Problem`]: the plain, serialisable
//! form every front door shows (the desktop UI renders it; the CLI prints its message).

use serde::Serialize;

use crate::directory::DirectoryError;
use crate::mappings::MappingsError;
use crate::secrets::SecretsError;
use crate::sso::SsoError;
use crate::store::StoreError;
use crate::tokens::TokenError;

use super::controller::ControllerError;

/// A form field that does not hold a usable value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldProblem {
    /// The settings field, as the UI names it (`port`, `certFile`, ...).
    pub field: String,
    pub message: String,
}

/// A mapping-table row that cannot be used, located to its column and, for an
/// expression, to the line and column inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RowProblem {
    /// 0-based row index.
    pub row: u32,
    /// `source` or `target`.
    pub column: String,
    pub message: String,
    /// 1-based line and column inside an expression.
    pub line: Option<u32>,
    pub col: Option<u32>,
    /// The expression line the error is on, for a caret display.
    pub source_line: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("some settings are not valid: {}", list_fields(.0))]
    InvalidSettings(Vec<FieldProblem>),
    #[error("the mapping table has {} row(s) that are not valid; fix the marked cells and save again", .0.len())]
    InvalidMapping(Vec<RowProblem>),
    #[error(transparent)]
    Bridge(#[from] ControllerError),
    #[error("{0}")]
    Token(#[from] TokenError),
    #[error(
        "{0}. Tokens are still issued and work, but each is shown only once; to keep them, \
         choose the file store in Settings"
    )]
    Secrets(#[from] SecretsError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Directory(#[from] DirectoryError),
    #[error("{0}")]
    Mapping(#[from] MappingsError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{}", sso_message(.0))]
    Sso(#[from] SsoError),
    #[error("cannot write {path}: {source}; choose a folder you can write to")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The core's SSO messages name CLI flags in places; the app says what to do in the app.
fn sso_message(e: &SsoError) -> String {
    match e {
        SsoError::NotConfigured => "single sign-on is not configured yet: enter the client ID under Single sign-on and save".into(),
        SsoError::NoSecretStore => "no secret store is available to keep the client ID or the SMTP password; choose the OS keychain or the owner-only file under Secrets in Settings".into(),
        SsoError::PublicUrlUnknown => "the bridge's public address is not known: start the bridge, or enter its public URL (https://HOST[:PORT], as people's browsers reach it) under Single sign-on".into(),
        SsoError::Secrets(s) => format!("{s}. The client ID and the SMTP password are kept in the secret store; check it under Secrets in Settings"),
        other => other.to_string(),
    }
}

fn list_fields(fields: &[FieldProblem]) -> String {
    fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What kind of problem: the UI picks where and how to show it from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Fix the marked fields and try again.
    InvalidSettings,
    /// Fix the marked mapping cells and try again.
    InvalidMapping,
    /// The bridge could not start or stop (port in use, certificate unreadable...).
    Bridge,
    /// A token name or operation was refused.
    Token,
    /// The keychain or secrets file failed.
    Secrets,
    NotFound,
    /// The request was not valid (bad JSON, a rule of the account).
    Invalid,
    /// The directory or its database failed; the log has details.
    Internal,
    /// Checking for, downloading or installing an update failed.
    Update,
}

/// An error as every front door shows it: what happened and what to do (`message`),
/// plus the fields or mapping cells it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
    pub fields: Vec<FieldProblem>,
    pub rows: Vec<RowProblem>,
}

impl From<&AppError> for Problem {
    fn from(e: &AppError) -> Problem {
        let kind = match e {
            AppError::InvalidSettings(_) => ProblemKind::InvalidSettings,
            AppError::InvalidMapping(_) => ProblemKind::InvalidMapping,
            AppError::Bridge(_) => ProblemKind::Bridge,
            AppError::Token(TokenError::Unknown(_)) | AppError::NotFound(_) => {
                ProblemKind::NotFound
            }
            AppError::Token(TokenError::Store(_)) => ProblemKind::Internal,
            AppError::Token(_) => ProblemKind::Token,
            AppError::Secrets(_) => ProblemKind::Secrets,
            AppError::Invalid(_) | AppError::Mapping(MappingsError::Table(_)) => {
                ProblemKind::Invalid
            }
            AppError::Directory(DirectoryError::Rejected(r)) if r.status == 404 => {
                ProblemKind::NotFound
            }
            AppError::Directory(DirectoryError::Rejected(_)) => ProblemKind::Invalid,
            AppError::Sso(e) => match e {
                SsoError::UnknownPerson(_) | SsoError::UnknownGroup(_) => ProblemKind::NotFound,
                SsoError::Secrets(_) | SsoError::NoSecretStore => ProblemKind::Secrets,
                SsoError::Store(_) => ProblemKind::Internal,
                _ => ProblemKind::Invalid,
            },
            AppError::Directory(_)
            | AppError::Mapping(_)
            | AppError::Store(_)
            | AppError::Io { .. } => ProblemKind::Internal,
        };
        let message = match e {
            // SCIM's own detail is written for the admin; the Display of a store failure
            // is not, so add what to do.
            AppError::Directory(DirectoryError::Rejected(r)) => r.detail.clone(),
            AppError::Directory(DirectoryError::Store(s))
            | AppError::Store(s)
            | AppError::Sso(SsoError::Store(s)) => format!(
                "{s}. Keybridge's database could not complete this; check the disk and the log, then try again"
            ),
            other => other.to_string(),
        };
        Problem {
            kind,
            message,
            fields: match e {
                AppError::InvalidSettings(f) => f.clone(),
                _ => Vec::new(),
            },
            rows: match e {
                AppError::InvalidMapping(r) => r.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Problem {
        Problem::from(&e)
    }
}
