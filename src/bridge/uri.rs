//! Refuses request URLs whose path or query string does not percent-decode to UTF-8,
//! with a SCIM error. Without this, axum's `Path` extractor answers `/Users/%FF` with a
//! plain-text 400 that no SCIM client can read, and its `Query` extractor silently
//! replaces the bad bytes with U+FFFD, so `filter=userName eq "%FF"` would search for
//! a value the client never sent.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use keybridge_scim::ScimError;

use super::reply;

/// The layer: passes the request on only if its path and query are UTF-8 once decoded.
pub async fn require_utf8(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let bad = if !decodes_to_utf8(uri.path()) {
        Some("path")
    } else if !uri.query().is_none_or(decodes_to_utf8) {
        Some("query string")
    } else {
        None
    };
    match bad {
        Some(part) => reply::error(&ScimError::invalid_syntax(format!(
            "the request's {part} is not UTF-8 once percent-decoded; percent-encode ids, filters and other parameters as UTF-8"
        ))),
        None => next.run(request).await,
    }
}

/// Whether `s` percent-decodes to UTF-8. A `%` not followed by two hex digits stays a
/// literal `%`, as the URL decoders behind axum's extractors treat it. Splitting at `&`,
/// `=` or `/` first would not change the answer: they are ASCII, so they never fall
/// inside a multi-byte sequence.
fn decodes_to_utf8(s: &str) -> bool {
    if !s.contains('%') {
        return true;
    }
    let bytes = s.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match escaped {
            Some(b) => {
                decoded.push(b);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded).is_ok()
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::decodes_to_utf8;

    #[test]
    fn percent_escapes_must_spell_utf8() {
        for ok in [
            "/scim/v2/Users/abc",
            "a=%C3%A9",
            "%E2%98%83",
            "100%",
            "%zz",
            "%4",
            "%00",
        ] {
            assert!(decodes_to_utf8(ok), "{ok}");
        }
        for bad in ["%FF", "a=%C3", "%C0%AF", "%ED%A0%80", "x=%F0%9F%98"] {
            assert!(!decodes_to_utf8(bad), "{bad}");
        }
    }
}
