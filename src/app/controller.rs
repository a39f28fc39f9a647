//! The bridge controller: start, stop and status of one bridge, as a state machine.
//!
//! Transitions are serialised (a start and a stop clicked at once run one after the
//! other, never interleaved). Stopping stops accepting connections and waits for the
//! requests in flight, so every write a client sent before the stop either commits and
//! is answered, or never started: none is lost half-way. The store stays open across
//! stops; only the HTTP side goes away.

use std::time::Instant;

use serde::Serialize;
use tokio::sync::{watch, Mutex};

use crate::bridge::{self, BridgeConfig, RunningBridge, ServeError};
use crate::directory::Directory;

/// Where the bridge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum BridgeState {
    Stopped,
    Starting,
    Running,
    Stopping,
    /// The last start failed; `error` says why. Starting again is allowed.
    Failed,
}

/// The bridge as the tray and the Overview show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BridgeStatus {
    pub state: BridgeState,
    /// The SCIM base URL to paste into the identity provider, while running.
    pub base_url: Option<String>,
    /// The address actually bound (`0.0.0.0:8443`), while running.
    pub local_addr: Option<String>,
    /// When it started (RFC 3339), while running.
    pub started_at: Option<String>,
    pub uptime_seconds: Option<u32>,
    /// What went wrong and what to do, when `state` is `failed`.
    pub error: Option<String>,
}

impl BridgeStatus {
    fn stopped() -> BridgeStatus {
        BridgeStatus {
            state: BridgeState::Stopped,
            base_url: None,
            local_addr: None,
            started_at: None,
            uptime_seconds: None,
            error: None,
        }
    }

    fn with_state(state: BridgeState) -> BridgeStatus {
        BridgeStatus {
            state,
            ..BridgeStatus::stopped()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("the bridge cannot start: {source}. {hint}")]
    Start {
        source: ServeError,
        hint: &'static str,
    },
}

fn hint_for(e: &ServeError) -> &'static str {
    match e {
        ServeError::Bind { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse => {
            "Another program uses that port: stop it, or choose another port in Settings"
        }
        ServeError::Bind { source, .. }
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            "Ports below 1024 need administrator rights: choose a port such as 8443 in Settings"
        }
        ServeError::Bind { .. } => {
            "Check the listen address in Settings: it must be an address of this machine"
        }
        ServeError::Tls(_) => "Check the TLS mode and certificate files in Settings",
        ServeError::Sso(_) => "Check the single sign-on settings, or turn single sign-on off",
        ServeError::Acme(_) => {
            "The ACME certificate could not be obtained: check the host name and that ports 80 or 443 reach this machine"
        }
    }
}

/// How often a serving bridge mails due invitations and signs out people who missed
/// their SSO deadline.
const BACKGROUND_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

const BACKGROUND_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

struct Live {
    bridge: RunningBridge,
    /// Invitation mail and SSO deadlines, while the bridge serves.
    background: (watch::Sender<bool>, tokio::task::JoinHandle<()>),
    since: Instant,
    started_at: String,
}

/// Starts and stops the bridge; cheap to clone, every clone controls the same bridge.
#[derive(Clone)]
pub struct BridgeController {
    live: std::sync::Arc<Mutex<Option<Live>>>,
    status: std::sync::Arc<watch::Sender<BridgeStatus>>,
}

impl Default for BridgeController {
    fn default() -> Self {
        BridgeController::new()
    }
}

impl BridgeController {
    pub fn new() -> BridgeController {
        let (status, _) = watch::channel(BridgeStatus::stopped());
        BridgeController {
            live: std::sync::Arc::new(Mutex::new(None)),
            status: std::sync::Arc::new(status),
        }
    }

    /// The status now, with the uptime computed at this moment.
    pub fn status(&self) -> BridgeStatus {
        let mut s = self.status.borrow().clone();
        if s.state == BridgeState::Running {
            if let Ok(live) = self.live.try_lock() {
                if let Some(live) = live.as_ref() {
                    s.uptime_seconds =
                        Some(u32::try_from(live.since.elapsed().as_secs()).unwrap_or(u32::MAX));
                }
            }
        }
        s
    }

    /// Notified at every transition (the tray icon follows it).
    pub fn subscribe(&self) -> watch::Receiver<BridgeStatus> {
        self.status.subscribe()
    }

    /// Starts serving `directory` as `config` says, with `sso` answering the join pages
    /// and running its background duties (invitation mail, SSO deadlines) while the
    /// bridge serves. Starting a running bridge changes nothing and answers its status.
    pub async fn start(
        &self,
        config: BridgeConfig,
        directory: Directory,
        sso: crate::sso::Sso,
    ) -> Result<BridgeStatus, ControllerError> {
        let mut live = self.live.lock().await;
        if live.is_some() {
            return Ok(self.status());
        }
        self.status
            .send_replace(BridgeStatus::with_state(BridgeState::Starting));
        match bridge::serve_with(config, directory, sso.clone()).await {
            Ok(bridge) => {
                let (stop_background, stopped) = watch::channel(false);
                let background = tokio::spawn(sso.run_background(BACKGROUND_EVERY, stopped));
                let started_at = crate::store::now_timestamp();
                let status = BridgeStatus {
                    state: BridgeState::Running,
                    base_url: Some(bridge.base_url.clone()),
                    local_addr: Some(bridge.local_addr.to_string()),
                    started_at: Some(started_at.clone()),
                    uptime_seconds: Some(0),
                    error: None,
                };
                *live = Some(Live {
                    bridge,
                    background: (stop_background, background),
                    since: Instant::now(),
                    started_at,
                });
                self.status.send_replace(status.clone());
                tracing::info!(base_url = ?status.base_url, "bridge started");
                Ok(status)
            }
            Err(source) => {
                let hint = hint_for(&source);
                let err = ControllerError::Start { source, hint };
                let mut status = BridgeStatus::with_state(BridgeState::Failed);
                status.error = Some(err.to_string());
                self.status.send_replace(status);
                tracing::warn!(error = %err, "bridge did not start");
                Err(err)
            }
        }
    }

    /// Stops accepting and waits for in-flight requests (bounded by the bridge's drain
    /// timeout). Stopping a stopped bridge changes nothing.
    pub async fn stop(&self) -> BridgeStatus {
        let mut live = self.live.lock().await;
        let Some(current) = live.take() else {
            // Also clears a failed start: the admin asked for "stopped".
            self.status.send_replace(BridgeStatus::stopped());
            return BridgeStatus::stopped();
        };
        let mut stopping = BridgeStatus::with_state(BridgeState::Stopping);
        stopping.base_url = current.bridge.base_url.clone().into();
        stopping.started_at = Some(current.started_at.clone());
        self.status.send_replace(stopping);
        let (stop_background, mut background) = current.background;
        let _ = stop_background.send(true);
        // A round in progress (an SMTP relay that is slow to answer) may finish for a
        // few seconds; then it is dropped and its invitation is retried at the next start.
        if tokio::time::timeout(BACKGROUND_DRAIN, &mut background)
            .await
            .is_err()
        {
            background.abort();
        }
        current.bridge.shutdown().await;
        self.status.send_replace(BridgeStatus::stopped());
        tracing::info!("bridge stopped");
        BridgeStatus::stopped()
    }

    /// Whether a bridge is serving now.
    pub fn is_running(&self) -> bool {
        self.status.borrow().state == BridgeState::Running
    }
}
