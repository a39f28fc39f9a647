//! The API every front door calls: the desktop app's commands (and the CLI where it
//! fits) run the installation through [`App`] — the bridge's start/stop/status, settings,
//! tokens with their plaintexts in the OS keychain, the admin's views of people, groups,
//! events and the mapping table. The front doors hold no business logic; the types here
//! are plain serialisable data (and `specta::Type` with the `specta` feature, for the
//! desktop app's generated TypeScript bindings).

pub mod certificate;
pub mod controller;
pub mod directory_views;
mod error;
pub mod events;
pub mod mapping;
pub mod settings;
pub mod sso;
pub mod tokens;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::Serialize;

pub use controller::{BridgeController, BridgeState, BridgeStatus, ControllerError};
pub use error::{AppError, FieldProblem, Problem, ProblemKind, RowProblem};
pub use settings::{AppSettings, SecretsChoice, Theme, TlsChoice, UpdateChannel};

use crate::bridge::{BridgeConfig, Limits};
use crate::directory::Directory;
use crate::secrets::{SecretStore, SecretsError};
use crate::store::{Store, StoreOptions};

/// An optional text field as the admin typed it: trimmed, and absent when blank.
fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Where secrets go now, as the UI tells the admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SecretsStatus {
    pub choice: SecretsChoice,
    /// "the OS keychain (service …)" or "the owner-only file …", when usable.
    pub backend: Option<String>,
    /// Why secrets cannot be kept, and what to do, when not usable.
    pub problem: Option<String>,
}

struct Secrets {
    store: Option<Arc<dyn SecretStore>>,
    status: SecretsStatus,
}

/// One installation: its data directory, store, directory, secrets and bridge.
#[derive(Clone)]
pub struct App {
    data_dir: PathBuf,
    store: Store,
    directory: Directory,
    controller: BridgeController,
    secrets: Arc<RwLock<Secrets>>,
    /// The days of the unlock policy (grace periods, deadlines) come from this clock.
    clock: crate::sso::SharedClock,
    /// Cancels the "test connection" sign-in that is waiting for the browser.
    /// With a reason when the sign-in could not go on (no browser opened).
    sign_in_cancel: Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Sender<Option<String>>>>>,
}

impl App {
    /// Opens (creating on first use) the installation in `data_dir`, and the secrets
    /// backend its settings choose. A missing keychain is not an error: it is reported
    /// in [`App::secrets_status`] and tokens are then shown only once.
    pub async fn open(data_dir: &Path) -> Result<App, AppError> {
        let store = Store::open(data_dir, StoreOptions::default())?;
        let directory = Directory::open(store.clone()).await?;
        let settings = settings::load(&store).await?;
        let secrets = open_secrets(data_dir, settings.secrets).await;
        Ok(App {
            data_dir: data_dir.to_owned(),
            store,
            directory,
            controller: BridgeController::new(),
            secrets: Arc::new(RwLock::new(secrets)),
            clock: Arc::new(crate::sso::SystemClock),
            sign_in_cancel: Arc::default(),
        })
    }

    /// The same installation with the unlock policy's days counted by `clock` (tests
    /// move it instead of waiting days).
    pub fn with_clock(self, clock: crate::sso::SharedClock) -> App {
        App { clock, ..self }
    }

    /// The platform's data directory for Keybridge (`~/.local/share/Keybridge` on Linux).
    pub fn default_data_dir() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("Keybridge"))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    pub fn controller(&self) -> &BridgeController {
        &self.controller
    }

    pub fn bridge_status(&self) -> BridgeStatus {
        self.controller.status()
    }

    pub async fn settings(&self) -> Result<AppSettings, AppError> {
        settings::load(&self.store).await
    }

    /// The window's colour theme.
    pub async fn theme(&self) -> Result<Theme, AppError> {
        settings::load_theme(&self.store).await
    }

    pub async fn set_theme(&self, theme: Theme) -> Result<(), AppError> {
        settings::save_theme(&self.store, theme).await
    }

    /// Validates and saves `new`; switches the secrets backend if asked. Answers whether
    /// a running bridge must restart to serve as the new settings say.
    pub async fn save_settings(&self, new: AppSettings) -> Result<bool, AppError> {
        let old = self.settings().await?;
        // `was_running` is the app's own record, not something the form edits.
        let new = AppSettings {
            was_running: old.was_running,
            ..new
        };
        settings::save(&self.store, &new).await?;
        if new.secrets != old.secrets {
            let opened = open_secrets(&self.data_dir, new.secrets).await;
            if let Ok(mut s) = self.secrets.write() {
                *s = opened;
            }
        }
        Ok(self.controller.is_running() && old.serving_differs(&new))
    }

    /// Starts the bridge as the settings say and remembers that it runs (so it comes
    /// back at the next launch).
    pub async fn start_bridge(&self) -> Result<BridgeStatus, AppError> {
        let mut s = self.settings().await?;
        let problems = s.validate();
        if !problems.is_empty() {
            return Err(AppError::InvalidSettings(problems));
        }
        let config = BridgeConfig {
            listen: s.listen()?,
            hostname: s.hostname(),
            tls: s.tls_mode(),
            data_dir: self.data_dir.clone(),
            limits: Limits::default(),
        };
        if s.tls == TlsChoice::None {
            tracing::warn!("serving PLAIN HTTP: bearer tokens cross the network unencrypted; use this only behind a gateway that terminates TLS");
        }
        let status = self
            .controller
            .start(config, self.directory.clone(), self.sso()?)
            .await?;
        if !s.was_running {
            s.was_running = true;
            settings::write(&self.store, &s).await?;
        }
        Ok(status)
    }

    /// Stops the bridge (in-flight requests finish) and remembers that it is stopped.
    pub async fn stop_bridge(&self) -> Result<BridgeStatus, AppError> {
        let status = self.controller.stop().await;
        let mut s = self.settings().await?;
        if s.was_running {
            s.was_running = false;
            settings::write(&self.store, &s).await?;
        }
        Ok(status)
    }

    /// Stops and starts again (to apply new settings).
    pub async fn restart_bridge(&self) -> Result<BridgeStatus, AppError> {
        self.controller.stop().await;
        self.start_bridge().await
    }

    /// At launch: starts the bridge if it was running when the app last quit. `None` when
    /// it was not.
    pub async fn resume(&self) -> Option<Result<BridgeStatus, AppError>> {
        match self.settings().await {
            Ok(s) if s.was_running => Some(self.start_bridge().await),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// At quit: stops the bridge (in-flight requests finish) without forgetting that it
    /// was running, then closes the store after its queued writes.
    pub async fn shut_down(&self) {
        self.controller.stop().await;
        self.store.close().await;
    }

    /// Where secrets go, or why they cannot be kept.
    pub fn secrets_status(&self) -> SecretsStatus {
        match self.secrets.read() {
            Ok(s) => s.status.clone(),
            Err(_) => SecretsStatus {
                choice: SecretsChoice::Keychain,
                backend: None,
                problem: Some(
                    "the secrets backend is unusable after an internal error; restart Keybridge"
                        .into(),
                ),
            },
        }
    }

    fn secret_store(&self) -> Option<Arc<dyn SecretStore>> {
        self.secrets.read().ok().and_then(|s| s.store.clone())
    }
}

/// Opens the backend `choice` names; a failure becomes the status's `problem`.
async fn open_secrets(data_dir: &Path, choice: SecretsChoice) -> Secrets {
    let kind = match choice {
        SecretsChoice::Keychain => crate::secrets::StoreKind::Keychain(data_dir.to_owned()),
        SecretsChoice::File => crate::secrets::StoreKind::File(data_dir.to_owned()),
    };
    // The keychain probe is a D-Bus round trip on Linux: keep it off the async threads.
    let opened = tokio::task::spawn_blocking(move || crate::secrets::open_store(kind)).await;
    match opened {
        Ok(Ok(opened)) => Secrets {
            status: SecretsStatus {
                choice,
                backend: Some(opened.backend.to_string()),
                problem: None,
            },
            store: Some(Arc::from(opened.store)),
        },
        Ok(Err(e)) => {
            let problem = match &e {
                SecretsError::KeychainUnavailable { reason } => format!(
                    "No OS keychain is available ({reason}). New tokens are shown only once. To keep them so you can copy them again, choose \"Owner-only file\" under Secrets in Settings."
                ),
                other => other.to_string(),
            };
            tracing::warn!(%problem, "secrets backend unavailable");
            Secrets {
                store: None,
                status: SecretsStatus {
                    choice,
                    backend: None,
                    problem: Some(problem),
                },
            }
        }
        Err(join) => Secrets {
            store: None,
            status: SecretsStatus {
                choice,
                backend: None,
                problem: Some(format!(
                    "opening the secrets backend failed ({join}); restart Keybridge"
                )),
            },
        },
    }
}

#[cfg(test)]
mod tests;
