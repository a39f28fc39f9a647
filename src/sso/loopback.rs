//! The loopback redirect for signing in from the CLI (and the app): a one-shot listener on
//! 127.0.0.1 with an ephemeral port (RFC 8252 §7.3). It accepts exactly one response
//! carrying the expected `state`; a response with another state, or the same one again,
//! is refused and does not end the wait.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use tokio::sync::{mpsc, watch};

use super::oidc::{Callback, SignInError};
use super::LOOPBACK_REDIRECT_PATH;

#[derive(Default)]
struct Expect {
    state: Option<String>,
    consumed: bool,
}

#[derive(Clone)]
struct Shared {
    expect: Arc<Mutex<Expect>>,
    accepted: mpsc::Sender<Callback>,
}

/// A listening loopback redirect.
pub struct Loopback {
    pub addr: SocketAddr,
    expect: Arc<Mutex<Expect>>,
    accepted: mpsc::Receiver<Callback>,
    stop: watch::Sender<bool>,
}

impl Loopback {
    /// Binds 127.0.0.1 on a port the system picks.
    pub async fn bind() -> std::io::Result<Loopback> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(1);
        let expect = Arc::new(Mutex::new(Expect::default()));
        let shared = Shared {
            expect: expect.clone(),
            accepted: tx,
        };
        let app = Router::new()
            .route(LOOPBACK_REDIRECT_PATH, get(callback))
            .with_state(shared);
        let (stop, mut stopped) = watch::channel(false);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.changed().await;
                })
                .await;
        });
        Ok(Loopback {
            addr,
            expect,
            accepted: rx,
            stop,
        })
    }

    /// The redirect URI to send to the identity provider.
    pub fn redirect_uri(&self) -> String {
        format!("http://{}{LOOPBACK_REDIRECT_PATH}", self.addr)
    }

    /// Waits for the response to the sign-in whose state is `state`, and returns its
    /// authorization code.
    pub async fn wait(mut self, state: &str, timeout: Duration) -> Result<String, SignInError> {
        if let Ok(mut e) = self.expect.lock() {
            e.state = Some(state.to_owned());
        }
        let got = tokio::time::timeout(timeout, self.accepted.recv()).await;
        let _ = self.stop.send(true);
        match got {
            Ok(Some(cb)) => cb.into_code(),
            Ok(None) => Err(SignInError::Setup("the loopback listener stopped".into())),
            Err(_) => Err(SignInError::TimedOut(timeout.as_secs())),
        }
    }
}

async fn callback(
    State(shared): State<Shared>,
    Query(cb): Query<Callback>,
) -> (StatusCode, Html<&'static str>) {
    let verdict = {
        let Ok(mut e) = shared.expect.lock() else {
            return (StatusCode::INTERNAL_SERVER_ERROR, Html("Keybridge failed."));
        };
        match (&e.state, &cb.state) {
            (Some(want), Some(got)) if want == got && !e.consumed => {
                e.consumed = true;
                Ok(())
            }
            (Some(want), Some(got)) if want == got => {
                Err("This sign-in response was already used; a replayed response is refused.")
            }
            _ => Err(
                "This sign-in response does not belong to the sign-in Keybridge is waiting for.",
            ),
        }
    };
    match verdict {
        Ok(()) => {
            let _ = shared.accepted.send(cb).await;
            (
                StatusCode::OK,
                Html("<!doctype html><title>Keybridge</title><p>Signed in. You can close this window and go back to Keybridge.</p>"),
            )
        }
        Err(msg) => (StatusCode::BAD_REQUEST, Html(msg)),
    }
}
