//! Keybridge's mapping engine: JumpCloud's attribute-mapping expressions (the Expr
//! language of expr-lang/expr v1.17), mapping tables, and the SCIM User preview.
//!
//! The crate is pure: no I/O, no clock except `now()`, no dependency on the rest of
//! Keybridge. Layers, innermost first:
//!
//! - [`lexer`] → [`parser`] → [`ast`]: source text to a syntax tree with spans;
//!   [`printer`] prints a tree back as source.
//! - `compile` resolves names and builtins; `eval` runs the result over [`Value`]s within
//!   a step and memory budget ([`Limits`]); [`Expression`] ties the two together.
//! - [`jumpcloud`]: the normalised `jcUser` and JumpCloud's helper functions.
//! - [`table`]: mapping rows, their validation and compilation; [`preview`]: the SCIM
//!   User a table produces; [`cli`]: the `keybridge expr` and `keybridge map` commands.
//!
//! Deliberate deviations from Go Expr, each because the Go behaviour helps nobody:
//! `find(nil, …)` and the other predicate builtins give nil for a nil collection;
//! string indexes (`s[0]`, slices, `indexOf`) count characters, not bytes;
//! `Month()` and `Weekday()` are plain integers; the `Local` zone is UTC.

pub mod ast;
mod builtins;
pub mod cli;
mod compile;
pub mod dates;
mod error;
mod eval;
mod expression;
pub mod gofmt;
pub mod gojson;
pub mod jumpcloud;
pub mod lexer;
mod operators;
pub mod parser;
mod predicates;
pub mod preview;
pub mod printer;
pub mod table;
pub mod target;
mod user_layout;
mod value;

pub use error::{ErrorKind, ExprError, Span};
pub use eval::Limits;
pub use expression::Expression;
pub use jumpcloud::normalize_jc_user;

pub use cli::{expr_command, map_command};
pub use preview::{environment, map_user, preview, Mapped, Preview, RowOutcome, RowResult};
pub use table::{
    default_table, map_group, Applies, Column, CompiledTable, MappingRow, MappingTable, RowError,
    SourceKind, TableError,
};
pub use value::{Value, MAX_VALUE_DEPTH};

#[cfg(test)]
mod tests;
