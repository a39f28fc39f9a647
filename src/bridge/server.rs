//! The accept loop: TCP (and TLS), HTTP/1.1 and HTTP/2, a cap on connections, and a
//! graceful shutdown that lets in-flight requests (and so their writes) finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Extension;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

use super::acme::{self, AcmeError, AcmeHandle};
use super::idle::IdleTimeout;
use super::throttle::{AuthThrottle, MAX_TRACKED_SOURCES};
use super::tls::{self, TlsError, TlsMode};
use super::{routes, AppState, BridgeConfig, Metrics, Shared};
use crate::directory::Directory;
use crate::tokens::TokenVerifier;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Acme(#[from] AcmeError),
    #[error("cannot start single sign-on: {0}")]
    Sso(#[from] crate::sso::SsoError),
}

/// How long a TLS handshake may take before the connection is dropped (slow-loris
/// protection; the request head's own limit is `Limits::header_read_timeout`).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// hyper's smallest allowed HTTP/1.1 read buffer.
const MIN_HTTP1_BUFFER: usize = 8192;
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A bridge that is serving; dropping it does not stop it, `shutdown` does.
pub struct RunningBridge {
    pub local_addr: SocketAddr,
    /// The SCIM base URL to paste into the identity provider.
    pub base_url: String,
    /// The certificate being served (None with `--tls none`).
    pub certificate: Option<Arc<tls::LiveCertificate>>,
    acme: Option<AcmeHandle>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningBridge {
    /// Stops accepting, lets in-flight requests finish (bounded), and returns.
    pub async fn shutdown(self) {
        if let Some(acme) = self.acme {
            acme.stop().await;
        }
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// The ACME renewal task, with `--tls acme`.
    pub fn acme(&self) -> Option<&AcmeHandle> {
        self.acme.as_ref()
    }

    /// Waits until the bridge stops by itself (it does not, unless shut down).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Starts serving `directory` as `config` says, with joining by invitation but no secret
/// store (so no single sign-on).
pub async fn serve(
    config: BridgeConfig,
    directory: Directory,
) -> Result<RunningBridge, ServeError> {
    let sso = crate::sso::Sso::new(
        directory.store().clone(),
        None,
        Arc::new(crate::sso::SystemClock),
    )?;
    serve_with(config, directory, sso).await
}

/// Starts serving `directory` with `sso` answering the join pages.
pub async fn serve_with(
    config: BridgeConfig,
    directory: Directory,
    sso: crate::sso::Sso,
) -> Result<RunningBridge, ServeError> {
    let hostname = config
        .hostname
        .clone()
        .unwrap_or_else(|| config.listen.ip().to_string());
    let tls = tls::prepare(&config.tls, &config.data_dir, &hostname)?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let host_for_url = match &config.hostname {
        Some(h) => h.clone(),
        None if local_addr.ip().is_unspecified() => "localhost".to_owned(),
        None => local_addr.ip().to_string(),
    };
    let default_port = if tls.is_some() { 443 } else { 80 };
    let origin = if local_addr.port() == default_port {
        format!("{scheme}://{}", bracket(&host_for_url))
    } else {
        format!(
            "{scheme}://{}:{}",
            bracket(&host_for_url),
            local_addr.port()
        )
    };
    let metrics = Metrics::new();
    if let Some(prepared) = &tls {
        // The gauge follows every certificate the listener serves, ACME renewals included.
        let metrics = metrics.clone();
        prepared.certificate.on_change(move |info| {
            metrics.set_certificate_expiry(info.not_after.unix_timestamp());
        });
    }
    sso.set_runtime_public_url(&origin);
    let state = AppState::new(Shared {
        directory: directory.clone(),
        verifier: TokenVerifier::new(directory.store().clone()),
        limits: Arc::new(config.limits.clone()),
        public_origin: config.hostname.as_ref().map(|_| origin.clone()),
        tls_mode: config.tls.name(),
        certificate: tls.as_ref().map(|t| t.certificate.clone()),
        started: Instant::now(),
        auth_throttle: Arc::new(AuthThrottle::new(
            config.limits.auth_failures_per_minute,
            MAX_TRACKED_SOURCES,
        )),
        metrics: metrics.clone(),
        sso,
    });
    let acme = match (&config.tls, &tls) {
        (TlsMode::Acme(acme_config), Some(prepared)) => Some(
            acme::start(acme::AcmeStart {
                config: acme_config,
                data_dir: &config.data_dir,
                hostname: config.hostname.as_deref(),
                https_addr: local_addr,
                https_origin: &origin,
                certificate: prepared.certificate.clone(),
            })
            .await?,
        ),
        _ => None,
    };
    let certificate = tls.as_ref().map(|t| t.certificate.clone());
    let app = NormalizePathLayer::trim_trailing_slash().layer(routes::router(state));
    let (stop, mut stopped) = watch::channel(false);
    let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.config));
    let connections = Arc::new(Semaphore::new(config.limits.max_connections.max(1)));
    let limits = config.limits.clone();
    let task = tokio::spawn(async move {
        let graceful = GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(limits.max_header_bytes.max(MIN_HTTP1_BUFFER));
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(256)
            .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
        loop {
            let (stream, peer) = tokio::select! {
                _ = stopped.changed() => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = connections.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "too many connections; refusing one");
                metrics.connection_refused();
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            // A silent or idle connection must not hold its slot for ever.
            let stream = IdleTimeout::new(stream, limits.header_read_timeout, limits.idle_timeout);
            // The peer's address travels with each request (the auth throttle keys on it).
            let service = TowerToHyperService::new(Extension(ConnectInfo(peer)).layer(app.clone()));
            let builder = builder.clone();
            let watcher = graceful.watcher();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _permit = permit;
                match acceptor {
                    Some(acceptor) => {
                        let tls_stream =
                            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                                .await
                            {
                                Ok(Ok(s)) => s,
                                Ok(Err(e)) => {
                                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => return,
                            };
                        // A TLS-ALPN-01 validation only needs the handshake.
                        if tls_stream.get_ref().1.alpn_protocol() == Some(tls::ACME_TLS_ALPN) {
                            return;
                        }
                        let conn = builder
                            .serve_connection_with_upgrades(TokioIo::new(tls_stream), service);
                        let _ = watcher.watch(conn.into_owned()).await;
                    }
                    None => {
                        let conn =
                            builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                        let _ = watcher.watch(conn.into_owned()).await;
                    }
                }
            });
        }
        drop(listener);
        if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                "some connections were still open after {DRAIN_TIMEOUT:?}; closing them"
            );
        }
    });
    Ok(RunningBridge {
        local_addr,
        base_url: format!("{origin}/scim/v2"),
        certificate,
        acme,
        stop,
        task,
    })
}

fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}
