//! Okta's request shapes (its SCIM 2.0 reference), replayed over HTTP.

mod common;

use common::{patch_op, state_of, TestBridge};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn existence_check_and_connection_test_answer_empty_lists_with_integers() {
    let b = TestBridge::start().await;
    let r = b
        .get("/Users?filter=userName%20eq%20%22nobody@example.com%22&startIndex=1&count=100")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["totalResults"], 0);
    assert!(r.body["totalResults"].is_u64());
    let r = b.get("/Users?startIndex=1&count=2").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["startIndex"].is_u64() && r.body["itemsPerPage"].is_u64());
    b.stop().await;
}

#[tokio::test]
async fn create_with_password_and_empty_groups_never_stores_the_password_and_duplicates_are_409() {
    let b = TestBridge::start().await;
    let body = json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"okta@example.com",
        "name":{"givenName":"Okta","familyName":"User"},"emails":[{"primary":true,"value":"okta@example.com","type":"work"}],
        "displayName":"Okta User","locale":"en-US","externalId":"00u1","groups":[],"password":"S3cr3t!pass","active":true});
    let r = b.post("/Users", body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body.get("password").is_none());
    let stored = b.snapshot().await.to_string();
    assert!(
        !stored.contains("S3cr3t!pass"),
        "the password reached the store"
    );
    let dup = b.post("/Users", body).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.scim_type(), Some("uniqueness"));
    b.stop().await;
}

#[tokio::test]
async fn import_pages_are_stable_and_cover_everyone_once() {
    let b = TestBridge::start().await;
    for i in 0..25 {
        b.create_user(&format!("page{i:02}@example.com")).await;
    }
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let r = b.get(&format!("/Users?startIndex={start}&count=10")).await;
        assert_eq!(r.body["totalResults"], 25);
        let items = r.body["Resources"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        seen.extend(
            items
                .iter()
                .map(|u| u["userName"].as_str().unwrap_or("").to_owned()),
        );
        start += items.len();
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 25);
    assert_eq!(seen, sorted, "insertion order is the stable default order");
    b.stop().await;
}

#[tokio::test]
async fn put_without_active_does_not_suspend_and_no_path_replace_deactivates() {
    let b = TestBridge::start().await;
    let id = b.create_user("okta2@example.com").await;
    b.directory
        .confirm_person(
            &keybridge::directory::Actor::admin(),
            "okta2@example.com",
            "x",
        )
        .await
        .expect("confirm");
    let put = json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"okta2@example.com",
                     "name":{"givenName":"New","familyName":"Name"}});
    let r = b.put(&format!("/Users/{id}"), put).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["active"], true);
    assert_eq!(state_of(&r.body), "active");
    let r = b
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op":"replace","value":{"active":false}}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        state_of(&b.get(&format!("/Users/{id}")).await.body),
        "suspended"
    );
    let r = b
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op":"replace","value":{"active":true}}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        state_of(&r.body),
        "active",
        "reactivation makes a joined person Active again"
    );
    b.stop().await;
}

#[tokio::test]
async fn group_rename_by_no_path_replace_with_id_and_member_path_filters() {
    let b = TestBridge::start().await;
    let u1 = b.create_user("m1@example.com").await;
    let u2 = b.create_user("m2@example.com").await;
    let g = b.create_group("Okta Group").await;
    let ops = patch_op(json!([
        {"op":"replace","value":{"id":g,"displayName":"Okta Group Renamed"}},
        {"op":"add","path":"members","value":[{"value":u1,"display":"m1"},{"value":u2,"display":"m2"}]}
    ]));
    let r = b.patch(&format!("/Groups/{g}"), ops).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["displayName"], "Okta Group Renamed");
    let remove = patch_op(json!([{"op":"remove","path":format!("members[value eq \"{u1}\"]")}]));
    let r = b.patch(&format!("/Groups/{g}"), remove).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["members"].as_array().map(Vec::len), Some(1));
    let replace = patch_op(json!([{"op":"replace","path":"members","value":[{"value":u1}]}]));
    let r = b.patch(&format!("/Groups/{g}"), replace).await;
    assert_eq!(r.body["members"][0]["value"], u1.as_str());
    assert_eq!(r.body["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        b.delete(&format!("/Groups/{g}")).await.status,
        StatusCode::NO_CONTENT
    );
    b.stop().await;
}
