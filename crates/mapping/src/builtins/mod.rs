//! The functions an expression can call by name: Expr's builtins (the predicate ones
//! live in [`crate::predicates`]) and JumpCloud's own (`notNullOrEmpty`, `toScim…`).
//! Each is a plain function over already-evaluated arguments; the compiler checks the
//! argument count, the function checks the types.

mod arrays;
mod convert;
pub(crate) mod methods;
mod numbers;
mod strings;
mod time;

use regex::Regex;

use crate::error::Fault;
use crate::eval::Budget;
use crate::value::Value;

/// A builtin's implementation: arguments, the budget to charge for what it builds, and
/// the position its errors point at.
pub(crate) type BuiltinFn = fn(&mut Budget, &[Value], usize) -> Result<Value, Fault>;

pub(crate) struct Builtin {
    pub name: &'static str,
    pub f: BuiltinFn,
    pub min_args: usize,
    pub max_args: usize,
}

/// Shorthand for the tables in the submodules.
pub(crate) const fn builtin(
    name: &'static str,
    f: BuiltinFn,
    min_args: usize,
    max_args: usize,
) -> Builtin {
    Builtin {
        name,
        f,
        min_args,
        max_args,
    }
}

/// Any number of arguments.
pub(crate) const MANY: usize = usize::MAX;

fn tables() -> [&'static [Builtin]; 6] {
    [
        strings::BUILTINS,
        numbers::BUILTINS,
        arrays::BUILTINS,
        convert::BUILTINS,
        time::BUILTINS,
        crate::jumpcloud::BUILTINS,
    ]
}

pub(crate) fn lookup(name: &str) -> Option<&'static Builtin> {
    tables().into_iter().flatten().find(|b| b.name == name)
}

/// Every callable name, for "did you mean" suggestions.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    tables().into_iter().flatten().map(|b| b.name)
}

/// Go's RE2 syntax is, for what mappings use, the syntax of the `regex` crate; both
/// match in linear time, so a pattern cannot hang evaluation. Size is capped so a
/// pattern cannot exhaust memory either.
pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            format!(
                "error parsing regexp: {}",
                e.to_string().lines().last().unwrap_or("invalid pattern")
            )
        })
}

pub(crate) fn invalid(name: &str, v: &Value, pos: usize) -> Fault {
    Fault::runtime(
        pos,
        format!("invalid argument for {name} (type {})", v.go_type()),
    )
}

pub(crate) fn str_arg<'a>(
    name: &str,
    args: &'a [Value],
    i: usize,
    pos: usize,
) -> Result<&'a str, Fault> {
    match args.get(i) {
        Some(Value::Str(s)) => Ok(s),
        Some(other) => Err(invalid(name, other, pos)),
        None => Err(Fault::runtime(
            pos,
            format!("missing argument {} for {name}", i + 1),
        )),
    }
}

/// An integer argument; like Go's `runtime.ToInt`, a float is truncated.
pub(crate) fn int_arg(name: &str, args: &[Value], i: usize, pos: usize) -> Result<i64, Fault> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(Value::Float(f)) => Ok(*f as i64),
        Some(other) => Err(invalid(name, other, pos)),
        None => Err(Fault::runtime(
            pos,
            format!("missing argument {} for {name}", i + 1),
        )),
    }
}

pub(crate) fn array_arg<'a>(
    name: &str,
    args: &'a [Value],
    i: usize,
    pos: usize,
) -> Result<&'a [Value], Fault> {
    match args.get(i) {
        Some(Value::Array(a, _)) => Ok(a.items()),
        Some(other) => Err(invalid(name, other, pos)),
        None => Err(Fault::runtime(
            pos,
            format!("missing argument {} for {name}", i + 1),
        )),
    }
}

/// The argument at `i`, nil when absent.
pub(crate) fn arg(args: &[Value], i: usize) -> &Value {
    static NIL: Value = Value::Nil;
    args.get(i).unwrap_or(&NIL)
}
