//! Every builtin, from its definition in Expr's language documentation.

use super::support::check;

#[test]
fn predicate_builtins() {
    check(&[
        ("all([1, 2], # > 0)", "true"),
        ("all([], # > 0)", "true"),
        ("all([1, -2], # > 0)", "false"),
        ("any([1, -2], # < 0)", "true"),
        ("any([], # < 0)", "false"),
        ("none([1, 2], # < 0)", "true"),
        ("none([1, -2], # < 0)", "false"),
        ("one([1, 2, 3], # == 2)", "true"),
        ("one([2, 2], # == 2)", "false"),
        ("one([], true)", "false"),
        ("filter(1..6, # % 2 == 0)", "[2,4,6]"),
        ("map([1, 2], # * 10)", "[10,20]"),
        ("count([true, false, true])", "2"),
        ("count(1..5, # > 2)", "3"),
        ("sum([1, 2, 3])", "6"),
        ("sum([1, 2.5])", "3.5"),
        ("sum([])", "0"),
        ("sum(1..3, # * 2)", "12"),
        ("sum(user.people, .age)", "85"),
        ("find([1, 2, 3, 4], # > 2)", "3"),
        ("find([1], # > 5)", "null"),
        ("findIndex([1, 2, 3, 4], # > 2)", "2"),
        ("findIndex([1], # > 5)", "-1"),
        ("findLast([1, 2, 3, 4], # > 2)", "4"),
        ("findLastIndex([1, 2, 3, 4], # > 2)", "3"),
        ("findLastIndex([1], # > 5)", "-1"),
        (
            "groupBy([1, 2, 3, 4], # % 2 == 0)",
            r#"{"false":[1,3],"true":[2,4]}"#,
        ),
        (
            "groupBy(user.people, .age)['30'] | map(.name)",
            r#"["Bo","Cy"]"#,
        ),
        (
            "sortBy(user.people, .name) | map(.name)",
            r#"["Al","Bo","Cy"]"#,
        ),
        (
            "sortBy(user.people, .age, 'desc') | map(.name)",
            r#"["Bo","Cy","Al"]"#,
        ),
        ("sortBy(['bb', 'a', 'ccc'], len(#))", r#"["a","bb","ccc"]"#),
        (
            "sortBy([1, 2], #, 'up')",
            "error: unknown order up, use asc or desc",
        ),
        ("reduce(1..4, #acc + #)", "10"),
        ("reduce(1..4, #acc + #, 10)", "20"),
        (
            "reduce(['a', 'b'], #acc + # + string(#index), '')",
            "\"a0b1\"",
        ),
        (
            "reduce([], #acc)",
            "error: reduce of empty array with no initial value",
        ),
        (
            "filter([1, 2], 'yes')",
            "error: predicate must return a bool, not string",
        ),
        ("count([1])", "error: predicate must return a bool, not int"),
        ("map(5, #)", "error: invalid argument for map (type int)"),
    ]);
}

#[test]
fn predicate_builtins_give_nil_for_a_nil_collection() {
    // The documented deviation from Go Expr, which fails here.
    check(&[
        ("find(nil, .type == 'work')", "null"),
        ("filter(nil, true)", "null"),
        ("map(user.missing, #)", "null"),
        ("count(nil)", "null"),
        ("find(nil, true) ?? 'none'", "\"none\""),
    ]);
}

#[test]
fn string_builtins() {
    check(&[
        ("trim('  Hello  ')", "\"Hello\""),
        ("trim('__Hello__', '_')", "\"Hello\""),
        ("trimPrefix('HelloWorld', 'Hello')", "\"World\""),
        ("trimPrefix(' x')", "\"x\""),
        ("trimSuffix('HelloWorld', 'World')", "\"Hello\""),
        ("upper('hello')", "\"HELLO\""),
        ("lower('HÉLLO')", "\"héllo\""),
        (
            "split('apple,orange,grape', ',')",
            r#"["apple","orange","grape"]"#,
        ),
        (
            "split('apple,orange,grape', ',', 2)",
            r#"["apple","orange,grape"]"#,
        ),
        ("split('abc', '')", r#"["a","b","c"]"#),
        ("split('a,b', ',', 0)", "[]"),
        (
            "splitAfter('apple,orange,grape', ',')",
            r#"["apple,","orange,","grape"]"#,
        ),
        (
            "splitAfter('apple,orange,grape', ',', 2)",
            r#"["apple,","orange,grape"]"#,
        ),
        (
            "replace('Hello World', 'World', 'Universe')",
            "\"Hello Universe\"",
        ),
        ("repeat('Hi', 3)", "\"HiHiHi\""),
        (
            "repeat('Hi', -1)",
            "error: invalid argument for repeat (expected positive integer, got -1)",
        ),
        ("indexOf('apple pie', 'pie')", "6"),
        ("indexOf('apple', 'x')", "-1"),
        ("indexOf('héllo', 'l')", "2"),
        ("lastIndexOf('apple pie apple', 'apple')", "10"),
        ("hasPrefix('HelloWorld', 'Hello')", "true"),
        ("hasSuffix('HelloWorld', 'World')", "true"),
        ("upper(1)", "error: invalid argument for upper (type int)"),
    ]);
}

#[test]
fn number_builtins() {
    check(&[
        ("max(5, 7)", "7"),
        ("max(1, 2.5, 2)", "2.5"),
        ("max([1, 9, 3])", "9"),
        ("min(5, 7)", "5"),
        ("min([4, [2, 8]])", "2"),
        ("max([])", "null"),
        (
            "max('a', 1)",
            "error: invalid argument for max (type string)",
        ),
        ("abs(-5)", "5"),
        ("abs(-1.5)", "1.5"),
        ("type(abs(-5))", "\"int\""),
        ("ceil(1.5)", "2"),
        ("floor(1.5)", "1"),
        ("round(1.5)", "2"),
        ("round(-1.5)", "-2"),
        ("round(2.4)", "2"),
        ("type(ceil(1))", "\"float\""),
        ("mean([1, 2, 3])", "2"),
        ("mean([1, 2])", "1.5"),
        ("mean([])", "0"),
        ("median([1, 2, 3])", "2"),
        ("median([4, 1, 3, 2])", "2.5"),
    ]);
}

#[test]
fn bitwise_builtins() {
    check(&[
        ("bitand(0b1010, 0b1100) == 0b1000", "true"),
        ("bitor(0b1010, 0b1100) == 0b1110", "true"),
        ("bitxor(0b1010, 0b1100) == 0b110", "true"),
        ("bitnand(0b1010, 0b1100) == 0b10", "true"),
        ("bitnot(0b1010) == -0b1011", "true"),
        ("bitshl(0b101101, 2) == 0b10110100", "true"),
        ("bitshr(0b101101, 2) == 0b1011", "true"),
        ("bitushr(-0b101, 2)", "4611686018427387902"),
        (
            "bitshl(1, -1)",
            "error: invalid argument for bitshl: negative shift count -1",
        ),
        (
            "bitand(1, 'a')",
            "error: invalid argument for bitand (type string)",
        ),
    ]);
}

#[test]
fn array_builtins() {
    check(&[
        ("concat([1, 2], [3, 4])", "[1,2,3,4]"),
        ("concat([1], [2], [3])", "[1,2,3]"),
        (
            "concat([1], 2)",
            "error: invalid argument for concat (type int)",
        ),
        ("flatten([1, 2, [3, [4]]])", "[1,2,3,4]"),
        ("uniq([1, 2, 3, 2, 1])", "[1,2,3]"),
        ("uniq(['a', 'a', [1], [1]])", r#"["a",[1]]"#),
        (
            "join(['apple', 'orange', 'grape'], ',')",
            "\"apple,orange,grape\"",
        ),
        ("join(['apple', 'orange', 'grape'])", "\"appleorangegrape\""),
        (
            "join([1, 2])",
            "error: invalid argument for join (type int)",
        ),
        ("first([1, 2, 3])", "1"),
        ("first([])", "null"),
        ("first(nil)", "null"),
        ("last([1, 2, 3])", "3"),
        ("last([])", "null"),
        ("take([1, 2, 3, 4], 2)", "[1,2]"),
        ("take([1, 2], 5)", "[1,2]"),
        ("reverse([3, 1, 4])", "[4,1,3]"),
        ("reverse(reverse([3, 1, 4]))", "[3,1,4]"),
        ("sort([3, 1, 4])", "[1,3,4]"),
        ("sort([3, 1, 4], 'desc')", "[4,3,1]"),
        ("sort(['b', 'a'])", r#"["a","b"]"#),
        ("sort([1, 'a'])", "error: cannot compare string and int"),
    ]);
}

#[test]
fn map_builtins() {
    check(&[
        ("keys({name: 'John', age: 30})", r#"["age","name"]"#),
        ("values({name: 'John', age: 30})", r#"[30,"John"]"#),
        (
            "toPairs({name: 'John', age: 30})",
            r#"[["age",30],["name","John"]]"#,
        ),
        (
            "fromPairs([['name', 'John'], ['age', 30]])",
            r#"{"age":30,"name":"John"}"#,
        ),
        ("fromPairs([['a']])", "error: invalid pair [a]"),
        ("keys(1)", "error: invalid argument for keys (type int)"),
    ]);
}

#[test]
fn conversion_builtins() {
    check(&[
        ("type(nil)", "\"nil\""),
        ("type(true)", "\"bool\""),
        ("type(1)", "\"int\""),
        ("type(1.5)", "\"float\""),
        ("type('a')", "\"string\""),
        ("type([])", "\"array\""),
        ("type({})", "\"map\""),
        ("int('123')", "123"),
        ("int(3.9)", "3"),
        ("int('x')", "error: invalid operation: int(\"x\")"),
        ("float('123.45')", "123.45"),
        ("float(2)", "2"),
        ("type(float(2))", "\"float\""),
        ("string(123)", "\"123\""),
        ("string(1.5)", "\"1.5\""),
        ("string(1e6)", "\"1e+06\""),
        ("string(123456.0)", "\"123456\""),
        ("string(nil)", "\"\\u003cnil\\u003e\""),
        ("string([1, 'a', true])", "\"[1 a true]\""),
        ("string({b: 1, a: [2]})", "\"map[a:[2] b:1]\""),
        (
            "toJSON({b: 1, a: [2, 'x']})",
            r#""{\n  \"a\": [\n    2,\n    \"x\"\n  ],\n  \"b\": 1\n}""#,
        ),
        ("toJSON([])", r#""[]""#),
        (
            "fromJSON('{\"name\": \"John\", \"age\": 30}')",
            r#"{"age":30,"name":"John"}"#,
        ),
        ("type(fromJSON('30'))", "\"float\""),
        (
            "fromJSON('{')",
            "error: EOF while parsing an object at line 1 column 1",
        ),
        ("toBase64('Hello World')", "\"SGVsbG8gV29ybGQ=\""),
        ("fromBase64('SGVsbG8gV29ybGQ=')", "\"Hello World\""),
        (
            "fromBase64('SGVsbG8')",
            "error: illegal base64 data at input byte 4",
        ),
        ("toBase64('a') + toBase64('ab')", "\"YQ==YWI=\""),
    ]);
}

#[test]
fn len_and_get() {
    check(&[
        ("len([1, 2, 3])", "3"),
        ("len({name: 'John', age: 30})", "2"),
        ("len('Hello')", "5"),
        ("len('héllo')", "5"),
        ("len(1)", "error: invalid argument for len (type int)"),
        ("get([1, 2, 3], 1)", "2"),
        ("get([1, 2, 3], -1)", "3"),
        ("get([1, 2, 3], 99)", "null"),
        ("get({name: 'John'}, 'name')", "\"John\""),
        ("get({name: 'John'}, 'age')", "null"),
        ("get(nil, 'a')", "null"),
    ]);
}

#[test]
fn unknown_functions_and_argument_counts_are_compile_errors() {
    check(&[
        (
            "notNullorEmpty(x)",
            "error: unknown func notNullorEmpty (did you mean notNullOrEmpty?)",
        ),
        ("frobnicate(1)", "error: unknown func frobnicate"),
        (
            "upper('a', 'b')",
            "error: invalid number of arguments for upper (expected 1, got 2)",
        ),
        (
            "trim()",
            "error: invalid number of arguments for trim (expected 1 to 2, got 0)",
        ),
        ("filter([1])", "error: expected at least 2 arguments"),
        ("jcuser", "error: unknown name jcuser (did you mean user?)"),
        ("nothing_like_it", "error: unknown name nothing_like_it"),
        ("usr.name", "error: unknown name usr (did you mean user?)"),
    ]);
}
