//! `/metrics` as Prometheus scrapes it: authenticated, in the text exposition format,
//! requests by route template (never a raw id) and status, a latency histogram, errors by
//! scimType, and the certificate's expiry.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{patch_op, TestBridge};
use keybridge::bridge::{self, BridgeConfig, Limits, TlsMode};
use keybridge::directory::Directory;
use keybridge::store::{Store, StoreOptions};
use reqwest::StatusCode;
use serde_json::json;

/// Sample lines as `series → value` (series = name plus labels, as written).
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("series and value");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

async fn scrape(b: &TestBridge) -> String {
    let resp = b
        .client
        .get(format!("{}/metrics", b.origin))
        .bearer_auth(&b.token)
        .send()
        .await
        .expect("scrape");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    resp.text().await.expect("text")
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_status_and_scim_type() {
    let b = TestBridge::start().await;
    let id = b.create_user("metrics@example.com").await;
    for _ in 0..3 {
        assert_eq!(b.get(&format!("/Users/{id}")).await.status, StatusCode::OK);
    }
    let r = b
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op": "replace", "path": "title", "value": "Chef"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        b.get("/Users/2819c223-7f76-453a-919d-413861904646")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/Users?filter=userName%20zz%20%22x%22").await.status,
        StatusCode::BAD_REQUEST
    );
    let created_again = b
        .post("/Users", common::user("metrics@example.com", "A", "B"))
        .await;
    assert_eq!(created_again.status, StatusCode::CONFLICT);
    let unauthenticated = b
        .client
        .get(format!("{}/Users", b.base))
        .send()
        .await
        .expect("send");
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    let text = scrape(&b).await;
    let s = samples(&text);
    let get = |k: &str| {
        s.get(k)
            .copied()
            .unwrap_or_else(|| panic!("no {k} in\n{text}"))
    };
    assert_eq!(
        get(
            r#"keybridge_http_requests_total{route="/scim/v2/Users/{id}",method="GET",status="200"}"#
        ),
        3.0
    );
    assert_eq!(
        get(
            r#"keybridge_http_requests_total{route="/scim/v2/Users/{id}",method="GET",status="404"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            r#"keybridge_http_requests_total{route="/scim/v2/Users/{id}",method="PATCH",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        get(r#"keybridge_http_requests_total{route="/scim/v2/Users",method="POST",status="201"}"#),
        1.0
    );
    assert_eq!(
        get(r#"keybridge_http_requests_total{route="/scim/v2/Users",method="GET",status="401"}"#),
        1.0
    );
    assert_eq!(
        get(r#"keybridge_scim_errors_total{status="400",scim_type="invalidFilter"}"#),
        1.0
    );
    assert_eq!(
        get(r#"keybridge_scim_errors_total{status="409",scim_type="uniqueness"}"#),
        1.0
    );
    assert_eq!(
        get(r#"keybridge_scim_errors_total{status="404",scim_type="none"}"#),
        1.0
    );
    assert!(!text.contains(&id), "a raw id reached the metrics");
    assert!(!text.contains("2819c223"), "a raw id reached the metrics");
    assert!(!text.contains("metrics@example.com"));

    // The histogram is cumulative and its +Inf bucket is its count.
    let route = r#"route="/scim/v2/Users/{id}""#;
    let mut last = 0.0;
    for le in [
        "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
        "2.5", "5", "10", "+Inf",
    ] {
        let v = get(&format!(
            "keybridge_http_request_duration_seconds_bucket{{{route},le=\"{le}\"}}"
        ));
        assert!(v >= last, "bucket {le} went down");
        last = v;
    }
    assert_eq!(last, 5.0);
    assert_eq!(
        get(&format!(
            "keybridge_http_request_duration_seconds_count{{{route}}}"
        )),
        5.0
    );
    assert!(
        get(&format!(
            "keybridge_http_request_duration_seconds_sum{{{route}}}"
        )) > 0.0
    );
    // Every family has HELP and TYPE, and plain HTTP has no certificate.
    for family in [
        "keybridge_http_requests_total",
        "keybridge_http_request_duration_seconds",
        "keybridge_scim_errors_total",
    ] {
        assert!(text.contains(&format!("# HELP {family} ")), "{family}");
        assert!(text.contains(&format!("# TYPE {family} ")), "{family}");
    }
    assert!(!text.contains("keybridge_tls_certificate_expiry_timestamp_seconds"));
    b.stop().await;
}

#[tokio::test]
async fn metrics_need_a_token_like_health() {
    let b = TestBridge::start().await;
    for path in ["/metrics", "/health"] {
        let resp = b
            .client
            .get(format!("{}{path}", b.origin))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
        let resp = b
            .client
            .get(format!("{}{path}", b.origin))
            .bearer_auth("kb_not-a-token")
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    b.stop().await;
}

#[tokio::test]
async fn unknown_paths_under_a_scim_base_ask_for_a_token_before_saying_not_found() {
    let b = TestBridge::start().await;
    let status = |path: &'static str, token: Option<&str>| {
        let mut req = b.client.get(format!("{}{path}", b.origin));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { req.send().await.expect("send").status() }
    };
    for path in [
        "/scim/v2/Nowhere",
        "/scim/v2/Users/x/y",
        "/scim/Nowhere",
        "/scim/v2",
        "/scim",
    ] {
        assert_eq!(status(path, None).await, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            status(path, Some(&b.token)).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Outside the SCIM bases nothing is there to hide, and /ping needs no token.
    assert_eq!(status("/nowhere", None).await, StatusCode::NOT_FOUND);
    assert_eq!(status("/ping", None).await, StatusCode::OK);
    // Labelled by template, never by the path asked for: the 404s as unmatched, the
    // 401s by the catch-all that took them.
    let text = scrape(&b).await;
    assert!(!text.contains("Nowhere") && !text.contains("x/y"), "{text}");
    assert!(
        text.contains(
            r#"keybridge_http_requests_total{route="unmatched",method="GET",status="404"} 6"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"keybridge_http_requests_total{route="/scim/v2/{*unknown}",method="GET",status="401"} 2"#),
        "{text}"
    );
    b.stop().await;
}

#[tokio::test]
async fn unmatched_paths_are_one_label_not_one_per_path() {
    let b = TestBridge::start().await;
    for i in 0..5 {
        let r = b
            .client
            .get(format!("{}/no-such-thing-{i}", b.origin))
            .bearer_auth(&b.token)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let r = b.get("/Nowhere-7f3a/12345").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let text = scrape(&b).await;
    assert!(!text.contains("no-such-thing"), "{text}");
    assert!(!text.contains("Nowhere-7f3a"), "{text}");
    assert!(
        text.contains(
            r#"keybridge_http_requests_total{route="unmatched",method="GET",status="404"} 6"#
        ),
        "{text}"
    );
    b.stop().await;
}

#[tokio::test]
async fn the_certificate_expiry_gauge_shows_the_served_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
    let directory = Directory::open(store.clone()).await.expect("directory");
    let token = keybridge::tokens::issue(&store, "prom")
        .await
        .expect("token");
    let running = bridge::serve(
        BridgeConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            hostname: Some("localhost".into()),
            tls: TlsMode::SelfSigned,
            data_dir: dir.path().to_owned(),
            limits: Limits::default(),
        },
        directory,
    )
    .await
    .expect("serve");
    let cert = dir.path().join("tls/self-signed.crt");
    let pem = std::fs::read(&cert).expect("cert");
    let leaf = rustls_pemfile::certs(&mut pem.as_slice())
        .next()
        .expect("a certificate")
        .expect("pem");
    let expected = keybridge::bridge::tls::CertificateInfo::from_der(&leaf)
        .expect("parse")
        .not_after
        .unix_timestamp();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let text = client
        .get(format!(
            "https://localhost:{}/metrics",
            running.local_addr.port()
        ))
        .bearer_auth(token.expose())
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    let s = samples(&text);
    assert_eq!(
        s.get("keybridge_tls_certificate_expiry_timestamp_seconds"),
        Some(&(expected as f64)),
        "{text}"
    );
    running.shutdown().await;
    store.close().await;
}
