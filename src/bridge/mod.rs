//! The bridge: SCIM 2.0 over HTTP(S) with bearer tokens, in front of the directory.
//!
//! Cross-cutting concerns (metrics, auth and its throttle, body deadlines, limits, path
//! normalisation) are layers composed in `routes.rs`; handlers extract typed input and
//! call one directory function.

pub mod acme;
mod auth;
mod body;
mod bulk;
mod discovery;
mod health;
mod idle;
mod join;
pub mod metrics;
mod reply;
mod resources;
mod routes;
mod server;
pub mod throttle;
pub mod tls;
mod uri;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use acme::AcmeConfig;
pub use metrics::Metrics;
pub use server::{serve, serve_with, RunningBridge, ServeError};
pub use tls::TlsMode;

use crate::directory::Directory;
use crate::tokens::TokenVerifier;

/// Limits the bridge enforces and advertises.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body (bytes) outside Bulk.
    pub max_body: usize,
    /// Largest Bulk request body (bytes), advertised as `bulk.maxPayloadSize`.
    pub max_bulk_body: usize,
    /// Most operations in one Bulk request, advertised as `bulk.maxOperations`.
    pub max_bulk_operations: usize,
    /// Deepest JSON nesting accepted.
    pub max_json_depth: usize,
    /// Largest page, advertised as `filter.maxResults`.
    pub max_results: u64,
    /// Most connections served at once; one more is accepted and closed at once.
    pub max_connections: usize,
    /// Largest request head (request line and headers, bytes); larger ones get 431 over
    /// HTTP/1.1 and a stream reset over HTTP/2.
    pub max_header_bytes: usize,
    /// How long a client may take to send a request head (HTTP/1.1 slow-loris), and a
    /// new connection its first byte.
    pub header_read_timeout: Duration,
    /// How long a connection may stay open with no byte moving either way (an idle
    /// keep-alive or HTTP/2 connection); then it is closed and its slot freed.
    pub idle_timeout: Duration,
    /// How long a client may take to send a whole request body once its head arrived; a
    /// client that dribbles a body is answered 408 and disconnected.
    pub body_read_timeout: Duration,
    /// Failed authentications one source address may make per minute (token bucket with
    /// this many in the bucket); past that it is answered 429 until the bucket refills.
    /// Requests with a valid token are never counted nor throttled.
    pub auth_failures_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 1024 * 1024,
            max_bulk_body: 4 * 1024 * 1024,
            max_bulk_operations: 1000,
            max_json_depth: 32,
            max_results: 1000,
            max_connections: 1024,
            max_header_bytes: 64 * 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            body_read_timeout: Duration::from_secs(30),
            auth_failures_per_minute: 10,
        }
    }
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    pub listen: SocketAddr,
    /// The public host name (for the base URL and the self-signed certificate).
    pub hostname: Option<String>,
    pub tls: TlsMode,
    pub data_dir: PathBuf,
    pub limits: Limits,
}

/// What every handler shares: one allocation behind a pointer. Every layer and handler
/// takes its own copy of the state for each request; copying the fields themselves (a
/// dozen reference counts, the data path, the public origin) was a few percent of the
/// CPU a request costs.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    pub directory: Directory,
    pub verifier: TokenVerifier,
    pub limits: Arc<Limits>,
    /// `https://host:port` as clients reach us (no trailing slash), when configured.
    pub public_origin: Option<String>,
    pub tls_mode: &'static str,
    /// The certificate being served (None with `--tls none`), for `/health`.
    pub certificate: Option<Arc<tls::LiveCertificate>>,
    pub started: Instant,
    /// Failed authentications by source address.
    pub auth_throttle: Arc<throttle::AuthThrottle>,
    /// What `/metrics` shows.
    pub metrics: Metrics,
    /// Joining by invitation and single sign-on.
    pub sso: crate::sso::Sso,
}

impl Shared {
    /// The scheme clients reach this bridge by.
    pub fn scheme(&self) -> &'static str {
        if self.tls_mode == "none" {
            "http"
        } else {
            "https"
        }
    }

    /// The base URL of the SCIM API for links in responses.
    pub fn base_url(&self, headers: &axum::http::HeaderMap) -> String {
        match &self.public_origin {
            Some(origin) => format!("{origin}/scim/v2"),
            None => {
                let host = headers
                    .get(axum::http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("localhost");
                format!("{}://{host}/scim/v2", self.scheme())
            }
        }
    }
}
