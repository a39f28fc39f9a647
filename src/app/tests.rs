//! The `app` facade against a real store, a real bridge on loopback and a real HTTP
//! client.

use serde_json::json;

use super::directory_views::{PeopleQuery, PersonStateView};
use super::*;
use crate::directory::Actor;

/// A port that was free a moment ago (the bridge binds it right after).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// An app in a temp dir serving plain HTTP on loopback, secrets in the file store.
async fn app_on_loopback() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().expect("tempdir");
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
    (dir, app)
}

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn user(n: usize) -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("person{n}@example.com"),
        "name": {"givenName": "Person", "familyName": format!("{n}")},
        "emails": [{"value": format!("person{n}@example.com"), "primary": true}],
    })
}

#[tokio::test]
async fn start_stop_and_status_follow_the_state_machine_and_persist_was_running() {
    let (_dir, app) = app_on_loopback().await;
    assert_eq!(app.bridge_status().state, BridgeState::Stopped);
    let mut watcher = app.controller().subscribe();
    let running = app.start_bridge().await.expect("start");
    assert_eq!(running.state, BridgeState::Running);
    let base = running.base_url.clone().expect("base url");
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/scim/v2"));
    assert!(watcher.has_changed().expect("watch"));
    assert_eq!(watcher.borrow_and_update().state, BridgeState::Running);
    // Starting again is a no-op answering the same bridge.
    assert_eq!(
        app.start_bridge().await.expect("again").base_url,
        Some(base.clone())
    );
    assert!(app.settings().await.expect("settings").was_running);
    let ping = reqwest::get(format!("{}/ping", base.trim_end_matches("/scim/v2")))
        .await
        .expect("ping");
    assert!(ping.status().is_success());
    let stopped = app.stop_bridge().await.expect("stop");
    assert_eq!(stopped.state, BridgeState::Stopped);
    assert!(!app.settings().await.expect("settings").was_running);
    assert!(
        reqwest::get(format!("{base}/Users")).await.is_err(),
        "nothing listens after stop"
    );
    assert_eq!(
        app.stop_bridge().await.expect("again").state,
        BridgeState::Stopped
    );
}

#[tokio::test]
async fn a_port_in_use_fails_the_start_with_what_to_do_and_a_retry_works() {
    let (_dir, app) = app_on_loopback().await;
    let port = app.settings().await.expect("settings").port;
    let squatter = std::net::TcpListener::bind(("127.0.0.1", port)).expect("squat");
    let err = app.start_bridge().await.expect_err("port in use");
    let problem = Problem::from(&err);
    assert_eq!(problem.kind, ProblemKind::Bridge);
    assert!(
        problem.message.contains("choose another port in Settings"),
        "{}",
        problem.message
    );
    let status = app.bridge_status();
    assert_eq!(status.state, BridgeState::Failed);
    assert!(status.error.is_some());
    drop(squatter);
    assert_eq!(
        app.start_bridge().await.expect("retry").state,
        BridgeState::Running
    );
    app.shut_down().await;
}

#[tokio::test]
async fn the_theme_is_kept_in_the_store_across_launches_and_apart_from_the_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let app = App::open(dir.path()).await.expect("open");
        assert_eq!(app.theme().await.expect("theme"), Theme::System);
        app.set_theme(Theme::Dark).await.expect("set");
        // Saving the Settings form does not carry (or reset) the theme.
        app.save_settings(AppSettings {
            secrets: SecretsChoice::File,
            ..AppSettings::default()
        })
        .await
        .expect("settings");
        app.shut_down().await;
    }
    let app = App::open(dir.path()).await.expect("reopen");
    assert_eq!(app.theme().await.expect("theme"), Theme::Dark);
    app.shut_down().await;
}

#[tokio::test]
async fn the_bridge_comes_back_at_launch_when_it_was_running_at_quit() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
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
        assert!(
            app.resume().await.is_none(),
            "never started: nothing to resume"
        );
        app.start_bridge().await.expect("start");
        app.shut_down().await; // quitting is not the admin stopping it
    }
    let app = App::open(dir.path()).await.expect("reopen");
    let resumed = app.resume().await.expect("was running").expect("start");
    assert_eq!(resumed.state, BridgeState::Running);
    app.stop_bridge().await.expect("stop");
    app.shut_down().await;
    let app = App::open(dir.path()).await.expect("reopen");
    assert!(
        app.resume().await.is_none(),
        "stopped by the admin: stays stopped"
    );
    app.shut_down().await;
}

#[tokio::test]
async fn stopping_under_load_loses_no_acknowledged_write() {
    let (_dir, app) = app_on_loopback().await;
    let token = app.issue_token("load").await.expect("token");
    let base = app
        .start_bridge()
        .await
        .expect("start")
        .base_url
        .expect("url");
    let client = reqwest::Client::new();
    let mut requests = Vec::new();
    for n in 0..60 {
        let (client, base, token) = (
            client.clone(),
            base.clone(),
            token.token.expose().to_owned(),
        );
        requests.push(tokio::spawn(async move {
            let sent = client
                .post(format!("{base}/Users"))
                .bearer_auth(token)
                .json(&user(n))
                .send()
                .await;
            match sent {
                Ok(r) if r.status() == 201 => {
                    let body: serde_json::Value = r.json().await.expect("json");
                    Some(body["id"].as_str().map(str::to_owned).expect("id"))
                }
                // Refused (the bridge had stopped accepting) or not answered: either way
                // never acknowledged.
                _ => None,
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    app.stop_bridge().await.expect("stop");
    let mut acknowledged = Vec::new();
    for r in requests {
        if let Some(id) = r.await.expect("task") {
            acknowledged.push(id);
        }
    }
    for id in &acknowledged {
        app.person(id)
            .await
            .expect("every acknowledged person is stored");
    }
    let stored = app
        .people(PeopleQuery::default())
        .await
        .expect("people")
        .total;
    assert_eq!(
        stored as usize,
        acknowledged.len(),
        "no write happened without its answer"
    );
    app.shut_down().await;
}

#[tokio::test]
async fn tokens_are_kept_so_they_can_be_copied_rotated_and_revoked() {
    let (_dir, app) = app_on_loopback().await;
    assert!(app
        .secrets_status()
        .backend
        .is_some_and(|b| b.contains("owner-only file")));
    let issued = app.issue_token("jumpcloud").await.expect("issue");
    assert!(issued.kept, "{}", issued.note);
    let json = serde_json::to_value(&issued).expect("json");
    assert_eq!(
        json["token"],
        issued.token.expose(),
        "the new token crosses once"
    );
    assert_eq!(
        app.token_secret("jumpcloud").await.expect("copy").expose(),
        issued.token.expose()
    );
    let listed = app.tokens().await.expect("list");
    assert_eq!(
        (listed[0].name.as_str(), listed[0].copyable),
        ("jumpcloud", true)
    );
    let rotated = app.rotate_token("jumpcloud").await.expect("rotate");
    assert_ne!(rotated.token.expose(), issued.token.expose());
    assert_eq!(
        app.token_secret("jumpcloud").await.expect("copy").expose(),
        rotated.token.expose()
    );
    let dup = app.issue_token("jumpcloud").await.expect_err("duplicate");
    assert_eq!(Problem::from(&dup).kind, ProblemKind::Token);
    app.revoke_token("jumpcloud").await.expect("revoke");
    assert!(app.tokens().await.expect("list").is_empty());
    let gone = app.token_secret("jumpcloud").await.expect_err("forgotten");
    assert_eq!(Problem::from(&gone).kind, ProblemKind::NotFound);
}

#[tokio::test]
async fn people_are_found_by_text_state_and_group_and_shown_with_their_history() {
    let (_dir, app) = app_on_loopback().await;
    let d = app.directory();
    let admin = Actor::admin();
    let base = "http://x/scim/v2";
    let ada = d.create_user(&admin, json!({"schemas": [USER], "userName": "ada@example.com", "name": {"givenName": "Ada", "familyName": "Lovelace"}}), base).await.expect("ada");
    let bob = d
        .create_user(
            &admin,
            json!({"schemas": [USER], "userName": "bob@example.com", "displayName": "Bob Émile"}),
            base,
        )
        .await
        .expect("bob");
    let cy = d
        .create_user(
            &admin,
            json!({"schemas": [USER], "userName": "cy@example.com"}),
            base,
        )
        .await
        .expect("cy");
    let id = |v: &serde_json::Value| v["id"].as_str().expect("id").to_owned();
    d.confirm_person(&admin, "bob@example.com", base)
        .await
        .expect("confirm");
    let ops = keybridge_scim::patch::parse_patch(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]})).expect("patch");
    d.patch_user(&admin, &id(&cy), ops, Default::default(), base)
        .await
        .expect("deprovision");
    let group = d.create_group(&admin, json!({"schemas": [GROUP], "displayName": "Engineering", "members": [{"value": id(&ada)}]}), base).await.expect("group");

    let find = |q: PeopleQuery| {
        let app = app.clone();
        async move {
            app.people(q)
                .await
                .expect("people")
                .items
                .into_iter()
                .map(|p| p.user_name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        find(PeopleQuery {
            text: Some("ÉMILE".into()),
            ..Default::default()
        })
        .await,
        ["bob@example.com"]
    );
    assert_eq!(
        find(PeopleQuery {
            state: Some(PersonStateView::Active),
            ..Default::default()
        })
        .await,
        ["bob@example.com"]
    );
    assert_eq!(
        find(PeopleQuery {
            state: Some(PersonStateView::Removed),
            ..Default::default()
        })
        .await,
        ["cy@example.com"]
    );
    assert_eq!(
        find(PeopleQuery {
            group_id: Some(id(&group)),
            ..Default::default()
        })
        .await,
        ["ada@example.com"]
    );

    let detail = app.person(&id(&ada)).await.expect("detail");
    assert_eq!(detail.resource["name"]["givenName"], "Ada");
    assert_eq!(
        detail
            .groups
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        ["Engineering"]
    );
    assert!(detail
        .events
        .iter()
        .any(|e| e.name == "user_create_provision"));
    assert_eq!(
        Problem::from(&app.person("nope").await.expect_err("unknown")).kind,
        ProblemKind::NotFound
    );

    let groups = app.groups().await.expect("groups");
    let names: Vec<_> = groups
        .iter()
        .map(|g| {
            (
                g.display_name.as_str(),
                g.built_in,
                g.managed,
                g.member_count,
            )
        })
        .collect();
    assert_eq!(names[2], ("Engineering", false, true, 1));
    assert!(names[0].1 && names[1].1, "built-in groups first: {names:?}");
    let eng = app.group(&id(&group)).await.expect("group detail");
    assert_eq!(eng.members[0].user_name, "ada@example.com");
    let _ = bob;

    let per_hour = app.events_per_hour(24).await.expect("per hour");
    assert_eq!(per_hour.len(), 24);
    assert!(
        per_hour.last().is_some_and(|h| h.success >= 4),
        "{per_hour:?}"
    );
}

#[tokio::test]
async fn events_filter_by_name_and_outcome_and_export_as_json() {
    let (dir, app) = app_on_loopback().await;
    let d = app.directory();
    let admin = Actor::admin();
    d.create_user(
        &admin,
        json!({"schemas": [USER], "userName": "a@example.com"}),
        "http://x",
    )
    .await
    .expect("a");
    d.create_user(
        &admin,
        json!({"schemas": [USER], "userName": "a@example.com"}),
        "http://x",
    )
    .await
    .expect_err("duplicate");
    let failures = app.latest_errors(5).await.expect("errors");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].status, Some(409));
    let creates = app
        .events(events::EventFilter {
            name: Some("user_create_provision".into()),
            outcome: Some(events::OutcomeView::Success),
            ..Default::default()
        })
        .await
        .expect("events");
    assert_eq!(creates.len(), 1);
    let path = app
        .export_events(Default::default(), &dir.path().join("exports"))
        .await
        .expect("export");
    let exported: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    assert_eq!(exported.len(), 2);
}

#[tokio::test]
async fn a_missing_keychain_is_a_clear_message_and_tokens_still_issue() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No session bus: the Secret Service cannot be reached. Other platforms have a
    // keychain, so the check is Linux's.
    if !cfg!(target_os = "linux") || std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        return;
    }
    let app = App::open(dir.path()).await.expect("open");
    let status = app.secrets_status();
    assert_eq!(status.choice, SecretsChoice::Keychain);
    let problem = status.problem.expect("a problem");
    assert!(problem.contains("Owner-only file"), "{problem}");
    let issued = app.issue_token("jc").await.expect("issue");
    assert!(!issued.kept);
    assert!(issued.note.contains("shown only once"), "{}", issued.note);
}

/// Against the real OS keychain: run by `crates/secrets/test-real-keychain.sh`, which
/// sets `KEYBRIDGE_REAL_KEYCHAIN=1` inside a throwaway GNOME Keyring.
#[tokio::test]
async fn real_keychain_keeps_a_token_for_copying_and_forgets_it_on_revoke() {
    if std::env::var_os("KEYBRIDGE_REAL_KEYCHAIN").is_none() {
        eprintln!("skipped: set KEYBRIDGE_REAL_KEYCHAIN=1 (crates/secrets/test-real-keychain.sh)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(dir.path()).await.expect("open");
    let status = app.secrets_status();
    assert!(
        status
            .backend
            .as_deref()
            .is_some_and(|b| b.contains("OS keychain")),
        "{status:?}"
    );
    let issued = app.issue_token("jumpcloud").await.expect("issue");
    assert!(issued.kept, "{}", issued.note);
    let copied = app.token_secret("jumpcloud").await.expect("copy");
    assert_eq!(copied.expose(), issued.token.expose());
    assert!(app.tokens().await.expect("list")[0].copyable);
    app.revoke_token("jumpcloud").await.expect("revoke");
    assert!(
        app.token_secret("jumpcloud").await.is_err(),
        "forgotten on revoke"
    );
    app.shut_down().await;
}

/// ACME settings that start without a CA: the directory URL points at a closed loopback
/// port (orders fail and are retried in the background, as when the CA is unreachable),
/// the HTTP-01 listener binds a free loopback port instead of 80.
fn acme_settings(http_port: u16) -> AppSettings {
    AppSettings {
        listen_address: "127.0.0.1".into(),
        port: free_port(),
        hostname: Some("scim.keybridge.test".into()),
        tls: TlsChoice::Acme,
        acme_email: Some("ops@keybridge.test".into()),
        acme_directory: format!("https://127.0.0.1:{}/directory", free_port()),
        acme_http_port: http_port,
        secrets: SecretsChoice::File,
        ..AppSettings::default()
    }
}

#[test]
fn acme_settings_name_each_bad_field_with_what_to_enter() {
    let defaults = AppSettings::default();
    assert_eq!(defaults.acme_directory, crate::bridge::acme::LETS_ENCRYPT);
    assert_eq!(defaults.acme_http_port, 80);

    let fields = |s: &AppSettings| -> Vec<(String, String)> {
        s.validate()
            .into_iter()
            .map(|p| (p.field, p.message))
            .collect()
    };
    // No host name: the CA has nothing to certify.
    let s = AppSettings {
        tls: TlsChoice::Acme,
        ..AppSettings::default()
    };
    let got = fields(&s);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "hostname");
    assert!(got[0].1.contains("DNS leads to this machine"), "{got:?}");

    let s = AppSettings {
        tls: TlsChoice::Acme,
        hostname: Some("203.0.113.7".into()),
        acme_email: Some("ops@".into()),
        acme_directory: "http://ca.example/directory".into(),
        acme_http_port: 8443,
        ..AppSettings::default()
    };
    let got = fields(&s);
    let names: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        names,
        ["hostname", "acmeEmail", "acmeDirectory", "acmeHttpPort"],
        "{got:?}"
    );
    assert!(got[0].1.contains("not IP addresses"), "{got:?}");
    assert!(got[1].1.contains("ops@ is not an email address"), "{got:?}");
    assert!(got[2].1.contains("https://"), "{got:?}");
    assert!(got[3].1.contains("usually 80"), "{got:?}");

    // On 443 the CA checks that same port (TLS-ALPN-01): the HTTP-01 port is not used.
    let s = AppSettings {
        tls: TlsChoice::Acme,
        port: 443,
        hostname: Some("scim.example.com".into()),
        acme_http_port: 0,
        ..AppSettings::default()
    };
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    assert_eq!(
        s.acme_challenge(),
        crate::bridge::acme::ChallengeKind::TlsAlpn01
    );

    // A valid form becomes the bridge's ACME mode, as `serve --tls acme` would build it.
    let s = acme_settings(80);
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    match s.tls_mode() {
        crate::bridge::TlsMode::Acme(config) => {
            assert_eq!(config.directory, s.acme_directory);
            assert_eq!(config.email.as_deref(), Some("ops@keybridge.test"));
            assert_eq!(config.http_port, 80);
            assert_eq!(
                config.challenge, None,
                "chosen by the port, as the CLI does"
            );
        }
        other => panic!("not ACME: {other:?}"),
    }
    // Changing the CA needs a restart of a running bridge.
    let mut staging = s.clone();
    staging.acme_directory = crate::bridge::acme::LETS_ENCRYPT_STAGING.into();
    assert!(s.serving_differs(&staging));
}

#[tokio::test]
async fn the_controller_starts_the_bridge_with_acme_serving_until_the_ca_issues() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(dir.path()).await.expect("open");
    let http_port = free_port();
    let settings = acme_settings(http_port);
    app.save_settings(settings.clone()).await.expect("save");
    assert_eq!(app.settings().await.expect("load").tls, TlsChoice::Acme);

    let before = app.certificate().await.expect("certificate");
    assert_eq!(before.mode, TlsChoice::Acme);
    assert!(
        before
            .note
            .as_deref()
            .is_some_and(|n| n.contains("asks the CA")),
        "{before:?}"
    );

    let status = app.start_bridge().await.expect("start with ACME");
    assert_eq!(status.state, BridgeState::Running);
    let base = status.base_url.expect("base url");
    assert_eq!(
        base,
        format!("https://scim.keybridge.test:{}/scim/v2", settings.port)
    );

    // Until the CA issues, the bridge serves HTTPS with a stand-in certificate.
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], settings.port).into();
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .resolve("scim.keybridge.test", addr)
        .build()
        .expect("client");
    let ping = client
        .get(format!(
            "https://scim.keybridge.test:{}/ping",
            settings.port
        ))
        .send()
        .await
        .expect("ping over TLS");
    assert!(ping.status().is_success());

    // The HTTP-01 listener answers where the CA's port-80 check arrives, and sends
    // browsers to HTTPS.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let redirect = plain
        .get(format!("http://127.0.0.1:{http_port}/scim/v2/Users"))
        .send()
        .await
        .expect("HTTP-01 listener");
    assert_eq!(redirect.status(), reqwest::StatusCode::MOVED_PERMANENTLY);
    let location = redirect
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        location.starts_with(&format!("https://scim.keybridge.test:{}/", settings.port)),
        "{location}"
    );

    app.stop_bridge().await.expect("stop");
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", http_port)).is_ok(),
        "stopping closes the HTTP-01 listener too"
    );
    app.shut_down().await;
}

#[tokio::test]
async fn an_acme_start_that_cannot_listen_for_the_ca_says_which_port_and_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(dir.path()).await.expect("open");
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").expect("squat");
    let http_port = squatter.local_addr().expect("addr").port();
    app.save_settings(acme_settings(http_port))
        .await
        .expect("save");
    let err = app.start_bridge().await.expect_err("HTTP-01 port taken");
    let problem = Problem::from(&err);
    assert_eq!(problem.kind, ProblemKind::Bridge);
    assert!(
        problem.message.contains(&http_port.to_string()) && problem.message.contains("443"),
        "{}",
        problem.message
    );
    assert_eq!(app.bridge_status().state, BridgeState::Failed);
    drop(squatter);
    assert_eq!(
        app.start_bridge().await.expect("retry").state,
        BridgeState::Running
    );
    app.shut_down().await;
}
