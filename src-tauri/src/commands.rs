//! The typed commands the UI calls. Each is one call into the core's `app` facade; the
//! only things done here are the ones that need the desktop (clipboard, login items,
//! the updater, the Downloads folder). Errors cross as the core's `Problem`.

use std::sync::atomic::{AtomicBool, Ordering};

use keybridge::app::certificate::CertificateView;
use keybridge::app::directory_views::{
    GroupDetail, GroupSummary, PeoplePage, PeopleQuery, PersonDetail,
};
use keybridge::app::events::{EventFilter, EventView, HourCount};
use keybridge::app::mapping::{MappingPreview, MappingRowView, MappingTableView};
use keybridge::app::sso::{
    HandoverLink, SmtpInput, SsoCheckRequest, SsoCheckResult, SsoPolicyInput, SsoPolicyView,
    SsoSettingsInput, SsoSettingsView, SsoStatusView, UnlockStatusView,
};
use keybridge::app::tokens::{NewToken, TokenInfo};
use keybridge::app::{
    App, AppSettings, BridgeStatus, Problem, ProblemKind, RowProblem, SecretsStatus, Theme,
};
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::updates::{self, UpdateInfo};

type Answer<T> = Result<T, Problem>;

fn desktop_problem(message: String) -> Problem {
    Problem {
        kind: ProblemKind::Invalid,
        message,
        fields: Vec::new(),
        rows: Vec::new(),
    }
}

/// What the app shows about itself.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub secrets: SecretsStatus,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SavedSettings {
    pub settings: AppSettings,
    /// The bridge is running with the old address or certificate: restart it to apply.
    pub restart_needed: bool,
}

#[tauri::command]
#[specta::specta]
pub async fn app_info<R: Runtime>(handle: AppHandle<R>, app: State<'_, App>) -> Answer<AppInfo> {
    Ok(AppInfo {
        version: handle.package_info().version.to_string(),
        data_dir: app.data_dir().display().to_string(),
        secrets: app.secrets_status(),
    })
}

/// Whether the UI of the window built last has called in yet. The UI asks for the
/// bridge's status as soon as it is mounted, so its first call marks the moment the
/// window became usable (scripts/measure-desktop.sh reads this line, for the first
/// window and for one rebuilt after it was closed to the tray).
static UI_ANSWERED: AtomicBool = AtomicBool::new(false);

/// A new window is being built: its UI's first call is logged again.
pub fn window_built() {
    UI_ANSWERED.store(false, Ordering::Relaxed);
}

#[tauri::command]
#[specta::specta]
pub async fn bridge_status(app: State<'_, App>) -> Answer<BridgeStatus> {
    if !UI_ANSWERED.swap(true, Ordering::Relaxed) {
        tracing::info!("the window is usable: the UI answered its first call");
    }
    Ok(app.bridge_status())
}

#[tauri::command]
#[specta::specta]
pub async fn start_bridge(app: State<'_, App>) -> Answer<BridgeStatus> {
    Ok(app.start_bridge().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn stop_bridge(app: State<'_, App>) -> Answer<BridgeStatus> {
    Ok(app.stop_bridge().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn restart_bridge(app: State<'_, App>) -> Answer<BridgeStatus> {
    Ok(app.restart_bridge().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_settings(app: State<'_, App>) -> Answer<AppSettings> {
    Ok(app.settings().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_theme(app: State<'_, App>) -> Answer<Theme> {
    Ok(app.theme().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_theme<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
    theme: Theme,
) -> Answer<()> {
    app.set_theme(theme).await?;
    if let Some(opening) = handle.try_state::<crate::window::OpeningTheme>() {
        opening.set(theme);
    }
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn save_settings<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
    settings: AppSettings,
) -> Answer<SavedSettings> {
    let restart_needed = app.save_settings(settings).await?;
    let saved = app.settings().await?;
    crate::set_start_at_login(&handle, saved.start_at_login)?;
    Ok(SavedSettings {
        settings: saved,
        restart_needed,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn list_tokens(app: State<'_, App>) -> Answer<Vec<TokenInfo>> {
    Ok(app.tokens().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn issue_token(app: State<'_, App>, name: String) -> Answer<NewToken> {
    Ok(app.issue_token(&name).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn rotate_token(app: State<'_, App>, name: String) -> Answer<NewToken> {
    Ok(app.rotate_token(&name).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn revoke_token(app: State<'_, App>, name: String) -> Answer<()> {
    Ok(app.revoke_token(&name).await?)
}

/// Copies a kept token to the clipboard without handing it to the page.
#[tauri::command]
#[specta::specta]
pub async fn copy_token<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
    name: String,
) -> Answer<()> {
    let secret = app.token_secret(&name).await?;
    handle
        .clipboard()
        .write_text(secret.expose().to_owned())
        .map_err(|e| desktop_problem(format!("the clipboard refused the token ({e}); try again")))
}

/// Copies text that is not secret (the base URL, a new token the page already shows).
#[tauri::command]
#[specta::specta]
pub async fn copy_text<R: Runtime>(handle: AppHandle<R>, text: String) -> Answer<()> {
    handle
        .clipboard()
        .write_text(text)
        .map_err(|e| desktop_problem(format!("the clipboard refused the text ({e}); try again")))
}

#[tauri::command]
#[specta::specta]
pub async fn certificate(app: State<'_, App>) -> Answer<CertificateView> {
    Ok(app.certificate().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn events_per_hour(app: State<'_, App>, hours: u32) -> Answer<Vec<HourCount>> {
    Ok(app.events_per_hour(hours).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn latest_errors(app: State<'_, App>, limit: u32) -> Answer<Vec<EventView>> {
    Ok(app.latest_errors(limit).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_events(app: State<'_, App>, filter: EventFilter) -> Answer<Vec<EventView>> {
    Ok(app.events(filter).await?)
}

/// Writes the filtered events to a JSON file in the Downloads folder; answers its path.
#[tauri::command]
#[specta::specta]
pub async fn export_events(app: State<'_, App>, filter: EventFilter) -> Answer<String> {
    let dir = dirs::download_dir().unwrap_or_else(|| app.data_dir().join("exports"));
    Ok(app.export_events(filter, &dir).await?.display().to_string())
}

#[tauri::command]
#[specta::specta]
pub async fn search_people(app: State<'_, App>, query: PeopleQuery) -> Answer<PeoplePage> {
    Ok(app.people(query).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_person(app: State<'_, App>, id: String) -> Answer<PersonDetail> {
    Ok(app.person(&id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_groups(app: State<'_, App>) -> Answer<Vec<GroupSummary>> {
    Ok(app.groups().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_group(app: State<'_, App>, id: String) -> Answer<GroupDetail> {
    Ok(app.group(&id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_mapping(app: State<'_, App>) -> Answer<MappingTableView> {
    Ok(app.mapping().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn validate_mapping(rows: Vec<MappingRowView>) -> Answer<Vec<RowProblem>> {
    Ok(keybridge::app::mapping::validate(&rows))
}

#[tauri::command]
#[specta::specta]
pub async fn preview_mapping(
    rows: Vec<MappingRowView>,
    jc_user_json: String,
    is_create: bool,
) -> Answer<MappingPreview> {
    Ok(keybridge::app::mapping::preview_text(
        &rows,
        &jc_user_json,
        is_create,
    )?)
}

#[tauri::command]
#[specta::specta]
pub async fn sample_jc_user() -> Answer<String> {
    Ok(keybridge::app::mapping::sample_jc_user_text())
}

#[tauri::command]
#[specta::specta]
pub async fn save_mapping(
    app: State<'_, App>,
    rows: Vec<MappingRowView>,
) -> Answer<MappingTableView> {
    Ok(app.save_mapping(&rows).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn restore_default_mapping(app: State<'_, App>) -> Answer<MappingTableView> {
    Ok(app.restore_default_mapping().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sso_settings(app: State<'_, App>) -> Answer<SsoSettingsView> {
    Ok(app.sso_settings().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_sso_settings(
    app: State<'_, App>,
    input: SsoSettingsInput,
) -> Answer<SsoSettingsView> {
    Ok(app.save_sso_settings(input).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_smtp_settings(app: State<'_, App>, input: SmtpInput) -> Answer<SsoSettingsView> {
    Ok(app.save_smtp_settings(input).await?)
}

/// The setup check; with `signIn`, "test connection" opens the system browser (the
/// opener plugin) on the identity provider's sign-in page.
#[tauri::command]
#[specta::specta]
pub async fn sso_check<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
    request: SsoCheckRequest,
) -> Answer<SsoCheckResult> {
    let core = app.inner().clone();
    let open: keybridge::sso::check::OpenUrl = std::sync::Arc::new(move |url: &url::Url| {
        if crate::open_in_browser(&handle, url.as_str()).is_err() {
            // The URL carries the client ID, and the opener's error may quote it: neither
            // is logged. The wait ends at once instead of timing out.
            tracing::warn!("could not open the system browser for the test sign-in");
            core.abandon_sso_check(
                "the system browser could not be opened; check that this desktop has a default web browser, then test again",
            );
        }
    });
    Ok(app.sso_check(request, open).await?)
}

/// Stops a test connection that waits for the browser.
#[tauri::command]
#[specta::specta]
pub async fn cancel_sso_check(app: State<'_, App>) -> Answer<bool> {
    Ok(app.cancel_sso_check())
}

#[tauri::command]
#[specta::specta]
pub async fn sso_policy(app: State<'_, App>) -> Answer<SsoPolicyView> {
    Ok(app.sso_policy().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_sso_policy(app: State<'_, App>, input: SsoPolicyInput) -> Answer<SsoPolicyView> {
    Ok(app.save_sso_policy(input).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sso_status(app: State<'_, App>) -> Answer<SsoStatusView> {
    Ok(app.sso_status().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn person_unlock(app: State<'_, App>, id: String) -> Answer<UnlockStatusView> {
    Ok(app.person_unlock(&id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn recover_person(app: State<'_, App>, id: String) -> Answer<UnlockStatusView> {
    Ok(app.recover_person(&id).await?)
}

/// A fresh invitation or switch link to hand over (mail is not configured, or the
/// person asks again).
#[tauri::command]
#[specta::specta]
pub async fn handover_link(app: State<'_, App>, id: String) -> Answer<HandoverLink> {
    Ok(app.handover_link(&id).await?)
}

/// Checks the release feed now; a newer release is downloaded, verified and installed
/// when Keybridge quits.
#[tauri::command]
#[specta::specta]
pub async fn check_for_update<R: Runtime>(handle: AppHandle<R>) -> Answer<Option<UpdateInfo>> {
    updates::check_and_stage(&handle).await
}

/// Every command for runtime `$rt`. A macro rather than a generic function: the
/// commands' specta metadata cannot name an outer generic parameter.
macro_rules! builder_for {
    ($rt:ty) => {
        tauri_specta::Builder::<$rt>::new().commands(tauri_specta::collect_commands![
            app_info::<$rt>,
            bridge_status,
            start_bridge,
            stop_bridge,
            restart_bridge,
            get_settings,
            save_settings::<$rt>,
            get_theme,
            set_theme::<$rt>,
            list_tokens,
            issue_token,
            rotate_token,
            revoke_token,
            copy_token::<$rt>,
            copy_text::<$rt>,
            certificate,
            events_per_hour,
            latest_errors,
            list_events,
            export_events,
            search_people,
            get_person,
            list_groups,
            get_group,
            get_mapping,
            validate_mapping,
            preview_mapping,
            sample_jc_user,
            save_mapping,
            restore_default_mapping,
            sso_settings,
            save_sso_settings,
            save_smtp_settings,
            sso_check::<$rt>,
            cancel_sso_check,
            sso_policy,
            save_sso_policy,
            sso_status,
            person_unlock,
            recover_person,
            handover_link,
            check_for_update::<$rt>,
        ])
    };
}

/// Every command, for the invoke handler and the TypeScript bindings.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    builder_for!(tauri::Wry)
}

/// The same commands on Tauri's mock runtime, for tests over the real IPC path.
#[cfg(test)]
pub fn mock_specta_builder() -> tauri_specta::Builder<tauri::test::MockRuntime> {
    builder_for!(tauri::test::MockRuntime)
}
