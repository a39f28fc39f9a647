use crate::{Expression, Value};

/// Evaluates `src` with no variables and prints the result as Go's JSON.
pub fn run(src: &str) -> String {
    match Expression::compile(src, &["x", "user"]) {
        Ok(e) => match e.eval(&[Value::Int(5), user()]) {
            Ok(v) => crate::gojson::to_json(&v).unwrap_or_else(|e| format!("JSON error: {e}")),
            Err(e) => format!("error: {}", e.message),
        },
        Err(e) => format!("error: {}", e.message),
    }
}

/// The full error text of `src`.
pub fn error(src: &str) -> String {
    let result = Expression::compile(src, &["x", "user"]).and_then(|e| e.eval(&[Value::Int(5), user()]));
    match result {
        Ok(v) => format!("no error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

pub fn user() -> Value {
    Value::from_json(&serde_json::json!({
        "name": "Ada",
        "tags": ["a", "b", "c"],
        "address": {"city": "Paris"},
        "nothing": null
    }))
}
