//! Microsoft Entra ID's request shapes (its SCIM provisioning guides), replayed over HTTP.

mod common;

use common::{patch_op, state_of, TestBridge};
use reqwest::StatusCode;
use serde_json::json;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[tokio::test]
async fn capitalised_ops_string_booleans_and_filtered_paths() {
    let b = TestBridge::start().await;
    let id = b.create_user("entra@example.com").await;
    b.directory
        .confirm_person(
            &keybridge::directory::Actor::admin(),
            "entra@example.com",
            "x",
        )
        .await
        .expect("confirm");
    let ops = patch_op(json!([
        {"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.com"},
        {"op":"Add","path":format!("{ENTERPRISE}:employeeNumber"),"value":"701984"},
        {"op":"Replace","path":format!("{ENTERPRISE}:manager"),"value":"boss-id"},
        {"op":"Replace","value":{"name.givenName":"Grace","displayName":"Grace H"}}
    ]));
    let r = b.patch(&format!("/Users/{id}"), ops).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["emails"][0]["value"], "new@example.com");
    assert_eq!(r.body[ENTERPRISE]["employeeNumber"], "701984");
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], "boss-id");
    assert_eq!(r.body["name"]["givenName"], "Grace");
    assert_eq!(r.body["displayName"], "Grace H");
    let r = b
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op":"Replace","path":"active","value":"False"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = b.get(&format!("/Users/{id}")).await;
    assert_eq!(
        got.status,
        StatusCode::OK,
        "soft-deleted users stay retrievable"
    );
    assert_eq!(got.body["active"], false);
    assert_eq!(state_of(&got.body), "suspended");
    b.stop().await;
}

#[tokio::test]
async fn manager_as_object_is_accepted_too() {
    let b = TestBridge::start().await;
    let mut body = common::user("mgr@example.com", "M", "G");
    body[ENTERPRISE] = json!({"manager": {"value": "boss"}});
    let r = b.post("/Users", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], "boss");
    let mut body = common::user("mgr2@example.com", "M", "G");
    body[ENTERPRISE] = json!({"manager": "boss2"});
    let r = b.post("/Users", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], "boss2");
    b.stop().await;
}

#[tokio::test]
async fn groups_with_the_microsoft_schema_urn_and_null_refs_in_members() {
    let b = TestBridge::start().await;
    let u = b.create_user("gm@example.com").await;
    let body = json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group",
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"Group1DisplayName","members":[]});
    let r = b.post("/Groups", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let g = r.body["id"].as_str().expect("id").to_owned();
    let add = patch_op(json!([{"op":"Add","path":"members","value":[{"$ref":null,"value":u}]}]));
    let r = b.patch(&format!("/Groups/{g}"), add).await;
    assert!(
        r.status == StatusCode::OK || r.status == StatusCode::NO_CONTENT,
        "{}",
        r.body
    );
    let remove =
        patch_op(json!([{"op":"Remove","path":"members","value":[{"$ref":null,"value":u}]}]));
    let r = b.patch(&format!("/Groups/{g}"), remove).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = b
        .get("/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Group1DisplayName%22")
        .await;
    assert_eq!(r.body["totalResults"], 1);
    assert!(r.body["Resources"][0].get("members").is_none());
    b.stop().await;
}

#[tokio::test]
async fn lookups_by_external_id_and_email() {
    let b = TestBridge::start().await;
    let mut body = common::user("ext@example.com", "E", "X");
    body["externalId"] = json!("7c3e4f2a-1111-2222-3333-444455556666");
    b.post("/Users", body).await;
    let r = b
        .get("/Users?filter=externalId%20eq%20%227c3e4f2a-1111-2222-3333-444455556666%22")
        .await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    let r = b
        .get("/Users?filter=emails.value%20eq%20%22EXT@example.com%22")
        .await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    let r = b
        .get("/Users?filter=userName%20eq%20%22ext@example.com%22%20and%20active%20eq%20true")
        .await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    b.stop().await;
}
