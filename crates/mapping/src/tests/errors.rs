//! Error messages: located, with the source line and a caret, for parse, compile and
//! runtime errors; and limits that stop runaway evaluation.

use super::support::{error, run};
use crate::{ErrorKind, Expression, Limits, Value};

#[test]
fn syntax_errors_show_the_line_and_a_caret() {
    assert_eq!(
        error("1 + )"),
        "unexpected token Bracket(\")\") (1:5)\n | 1 + )\n | ....^"
    );
    assert_eq!(
        error("1 +"),
        "unexpected end of expression (1:4)\n | 1 +\n | ...^"
    );
    assert_eq!(error("'abc"), "literal not terminated (1:1)\n | 'abc\n | ^");
    assert_eq!(
        error("1 @ 2"),
        "unrecognized character: U+0040 '@' (1:3)\n | 1 @ 2\n | ..^"
    );
    assert_eq!(
        error("12abc"),
        "bad number syntax: \"12a\" (1:1)\n | 12abc\n | ^"
    );
    assert_eq!(error("/* open"), "unclosed comment (1:1)\n | /* open\n | ^");
    assert_eq!(error("'\\q'"), "invalid char escape (1:2)\n | '\\q'\n | .^");
    assert_eq!(error("x.(1)"), "expected name (1:3)\n | x.(1)\n | ..^");
    // As in Expr, `.1` after a name is a number.
    assert_eq!(
        error("x.1"),
        "unexpected token Number(\".1\") (1:2)\n | x.1\n | .^"
    );
    assert_eq!(
        error("let = 1; 2"),
        "unexpected token Operator(\"=\") (1:5)\n | let = 1; 2\n | ....^"
    );
}

#[test]
fn errors_on_later_lines_show_that_line() {
    assert_eq!(
        error("let a = 1;\nlet b = 2;\na + 'x'"),
        "invalid operation: int + string (3:3)\n | a + 'x'\n | ..^"
    );
    assert_eq!(
        error("[\n  1,\n  2 3\n]"),
        "unexpected token Number(\"3\") (3:5)\n |   2 3\n | ....^"
    );
}

#[test]
fn columns_count_characters_and_tabs_show_as_spaces() {
    assert_eq!(
        error("'é' + 1"),
        "invalid operation: string + int (1:5)\n | 'é' + 1\n | ....^"
    );
    assert_eq!(
        error("\t1 + 'a'"),
        "invalid operation: int + string (1:4)\n |  1 + 'a'\n | ...^"
    );
}

#[test]
fn compile_errors_are_located() {
    assert_eq!(
        error("user.name + usr"),
        "unknown name usr (did you mean user?) (1:13)\n | user.name + usr\n | ............^"
    );
    assert_eq!(
        error("toScimEmail(x)"),
        "unknown func toScimEmail (did you mean toScimEmails?) (1:1)\n | toScimEmail(x)\n | ^"
    );
}

#[test]
fn runtime_errors_point_at_the_failing_operation() {
    assert_eq!(
        error("user.nothing.city"),
        "cannot fetch city from <nil> (1:14)\n | user.nothing.city\n | .............^"
    );
    assert_eq!(
        error("user.tags[7]"),
        "index out of range: 7 (array length is 3) (1:10)\n | user.tags[7]\n | .........^"
    );
    assert_eq!(
        error("map([1, 'a'], # + 1)"),
        "invalid operation: string + int (1:17)\n | map([1, 'a'], # + 1)\n | ................^"
    );
}

#[test]
fn error_kinds_tell_syntax_from_compile_from_runtime() {
    let kind = |src: &str| {
        Expression::compile(src, &[])
            .and_then(|e| e.eval(&[]))
            .err()
            .map(|e| e.kind)
    };
    assert_eq!(kind("1 +"), Some(ErrorKind::Syntax));
    assert_eq!(kind("nope"), Some(ErrorKind::Compile));
    assert_eq!(kind("1 + 'a'"), Some(ErrorKind::Runtime));
    assert_eq!(kind("repeat('x', 1e12)"), Some(ErrorKind::Limit));
}

#[test]
fn evaluation_is_bounded_in_memory() {
    assert_eq!(run("repeat('x', 1e12)"), "error: memory budget exceeded");
    assert_eq!(
        run("repeat(repeat('x', 1000000), 1000)"),
        "error: memory budget exceeded"
    );
    assert_eq!(run("1..1000000000000"), "error: memory budget exceeded");
    assert_eq!(
        run("map(1..100000, map(1..100000, #))"),
        "error: evaluation exceeded 1000000 steps"
    );
    assert_eq!(
        run("map(1..1000, 1..100000)"),
        "error: memory budget exceeded"
    );
    assert_eq!(
        run("reduce(1..30, #acc + #acc, 'xxxxxxxxxx')"),
        "error: memory budget exceeded"
    );
}

#[test]
fn evaluation_is_bounded_in_steps() {
    assert_eq!(
        run("all(1..3000000, true)"),
        "error: evaluation exceeded 1000000 steps"
    );
    assert_eq!(
        run("count(1..2000, count(1..2000, true) > 0)"),
        "error: evaluation exceeded 1000000 steps"
    );
}

#[test]
fn evaluation_is_bounded_in_value_depth() {
    assert_eq!(
        run("reduce(1..500, [#acc], [])"),
        "error: value nested more than 128 levels deep"
    );
}

#[test]
fn limits_can_be_tightened() {
    let e = Expression::compile("map(1..100, # * 2)", &[]).expect("compiles");
    let tight = Limits {
        max_steps: 50,
        max_memory: 1_000_000,
    };
    assert!(e.eval_with_limits(&[], tight).is_err());
    assert!(e.eval(&[]).is_ok());
    assert_eq!(e.eval(&[]).map(|v| v.depth()), Ok(1));
    let _ = Value::Nil;
}
