//! The shell under Tauri's mock runtime: the tray's menu and look, the commands over
//! the real IPC path (typed answers and typed problems), the bindings' freshness, and
//! the updater against a signed feed on loopback.

use keybridge::app::{App, AppSettings, BridgeState, SecretsChoice, TlsChoice};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::utils::config::WindowConfig;
use tauri::webview::InvokeRequest;
use tauri::{Manager, RunEvent, WebviewWindowBuilder};

use crate::tray::{self, TrayAction, TrayIconKind, TrayOutcome};
use crate::{commands, updates, window};

mod updater;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A core app in a temp dir, serving plain HTTP on loopback, secrets in the file store.
pub(crate) fn core_app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = tauri::async_runtime::block_on(async {
        let app = App::open(dir.path()).await.expect("open");
        app.save_settings(AppSettings {
            listen_address: "127.0.0.1".into(),
            port: free_port(),
            tls: TlsChoice::None,
            secrets: SecretsChoice::File,
            ..AppSettings::default()
        })
        .await
        .expect("settings");
        app
    });
    (dir, app)
}

/// The shell as `run()` builds it, on the mock runtime, with the updater trusting
/// `pubkey`.
pub(crate) fn mock_shell(app: App, pubkey: &str) -> tauri::App<MockRuntime> {
    mock_shell_with_windows(app, pubkey, Vec::new())
}

/// The main window's entry in tauri.conf.json, as the app ships it.
fn shipped_main_window() -> WindowConfig {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tauri.conf.json");
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("tauri.conf.json"))
            .expect("json");
    let main = config["app"]["windows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["label"] == window::MAIN))
        .expect("a main window")
        .clone();
    serde_json::from_value(main).expect("a window config")
}

/// [`mock_shell`] with `windows` in its configuration, as tauri.conf.json lists them.
pub(crate) fn mock_shell_with_windows(
    app: App,
    pubkey: &str,
    windows: Vec<WindowConfig>,
) -> tauri::App<MockRuntime> {
    let mut context = mock_context(noop_assets());
    context.config_mut().app.windows = windows;
    context.config_mut().plugins.0.insert(
        "updater".into(),
        json!({ "pubkey": pubkey, "endpoints": [] }),
    );
    mock_builder()
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(app)
        .manage(updates::PendingUpdate::default())
        .invoke_handler(commands::mock_specta_builder().invoke_handler())
        .build(context)
        .expect("mock app")
}

fn invoke(
    webview: &tauri::WebviewWindow<MockRuntime>,
    cmd: &str,
    body: Value,
) -> Result<Value, Value> {
    tauri::test::get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().expect("json"))
}

#[test]
fn menu_ids_name_the_tray_actions() {
    assert_eq!(tray::action_for(tray::START), Some(TrayAction::Start));
    assert_eq!(tray::action_for(tray::STOP), Some(TrayAction::Stop));
    assert_eq!(tray::action_for(tray::OPEN), Some(TrayAction::Open));
    assert_eq!(
        tray::action_for(tray::COPY_BASE_URL),
        Some(TrayAction::CopyBaseUrl)
    );
    assert_eq!(tray::action_for(tray::QUIT), Some(TrayAction::Quit));
    assert_eq!(tray::action_for("something.else"), None);
}

#[test]
fn the_tray_menu_starts_copies_and_stops_the_bridge_and_its_look_follows() {
    let (_dir, app) = core_app();
    let shell = mock_shell(app.clone(), "unused");
    let handle = shell.handle().clone();
    let stopped = tray::look(&app.bridge_status());
    assert_eq!(stopped.icon, TrayIconKind::Stopped);
    assert!(stopped.start_enabled && !stopped.stop_enabled && !stopped.copy_enabled);

    let status = match tauri::async_runtime::block_on(tray::perform(&handle, TrayAction::Start)) {
        TrayOutcome::Done(status) => status,
        other => panic!("start: {other:?}"),
    };
    assert_eq!(status.state, BridgeState::Running);
    let running = tray::look(&status);
    assert_eq!(running.icon, TrayIconKind::Running);
    assert!(!running.start_enabled && running.stop_enabled && running.copy_enabled);
    assert!(running.tooltip.contains("/scim/v2"), "{}", running.tooltip);

    let copied = tauri::async_runtime::block_on(tray::perform(&handle, TrayAction::CopyBaseUrl));
    assert_eq!(
        copied,
        TrayOutcome::Copy(status.base_url.clone().expect("url"))
    );

    let stopped = tauri::async_runtime::block_on(tray::perform(&handle, TrayAction::Stop));
    assert!(matches!(stopped, TrayOutcome::Done(ref s) if s.state == BridgeState::Stopped));
    assert_eq!(
        tauri::async_runtime::block_on(tray::perform(&handle, TrayAction::CopyBaseUrl)),
        TrayOutcome::ShowWindow,
        "nothing to copy while stopped: open the window instead"
    );
    assert_eq!(
        tauri::async_runtime::block_on(tray::perform(&handle, TrayAction::Open)),
        TrayOutcome::ShowWindow
    );
    assert_eq!(
        tauri::async_runtime::block_on(tray::perform(&handle, TrayAction::Quit)),
        TrayOutcome::Quit
    );
}

#[test]
fn the_window_is_built_when_it_is_opened_and_only_once() {
    let shipped = shipped_main_window();
    assert!(
        !shipped.create,
        "tauri.conf.json must not build the window at start: a start at login stays in the tray"
    );
    let (_dir, app) = core_app();
    let shell = mock_shell_with_windows(app, "unused", vec![shipped.clone()]);
    let handle = shell.handle().clone();
    assert!(
        handle.webview_windows().is_empty(),
        "no window before it is opened"
    );

    // "Open Keybridge" in the tray, or a second launch, with no window: one is built.
    let opened = tauri::async_runtime::block_on(tray::perform(&handle, TrayAction::Open));
    assert_eq!(opened, TrayOutcome::ShowWindow);
    crate::apply_outcome(&handle, opened);
    let main = handle
        .get_webview_window(window::MAIN)
        .expect("the tray's Open built the main window");
    assert_eq!(main.label(), shipped.label);

    // Opening it again shows the same window; it is not built twice.
    window::show_main_window(&handle);
    assert_eq!(handle.webview_windows().len(), 1);
}

#[test]
fn closing_the_last_window_leaves_keybridge_running_in_the_tray() {
    let (_dir, app) = core_app();
    let shell = mock_shell_with_windows(app, "unused", vec![shipped_main_window()]);
    window::show_main_window(shell.handle());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let mut ticks = 0;
    // The mock event loop turns a window's close into CloseRequested and, once no window
    // is left, ExitRequested without a code; each turn of the loop takes a second.
    shell.run(move |handle, event| {
        let note = |what: &'static str| record.lock().expect("log").push(what);
        let mut forward = true;
        match &event {
            RunEvent::MainEventsCleared => {
                ticks += 1;
                if ticks == 1 {
                    let main = handle.get_webview_window(window::MAIN).expect("main");
                    main.close().expect("close");
                }
                if ticks == 3 {
                    // Still here after the last window closed. End the test: close a
                    // probe window and let the exit that follows through, unhandled.
                    note("still running");
                    WebviewWindowBuilder::new(handle, "probe", Default::default())
                        .build()
                        .expect("probe")
                        .close()
                        .expect("close probe");
                }
            }
            RunEvent::ExitRequested { .. } => {
                note("exit requested");
                forward = ticks < 3;
            }
            RunEvent::Exit => note("exit"),
            _ => {}
        }
        if forward {
            crate::on_run_event(handle, event);
        }
    });
    assert_eq!(
        *seen.lock().expect("log"),
        ["exit requested", "still running", "exit requested", "exit"],
        "closing the window asked to exit, the app stayed, and only the test's own exit ended it"
    );
}

#[test]
fn keybridge_updates_off_in_the_environment_means_off() {
    assert!(updates::says_off("off"));
    assert!(updates::says_off(" OFF\n"));
    assert!(!updates::says_off("on"));
    assert!(!updates::says_off(""));
}

#[test]
fn a_failed_start_shows_the_error_icon_and_the_problem() {
    let (_dir, app) = core_app();
    let port = tauri::async_runtime::block_on(app.settings())
        .expect("settings")
        .port;
    let _squatter = std::net::TcpListener::bind(("127.0.0.1", port)).expect("squat");
    let shell = mock_shell(app.clone(), "unused");
    let problem =
        match tauri::async_runtime::block_on(tray::perform(shell.handle(), TrayAction::Start)) {
            TrayOutcome::Failed(problem) => problem,
            other => panic!("expected a failure: {other:?}"),
        };
    assert!(
        problem.message.contains("another port"),
        "{}",
        problem.message
    );
    let look = tray::look(&app.bridge_status());
    assert_eq!(look.icon, TrayIconKind::Error);
    assert!(look.start_enabled, "a failed bridge can be started again");
}

#[test]
fn commands_answer_over_ipc_with_typed_values_and_typed_problems() {
    let (_dir, app) = core_app();
    let shell = mock_shell(app, "unused");
    let webview = WebviewWindowBuilder::new(&shell, "main", Default::default())
        .build()
        .expect("webview");
    let status = invoke(&webview, "bridge_status", json!({})).expect("status");
    assert_eq!(status["state"], "stopped");

    let issued = invoke(&webview, "issue_token", json!({ "name": "jumpcloud" })).expect("issue");
    assert!(issued["token"]
        .as_str()
        .is_some_and(|t| t.starts_with("kb_")));
    assert_eq!(issued["kept"], true);
    let listed = invoke(&webview, "list_tokens", json!({})).expect("list");
    assert_eq!(listed[0]["name"], "jumpcloud");
    assert!(
        listed[0].get("token").is_none(),
        "lists never carry secrets"
    );

    let bad = invoke(&webview, "issue_token", json!({ "name": "has space" })).expect_err("bad");
    assert_eq!(bad["kind"], "token");
    assert!(bad["message"]
        .as_str()
        .is_some_and(|m| m.contains("letters, digits")));

    assert_eq!(
        invoke(&webview, "get_theme", json!({})).expect("theme"),
        "system"
    );
    invoke(&webview, "set_theme", json!({ "theme": "dark" })).expect("set theme");
    assert_eq!(
        invoke(&webview, "get_theme", json!({})).expect("theme"),
        "dark"
    );
    invoke(&webview, "set_theme", json!({ "theme": "purple" })).expect_err("no such theme");

    let mut settings = invoke(&webview, "get_settings", json!({})).expect("settings");
    settings["port"] = json!(0);
    settings["tls"] = json!("pem");
    let refused =
        invoke(&webview, "save_settings", json!({ "settings": settings })).expect_err("refused");
    assert_eq!(refused["kind"], "invalid_settings");
    let fields: Vec<&str> = refused["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["port", "certFile", "keyFile"]);

    let preview = invoke(
        &webview,
        "preview_mapping",
        json!({ "rows": [{"kind": "expression", "source": "jcUser.firstname +", "target": "userName", "createOnly": false}],
                "jcUserJson": "{\"firstname\": \"Ada\"}", "isCreate": true }),
    )
    .expect("preview");
    assert_eq!(preview["problems"][0]["column"], "source");
    assert_eq!(preview["problems"][0]["line"], 1);

    let people = invoke(
        &webview,
        "search_people",
        json!({ "query": {"state": "removed"} }),
    )
    .expect("people");
    assert_eq!(people["total"], 0);
    let groups = invoke(&webview, "list_groups", json!({})).expect("groups");
    assert_eq!(
        groups.as_array().map(Vec::len),
        Some(2),
        "the built-in groups"
    );
}

#[test]
fn sso_commands_answer_over_ipc_and_never_send_the_client_id_back() {
    let (_dir, app) = core_app();
    let shell = mock_shell(app, "unused");
    let webview = WebviewWindowBuilder::new(&shell, "main", Default::default())
        .build()
        .expect("webview");
    let view = invoke(&webview, "sso_settings", json!({})).expect("settings");
    assert_eq!(view["clientIdStored"], false);
    assert_eq!(
        view["redirectUris"][1]["uri"],
        "http://127.0.0.1/keybridge/oidc/callback"
    );

    let refused = invoke(
        &webview,
        "save_sso_settings",
        json!({ "input": { "wellKnownUrl": "http://idp.example.com/x", "clientId": null, "publicUrl": null } }),
    )
    .expect_err("refused");
    assert_eq!(refused["kind"], "invalid_settings");
    assert_eq!(refused["fields"][0]["field"], "wellKnownUrl");
    assert_eq!(refused["fields"][1]["field"], "clientId");

    let saved = invoke(
        &webview,
        "save_sso_settings",
        json!({ "input": { "wellKnownUrl": "https://oauth.id.jumpcloud.com/.well-known/openid-configuration", "clientId": "jc-ipc-client", "publicUrl": "https://scim.example.com" } }),
    )
    .expect("saved");
    assert_eq!(saved["clientIdStored"], true);
    assert!(!saved.to_string().contains("jc-ipc-client"));
    assert_eq!(
        saved["redirectUris"][0]["uri"],
        "https://scim.example.com/sso/oidc/redirect/"
    );

    // A discovery check against a port nothing listens on: a step that says what to fix.
    let port = free_port();
    let check = invoke(
        &webview,
        "sso_check",
        json!({ "request": { "wellKnownUrl": format!("http://127.0.0.1:{port}/.well-known/openid-configuration"), "clientId": null, "signIn": false } }),
    )
    .expect("check");
    assert_eq!(check["passed"], false);
    assert_eq!(check["steps"][0]["ok"], false);
    assert_eq!(
        invoke(&webview, "cancel_sso_check", json!({})).expect("cancel"),
        json!(false)
    );

    let groups = invoke(&webview, "sso_policy", json!({})).expect("policy");
    assert_eq!(groups["mode"], "no_one");
    let owners = groups["choices"]
        .as_array()
        .and_then(|c| c.iter().find(|g| !g["notSelectable"].is_null()))
        .expect("owners listed")["id"]
        .clone();
    let refused = invoke(
        &webview,
        "save_sso_policy",
        json!({ "input": { "mode": "selected_groups", "groups": [{ "id": owners, "graceDays": 5 }], "everyoneGraceDays": null } }),
    )
    .expect_err("owners");
    assert_eq!(
        refused["fields"][0]["field"],
        format!("grace.{}", owners.as_str().unwrap_or_default())
    );

    let status = invoke(&webview, "sso_status", json!({})).expect("status");
    assert_eq!(status["people"], json!([]));
    assert_eq!(status["mailConfigured"], false);
    let missing =
        invoke(&webview, "recover_person", json!({ "id": "nobody" })).expect_err("nobody");
    assert_eq!(missing["kind"], "not_found");
}

/// `ui/src/bindings.ts` is what the commands export now. Regenerate with
/// `KEYBRIDGE_WRITE_BINDINGS=1 cargo test -p keybridge-desktop bindings`.
#[test]
fn the_committed_typescript_bindings_are_fresh() {
    let committed_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    let dir = tempfile::tempdir().expect("tempdir");
    let fresh_path = dir.path().join("bindings.ts");
    crate::export_bindings(&fresh_path).expect("export");
    let fresh = std::fs::read_to_string(&fresh_path).expect("read fresh");
    if std::env::var_os("KEYBRIDGE_WRITE_BINDINGS").is_some() {
        std::fs::write(&committed_path, &fresh).expect("write bindings");
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == fresh,
        "ui/src/bindings.ts is stale: run `KEYBRIDGE_WRITE_BINDINGS=1 cargo test -p keybridge-desktop bindings` and commit it"
    );
    assert!(fresh.starts_with("// @generated"), "marked as generated");
}
