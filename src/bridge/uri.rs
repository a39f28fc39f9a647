//! Refuses request URLs whose path or query string does not percent-decode to UTF-8,
//! with a SCIM error. Without this, axum's `Path` extractor answers `/Users/%FF` with a
//! plain-text 400 that no SCIM client can read, and its `Query` extractor silently
//! replaces the bad bytes with U+FFFD, so `filter=userName eq "%FF"` would search for
//! a value the client never sent.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use keybridge_scim::ScimError;

use super::{reply, AppState};
use crate::directory::{audit, Actor};

/// The layer: passes the request on only if its path and query are UTF-8 once decoded.
/// A refusal is audited like any other refused request (it runs after authentication).
pub async fn require_utf8(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let uri = request.uri();
    let bad = if !decodes_to_utf8(uri.path()) {
        "path"
    } else if !uri.query().is_none_or(decodes_to_utf8) {
        "query string"
    } else {
        return next.run(request).await;
    };
    let e = ScimError::invalid_syntax(format!(
        "the request's {bad} is not UTF-8 once percent-decoded; percent-encode ids, filters and other parameters as UTF-8"
    ));
    let actor = request.extensions().get::<Actor>();
    if let (Some(actor), Some(event)) = (actor, event_for(request.method(), uri.path())) {
        state.directory.record_failure(event, actor, &e).await;
    }
    reply::error(&e)
}

/// The audit event a request to `path` would have written; none outside the resources.
fn event_for(method: &Method, path: &str) -> Option<&'static str> {
    let (lookup, create, update, delete) = if path.contains("/Groups") {
        (
            audit::GROUP_LOOKUP,
            audit::GROUP_CREATE,
            audit::GROUP_UPDATE,
            audit::GROUP_DELETE,
        )
    } else if path.contains("/Users") {
        (
            audit::USER_LOOKUP,
            audit::USER_CREATE,
            audit::USER_UPDATE,
            audit::USER_DELETE,
        )
    } else {
        return None;
    };
    Some(match *method {
        Method::GET => lookup,
        Method::POST if path.ends_with("/.search") => lookup,
        Method::POST => create,
        Method::DELETE => delete,
        _ => update,
    })
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
    use super::*;

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

    #[test]
    fn refusals_are_audited_under_the_resource_they_address() {
        assert_eq!(
            event_for(&Method::GET, "/scim/v2/Users/%FF"),
            Some(audit::USER_LOOKUP)
        );
        assert_eq!(
            event_for(&Method::PATCH, "/scim/Groups/%FF"),
            Some(audit::GROUP_UPDATE)
        );
        assert_eq!(
            event_for(&Method::POST, "/scim/v2/Groups/.search"),
            Some(audit::GROUP_LOOKUP)
        );
        assert_eq!(
            event_for(&Method::DELETE, "/scim/v2/Users/x"),
            Some(audit::USER_DELETE)
        );
        assert_eq!(event_for(&Method::GET, "/scim/v2/Schemas/%FF"), None);
    }
}
