//! Reading a JSON request body within the limits: size, time, nesting depth, media type.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Version};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use keybridge_scim::ScimError;
use serde_json::Value;
use tokio::time::Sleep;

use super::AppState;

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
            if let Some(late) = find_cause::<BodyTimedOut>(&*e) {
                return Err(ScimError::new(
                    408,
                    None,
                    format!(
                        "the request body did not arrive within {} s; send it at once",
                        late.0.as_secs()
                    ),
                ));
            }
            return Err(ScimError::invalid_syntax(
                "the request body could not be read",
            ));
        }
    };
    parse_json(&bytes, max_depth)
}

/// `err` or one of its sources, if one is an `E`.
fn find_cause<'a, E: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a E> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        cur = e.source();
    }
    None
}

/// The body of a request did not arrive within `Limits::body_read_timeout`.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(pub Duration);

/// A request body that fails once its deadline passes, so a client dribbling a body
/// cannot hold a connection (and a handler) for ever.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
    expired: Arc<AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(BodyTimedOut(self.timeout).into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Layer function: gives every request body `Limits::body_read_timeout` from now to
/// arrive. When it did not, the answer (408, from `read_json`) closes an HTTP/1.1
/// connection, whose unread rest of the body would otherwise be the next "request".
pub async fn body_deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let timeout = state.limits.body_read_timeout;
    let expired = Arc::new(AtomicBool::new(false));
    let version = req.version();
    let req = req.map(|inner| {
        Body::new(DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            timeout,
            expired: expired.clone(),
        })
    });
    let mut resp = next.run(req).await;
    if expired.load(Ordering::Relaxed) && version <= Version::HTTP_11 {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
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
