//! The app's SSO functions against a real store in a temp dir (secrets in the owner-only
//! file store), a discovery document served on loopback, and an injected clock.

use std::sync::{Arc, Mutex};

use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::app::{AppSettings, Problem, ProblemKind, SecretsChoice, TlsChoice};
use crate::directory::Actor;
use crate::sso::ManualClock;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const BASE: &str = "http://x/scim/v2";
const CLIENT_ID: &str = "jc-client-7f3a9d2e";
const SMTP_PASSWORD: &str = "smtp-pw-5c1e88b0";

async fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(dir.path()).await.expect("open");
    app.save_settings(AppSettings {
        listen_address: "127.0.0.1".into(),
        port: 8443,
        tls: TlsChoice::SelfSigned,
        secrets: SecretsChoice::File,
        ..AppSettings::default()
    })
    .await
    .expect("settings");
    (dir, app)
}

fn fields(e: &AppError) -> Vec<String> {
    match e {
        AppError::InvalidSettings(f) => f.iter().map(|p| p.field.clone()).collect(),
        other => panic!("expected field problems, got {other:?}"),
    }
}

/// Every byte SQLite holds for this installation (database and WAL).
fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("data dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.contains(".db") {
            all.extend(std::fs::read(entry.path()).unwrap_or_default());
        }
    }
    assert!(!all.is_empty(), "found the database files");
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn the_client_id_goes_to_the_secret_store_and_the_redirect_uris_are_shown() {
    let (dir, app) = app().await;
    let fresh = app.sso_settings().await.expect("view");
    assert_eq!(fresh.well_known_url, DEFAULT_WELL_KNOWN);
    assert!(!fresh.client_id_stored);
    assert_eq!(fresh.configured_at, None);
    // No host name in the settings and no bridge running: HOST is for the admin to fill.
    assert_eq!(
        fresh.redirect_uris[0].uri,
        "https://HOST/sso/oidc/redirect/"
    );
    assert_eq!(
        fresh.redirect_uris[1].uri,
        "http://127.0.0.1/keybridge/oidc/callback"
    );

    let refused = app
        .save_sso_settings(SsoSettingsInput {
            well_known_url: "http://idp.example.com/.well-known/openid-configuration".into(),
            client_id: Some("  ".into()),
            public_url: Some("ftp://bridge".into()),
        })
        .await
        .expect_err("refused");
    assert_eq!(fields(&refused), ["wellKnownUrl", "clientId", "publicUrl"]);
    assert_eq!(Problem::from(&refused).kind, ProblemKind::InvalidSettings);

    let saved = app
        .save_sso_settings(SsoSettingsInput {
            well_known_url: DEFAULT_WELL_KNOWN.into(),
            client_id: Some(format!(" {CLIENT_ID} ")),
            public_url: Some("https://bridge.example.com/".into()),
        })
        .await
        .expect("saved");
    assert!(saved.client_id_stored);
    assert!(saved.configured_at.is_some());
    assert_eq!(
        saved.redirect_uris[0].uri,
        "https://bridge.example.com/sso/oidc/redirect/"
    );
    let shown = serde_json::to_string(&saved).expect("json");
    assert!(
        !shown.contains(CLIENT_ID),
        "the client ID is never sent back"
    );
    assert!(
        !contains(&database_bytes(dir.path()), CLIENT_ID),
        "the client ID is not in SQLite"
    );
    let kept = app.sso().expect("sso").client_id().expect("kept");
    assert_eq!(
        kept.expose(),
        CLIENT_ID,
        "trimmed and kept in the secret store"
    );
    assert!(
        !format!(
            "{:?}",
            SsoSettingsInput {
                well_known_url: String::new(),
                client_id: Some(CLIENT_ID.into()),
                public_url: None
            }
        )
        .contains(CLIENT_ID),
        "Debug redacts the client ID"
    );

    // Saving again without a client ID keeps the stored one.
    let again = app
        .save_sso_settings(SsoSettingsInput {
            well_known_url: "https://oauth.example.com/.well-known/openid-configuration".into(),
            client_id: None,
            public_url: None,
        })
        .await
        .expect("saved again");
    assert!(again.client_id_stored);
    assert_eq!(
        again.public_url.as_deref(),
        Some("https://bridge.example.com")
    );
    assert_eq!(
        app.sso().expect("sso").client_id().expect("kept").expose(),
        CLIENT_ID
    );
}

#[tokio::test]
async fn the_redirect_uri_follows_the_host_name_in_the_settings() {
    let (_dir, app) = app().await;
    let mut s = app.settings().await.expect("settings");
    s.hostname = Some("scim.example.com".into());
    app.save_settings(s).await.expect("saved");
    let view = app.sso_settings().await.expect("view");
    assert_eq!(
        view.effective_public_url.as_deref(),
        Some("https://scim.example.com:8443")
    );
    assert_eq!(
        view.redirect_uris[0].uri,
        "https://scim.example.com:8443/sso/oidc/redirect/"
    );
}

#[tokio::test]
async fn smtp_settings_are_checked_per_field_and_the_password_goes_to_the_secret_store() {
    let (dir, app) = app().await;
    let refused = app
        .save_smtp_settings(SmtpInput {
            relay: "smtp.example.com".into(),
            port: 70000,
            security: SmtpSecurityView::None,
            username: None,
            password: Some(SMTP_PASSWORD.into()),
            from: "not an address".into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(fields(&refused), ["port", "from", "security", "username"]);

    let saved = app
        .save_smtp_settings(SmtpInput {
            relay: "smtp.example.com".into(),
            port: 587,
            security: SmtpSecurityView::Starttls,
            username: Some("it@example.com".into()),
            password: Some(SMTP_PASSWORD.into()),
            from: "Keybridge <it@example.com>".into(),
        })
        .await
        .expect("saved");
    let smtp = saved.smtp.expect("smtp");
    assert_eq!(smtp.relay, "smtp.example.com");
    assert_eq!(smtp.security, SmtpSecurityView::Starttls);
    assert!(smtp.password_stored);
    let shown = serde_json::to_string(&app.sso_settings().await.expect("view")).expect("json");
    assert!(!shown.contains(SMTP_PASSWORD));
    assert!(!contains(&database_bytes(dir.path()), SMTP_PASSWORD));
    let status = app.sso_status().await.expect("status");
    assert!(status.mail_configured);
}

/// A discovery document and signing keys on loopback that pass every discovery check.
async fn provider() -> String {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    let doc = json!({
        "issuer": origin,
        "authorization_endpoint": format!("{origin}/auth"),
        "token_endpoint": format!("{origin}/token"),
        "jwks_uri": format!("{origin}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    });
    let jwks = json!({"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB"}]});
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc) }
            }),
        )
        .route(
            "/jwks",
            get(move || {
                let jwks = jwks.clone();
                async move { axum::Json(jwks) }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("{origin}/.well-known/openid-configuration")
}

#[tokio::test]
async fn the_setup_check_reports_each_step_in_words_that_say_what_to_fix() {
    let (_dir, app) = app().await;
    let well_known = provider().await;
    let passed = app
        .sso_check(
            SsoCheckRequest {
                well_known_url: well_known.clone(),
                client_id: None,
                sign_in: false,
            },
            open_nothing(),
        )
        .await
        .expect("check");
    assert!(passed.passed, "{:#?}", passed.steps);
    assert_eq!(passed.steps.len(), 6);
    assert!(passed.steps.iter().all(|s| s.ok));

    // Nothing listens on this one.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let failed = app
        .sso_check(
            SsoCheckRequest {
                well_known_url: format!("http://127.0.0.1:{port}/.well-known/openid-configuration"),
                client_id: None,
                sign_in: false,
            },
            open_nothing(),
        )
        .await
        .expect("check");
    assert!(!failed.passed);
    assert!(!failed.steps[0].ok);
    assert!(
        failed.steps[0]
            .detail
            .contains("cannot fetch the discovery document"),
        "{}",
        failed.steps[0].detail
    );

    // Test connection needs a client ID: typed, or stored.
    let refused = app
        .sso_check(
            SsoCheckRequest {
                well_known_url: well_known,
                client_id: None,
                sign_in: true,
            },
            open_nothing(),
        )
        .await
        .expect_err("no client id");
    assert_eq!(fields(&refused), ["clientId"]);

    let events = app
        .events(crate::app::events::EventFilter {
            name: Some("sso_checked".into()),
            ..Default::default()
        })
        .await
        .expect("events");
    assert_eq!(events.len(), 2, "each check is in the audit log");
}

#[tokio::test]
async fn test_connection_opens_a_pkce_sign_in_with_a_loopback_redirect_and_can_be_cancelled() {
    let (_dir, app) = app().await;
    let well_known = provider().await;
    let opened: Arc<Mutex<Option<url::Url>>> = Arc::default();
    let open: OpenUrl = {
        let opened = opened.clone();
        Arc::new(move |u: &url::Url| {
            if let Ok(mut o) = opened.lock() {
                *o = Some(u.clone());
            }
        })
    };
    let waiting = {
        let app = app.clone();
        tokio::spawn(async move {
            app.sso_check(
                SsoCheckRequest {
                    well_known_url: well_known,
                    client_id: Some(CLIENT_ID.into()),
                    sign_in: true,
                },
                open,
            )
            .await
        })
    };
    let url = loop {
        if let Some(u) = opened.lock().ok().and_then(|o| o.clone()) {
            break u;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert!(query.contains_key("state") && query.contains_key("nonce"));
    let redirect = url::Url::parse(&query["redirect_uri"]).expect("redirect");
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    assert_eq!(redirect.path(), "/keybridge/oidc/callback");
    let loopback_port = redirect.port().expect("a port");

    assert!(app.cancel_sso_check(), "a sign-in was waiting");
    let result = waiting.await.expect("join").expect("answer");
    assert!(result.cancelled && !result.passed);
    assert!(!app.cancel_sso_check(), "nothing waits any more");

    // A front door that cannot open the browser ends the wait with what to do.
    let well_known = provider().await;
    let waiting = {
        let app = app.clone();
        tokio::spawn(async move {
            app.sso_check(
                SsoCheckRequest {
                    well_known_url: well_known,
                    client_id: Some(CLIENT_ID.into()),
                    sign_in: true,
                },
                open_nothing(),
            )
            .await
        })
    };
    while !app.abandon_sso_check("no browser here") {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let failed = waiting.await.expect("join").expect("answer");
    assert!(!failed.cancelled && !failed.passed);
    assert_eq!(failed.steps[0].name, "test connection");
    assert_eq!(failed.steps[0].detail, "no browser here");
    // The loopback listener is gone with the cancelled sign-in.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", loopback_port))
            .await
            .is_err(),
        "the loopback listener stopped"
    );
}

async fn group(app: &App, name: &str, members: &[&str]) -> String {
    let members: Vec<_> = members.iter().map(|m| json!({ "value": m })).collect();
    let g = app
        .directory()
        .create_group(
            &Actor::admin(),
            json!({"schemas": [GROUP], "displayName": name, "members": members}),
            BASE,
        )
        .await
        .expect("group");
    g["id"].as_str().expect("id").to_owned()
}

async fn person(app: &App, email: &str, active: bool) -> String {
    let u = app
        .directory()
        .create_user(
            &Actor::admin(),
            json!({"schemas": [USER], "userName": email, "emails": [{"value": email, "primary": true}]}),
            BASE,
        )
        .await
        .expect("user");
    if active {
        app.directory()
            .confirm_person(&Actor::admin(), email, BASE)
            .await
            .expect("confirm");
    }
    u["id"].as_str().expect("id").to_owned()
}

fn selected(mode: PolicyModeView, groups: &[(&str, i32)]) -> SsoPolicyInput {
    SsoPolicyInput {
        mode,
        groups: groups
            .iter()
            .map(|(id, d)| PolicyGroupInput {
                id: (*id).to_owned(),
                grace_days: *d,
            })
            .collect(),
        everyone_grace_days: None,
    }
}

#[tokio::test]
async fn the_policy_editor_checks_grace_periods_and_edits_move_the_deadline_from_the_original_date()
{
    let (_dir, app) = app().await;
    let t0 = OffsetDateTime::now_utc();
    let clock = ManualClock::at(t0);
    let app = app.with_clock(Arc::new(clock.clone()));
    let eng = group(&app, "Engineering", &[]).await;
    let fresh = app.sso_policy().await.expect("policy");
    assert_eq!(fresh.mode, PolicyModeView::NoOne);
    assert_eq!(fresh.default_grace_days, 5);
    let owners = fresh
        .choices
        .iter()
        .find(|c| c.not_selectable.is_some())
        .expect("the Owners group is listed, not selectable");

    let refused = app
        .save_sso_policy(selected(
            PolicyModeView::SelectedGroups,
            &[(&eng, 0), (&owners.id, 5), ("no-such-group", 5)],
        ))
        .await
        .expect_err("refused");
    assert_eq!(
        fields(&refused),
        [
            format!("grace.{eng}"),
            format!("grace.{}", owners.id),
            "grace.no-such-group".to_owned()
        ]
    );
    let too_long = app
        .save_sso_policy(selected(PolicyModeView::SelectedGroups, &[(&eng, 31)]))
        .await
        .expect_err("31 days");
    assert_eq!(
        Problem::from(&too_long).fields[0].message,
        "enter 1 to 30 days"
    );
    let none = app
        .save_sso_policy(selected(PolicyModeView::SelectedGroups, &[]))
        .await
        .expect_err("no group");
    assert_eq!(fields(&none), ["groups"]);
    assert_eq!(
        app.sso_policy().await.expect("policy").mode,
        PolicyModeView::NoOne,
        "a refused save changes nothing"
    );

    let saved = app
        .save_sso_policy(selected(PolicyModeView::SelectedGroups, &[(&eng, 5)]))
        .await
        .expect("saved");
    assert_eq!(saved.mode, PolicyModeView::SelectedGroups);
    let first = saved.groups[0].clone();
    assert_eq!((first.name.as_str(), first.grace_days), ("Engineering", 5));
    assert_eq!(
        first.deadline,
        crate::store::format_timestamp(t0 + Duration::days(5))
    );

    clock.advance(Duration::days(2));
    let edited = app
        .save_sso_policy(selected(PolicyModeView::SelectedGroups, &[(&eng, 10)]))
        .await
        .expect("edited");
    assert_eq!(
        edited.groups[0].configured_at, first.configured_at,
        "editing never restarts the grace period"
    );
    assert_eq!(
        edited.groups[0].deadline,
        crate::store::format_timestamp(t0 + Duration::days(10))
    );

    let mut everyone = selected(PolicyModeView::EveryoneExceptGuests, &[(&eng, 10)]);
    everyone.everyone_grace_days = Some(45);
    assert_eq!(
        fields(&app.save_sso_policy(everyone.clone()).await.expect_err("45")),
        ["everyoneGraceDays"]
    );
    everyone.everyone_grace_days = Some(7);
    let all = app.save_sso_policy(everyone).await.expect("everyone");
    assert_eq!(all.everyone_grace_days, 7);
    assert_eq!(
        all.everyone_deadline,
        Some(crate::store::format_timestamp(
            t0 + Duration::days(2) + Duration::days(7)
        ))
    );

    let removed = app
        .save_sso_policy(selected(PolicyModeView::NoOne, &[]))
        .await
        .expect("no one");
    assert!(removed.groups.is_empty());
    assert_eq!(removed.mode, PolicyModeView::NoOne);
}

#[tokio::test]
async fn status_shows_deadlines_and_recovery_gives_a_new_chance_and_links_are_handed_over() {
    let (_dir, app) = app().await;
    let t0 = OffsetDateTime::now_utc();
    let clock = ManualClock::at(t0);
    let app = app.with_clock(Arc::new(clock.clone()));
    let ada = person(&app, "ada@example.com", true).await;
    let ivy = person(&app, "ivy@example.com", false).await;
    let eng = group(&app, "Engineering", &[&ada, &ivy]).await;
    app.save_sso_policy(selected(PolicyModeView::SelectedGroups, &[(&eng, 5)]))
        .await
        .expect("policy");

    let status = app.sso_status().await.expect("status");
    assert!(!status.mail_configured);
    let row = |s: &SsoStatusView, id: &str| {
        s.people
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .expect("listed")
    };
    let a = row(&status, &ada);
    assert_eq!(a.state, UnlockStateView::SwitchPending);
    assert_eq!(a.method, UnlockMethodView::AccountPassword);
    assert_eq!(a.group.as_deref(), Some("Engineering"));
    assert_eq!(
        a.deadline,
        Some(crate::store::format_timestamp(t0 + Duration::days(5)))
    );
    assert_eq!(a.link, Some(LinkKind::Switch));
    assert!(!a.can_recover);
    let i = row(&status, &ivy);
    assert_eq!(i.state, UnlockStateView::JoinsWithSso);
    assert_eq!(i.link, Some(LinkKind::Invitation));

    // The bridge is not running and no public URL is known yet.
    let unknown = app.handover_link(&ivy).await.expect_err("no public url");
    assert!(
        Problem::from(&unknown).message.contains("public URL"),
        "{}",
        Problem::from(&unknown).message
    );
    let mut s = app.settings().await.expect("settings");
    s.hostname = Some("scim.example.com".into());
    app.save_settings(s).await.expect("host");
    let invite = app.handover_link(&ivy).await.expect("invitation");
    assert_eq!(invite.kind, LinkKind::Invitation);
    assert!(
        invite
            .url
            .starts_with("https://scim.example.com:8443/join/"),
        "{}",
        invite.url
    );
    assert!(
        !format!("{invite:?}").contains("/join/"),
        "Debug redacts it"
    );
    let switch = app.handover_link(&ada).await.expect("switch");
    assert_eq!(switch.kind, LinkKind::Switch);

    let not_yet = app.recover_person(&ada).await.expect_err("not needed");
    assert_eq!(Problem::from(&not_yet).kind, ProblemKind::Invalid);

    clock.advance(Duration::days(6));
    let missed = app.person_unlock(&ada).await.expect("status");
    assert_eq!(missed.state, UnlockStateView::NeedsRecovery);
    assert!(missed.can_recover && missed.link.is_none());
    assert!(
        missed.explanation.contains("deadline"),
        "{}",
        missed.explanation
    );
    let recovered = app.recover_person(&ada).await.expect("recover");
    assert_eq!(recovered.state, UnlockStateView::SwitchPending);
    assert_eq!(
        recovered.deadline,
        Some(crate::store::format_timestamp(
            t0 + Duration::days(6) + Duration::days(5)
        )),
        "a new grace period from the recovery"
    );

    let missing = app.person_unlock("no-such-id").await.expect_err("unknown");
    assert_eq!(Problem::from(&missing).kind, ProblemKind::NotFound);
}
