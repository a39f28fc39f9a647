//! Bearer-token authentication as a layer: a request reaches a handler only with a valid
//! token, and carries the token's name (for the audit log) as an `Actor`.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use keybridge_scim::ScimError;

use super::{reply, AppState};
use crate::directory::Actor;

/// The token from `Authorization: Bearer …` (scheme case-insensitive).
fn bearer(req: &Request) -> Option<&str> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

pub async fn require_token(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let verified = match bearer(&req) {
        Some(token) => state.verifier.verify(token).await,
        None => Ok(None),
    };
    match verified {
        Ok(Some(name)) => {
            req.extensions_mut().insert(Actor(name));
            next.run(req).await
        }
        Ok(None) => {
            let detail = if req.headers().contains_key(header::AUTHORIZATION) {
                "the bearer token is not valid; issue a new one with `keybridge token issue` and update the identity provider"
            } else {
                "authentication required: send 'Authorization: Bearer <token>'"
            };
            tracing::warn!(path = %req.uri().path(), "rejected a request without a valid token");
            record_rejection(&state, detail).await;
            let mut resp = reply::error(&ScimError::new(401, None, detail));
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"Keybridge\""),
            );
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "could not check a token");
            reply::error(&ScimError::new(
                StatusCode::SERVICE_UNAVAILABLE.as_u16(),
                None,
                "cannot check tokens right now; retry",
            ))
        }
    }
}

/// Failed authentications go to the audit log, at most one event a second: enough for an
/// admin to see that an identity provider holds a wrong token, without letting a flood of
/// bad requests flood the log.
async fn record_rejection(state: &AppState, detail: &str) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST_SECOND: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if LAST_SECOND.swap(now, Ordering::Relaxed) == now {
        return;
    }
    let e = ScimError::new(401, None, detail);
    state
        .directory
        .record_failure(
            crate::directory::audit::INTEGRATION_REAUTH,
            &Actor("unauthenticated".into()),
            &e,
        )
        .await;
}
