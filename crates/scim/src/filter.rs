//! SCIM filters (RFC 7644 §3.4.2.2): parsed into a depth-bounded AST, then resolved against
//! a resource type's schema so that only known attributes reach storage.

use crate::path::AttrPath;

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
    Compare { path: AttrPath, op: CompareOp, value: CompValue },
    /// `attrPath pr`
    Present(AttrPath),
    /// `attr[valFilter]`: `filter` applies to the sub-attributes of one value of the
    /// multi-valued attribute `attr`; paths inside it are relative (no URN, attr = sub-attribute).
    ValuePath { attr: AttrPath, filter: Box<Filter> },
}
