//! Tests of the language and the mapping engine, written from the language definition
//! (docs of Expr v1.17) and the design doc's worked examples.

mod builtins;
mod dates;
mod default_table;
mod errors;
mod gojson;
mod hostile;
mod jumpcloud;
mod operators;
mod props;
mod support;
mod syntax;
mod tables;
