use crate::{Expression, Value};

/// The variables every test expression sees: `x` = 5 and a small `user` record.
pub const VARIABLES: &[&str] = &["x", "user"];

pub fn env() -> Vec<Value> {
    vec![
        Value::Int(5),
        Value::from_json(&serde_json::json!({
            "name": "Ada",
            "tags": ["a", "b", "c"],
            "address": {"city": "Paris"},
            "nothing": null,
            "people": [{"name": "Bo", "age": 30}, {"name": "Al", "age": 25}, {"name": "Cy", "age": 30}]
        })),
    ]
}

/// Evaluates `src` and prints the result as Go's JSON, or `error: <message>`.
pub fn run(src: &str) -> String {
    match Expression::compile(src, VARIABLES).and_then(|e| e.eval(&env())) {
        Ok(v) => crate::gojson::to_json(&v).unwrap_or_else(|e| format!("JSON error: {e}")),
        Err(e) => format!("error: {}", e.message),
    }
}

/// The full, positioned error text of `src`.
pub fn error(src: &str) -> String {
    match Expression::compile(src, VARIABLES).and_then(|e| e.eval(&env())) {
        Ok(v) => format!("no error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts each `(source, expected JSON or "error: message")` pair.
pub fn check(cases: &[(&str, &str)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(src, want)| {
            let got = run(src);
            (got != *want).then(|| format!("{src}\n    want {want}\n    got  {got}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
