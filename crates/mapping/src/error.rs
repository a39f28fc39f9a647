//! The error an admin sees for a bad expression: what went wrong, where, and the line
//! with a caret under the place — the same layout Expr (and so JumpCloud) prints:
//!
//! ```text
//! unexpected token Operator("+") (1:5)
//!  | 1 + + 2
//!  | ....^
//! ```

use std::fmt;

use serde::Serialize;

/// A byte range in the source of an expression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// Which stage found the problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The text is not a well-formed expression.
    Syntax,
    /// Well-formed, but names something that does not exist or calls with the wrong
    /// number of arguments.
    Compile,
    /// Evaluation failed: a type error, nil access, an index out of range…
    Runtime,
    /// Evaluation went past the step or memory budget.
    Limit,
}

/// An error located in an expression's source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ExprError {
    pub kind: ErrorKind,
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub col: usize,
    /// The source line the error is on (tabs shown as spaces); empty when unknown.
    pub source_line: String,
}

impl ExprError {
    /// Locates `message` at byte `offset` of `source`.
    pub fn at(kind: ErrorKind, source: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = clamp_to_char_boundary(source, offset);
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = source[line_start..offset].chars().count() + 1;
        let line_end = source[line_start..]
            .find('\n')
            .map_or(source.len(), |i| line_start + i);
        let source_line = source[line_start..line_end].replace('\t', " ");
        ExprError {
            kind,
            message: message.into(),
            line,
            col,
            source_line,
        }
    }
}

fn clamp_to_char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Like Expr, an error on an empty line shows only its message.
        if self.source_line.is_empty() {
            return write!(f, "{}", self.message);
        }
        write!(
            f,
            "{} ({}:{})\n | {}\n | {}^",
            self.message,
            self.line,
            self.col,
            self.source_line,
            ".".repeat(self.col - 1)
        )
    }
}

/// An error found while evaluating, before it is tied to its source text.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Fault {
    pub kind: ErrorKind,
    pub message: String,
    pub pos: usize,
}

impl Fault {
    pub fn runtime(pos: usize, message: impl Into<String>) -> Fault {
        Fault {
            kind: ErrorKind::Runtime,
            message: message.into(),
            pos,
        }
    }

    pub fn limit(pos: usize, message: impl Into<String>) -> Fault {
        Fault {
            kind: ErrorKind::Limit,
            message: message.into(),
            pos,
        }
    }

    pub fn bind(self, source: &str) -> ExprError {
        ExprError::at(self.kind, source, self.pos, self.message)
    }
}
