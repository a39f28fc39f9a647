//! The desktop app's "Test connection" (`App::sso_check`) against a real OpenID Connect
//! provider (npm oidc-provider) on loopback: the client ID saved in the app's secret
//! store, a real PKCE sign-in through the loopback redirect, the ID token verified.

mod peers;

use std::sync::Arc;

use keybridge::app::sso::{SsoCheckRequest, SsoSettingsInput};
use keybridge::app::{App, AppSettings, SecretsChoice};
use keybridge::sso::check::OpenUrl;
use peers::{browser, sign_in_at_provider, OidcProvider, CLIENT_ID};

/// Opens the sign-in URL the way a person would: signs in as `login` and lets the
/// provider send the browser back to the app's loopback redirect.
fn person_signing_in_as(login: &'static str) -> OpenUrl {
    Arc::new(move |url: &url::Url| {
        let url = url.to_string();
        tokio::spawn(async move {
            let b = browser();
            let back = sign_in_at_provider(&b, &url, login).await;
            let _ = b.get(back).send().await;
        });
    })
}

async fn app_with_client_id(p: &OidcProvider) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(dir.path()).await.expect("open");
    app.save_settings(AppSettings {
        secrets: SecretsChoice::File,
        ..AppSettings::default()
    })
    .await
    .expect("settings");
    app.save_sso_settings(SsoSettingsInput {
        well_known_url: p.well_known.clone(),
        client_id: Some(CLIENT_ID.into()),
        public_url: Some("https://bridge.example.com".into()),
    })
    .await
    .expect("sso settings");
    (dir, app)
}

#[tokio::test]
async fn test_connection_signs_in_for_real_with_the_stored_client_id() {
    let p = OidcProvider::start("none");
    let (_dir, app) = app_with_client_id(&p).await;
    let r = app
        .sso_check(
            SsoCheckRequest {
                well_known_url: p.well_known.clone(),
                client_id: None,
                sign_in: true,
            },
            person_signing_in_as("alice@example.com"),
        )
        .await
        .expect("check");
    assert!(r.passed, "{:#?}", r.steps);
    assert_eq!(r.signed_in_as.as_deref(), Some("alice@example.com"));
    let last = r.steps.last().expect("steps");
    assert_eq!(last.name, "test connection");
    assert!(last.detail.contains("ID token verified"), "{}", last.detail);
}

#[tokio::test]
async fn a_wrong_audience_fails_the_test_connection_with_what_to_fix() {
    let p = OidcProvider::start("wrong-audience");
    let (_dir, app) = app_with_client_id(&p).await;
    let r = app
        .sso_check(
            SsoCheckRequest {
                well_known_url: p.well_known.clone(),
                client_id: None,
                sign_in: true,
            },
            person_signing_in_as("alice@example.com"),
        )
        .await
        .expect("check");
    assert!(!r.passed);
    let last = r.steps.last().expect("steps");
    assert_eq!(last.name, "test connection");
    assert!(!last.ok);
    assert!(
        last.detail.contains("check the client ID"),
        "{}",
        last.detail
    );
}
