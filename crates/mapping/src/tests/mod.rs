//! Tests of the language, written from the language definition.

mod support;
mod syntax;
