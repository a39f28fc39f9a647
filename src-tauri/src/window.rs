//! The main window: made when it is needed and destroyed when it is closed.
//!
//! Keybridge lives in the tray; the window is only a view of the core. A WebKitGTK
//! webview costs far more memory than the bridge (its web and network processes, see
//! the README's measurements), so closing the window destroys it instead of hiding it,
//! and "Open Keybridge", a second launch or a tray action that needs the window builds
//! a fresh one from tauri.conf.json. Nothing is lost: every page reads its state from
//! the core when it is shown. `tauri.conf.json` marks the window `"create": false`, so
//! a start at login (`--minimized`) never builds one at all.

use std::sync::Mutex;

use keybridge::app::Theme;
use tauri::{AppHandle, Manager, Runtime, WebviewWindow, WebviewWindowBuilder};

/// The main window's label, as tauri.conf.json and the capabilities name it.
pub const MAIN: &str = "main";

/// The theme a new window opens in: the saved one, kept here so that building a window
/// (on the main thread, sometimes from inside the async runtime) never waits on the store.
#[derive(Debug, Default)]
pub struct OpeningTheme(Mutex<Theme>);

impl OpeningTheme {
    pub fn new(theme: Theme) -> Self {
        OpeningTheme(Mutex::new(theme))
    }

    pub fn set(&self, theme: Theme) {
        if let Ok(mut t) = self.0.lock() {
            *t = theme;
        }
    }

    pub fn get(&self) -> Theme {
        self.0.lock().map(|t| *t).unwrap_or_default()
    }
}

/// Runs before the page's own script, so its first paint is already in the theme.
pub fn theme_script(theme: Theme) -> String {
    format!(
        "document.documentElement.dataset.theme = \"{}\";",
        theme.as_str()
    )
}

/// Builds the main window from its tauri.conf.json entry.
pub fn create_main_window<R: Runtime>(handle: &AppHandle<R>) -> tauri::Result<WebviewWindow<R>> {
    let config = handle
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .cloned()
        .unwrap_or_else(|| tauri::utils::config::WindowConfig {
            label: MAIN.to_owned(),
            title: "Keybridge".to_owned(),
            ..Default::default()
        });
    crate::commands::window_built();
    let theme = handle
        .try_state::<OpeningTheme>()
        .map(|t| t.get())
        .unwrap_or_default();
    let window = WebviewWindowBuilder::from_config(handle, &config)?
        .initialization_script(theme_script(theme))
        .build()?;
    tune_webview(&window);
    Ok(window)
}

/// Shows, unminimises and focuses the main window, building it first when there is
/// none (it was closed to the tray, or Keybridge started at login).
pub fn show_main_window<R: Runtime>(handle: &AppHandle<R>) {
    let window = match handle.get_webview_window(MAIN) {
        Some(window) => window,
        None => match create_main_window(handle) {
            Ok(window) => window,
            Err(e) => {
                tracing::warn!(error = %e, "could not open the Keybridge window");
                return;
            }
        },
    };
    let _ = window.show();
    let _ = window.unminimize();
    let _ = window.set_focus();
}

/// Lowers what the webview keeps in memory. Only WebKitGTK is tuned (Linux); under
/// Tauri's mock runtime the closure never runs.
#[cfg(target_os = "linux")]
fn tune_webview<R: Runtime>(window: &WebviewWindow<R>) {
    let result = window.with_webview(|platform| linux::tune(&platform.inner()));
    if let Err(e) = result {
        tracing::debug!(error = %e, "the webview keeps WebKit's default memory settings");
    }
}

#[cfg(not(target_os = "linux"))]
fn tune_webview<R: Runtime>(_window: &WebviewWindow<R>) {}

#[cfg(target_os = "linux")]
mod linux {
    use webkit2gtk::{
        CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebView, WebViewExt,
    };

    /// What the UI does not need, measured by scripts/measure-desktop.sh (README).
    pub fn tune(view: &WebView) {
        if let Some(settings) = WebViewExt::settings(view) {
            // With accelerated compositing the web process renders through GL (on a
            // machine without a GPU, Mesa's llvmpipe) and keeps composited layers: about
            // 70 MiB of its ~195 MiB (README). Forms, tables and one small chart draw
            // just as well without it.
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
        if let Some(context) = view.context() {
            // One local page, never a browser: no memory cache of decoded resources, no
            // back/forward page cache, and no web process kept around for reuse after
            // the window is destroyed.
            context.set_cache_model(CacheModel::DocumentViewer);
        }
    }
}
