//! Reading a JSON request body within the limits: size, nesting depth, media type.

use axum::body::Body;
use axum::http::{header, HeaderMap};
use http_body_util::BodyExt;
use keybridge_scim::ScimError;
use serde_json::Value;

/// Reads and parses a JSON body of at most `max` bytes and `max_depth` nesting levels.
pub async fn read_json(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    max_depth: usize,
) -> Result<Value, ScimError> {
    check_content_type(headers)?;
    let limited = http_body_util::Limited::new(body, max);
    let bytes = match limited.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return Err(ScimError::new(
                    413,
                    None,
                    format!("the request body is larger than the {max} bytes allowed"),
                ));
            }
            return Err(ScimError::invalid_syntax(
                "the request body could not be read",
            ));
        }
    };
    parse_json(&bytes, max_depth)
}

/// Parses JSON after checking its nesting depth, so a deeply nested body is refused
/// before the parser recurses into it.
pub fn parse_json(bytes: &[u8], max_depth: usize) -> Result<Value, ScimError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::invalid_syntax(
            "the request body is empty; send a JSON object",
        ));
    }
    if nesting_depth(bytes) > max_depth {
        return Err(ScimError::invalid_syntax(format!(
            "the JSON body is nested deeper than {max_depth} levels"
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ScimError::invalid_syntax(format!(
            "the request body is not valid JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// The deepest nesting of `[`/`{` outside strings.
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// SCIM bodies are `application/scim+json`; plain `application/json` is accepted too (as
/// real clients send it), and so is a missing header. Anything else is refused.
fn check_content_type(headers: &HeaderMap) -> Result<(), ScimError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let ct = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if ct == "application/scim+json" || ct == "application/json" || ct.ends_with("+json") {
        Ok(())
    } else {
        Err(ScimError::new(
            415,
            Some(keybridge_scim::ScimType::InvalidSyntax),
            format!(
                "the request body must be application/scim+json (or application/json), not '{ct}'"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_brackets_outside_strings_only() {
        assert_eq!(nesting_depth(br#"{"a":[1,{"b":"[[[{{{"}]}"#), 3);
        assert_eq!(nesting_depth(br#""\"[""#), 0);
    }

    #[test]
    fn deep_json_is_refused_before_parsing() {
        let deep = "[".repeat(10_000);
        let e = parse_json(deep.as_bytes(), 32).expect_err("deep");
        assert_eq!(e.status, 400);
        assert!(e.detail.contains("nested deeper"));
    }

    #[test]
    fn malformed_json_names_the_position() {
        let e = parse_json(b"{\"a\": }", 32).expect_err("bad");
        assert!(e.detail.contains("line 1"), "{}", e.detail);
    }
}
