//! Hostile input: expressions and tables an attacker (or a careless paste) could hand
//! the engine. Deep nesting and very long chains must end in an error or a value, never
//! in a stack overflow, which would take the whole bridge down.

use proptest::prelude::*;

use super::support::{env, VARIABLES};
use crate::parser::parse;
use crate::{normalize_jc_user, CompiledTable, Expression, Limits, MappingTable};

const QUICK: Limits = Limits {
    max_steps: 20_000,
    max_memory: 200_000,
};

/// Parses, compiles and evaluates `src`; only a panic or an overflow fails.
fn survive(src: &str) {
    let _ = parse(src);
    if let Ok(e) = Expression::compile(src, VARIABLES) {
        let _ = e.eval_with_limits(&env(), QUICK);
    }
}

#[test]
fn deep_nesting_and_long_chains_are_refused_or_evaluated_without_overflow() {
    const N: usize = 20_000;
    let cases = [
        "(".repeat(N),
        format!("{}1{}", "(".repeat(N), ")".repeat(N)),
        format!("{}1{}", "[".repeat(N), "]".repeat(N)),
        format!("{}1{}", "{a: ".repeat(N), "}".repeat(N)),
        format!("{}1", "-".repeat(N)),
        format!("{}true", "!".repeat(N)),
        format!("{}true", "not ".repeat(N)),
        format!("1{}", " + 1".repeat(N)),
        format!("1{}", " ** 1".repeat(N)),
        format!("x{}", " ?? x".repeat(N)),
        format!("true{}", " ? 1 : true".repeat(N)),
        format!("user{}", ".name".repeat(N)),
        format!("user{}", "?.name".repeat(N)),
        format!("user{}", "[0]".repeat(N)),
        format!("{}x{}", "len(".repeat(N), ")".repeat(N)),
        format!("{}x", "let v = 1; ".repeat(N)),
        format!("'{}", "\\".repeat(N)),
        "'\\u{d800}'".to_owned(),
        "'\\ud800'".to_owned(),
        "\"\\x\"".to_owned(),
        "'a\u{0}b' + \"\u{0}\"".to_owned(),
        "99999999999999999999999999999 + 1e400".to_owned(),
        "-9223372036854775808 / -1".to_owned(),
        "-9223372036854775808 % -1".to_owned(),
        "abs(-9223372036854775808)".to_owned(),
        "repeat('x', 9223372036854775807)".to_owned(),
        "1..9223372036854775807".to_owned(),
        "user.tags[-9223372036854775808]".to_owned(),
        "user.tags[9223372036854775807:]".to_owned(),
    ];
    for src in &cases {
        survive(src);
    }
}

fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        prop_oneof![
            Just("user.email".to_owned()),
            Just("userName".to_owned()),
            Just("emails[type eq \"work\"].value".to_owned()),
            Just("x ?? ".to_owned()),
            any::<String>(),
        ]
        .prop_map(serde_json::Value::String),
    ];
    let key = prop_oneof![
        Just("rows".to_owned()),
        Just("version".to_owned()),
        Just("target".to_owned()),
        Just("source".to_owned()),
        Just("expression".to_owned()),
        Just("kind".to_owned()),
        Just("applies".to_owned()),
        Just("email".to_owned()),
        Just("_id".to_owned()),
        Just("addresses".to_owned()),
        "[a-zA-Z_]{0,8}",
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A table pasted by an admin or restored from a store: reading, validating and
    /// compiling it ends in a table or an error.
    #[test]
    fn any_table_json_is_read_validated_and_compiled_without_panicking(doc in json()) {
        if let Ok(table) = MappingTable::from_json(&doc.to_string()) {
            let _ = table.validate();
            let _ = CompiledTable::compile(&table);
        }
    }

    #[test]
    fn any_jumpcloud_user_json_normalises_without_panicking(doc in json()) {
        let _ = normalize_jc_user(doc);
    }
}

/// The evaluator's shortcuts (a comparison tested in place in a predicate, a field read
/// where it is, `a + b + c` joined at once) count exactly the steps evaluating each
/// operation one by one counts, so a limit is reached at the same point either way. The
/// counts below are those of the general path, worked out by hand: an operation is one
/// step, `variable.field` two (the access and its chain), and so is `.field`.
#[test]
fn shortcuts_count_the_steps_of_the_general_path() {
    let cases = [
        // find 1, user.people 2, then per element: == 1, .name 2, 'Cy' 1.
        (
            "find(user.people, .name == 'Cy')",
            15,
            r#"{"age":30,"name":"Cy"}"#,
        ),
        (
            "find(user.people, #.age == 25)",
            11,
            r#"{"age":25,"name":"Al"}"#,
        ),
        ("count(user.people, .age != 30)", 15, "1"),
        // The outer +, the inner +, user.name 2, ' ' 1, user.name 2.
        ("user.name + ' ' + user.name", 7, r#""Ada Ada""#),
        ("user.name + ' ' + x", 6, "error"),
    ];
    for (src, steps, want) in cases {
        let e = match Expression::compile(src, VARIABLES) {
            Ok(e) => e,
            Err(err) => panic!("{src}: {err}"),
        };
        let limits = |max_steps| Limits {
            max_steps,
            ..Limits::default()
        };
        let enough = e.eval_with_limits(&env(), limits(steps));
        match enough {
            Ok(v) => assert_eq!(
                crate::gojson::to_json(&v).unwrap_or_default(),
                want,
                "{src}"
            ),
            Err(err) => assert!(
                want == "error" && !err.message.contains("steps"),
                "{src}: {err}"
            ),
        }
        let short = e.eval_with_limits(&env(), limits(steps - 1));
        assert!(
            short
                .as_ref()
                .is_err_and(|err| err.message.contains("exceeded")),
            "{src} within {} steps: {short:?}",
            steps - 1
        );
    }
}
