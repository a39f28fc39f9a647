//! The plain-HTTP listener for HTTP-01 challenges (port 80 by default).
//!
//! It answers `/.well-known/acme-challenge/TOKEN` and nothing else: GET and HEAD elsewhere
//! are redirected to the HTTPS origin, other methods get 404, because a redirected POST
//! would only make a client resend its body (and token) in the clear a second time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use super::AcmeError;

/// Challenge tokens in flight and their key authorizations.
#[derive(Debug, Clone, Default)]
pub(super) struct Http01Tokens(Arc<Mutex<HashMap<String, String>>>);

impl Http01Tokens {
    pub(super) fn insert(&self, token: &str, key_authorization: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.to_owned(), key_authorization.to_owned());
    }

    pub(super) fn remove(&self, token: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(token);
    }

    fn get(&self, token: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .cloned()
    }
}

/// A validation request is one small GET; nothing on this port needs longer.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Validation comes from a handful of CA vantage points at a time.
const MAX_CONNECTIONS: usize = 64;

pub(super) struct Http01Listener {
    pub(super) addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Http01Listener {
    pub(super) async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

#[derive(Clone)]
struct Http01State {
    tokens: Http01Tokens,
    https_origin: Arc<str>,
}

/// Binds `addr` now (so a port that cannot be had fails the start, not a renewal months
/// later) and serves challenges from `tokens`.
pub(super) async fn start(
    addr: SocketAddr,
    tokens: Http01Tokens,
    https_origin: &str,
) -> Result<Http01Listener, AcmeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| AcmeError::BindHttp { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| AcmeError::BindHttp { addr, source })?;
    let app = Router::new()
        .route("/.well-known/acme-challenge/{token}", get(answer))
        .fallback(elsewhere)
        .with_state(Http01State {
            tokens,
            https_origin: Arc::from(https_origin),
        });
    let (stop, mut stopped) = watch::channel(false);
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let task = tokio::spawn(async move {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT);
        let builder = builder.http1_only();
        loop {
            let stream = tokio::select! {
                _ = stopped.changed() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "HTTP-01 listener: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = connections.clone().try_acquire_owned() else {
                continue;
            };
            let service = TowerToHyperService::new(app.clone());
            let builder = builder.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let _ = tokio::time::timeout(CONNECTION_TIMEOUT, conn).await;
            });
        }
    });
    Ok(Http01Listener { addr, stop, task })
}

async fn answer(State(state): State<Http01State>, Path(token): Path<String>) -> Response {
    match state.tokens.get(&token) {
        Some(key_authorization) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            key_authorization,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn elsewhere(State(state): State<Http01State>, method: Method, uri: Uri) -> Response {
    if method == Method::GET || method == Method::HEAD {
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let location = format!("{}{}", state.https_origin, path);
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
        )
            .into_response();
    }
    (
        StatusCode::NOT_FOUND,
        "Keybridge serves only HTTPS; this port answers ACME challenges.\n",
    )
        .into_response()
}
