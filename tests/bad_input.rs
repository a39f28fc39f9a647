//! Bad input gets a SCIM error body and changes nothing.

mod common;

use common::TestBridge;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn raw(
    b: &TestBridge,
    method: Method,
    path: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let resp = b
        .client
        .request(method, format!("{}{path}", b.base))
        .bearer_auth(&b.token)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("send");
    let status = resp.status();
    let text = resp.text().await.expect("text");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// method, path, content type, body, expected status, expected scimType
type Case<'a> = (Method, String, &'a str, String, u16, Option<&'a str>);

fn assert_scim_error(status: StatusCode, body: &Value, want: u16) {
    assert_eq!(status.as_u16(), want, "{body}");
    assert_eq!(
        body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
        "{body}"
    );
    assert_eq!(
        body["status"],
        want.to_string(),
        "status is a string: {body}"
    );
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

#[tokio::test]
async fn rejected_requests_change_nothing() {
    let b = TestBridge::start().await;
    let existing = b.create_user("keep@example.com").await;
    let before = b.snapshot().await;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let cases: Vec<Case> = vec![
        (
            Method::POST,
            "/Users".into(),
            "application/scim+json",
            "{\"userName\": ".into(),
            400,
            Some("invalidSyntax"),
        ),
        (
            Method::POST,
            "/Users".into(),
            "application/scim+json",
            deep.clone(),
            400,
            Some("invalidSyntax"),
        ),
        (
            Method::POST,
            "/Users".into(),
            "text/plain",
            common::user("x@example.com", "X", "Y").to_string(),
            415,
            None,
        ),
        (
            Method::POST,
            "/Users".into(),
            "application/scim+json",
            json!({"userName": "noschema@example.com"}).to_string(),
            400,
            Some("invalidSyntax"),
        ),
        (
            Method::POST,
            "/Users".into(),
            "application/scim+json",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}).to_string(),
            400,
            None,
        ),
        (
            Method::POST,
            "/Users".into(),
            "application/scim+json",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": 42})
                .to_string(),
            400,
            Some("invalidValue"),
        ),
        (
            Method::PUT,
            format!("/Users/{existing}"),
            "application/scim+json",
            "[1,2]".into(),
            400,
            None,
        ),
        (
            Method::PATCH,
            format!("/Users/{existing}"),
            "application/scim+json",
            json!({"Operations": []}).to_string(),
            400,
            None,
        ),
        (
            Method::PATCH,
            format!("/Users/{existing}"),
            "application/scim+json",
            common::patch_op(json!([{"op":"explode","path":"title","value":"x"}])).to_string(),
            400,
            None,
        ),
        (
            Method::PATCH,
            format!("/Users/{existing}"),
            "application/scim+json",
            common::patch_op(json!([{"op":"replace","path":"id","value":"new"}])).to_string(),
            400,
            Some("mutability"),
        ),
        (
            Method::PATCH,
            format!("/Users/{existing}"),
            "application/scim+json",
            common::patch_op(json!([{"op":"replace","path":"emails[type eq ]","value":"x"}]))
                .to_string(),
            400,
            Some("invalidPath"),
        ),
        (
            Method::PATCH,
            "/Users/no-such-id".into(),
            "application/scim+json",
            common::patch_op(json!([{"op":"replace","path":"title","value":"x"}])).to_string(),
            404,
            None,
        ),
        (
            Method::POST,
            "/Users".into(),
            "application/scim+json",
            common::user("keep@example.com", "K", "P").to_string(),
            409,
            Some("uniqueness"),
        ),
    ];
    for (method, path, ct, body, status, scim_type) in cases {
        let (got, reply) = raw(&b, method.clone(), &path, ct, &body).await;
        assert_scim_error(got, &reply, status);
        if let Some(t) = scim_type {
            assert_eq!(reply["scimType"], t, "{method} {path}: {reply}");
        }
    }
    assert_eq!(b.snapshot().await, before);
    b.stop().await;
}

#[tokio::test]
async fn bad_queries_are_scim_errors_never_unfiltered_lists() {
    let b = TestBridge::start().await;
    b.create_user("a@example.com").await;
    let cases = [
        ("/Users?filter=nosuchattr%20eq%20%22x%22", "invalidFilter"),
        ("/Users?filter=userName%20eq", "invalidFilter"),
        ("/Users?filter=userName%20xx%20%22a%22", "invalidFilter"),
        ("/Users?filter=((((userName%20eq%20%22a%22", "invalidFilter"),
        (
            "/Users?filter=userName%20eq%20%22a%22%20or%201%3D1--",
            "invalidFilter",
        ),
        (
            "/Users?filter=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nosuch%20pr",
            "invalidFilter",
        ),
        ("/Users?sortOrder=sideways", "invalidValue"),
    ];
    for (path, scim_type) in cases {
        let r = b.get(path).await;
        assert_scim_error(r.status, &r.body, 400);
        assert_eq!(r.scim_type(), Some(scim_type), "{path}: {}", r.body);
    }
    b.stop().await;
}

#[tokio::test]
async fn negative_and_huge_counts_are_clamped() {
    let b = TestBridge::start().await;
    b.create_user("a@example.com").await;
    let r = b.get("/Users?count=-1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["itemsPerPage"], 0);
    let r = b.get("/Users?count=99999999999").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["itemsPerPage"], 1);
    let r = b.get("/Users?count=0").await;
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["itemsPerPage"], 0);
    b.stop().await;
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let b = TestBridge::start().await;
    let resp = b
        .client
        .get(format!("{}/Users", b.base))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get("www-authenticate").is_some());
    let resp = b
        .client
        .get(format!("{}/Users", b.base))
        .bearer_auth("kb_wrong")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["status"], "401");
    let resp = b
        .client
        .get(format!("{}/ping", b.origin))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK, "ping needs no token");
    let resp = b
        .client
        .get(format!("{}/health", b.origin))
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "health needs a token"
    );
    b.stop().await;
}
