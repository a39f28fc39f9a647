//! `/ping` (unauthenticated liveness) and `/health` (authenticated, per component).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::tls::CertificateSource;
use super::{reply, AppState};
use crate::store::people;

pub async fn ping() -> Response {
    (StatusCode::OK, "pong\n").into_response()
}

pub async fn health(State(state): State<AppState>) -> Response {
    let store = state
        .directory
        .store()
        .read(|conn| -> Result<_, crate::store::StoreError> {
            let ok: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
            Ok((ok, people::count_by_state(conn)?))
        })
        .await;
    let (store_state, counts) = match store {
        Ok((ok, counts)) if ok == "ok" => (json!({"status": "ok"}), counts),
        Ok((problem, counts)) => (json!({"status": "degraded", "detail": problem}), counts),
        Err(e) => (
            json!({"status": "down", "detail": e.to_string()}),
            Vec::new(),
        ),
    };
    let healthy = store_state["status"] == "ok";
    let people: serde_json::Map<String, serde_json::Value> = counts
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
        .collect();
    let body = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeSeconds": state.started.elapsed().as_secs(),
        "components": {
            "store": store_state,
            "tls": tls_component(&state),
        },
        "people": people,
    });
    reply::json(
        if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        &body,
    )
}

/// Days of validity below which the certificate is reported as `expiring`: ACME renews at
/// 30, so reaching 14 means renewals have been failing for two weeks.
const EXPIRING_DAYS: i64 = 14;

/// The served certificate: mode, subject, issuer, validity, and with ACME the renewal
/// schedule and its last error. `status` is `ok`, `pending` (ACME has not issued yet; a
/// self-signed stand-in is served), `expiring` or `expired`.
fn tls_component(state: &AppState) -> serde_json::Value {
    let Some(live) = &state.certificate else {
        return json!({"status": "ok", "mode": state.tls_mode});
    };
    let served = live.current();
    let now = time::OffsetDateTime::now_utc();
    let days_left = served.info.days_left(now);
    let status = if served.info.not_after <= now {
        "expired"
    } else if served.source == CertificateSource::AcmePending {
        "pending"
    } else if days_left < EXPIRING_DAYS {
        "expiring"
    } else {
        "ok"
    };
    let mut body = json!({
        "status": status,
        "mode": state.tls_mode,
        "source": served.source,
        "certificate": served.info,
        "expiresInDays": days_left,
    });
    if let Some(renewal) = live.renewal() {
        body["acme"] = json!(renewal);
    }
    body
}
