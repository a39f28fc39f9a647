//! Updates: check the signed release feed (at start and from the menu), download a
//! newer release in the background and verify its signature, install it when the app
//! quits. The updater's public key is in tauri.conf.json; the private key that signs
//! releases lives only in the release workflow's secrets.

use std::sync::Mutex;

use keybridge::app::{AppSettings, Problem, ProblemKind, UpdateChannel};
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, Url};
use tauri_plugin_updater::{Update, UpdaterExt};

/// A release newer than this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInfo {
    pub version: String,
    pub current_version: String,
    pub notes: Option<String>,
    /// Downloaded and verified: it installs when Keybridge quits.
    pub ready: bool,
}

/// The downloaded, verified release waiting for the app to quit.
#[derive(Default)]
pub struct PendingUpdate(Mutex<Option<(Update, Vec<u8>)>>);

fn problem(message: String) -> Problem {
    Problem {
        kind: ProblemKind::Update,
        message,
        fields: Vec::new(),
        rows: Vec::new(),
    }
}

/// The manifest URL for `settings`: the admin's own feed if set, else the configured
/// one; the beta channel reads `beta.json` beside `latest.json`.
pub fn endpoint_for(settings: &AppSettings, configured: Option<&Url>) -> Option<Url> {
    let base = match settings
        .update_endpoint
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(own) => Url::parse(own).ok()?,
        None => configured?.clone(),
    };
    if settings.update_channel == UpdateChannel::Beta {
        let path = base.path();
        if let Some(dir) = path.strip_suffix("latest.json") {
            let mut beta = base.clone();
            beta.set_path(&format!("{dir}beta.json"));
            return Some(beta);
        }
    }
    Some(base)
}

/// The environment variable that turns update checks off for one run, whatever the
/// settings say: the end-to-end test and the measurement script start from a fresh data
/// directory (updates on by default) and must not call out to the release feed.
pub const UPDATES_ENV: &str = "KEYBRIDGE_UPDATES";

/// Whether `KEYBRIDGE_UPDATES=off` turned update checks off for this run.
pub fn off_by_environment() -> bool {
    std::env::var(UPDATES_ENV).is_ok_and(|v| says_off(&v))
}

/// Whether a `KEYBRIDGE_UPDATES` value means "off" (any case, spaces around ignored).
pub fn says_off(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("off")
}

/// Asks the feed whether a newer release exists. `None` when this is the newest, or
/// when the admin turned updates off.
pub async fn check<R: Runtime>(
    handle: &AppHandle<R>,
    settings: &AppSettings,
    configured: Option<&Url>,
) -> Result<Option<Update>, Problem> {
    if settings.update_channel == UpdateChannel::Off || off_by_environment() {
        return Ok(None);
    }
    let mut builder = handle.updater_builder();
    if let Some(url) = endpoint_for(settings, configured) {
        builder = builder.endpoints(vec![url]).map_err(|e| {
            problem(format!(
                "the update feed address is not usable ({e}); fix it in Settings"
            ))
        })?;
    }
    let updater = builder
        .build()
        .map_err(|e| problem(format!("updates cannot be checked here ({e})")))?;
    updater.check().await.map_err(|e| {
        problem(format!(
            "checking for updates failed ({e}); check the network or the update feed in Settings, then try again"
        ))
    })
}

/// Downloads `update` and verifies its signature against the configured public key.
pub async fn download(update: &Update) -> Result<Vec<u8>, Problem> {
    update.download(|_, _| {}, || {}).await.map_err(|e| {
        problem(format!(
            "the update {} was not accepted ({e}); it is not installed. Try again later, and report it if it repeats",
            update.version
        ))
    })
}

/// Checks and, when there is a newer release, downloads it for installing at quit.
pub async fn check_and_stage<R: Runtime>(
    handle: &AppHandle<R>,
) -> Result<Option<UpdateInfo>, Problem> {
    let Some(app) = handle.try_state::<keybridge::app::App>() else {
        return Ok(None);
    };
    let settings = app.settings().await.map_err(Problem::from)?;
    let configured = configured_endpoint(handle);
    let Some(update) = check(handle, &settings, configured.as_ref()).await? else {
        return Ok(None);
    };
    let bytes = download(&update).await?;
    let info = UpdateInfo {
        version: update.version.clone(),
        current_version: update.current_version.clone(),
        notes: update.body.clone(),
        ready: true,
    };
    if let Some(pending) = handle.try_state::<PendingUpdate>() {
        if let Ok(mut slot) = pending.0.lock() {
            *slot = Some((update, bytes));
        }
    }
    Ok(Some(info))
}

/// Installs the staged release, if any (called as the app exits).
pub fn install_pending<R: Runtime>(handle: &AppHandle<R>) {
    let Some(pending) = handle.try_state::<PendingUpdate>() else {
        return;
    };
    let staged = pending.0.lock().ok().and_then(|mut s| s.take());
    if let Some((update, bytes)) = staged {
        match update.install(bytes) {
            Ok(()) => {
                tracing::info!(version = %update.version, "update installed; it runs from the next start")
            }
            Err(e) => tracing::warn!(error = %e, "the update could not be installed"),
        }
    }
}

/// The first endpoint in tauri.conf.json's updater section.
fn configured_endpoint<R: Runtime>(handle: &AppHandle<R>) -> Option<Url> {
    handle
        .config()
        .plugins
        .0
        .get("updater")
        .and_then(|u| u.get("endpoints"))
        .and_then(|e| e.get(0))
        .and_then(|e| e.as_str())
        .and_then(|e| Url::parse(e).ok())
}
