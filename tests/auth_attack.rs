//! Authentication under attack: failures are throttled per source address, a valid token
//! never is; tokens rotate with two valid during the changeover; revocations reach a
//! running bridge at once.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::TestBridge;
use keybridge::bridge::Limits;
use reqwest::StatusCode;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_keybridge");
const WRONG: &str = "kb_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

async fn get_with(
    b: &TestBridge,
    token: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = b.client.get(format!("{}/Users?count=1", b.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn failed_authentications_are_throttled_per_address_but_a_valid_token_never_is() {
    let b = TestBridge::start().await;
    let per_minute = Limits::default().auth_failures_per_minute;
    for i in 0..per_minute {
        let (status, _, _) = get_with(&b, Some(WRONG)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "failure {i}");
    }
    let (status, headers, body) = get_with(&b, Some(WRONG)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry: u64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in whole seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(body["status"], "429");
    // Without any token, the address is throttled just the same.
    assert_eq!(get_with(&b, None).await.0, StatusCode::TOO_MANY_REQUESTS);

    // The identity provider behind the same address keeps working, however many.
    for i in 0..50 {
        let (status, _, body) = get_with(&b, Some(&b.token)).await;
        assert_eq!(status, StatusCode::OK, "valid request {i}: {body}");
    }
    let (status, _, _) = get_with(&b, Some(WRONG)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    b.stop().await;
}

#[tokio::test]
async fn a_throttled_address_is_answered_normally_again_after_retry_after() {
    // 120 a minute: one failure drains every half second.
    let b = TestBridge::start_with(Limits {
        auth_failures_per_minute: 120,
        ..Limits::default()
    })
    .await;
    // At least 120 failures pass; on a busy machine the bucket drains a little while
    // they are sent, so a few more may, but not many.
    let mut refused = 0;
    let headers = loop {
        let (status, headers, _) = get_with(&b, Some(WRONG)).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            break headers;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        refused += 1;
        assert!(refused < 240, "never throttled");
    };
    assert!(refused >= 120, "throttled after {refused}");
    assert_eq!(headers["retry-after"], "1");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get_with(&b, Some(WRONG)).await.0, StatusCode::UNAUTHORIZED);
    b.stop().await;
}

#[tokio::test]
async fn a_flood_of_failures_writes_few_audit_events() {
    let b = TestBridge::start().await;
    let started = Instant::now();
    for _ in 0..40 {
        get_with(&b, Some(WRONG)).await;
    }
    let seconds = started.elapsed().as_secs() + 1;
    let reauth = b
        .events()
        .await
        .into_iter()
        .filter(|(name, _)| name == "idm_integration_reauth")
        .count() as u64;
    // At most one a second (the first may be skipped when another test's bridge in this
    // process wrote one in the same second).
    assert!(reauth <= seconds + 1, "{reauth} events in {seconds} s");
    b.stop().await;
}

#[tokio::test]
async fn during_a_rotation_both_tokens_work_until_the_old_one_is_retired() {
    let b = TestBridge::start().await;
    let old = b.token.clone();
    let new = keybridge::tokens::rotate(&b.store, "test", keybridge::tokens::DEFAULT_GRACE)
        .await
        .expect("rotate")
        .token
        .expose()
        .to_owned();
    assert_eq!(get_with(&b, Some(&new)).await.0, StatusCode::OK);
    assert_eq!(get_with(&b, Some(&old)).await.0, StatusCode::OK);

    keybridge::tokens::retire(&b.store, "test")
        .await
        .expect("retire");
    let deadline = Instant::now() + Duration::from_secs(5);
    while get_with(&b, Some(&old)).await.0 == StatusCode::OK {
        assert!(Instant::now() < deadline, "the retired token still works");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(get_with(&b, Some(&old)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get_with(&b, Some(&new)).await.0, StatusCode::OK);
    b.stop().await;
}

#[tokio::test]
async fn a_token_revoked_while_the_bridge_serves_is_refused_within_a_second() {
    let b = TestBridge::start().await;
    assert_eq!(get_with(&b, Some(&b.token)).await.0, StatusCode::OK);
    keybridge::tokens::revoke(&b.store, "test")
        .await
        .expect("revoke");
    let revoked = Instant::now();
    while get_with(&b, Some(&b.token)).await.0 == StatusCode::OK {
        assert!(
            revoked.elapsed() < Duration::from_secs(3),
            "the revoked token still works"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.stop().await;
}

fn keybridge(data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["--secrets", "file"])
        .args(args)
        .output()
        .expect("run keybridge");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn token_rotate_and_retire_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let (ok, out, err) = keybridge(data, &["token", "issue", "--name", "jumpcloud"]);
    assert!(ok, "{err}");
    let old = out.lines().last().expect("token").trim().to_owned();

    let (ok, out, err) = keybridge(
        data,
        &["token", "rotate", "jumpcloud", "--grace-hours", "48"],
    );
    assert!(ok, "{err}");
    let new = out.lines().last().expect("token").trim().to_owned();
    assert!(
        new.starts_with("kb_") && new.len() == 46 && new != old,
        "{new}"
    );
    assert!(err.contains("keeps working until"), "{err}");

    let (_, listed, _) = keybridge(data, &["token", "list"]);
    assert!(listed.contains("previous token valid until"), "{listed}");
    assert!(!listed.contains(&old) && !listed.contains(&new));

    // A second rotation during the changeover is refused with what to do.
    let (ok, _, err) = keybridge(data, &["token", "rotate", "jumpcloud"]);
    assert!(!ok);
    assert!(err.contains("keybridge token retire jumpcloud"), "{err}");

    let (ok, _, err) = keybridge(data, &["token", "retire", "jumpcloud"]);
    assert!(ok, "{err}");
    let (_, listed, _) = keybridge(data, &["token", "list"]);
    assert!(!listed.contains("previous token"), "{listed}");
    let (ok, _, err) = keybridge(data, &["token", "retire", "jumpcloud"]);
    assert!(!ok);
    assert!(err.contains("no previous token"), "{err}");
}
