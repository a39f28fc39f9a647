//! JumpCloud's request shapes (IDP-WIRE-FORMATS.md), replayed over HTTP against a real
//! SQLite file, each with the state it must leave.

mod common;

use common::{patch_op, state_of, TestBridge};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn jumpcloud_create() -> Value {
    json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
                      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
           "userName":"ada@example.io","externalId":"5f1b2c3d4e5f60718293a4b5","active":true,
           "displayName":"Ada Lovelace","name":{"familyName":"Lovelace","givenName":"Ada"},
           "emails":[{"primary":true,"type":"work","value":"ada@example.io"}],
           "phoneNumbers":[{"primary":true,"type":"work","value":"tel:+1-555-555-0100"}],
           "addresses":[{"country":"US","locality":"Boulder","postalCode":"80301","primary":true,
                         "region":"CO","streetAddress":"1 Main St","type":"work"}],
           "locale":"en-US","preferredLanguage":"en-US"})
}

#[tokio::test]
async fn activation_test_creates_and_deletes_a_user_and_a_group_on_a_fresh_install() {
    let b = TestBridge::start().await;
    let list = b.get("/Users?startIndex=1&count=1").await;
    assert_eq!(list.status, StatusCode::OK);
    let user = b.post("/Users", jumpcloud_create()).await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
    let group = b.post("/Groups", json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"JumpCloud Test Group"})).await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    let uid = user.body["id"].as_str().expect("id");
    let gid = group.body["id"].as_str().expect("id");
    assert_eq!(
        b.delete(&format!("/Users/{uid}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        b.delete(&format!("/Groups/{gid}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        b.get(&format!("/Users/{uid}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get(&format!("/Groups/{gid}")).await.status,
        StatusCode::NOT_FOUND
    );
    b.stop().await;
}

#[tokio::test]
async fn create_with_both_schemas_and_no_extension_body_makes_an_invited_person() {
    let b = TestBridge::start().await;
    let r = b.post("/Users", jumpcloud_create()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.headers.get("location").is_some());
    assert!(r.headers.get("etag").is_some());
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    assert_eq!(state_of(&r.body), "invited");
    assert_eq!(r.body["externalId"], "5f1b2c3d4e5f60718293a4b5");
    assert_eq!(r.body["addresses"][0]["locality"], "Boulder");
    assert!(r.body.get("password").is_none());
    let events = b.events().await;
    assert!(
        events.contains(&("user_create_provision".into(), "success".into())),
        "{events:?}"
    );
    b.stop().await;
}

#[tokio::test]
async fn full_put_with_enterprise_body_and_empty_arrays_replaces_the_record() {
    let b = TestBridge::start().await;
    let id = b.post("/Users", jumpcloud_create()).await.body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut put = jumpcloud_create();
    put["id"] = json!(id);
    put["addresses"] = json!([]);
    put["photos"] = json!([]);
    put["title"] = json!("Analyst");
    put["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] =
        json!({"department": "Research"});
    let r = b.put(&format!("/Users/{id}"), put).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.get("addresses").is_none(),
        "empty array clears: {}",
        r.body
    );
    assert_eq!(r.body["title"], "Analyst");
    assert_eq!(
        r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Research"
    );
    b.stop().await;
}

#[tokio::test]
async fn minimal_put_with_null_emails_clears_them() {
    let b = TestBridge::start().await;
    let id = b.post("/Users", jumpcloud_create()).await.body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let put = json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.io",
                     "name":{"givenName":"Ada","familyName":"Lovelace"},"emails":null});
    let r = b.put(&format!("/Users/{id}"), put).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.get("emails").is_none(), "{}", r.body);
    assert_eq!(r.body["active"], true, "leaving active out keeps it");
    b.stop().await;
}

#[tokio::test]
async fn patch_replace_per_path_and_deactivation_suspends_an_active_person() {
    let b = TestBridge::start().await;
    let id = b.post("/Users", jumpcloud_create()).await.body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    b.directory
        .confirm_person(&keybridge::directory::Actor::admin(), "ada@example.io", "x")
        .await
        .expect("confirm");
    let r = b
        .patch(&format!("/Users/{id}"), patch_op(json!([{"op":"replace","path":"name.givenName","value":"Augusta"},{"op":"replace","path":"title","value":"Countess"}])))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"]["givenName"], "Augusta");
    assert_eq!(r.body["title"], "Countess");
    let r = b
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op":"replace","path":"active","value":false}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["active"], false);
    let got = b.get(&format!("/Users/{id}")).await;
    assert_eq!(
        got.status,
        StatusCode::OK,
        "a suspended person stays retrievable"
    );
    assert_eq!(state_of(&got.body), "suspended");
    assert!(b
        .events()
        .await
        .contains(&("user_deprovision".into(), "success".into())));
    b.stop().await;
}

#[tokio::test]
async fn deprovisioning_an_invited_person_removes_them_and_reactivation_invites_again() {
    let b = TestBridge::start().await;
    let id = b.post("/Users", jumpcloud_create()).await.body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let r = b
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op":"replace","path":"active","value":false}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = b.get(&format!("/Users/{id}")).await;
    assert_eq!(
        got.status,
        StatusCode::OK,
        "the provisioning record stays readable: {}",
        got.body
    );
    assert_eq!(got.body["active"], false);
    assert_eq!(state_of(&got.body), "removed");
    let confirm = b
        .directory
        .confirm_person(&keybridge::directory::Actor::admin(), "ada@example.io", "x")
        .await;
    assert!(confirm.is_err(), "a removed person cannot join");
    let r = b
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op":"replace","path":"active","value":true}])),
        )
        .await;
    assert_eq!(state_of(&r.body), "invited");
    b.stop().await;
}

#[tokio::test]
async fn group_members_are_added_and_removed_with_value_lists() {
    let b = TestBridge::start().await;
    let u1 = b.create_user("one@example.io").await;
    let u2 = b.create_user("two@example.io").await;
    let g = b.create_group("Engineering").await;
    let add = patch_op(json!([{"op":"add","path":"members","value":[{"value":u1},{"value":u2}]}]));
    let r = b.patch(&format!("/Groups/{g}"), add).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["members"].as_array().map(Vec::len), Some(2));
    let remove = patch_op(json!([{"op":"remove","path":"members","value":[{"value":u1}]}]));
    let r = b.patch(&format!("/Groups/{g}"), remove).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let members: Vec<&str> = r.body["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["value"].as_str())
        .collect();
    assert_eq!(members, vec![u2.as_str()]);
    let user = b.get(&format!("/Users/{u2}")).await;
    assert_eq!(user.body["groups"][0]["value"], g.as_str());
    b.stop().await;
}

#[tokio::test]
async fn lookups_by_user_name_and_group_display_name() {
    let b = TestBridge::start().await;
    b.post("/Users", jumpcloud_create()).await;
    b.create_group("Design").await;
    let r = b
        .get("/Users?filter=userName%20eq%20%22ADA@example.io%22")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["totalResults"], 1);
    let r = b
        .get("/Groups?filter=displayName%20eq%20%22Design%22")
        .await;
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0]["displayName"], "Design");
    b.stop().await;
}

#[tokio::test]
async fn base_url_with_or_without_trailing_slash_and_the_short_prefix() {
    let b = TestBridge::start().await;
    for path in [
        "/scim/v2/Users",
        "/scim/v2/Users/",
        "/scim/Users",
        "/scim/Users/",
    ] {
        let r = b.get(&format!("{}{path}", b.origin)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert_eq!(
            r.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:ListResponse"
        );
    }
    b.stop().await;
}
