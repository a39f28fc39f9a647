//! Operators: arithmetic, comparison, logic without truthiness, membership, strings,
//! member access and slices.

use super::support::check;

#[test]
fn arithmetic_keeps_ints_and_floats_apart() {
    check(&[
        ("1 + 2", "3"),
        ("1 + 1.5", "2.5"),
        ("type(1 + 1)", "\"int\""),
        ("type(1 + 1.0)", "\"float\""),
        ("5 - 7", "-2"),
        ("3 * 4", "12"),
        ("3 * 0.5", "1.5"),
        ("-x", "-5"),
        ("+x", "5"),
        ("-1.5", "-1.5"),
    ]);
}

#[test]
fn division_always_gives_a_float() {
    check(&[
        ("5 / 2", "2.5"),
        ("4 / 2", "2"),
        ("type(4 / 2)", "\"float\""),
        ("1 / 0", "JSON error: json: unsupported value: +Inf"),
        ("1 / 0 > 1e308", "true"),
    ]);
}

#[test]
fn modulo_is_integer_only() {
    check(&[
        ("7 % 3", "1"),
        ("-7 % 3", "-1"),
        ("7.0 % 2", "error: invalid operation: float64 % int"),
        ("1 % 0", "error: integer divide by zero"),
    ]);
}

#[test]
fn exponent_gives_a_float() {
    check(&[
        ("2 ** 10", "1024"),
        ("type(2 ** 2)", "\"float\""),
        ("4 ^ 0.5", "2"),
    ]);
}

#[test]
fn plus_joins_two_strings_or_adds_two_numbers() {
    check(&[
        ("'a' + 'b'", "\"ab\""),
        ("'a' + 1", "error: invalid operation: string + int"),
        ("1 + 'a'", "error: invalid operation: int + string"),
        ("'a' + nil", "error: invalid operation: string + <nil>"),
        (
            "[1] + [2]",
            "error: invalid operation: []interface {} + []interface {}",
        ),
    ]);
}

#[test]
fn equality_compares_ints_and_floats_by_value_and_never_fails() {
    check(&[
        ("1 == 1.0", "true"),
        ("1 != 1.0", "false"),
        ("1 == '1'", "false"),
        ("nil == nil", "true"),
        ("nil == false", "false"),
        ("[1, 2] == [1, 2]", "true"),
        ("[1, 2] == [1, 2.0]", "true"),
        ("{a: 1} == {a: 1}", "true"),
        ("{a: 1} == {a: 2}", "false"),
        ("user.name == 'Ada'", "true"),
    ]);
}

#[test]
fn ordering_needs_two_numbers_or_two_strings() {
    check(&[
        ("1 < 2", "true"),
        ("2 <= 2.0", "true"),
        ("3 > 2.5", "true"),
        ("1 >= 2", "false"),
        ("'a' < 'b'", "true"),
        ("'B' < 'a'", "true"),
        ("1 < 'a'", "error: invalid operation: int < string"),
        ("nil > 1", "error: invalid operation: <nil> > int"),
    ]);
}

#[test]
fn logic_has_no_truthiness() {
    check(&[
        ("true and false", "false"),
        ("true or false", "true"),
        ("not false", "true"),
        ("!true", "false"),
        ("false and 1", "false"),
        ("true or 1", "true"),
        (
            "1 and true",
            "error: invalid operation: and on int (expected bool)",
        ),
        (
            "true and 'x'",
            "error: invalid operation: and on string (expected bool)",
        ),
        (
            "false or nil",
            "error: invalid operation: or on <nil> (expected bool)",
        ),
        (
            "not 'x'",
            "error: invalid operation: not on string (expected bool)",
        ),
        (
            "'x' ? 1 : 2",
            "error: non-bool expression (type string) used as condition",
        ),
        (
            "if 1 { 2 } else { 3 }",
            "error: non-bool expression (type int) used as condition",
        ),
    ]);
}

#[test]
fn membership() {
    check(&[
        ("1 in [1, 2]", "true"),
        ("1.0 in [1, 2]", "true"),
        ("3 in [1, 2]", "false"),
        ("'a' in {a: 1}", "true"),
        ("'b' in {a: 1}", "false"),
        ("1 in nil", "false"),
        ("1 in 1", "error: operator \"in\" not defined on int"),
        ("'name' in user", "true"),
    ]);
}

#[test]
fn string_operators() {
    check(&[
        ("'abc' contains 'b'", "true"),
        ("'abc' startsWith 'ab'", "true"),
        ("'abc' endsWith 'bc'", "true"),
        ("'abc' endsWith 'x'", "false"),
        ("'abc' matches '^a.c$'", "true"),
        ("'ABC' matches '(?i)^abc$'", "true"),
        ("user.name matches '^A'", "true"),
        ("'abc' matches ('^' + 'a')", "true"),
        (
            "'abc' contains 1",
            "error: invalid operation: string contains int",
        ),
        (
            "1 matches 'a'",
            "error: invalid operation: int matches string",
        ),
    ]);
}

#[test]
fn invalid_literal_patterns_are_found_when_compiling() {
    let got = super::support::run("'a' matches '('");
    assert!(got.starts_with("error: error parsing regexp"), "{got}");
}

#[test]
fn range_builds_an_inclusive_array_of_ints() {
    check(&[
        ("1..3", "[1,2,3]"),
        ("3..1", "[]"),
        ("-1..1", "[-1,0,1]"),
        ("1..1.5", "error: invalid operation: int .. float64"),
    ]);
}

#[test]
fn member_access_index_and_missing_keys() {
    check(&[
        ("user.name", "\"Ada\""),
        ("user['name']", "\"Ada\""),
        ("user.address.city", "\"Paris\""),
        ("user.missing", "null"),
        ("user.tags[0]", "\"a\""),
        ("user.tags[-1]", "\"c\""),
        ("user.tags[-3]", "\"a\""),
        ("user.tags[1.0]", "\"b\""),
        (
            "user.tags[3]",
            "error: index out of range: 3 (array length is 3)",
        ),
        (
            "user.tags[-4]",
            "error: index out of range: -1 (array length is 3)",
        ),
        ("'héllo'[1]", "\"é\""),
        ("user.nothing.city", "error: cannot fetch city from <nil>"),
        ("user.name.first", "error: cannot fetch first from string"),
        (
            "user.tags.first",
            "error: cannot fetch first from []interface {}",
        ),
        ("x.y", "error: cannot fetch y from int"),
    ]);
}

#[test]
fn optional_chaining_stops_at_nil() {
    check(&[
        ("user.nothing?.city", "null"),
        ("user.missing?.a.b.c", "null"),
        ("user?.address?.city", "\"Paris\""),
        ("user.tags?.[0]", "\"a\""),
        ("user.nothing?.[0]", "null"),
        ("nil?.a", "null"),
        ("user.nothing?.city ?? 'none'", "\"none\""),
    ]);
}

#[test]
fn slices_clamp_their_bounds() {
    check(&[
        ("user.tags[1:]", r#"["b","c"]"#),
        ("user.tags[:2]", r#"["a","b"]"#),
        ("user.tags[:]", r#"["a","b","c"]"#),
        ("user.tags[-2:]", r#"["b","c"]"#),
        ("user.tags[1:-1]", r#"["b"]"#),
        ("user.tags[5:9]", "[]"),
        ("user.tags[2:1]", "[]"),
        ("'héllo'[1:3]", "\"él\""),
        ("x[1:2]", "error: cannot slice int"),
    ]);
}
