//! The tray: its look follows the bridge's state, its menu starts and stops the bridge.
//!
//! The decisions are plain functions ([`look`], [`action_for`], [`perform`]) so they are
//! tested with Tauri's mock runtime; only [`install`] touches the OS tray, which nothing
//! on a headless test machine displays.

use keybridge::app::{App, BridgeState, BridgeStatus, Problem};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};

pub const START: &str = "tray.start";
pub const STOP: &str = "tray.stop";
pub const OPEN: &str = "tray.open";
pub const COPY_BASE_URL: &str = "tray.copy-base-url";
pub const CHECK_UPDATES: &str = "tray.check-updates";
pub const QUIT: &str = "tray.quit";

const TRAY_ID: &str = "keybridge";

/// What a menu item asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    Start,
    Stop,
    Open,
    CopyBaseUrl,
    CheckUpdates,
    Quit,
}

/// The menu item with `id`, if it is one of ours.
pub fn action_for(id: &str) -> Option<TrayAction> {
    Some(match id {
        START => TrayAction::Start,
        STOP => TrayAction::Stop,
        OPEN => TrayAction::Open,
        COPY_BASE_URL => TrayAction::CopyBaseUrl,
        CHECK_UPDATES => TrayAction::CheckUpdates,
        QUIT => TrayAction::Quit,
        _ => return None,
    })
}

/// Which icon the tray shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayIconKind {
    Running,
    Stopped,
    Error,
}

/// How the tray looks for a bridge status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayLook {
    pub icon: TrayIconKind,
    pub tooltip: String,
    pub start_enabled: bool,
    pub stop_enabled: bool,
    pub copy_enabled: bool,
}

pub fn look(status: &BridgeStatus) -> TrayLook {
    let (icon, tooltip) = match status.state {
        BridgeState::Running => (
            TrayIconKind::Running,
            format!(
                "Keybridge: running at {}",
                status.base_url.as_deref().unwrap_or("?")
            ),
        ),
        BridgeState::Starting => (TrayIconKind::Stopped, "Keybridge: starting…".to_owned()),
        BridgeState::Stopping => (TrayIconKind::Running, "Keybridge: stopping…".to_owned()),
        BridgeState::Stopped => (TrayIconKind::Stopped, "Keybridge: stopped".to_owned()),
        BridgeState::Failed => (
            TrayIconKind::Error,
            format!(
                "Keybridge: {}",
                status.error.as_deref().unwrap_or("the bridge failed")
            ),
        ),
    };
    TrayLook {
        icon,
        tooltip,
        start_enabled: matches!(status.state, BridgeState::Stopped | BridgeState::Failed),
        stop_enabled: status.state == BridgeState::Running,
        copy_enabled: status.base_url.is_some(),
    }
}

/// What the caller must still do after [`perform`]: the parts that need the OS (the
/// clipboard, the window, exiting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayOutcome {
    Done(BridgeStatus),
    ShowWindow,
    Copy(String),
    CheckUpdates,
    Quit,
    /// The action failed; shown in the window (it opens) and the tooltip.
    Failed(Problem),
}

/// Carries out `action` against the app's core and says what is left for the OS.
pub async fn perform<R: Runtime>(handle: &AppHandle<R>, action: TrayAction) -> TrayOutcome {
    let Some(app) = handle.try_state::<App>() else {
        return TrayOutcome::ShowWindow;
    };
    let app = app.inner().clone();
    match action {
        TrayAction::Start => match app.start_bridge().await {
            Ok(status) => TrayOutcome::Done(status),
            Err(e) => TrayOutcome::Failed(Problem::from(e)),
        },
        TrayAction::Stop => match app.stop_bridge().await {
            Ok(status) => TrayOutcome::Done(status),
            Err(e) => TrayOutcome::Failed(Problem::from(e)),
        },
        TrayAction::Open => TrayOutcome::ShowWindow,
        TrayAction::CopyBaseUrl => match app.bridge_status().base_url {
            Some(url) => TrayOutcome::Copy(url),
            None => TrayOutcome::ShowWindow,
        },
        TrayAction::CheckUpdates => TrayOutcome::CheckUpdates,
        TrayAction::Quit => TrayOutcome::Quit,
    }
}

fn icon_bytes(kind: TrayIconKind) -> &'static [u8] {
    match kind {
        TrayIconKind::Running => include_bytes!("../../icons/tray-running.png"),
        TrayIconKind::Stopped => include_bytes!("../../icons/tray-stopped.png"),
        TrayIconKind::Error => include_bytes!("../../icons/tray-error.png"),
    }
}

struct Items<R: Runtime> {
    start: MenuItem<R>,
    stop: MenuItem<R>,
    copy: MenuItem<R>,
}

/// Creates the tray icon and its menu and keeps them following the bridge's status.
pub fn install<R: Runtime>(handle: &AppHandle<R>) -> tauri::Result<()> {
    let start = MenuItem::with_id(handle, START, "Start bridge", true, None::<&str>)?;
    let stop = MenuItem::with_id(handle, STOP, "Stop bridge", false, None::<&str>)?;
    let open = MenuItem::with_id(handle, OPEN, "Open Keybridge", true, None::<&str>)?;
    let copy = MenuItem::with_id(handle, COPY_BASE_URL, "Copy base URL", false, None::<&str>)?;
    let updates = MenuItem::with_id(
        handle,
        CHECK_UPDATES,
        "Check for updates…",
        true,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(handle, QUIT, "Quit Keybridge", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(handle)?;
    let separator2 = PredefinedMenuItem::separator(handle)?;
    let menu = Menu::with_items(
        handle,
        &[
            &start,
            &stop,
            &separator,
            &open,
            &copy,
            &updates,
            &separator2,
            &quit,
        ],
    )?;
    let tray = TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(icon_bytes(TrayIconKind::Stopped))?)
        .tooltip("Keybridge: stopped")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|handle, event| {
            let handle = handle.clone();
            let id = event.id().as_ref().to_owned();
            if let Some(action) = action_for(&id) {
                tauri::async_runtime::spawn(async move {
                    let outcome = perform(&handle, action).await;
                    crate::apply_outcome(&handle, outcome);
                });
            }
        })
        .build(handle)?;
    let items = Items { start, stop, copy };
    if let Some(app) = handle.try_state::<App>() {
        let mut statuses = app.controller().subscribe();
        let initial = app.bridge_status();
        restyle(&tray, &items, &initial);
        tauri::async_runtime::spawn(async move {
            while statuses.changed().await.is_ok() {
                let status = statuses.borrow_and_update().clone();
                restyle(&tray, &items, &status);
            }
        });
    }
    Ok(())
}

fn restyle<R: Runtime>(tray: &TrayIcon<R>, items: &Items<R>, status: &BridgeStatus) {
    let l = look(status);
    if let Ok(image) = Image::from_bytes(icon_bytes(l.icon)) {
        let _ = tray.set_icon(Some(image));
    }
    let _ = tray.set_tooltip(Some(&l.tooltip));
    let _ = items.start.set_enabled(l.start_enabled);
    let _ = items.stop.set_enabled(l.stop_enabled);
    let _ = items.copy.set_enabled(l.copy_enabled);
}
