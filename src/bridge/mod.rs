//! The bridge: SCIM 2.0 over HTTP(S) with bearer tokens, in front of the directory.
//!
//! Cross-cutting concerns (auth, limits, path normalisation) are layers composed in
//! `routes.rs`; handlers extract typed input and call one directory function.

mod auth;
mod body;
mod bulk;
mod discovery;
mod health;
mod reply;
mod resources;
mod routes;
mod server;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub use server::{serve, RunningBridge, ServeError};
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
    /// Most connections served at once.
    pub max_connections: usize,
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

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub directory: Directory,
    pub verifier: TokenVerifier,
    pub limits: Arc<Limits>,
    /// `https://host:port` as clients reach us (no trailing slash), when configured.
    pub public_origin: Option<String>,
    pub tls_mode: &'static str,
    pub started: Instant,
}

impl AppState {
    /// The base URL of the SCIM API for links in responses.
    pub fn base_url(&self, headers: &axum::http::HeaderMap, scheme: &str) -> String {
        let origin = match &self.public_origin {
            Some(o) => o.clone(),
            None => {
                let host = headers
                    .get(axum::http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("localhost");
                format!("{scheme}://{host}")
            }
        };
        format!("{origin}/scim/v2")
    }
}
