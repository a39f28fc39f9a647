//! Literals, keywords, precedence and the other rules of the grammar.

use super::support::{check, run};
use crate::Expression;

#[test]
fn integer_literals_in_every_base() {
    check(&[
        ("42", "42"),
        ("0x2A", "42"),
        ("0X2a", "42"),
        ("0o52", "42"),
        ("0b101", "5"),
        ("1_000", "1000"),
        ("0", "0"),
        ("type(42)", "\"int\""),
        ("9223372036854775807", "9223372036854775807"),
        (
            "9223372036854775808",
            "error: invalid integer literal: 9223372036854775808",
        ),
    ]);
}

#[test]
fn float_literals() {
    check(&[
        ("0.5", "0.5"),
        (".5", "0.5"),
        ("1e3", "1000"),
        ("1.5e-3", "0.0015"),
        ("type(1e3)", "\"float\""),
        ("type(.5)", "\"float\""),
        ("1.", "1"),
    ]);
}

#[test]
fn string_literals_with_both_quotes_escapes_and_raw_strings() {
    check(&[
        ("'single'", "\"single\""),
        ("\"double\"", "\"double\""),
        (r#""a\nb""#, r#""a\nb""#),
        (r#"'it\'s'"#, r#""it's""#),
        (r#""\x41\u00e9\101""#, "\"AéA\""),
        (r#""tab\there""#, r#""tab\there""#),
        ("`raw\\n`", r#""raw\\n""#),
        ("`two\nlines`", r#""two\nlines""#),
        ("len(`a\\b`)", "3"),
    ]);
}

#[test]
fn array_and_map_literals() {
    check(&[
        ("[1, 2]", "[1,2]"),
        ("[]", "[]"),
        ("[1, 2,]", "[1,2]"),
        (
            "{a: 1, \"b\": 2, ('c' + 'd'): 3}",
            r#"{"a":1,"b":2,"cd":3}"#,
        ),
        ("{1: 'one'}", r#"{"1":"one"}"#),
        ("{}", "{}"),
        ("{a: 1,}", r#"{"a":1}"#),
        ("{a: 1, a: 2}", r#"{"a":2}"#),
        ("[nil, true, false]", "[null,true,false]"),
    ]);
}

#[test]
fn comments_are_ignored() {
    check(&[
        ("1 /* one */ + // plus\n 2", "3"),
        ("// only a comment\n7", "7"),
    ]);
}

#[test]
fn keywords_are_whole_words_only() {
    let names = [
        "orders",
        "notable",
        "index",
        "iffy",
        "elsewhere",
        "letter",
        "andrew",
        "inner",
        "matchesX",
    ];
    let src = names.join(" + ");
    let e = Expression::compile(&src, &names).expect("names that start with keywords are names");
    let env: Vec<crate::Value> = names.iter().map(|_| crate::Value::Int(1)).collect();
    assert_eq!(e.eval(&env).map(|v| v == crate::Value::Int(9)), Ok(true));
    check(&[
        ("notNullOrEmpty('x')", "true"),
        ("notNullOrEmpty('')", "false"),
    ]);
}

#[test]
fn negated_operators() {
    check(&[
        ("1 not in [2, 3]", "true"),
        ("2 not in [2, 3]", "false"),
        ("'abc' not contains 'd'", "true"),
        ("'abc' not startsWith 'a'", "false"),
        ("'abc' not endsWith 'b'", "true"),
        ("'abc' not matches '^b'", "true"),
    ]);
}

#[test]
fn precedence_from_loosest_to_tightest() {
    check(&[
        // `|` is loosest.
        ("1 + 2 | string()", "\"3\""),
        // or < and
        ("true or false and false", "true"),
        ("false and true or true", "true"),
        ("true || false && false", "true"),
        // and < comparison
        ("1 < 2 and 2 < 3", "true"),
        // comparison < ..
        ("[1, 2] == 1..2", "true"),
        // .. < + -
        ("1 + 1..3", "[2,3]"),
        ("1..1 + 2", "[1,2,3]"),
        // + - < unary not: `not` binds tighter than `==`
        ("not true == false", "true"),
        // unary not < * / %: `not 1 * 2` is `not (1 * 2)`
        (
            "not 1 * 2",
            "error: invalid operation: not on int (expected bool)",
        ),
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("10 - 2 - 3", "5"),
        ("2 * 3 % 4", "2"),
        // * < unary minus
        ("-2 * 3", "-6"),
        // unary minus < ** ^
        ("-2 ** 2", "-4"),
        ("2 ^ 3", "8"),
        // ** is right-associative
        ("2 ** 3 ** 2", "512"),
        // ?? is tightest
        ("1 + nil ?? 2", "3"),
        ("(nil ?? 1) + 1", "2"),
        ("nil ?? nil ?? 3", "3"),
        ("x ?? 1", "5"),
    ]);
}

#[test]
fn coalescing_cannot_be_mixed_with_other_operators_without_parentheses() {
    let mixed = "error: Operator (+) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses.";
    check(&[
        ("nil ?? 1 + 1", mixed),
        ("nil ?? 1 == 1", "error: Operator (==) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses."),
        ("(nil ?? 1) + 1", "2"),
        ("nil ?? (1 + 1)", "2"),
        ("nil ?? true ? 'y' : 'n'", "\"y\""),
    ]);
}

#[test]
fn comparisons_chain() {
    check(&[
        ("1 < 2 < 3", "true"),
        ("1 < 3 < 2", "false"),
        ("3 > 2 > 1", "true"),
        ("1 <= 1 < 2 <= 2", "true"),
        ("1 < 2 == true", "true"),
    ]);
}

#[test]
fn ternary_nests_to_the_right_and_has_a_short_form() {
    check(&[
        ("true ? 1 : 2", "1"),
        ("false ? 1 : false ? 2 : 3", "3"),
        ("true ? 1 : false ? 2 : 3", "1"),
        ("false ?: 'fallback'", "\"fallback\""),
        ("true ?: 'fallback'", "true"),
        ("x > 3 ? 'big' : 'small'", "\"big\""),
    ]);
}

#[test]
fn pipes_pass_the_left_side_as_first_argument() {
    check(&[
        ("'a,b' | split(',')", r#"["a","b"]"#),
        ("[3, 1, 2] | sort() | first()", "1"),
        ("'Ab' | lower() | upper()", "\"AB\""),
        ("user.tags | map(upper(#))", r#"["A","B","C"]"#),
        ("user.tags | filter(# != 'b') | join('-')", "\"a-c\""),
        ("[1, 2, 3] | reduce(#acc + #, 10)", "16"),
    ]);
}

#[test]
fn let_if_and_sequences() {
    check(&[
        ("let a = 2; let b = 3; a * b", "6"),
        ("let x = 1; x", "1"),
        (
            "let name = user.name | lower(); 'Hello, ' + name",
            "\"Hello, ada\"",
        ),
        ("1; 2; 3", "3"),
        ("(1; 2)", "2"),
        ("1; 2;", "2"),
        ("if x > 3 { 'big' } else { 'small' }", "\"big\""),
        (
            "if x > 9 { 'big' } else if x > 4 { 'medium' } else { 'small' }",
            "\"medium\"",
        ),
        ("if false { 1 } else { let y = 2; y * 2 }", "4"),
    ]);
}

#[test]
fn env_variable_holds_all_variables() {
    check(&[
        ("$env.x", "5"),
        ("'x' in $env", "true"),
        ("$env['user'].name", "\"Ada\""),
    ]);
}

#[test]
fn predicates_with_element_index_and_shorthand() {
    check(&[
        ("map(user.tags, #index)", "[0,1,2]"),
        ("map(user.people, .name)", r#"["Bo","Al","Cy"]"#),
        ("map(user.people, #.age)", "[30,25,30]"),
        (
            "filter(user.people, { .age > 26 }) | map(.name)",
            r#"["Bo","Cy"]"#,
        ),
        ("map([1, 2], { let y = # * 2; y + 1 })", "[3,5]"),
        ("map([[1, 2], [3]], len(filter(#, # > 1)))", "[1,1]"),
        (
            "map([[1, 2], [3]], { let outer = #; map(#, # + len(outer)) })",
            "[[3,4],[4]]",
        ),
    ]);
}

#[test]
fn pointers_outside_predicates_are_refused() {
    check(&[
        ("#", "error: unexpected token Operator(\"#\")"),
        ("map([1], #foo)", "error: unknown pointer #foo"),
    ]);
}

#[test]
fn predicates_must_be_wrapped_to_hold_sequences() {
    check(&[(
        "map([1], # ; 2)",
        "error: wrap predicate with brackets { and }",
    )]);
}

#[test]
fn deep_nesting_is_refused_not_overflowing() {
    let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    assert!(
        run(&deep).starts_with("error: expression is nested too deeply"),
        "{}",
        run(&deep)
    );
    let long_chain = vec!["1"; 2000].join(" + ");
    assert!(run(&long_chain).starts_with("error: expression is nested too deeply"));
    let members = format!("user{}", ".a".repeat(1000));
    assert!(run(&members).starts_with("error: expression is nested too deeply"));
    // Within the bound, deep expressions evaluate.
    let ok = format!("{}1{}", "(".repeat(90), ")".repeat(90));
    assert_eq!(run(&ok), "1");
    let sum = vec!["1"; 150].join(" + ");
    assert_eq!(run(&sum), "150");
}

#[test]
fn printing_a_tree_gives_source_that_parses_to_the_same_tree() {
    for src in [
        "a?.b.c ?? d[0]?.e[1:2]",
        "-x ** 2 + (not y) * 3",
        "filter(users, .age > 18 and #index < 3) | map({ let n = #.name; upper(n) })",
        "1 < 2 < 3 ? 'yes' : x ?: 'no'",
        "if a { b } else { c; d }",
        "{a: 1, 'b c': [1, 2.5, \"q\\\"\"], (k): nil}",
        "date('2023-01-01').In(timezone('UTC')).Format('2006')",
        "x not in [1, 2] || y not matches '^a'",
        "a?.[0][1]?.b",
    ] {
        let tree = crate::parser::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let printed = tree.to_string();
        let again = crate::parser::parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert!(tree.same_shape(&again), "{src}\nprinted as {printed}");
    }
}
