//! The SSO setup check against a real OpenID Connect provider (npm oidc-provider) on
//! loopback: discovery passes, a full sign-in with PKCE passes, and each kind of
//! misconfiguration fails with its own message.

mod peers;

use std::sync::Arc;
use std::time::Duration;

use keybridge::secrets::Secret;
use keybridge::sso::check::{self, CheckOptions, CheckReport, OpenUrl};
use peers::{browser, sign_in_at_provider, OidcProvider, CLIENT_ID};

/// Opens the sign-in URL the way a person would: signs in as `login` and lets the
/// provider send the browser back to the loopback redirect.
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

fn nobody() -> OpenUrl {
    Arc::new(|_: &url::Url| {})
}

async fn run_check(p: &OidcProvider, sign_in: bool, open: OpenUrl) -> CheckReport {
    let http = keybridge::sso::oidc::http_client().expect("http");
    check::run(
        &http,
        &CheckOptions {
            well_known_url: p.well_known.clone(),
            client_id: Secret::new(CLIENT_ID),
            sign_in,
            timeout: Duration::from_secs(60),
        },
        open,
    )
    .await
}

fn step<'a>(r: &'a CheckReport, name: &str) -> &'a keybridge::sso::oidc::CheckStep {
    r.steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step '{name}' in {:#?}", r.steps))
}

#[tokio::test]
async fn discovery_check_passes_against_a_real_provider() {
    let p = OidcProvider::start("none");
    let r = run_check(&p, false, nobody()).await;
    assert!(r.passed(), "{:#?}", r.steps);
    let names: Vec<&str> = r.steps.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "discovery document fetched",
            "issuer",
            "endpoints",
            "PKCE with S256",
            "response type 'code'",
            "signing keys (JWKS) fetched"
        ]
    );
}

#[tokio::test]
async fn a_full_sign_in_with_pkce_passes_the_test_connection() {
    let p = OidcProvider::start("none");
    let r = run_check(&p, true, person_signing_in_as("alice@example.com")).await;
    assert!(r.passed(), "{:#?}", r.steps);
    let who = r.identity.as_ref().expect("identity");
    assert_eq!(who.email.as_deref(), Some("alice@example.com"));
    assert!(step(&r, "test connection")
        .detail
        .contains("alice@example.com"));
}

#[tokio::test]
async fn a_wrong_issuer_fails_with_its_own_message() {
    let p = OidcProvider::start("wrong-issuer");
    let r = run_check(&p, true, nobody()).await;
    assert!(!r.passed());
    let s = step(&r, "issuer");
    assert!(!s.ok);
    assert!(s.detail.starts_with("issuer mismatch"), "{}", s.detail);
    assert!(s.detail.contains("http://localhost:"), "{}", s.detail);
    // Nothing after a failed issuer check is trusted, so no sign-in was attempted.
    assert!(r.steps.iter().all(|s| s.name != "test connection"));
}

#[tokio::test]
async fn a_missing_s256_fails_with_its_own_message() {
    let p = OidcProvider::start("no-s256");
    let r = run_check(&p, true, nobody()).await;
    assert!(!r.passed());
    let s = step(&r, "PKCE with S256");
    assert!(!s.ok);
    assert!(
        s.detail.contains("does not offer PKCE with S256"),
        "{}",
        s.detail
    );
    assert!(s.detail.contains("JumpCloud"), "{}", s.detail);
}

#[tokio::test]
async fn a_bad_signature_fails_with_its_own_message() {
    let p = OidcProvider::start("bad-signature");
    let r = run_check(&p, true, person_signing_in_as("alice@example.com")).await;
    assert!(!r.passed());
    let s = step(&r, "test connection");
    assert!(!s.ok);
    assert!(
        s.detail.contains("signature does not verify"),
        "{}",
        s.detail
    );
}

#[tokio::test]
async fn a_wrong_audience_fails_with_its_own_message() {
    let p = OidcProvider::start("wrong-audience");
    let r = run_check(&p, true, person_signing_in_as("alice@example.com")).await;
    assert!(!r.passed());
    let s = step(&r, "test connection");
    assert!(!s.ok);
    assert!(
        s.detail.contains("is for another application"),
        "{}",
        s.detail
    );
    assert!(s.detail.contains("some-other-application"), "{}", s.detail);
}

#[tokio::test]
async fn the_loopback_redirect_refuses_a_replayed_or_foreign_state() {
    let lb = keybridge::sso::loopback::Loopback::bind()
        .await
        .expect("bind");
    let uri = lb.redirect_uri();
    let waiter =
        tokio::spawn(async move { lb.wait("expected-state", Duration::from_secs(30)).await });
    let b = browser();
    // Give the waiter a moment to register its state.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let foreign = b
        .get(format!("{uri}?code=c1&state=other"))
        .send()
        .await
        .expect("get");
    assert_eq!(foreign.status(), 400);
    let first = b
        .get(format!("{uri}?code=c2&state=expected-state"))
        .send()
        .await
        .expect("get");
    assert_eq!(first.status(), 200);
    assert_eq!(waiter.await.expect("join").expect("code"), "c2");
}

#[tokio::test]
async fn keybridge_sso_check_prints_each_check_and_exits_0_only_when_all_pass() {
    let p = OidcProvider::start("none");
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_keybridge"))
        .args(["--data-dir"])
        .arg(data.path())
        .args([
            "--secrets",
            "file",
            "sso",
            "check",
            "--no-browser",
            "--timeout",
            "60",
        ])
        .args(["--well-known", &p.well_known, "--client-id", CLIENT_ID])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn keybridge");
    // The CLI prints the sign-in URL on stderr; a person opens it.
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stderr));
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the CLI printed the URL in time")
            .expect("read")
            .expect("a line");
        if line.starts_with("http://127.0.0.1:") {
            break line;
        }
    };
    let b = browser();
    let back = sign_in_at_provider(&b, &url, "alice@example.com").await;
    b.get(back).send().await.expect("back to the CLI");
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the CLI finished")
        .expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for name in [
        "discovery document fetched",
        "issuer",
        "PKCE with S256",
        "signing keys (JWKS) fetched",
        "test connection",
    ] {
        assert!(
            stdout.contains(&format!("ok   {name}:")),
            "{name} missing in:\n{stdout}"
        );
    }

    let bad = OidcProvider::start("no-s256");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_keybridge"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["--secrets", "file", "sso", "check", "--no-sign-in"])
        .args(["--well-known", &bad.well_known, "--client-id", CLIENT_ID])
        .output()
        .await
        .expect("run keybridge");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL PKCE with S256"), "{stdout}");
}
