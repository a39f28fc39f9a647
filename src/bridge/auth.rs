//! Bearer-token authentication as a layer: a request reaches a handler only with a valid
//! token, and carries the token's name (for the audit log) as an `Actor`. Failures are
//! throttled per source address (see `throttle.rs`).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use keybridge_scim::ScimError;

use super::throttle::Verdict;
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

/// The peer's address, put on every request by the accept loop.
fn peer_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        // Without one (a router served by something else) every failure shares one
        // bucket: stricter, never looser.
        .unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED))
}

/// Lets a request through only with a valid token. The token is checked first, so a
/// valid token is never throttled; only failures count towards the per-address limit,
/// and only failures are answered 429.
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
            let peer = peer_ip(&req);
            match state.auth_throttle.record_failure(peer, Instant::now()) {
                Verdict::Refuse { first } => {
                    let attempted = req.headers().contains_key(header::AUTHORIZATION);
                    let path = req.uri().path().to_owned();
                    refuse(&state, attempted, &path, peer, first).await
                }
                Verdict::Throttle { retry_after, first } => {
                    throttle(&req, peer, retry_after, first)
                }
            }
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

/// 401 with a hint of what to fix. Logged loudly for the first failure of a series and
/// quietly for the rest, so a flood does not flood the log.
async fn refuse(
    state: &AppState,
    attempted: bool,
    path: &str,
    peer: IpAddr,
    first: bool,
) -> Response {
    let detail = if attempted {
        "the bearer token is not valid; issue a new one with `keybridge token issue` and update the identity provider"
    } else {
        "authentication required: send 'Authorization: Bearer <token>'"
    };
    if first {
        tracing::warn!(%peer, path, "rejected a request without a valid token");
    } else {
        tracing::debug!(%peer, path, "rejected a request without a valid token");
    }
    record_rejection(state, detail).await;
    let mut resp = reply::error(&ScimError::new(401, None, detail));
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"Keybridge\""),
    );
    resp
}

/// 429 with `Retry-After`: too many failed authentications from this address.
fn throttle(req: &Request, peer: IpAddr, retry_after: Duration, first: bool) -> Response {
    let secs = retry_after.as_secs().max(1);
    if first {
        tracing::warn!(%peer, retry_after_secs = secs, "too many failed authentications from one address; throttling it");
    } else {
        tracing::debug!(%peer, path = %req.uri().path(), "throttled a failed authentication");
    }
    let mut resp = reply::error(&ScimError::new(
        StatusCode::TOO_MANY_REQUESTS.as_u16(),
        None,
        format!(
            "too many failed authentications from this address; retry in {secs} s with a valid token"
        ),
    ));
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    resp
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
