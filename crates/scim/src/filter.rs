//! SCIM filters (RFC 7644 §3.4.2.2): parsed into a depth-bounded AST, then resolved against
//! a resource type's schema so that only known attributes reach storage.

use std::fmt;

use crate::path::AttrPath;

pub(crate) mod eval;
pub(crate) mod parse;
pub(crate) mod resolve;

pub use parse::{parse_filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN, MAX_FILTER_OPERATORS};
pub use resolve::resolve_filter;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// The operator as written in filters (lowercase).
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// True for `gt`, `ge`, `lt`, `le`.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }

    /// True for `co`, `sw`, `ew`.
    pub fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }
}

/// A comparison value as written in the filter (`compValue` of the ABNF).
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attrPath op compValue`
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `attrPath pr`
    Present(AttrPath),
    /// `attr[valFilter]`: `filter` applies to the sub-attributes of one value of the
    /// multi-valued attribute `attr`; paths inside it are relative (no URN, attr = sub-attribute).
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            // serde_json writes a JSON string literal, the syntax filters use.
            CompValue::String(s) => match serde_json::to_string(s) {
                Ok(lit) => f.write_str(&lit),
                Err(_) => Err(fmt::Error),
            },
        }
    }
}

/// Writes the filter as filter text that parses back to the same tree: parentheses only
/// where precedence (not > and > or, left-associative) needs them.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Or(l, r) => {
                write!(f, "{l} or ")?;
                write_grouped(f, r, matches!(**r, Filter::Or(..)))
            }
            Filter::And(l, r) => {
                write_grouped(f, l, matches!(**l, Filter::Or(..)))?;
                f.write_str(" and ")?;
                write_grouped(f, r, matches!(**r, Filter::Or(..) | Filter::And(..)))
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::ValuePath { attr, filter } => write!(f, "{attr}[{filter}]"),
        }
    }
}

fn write_grouped(f: &mut fmt::Formatter<'_>, filter: &Filter, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({filter})")
    } else {
        write!(f, "{filter}")
    }
}

#[cfg(test)]
mod tests;
