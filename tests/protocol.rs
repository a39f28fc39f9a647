//! RFC 7643/7644 behaviour the conformance testers do not cover: every filter operator,
//! sorting, projection, ETags, Bulk, discovery and /Me.

mod common;

use common::{patch_op, TestBridge};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn q(filter: &str) -> String {
    let encoded: String = filter
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("/Users?filter={encoded}")
}

async fn seed(b: &TestBridge) {
    let people = [
        (
            "alice@example.com",
            "Alice",
            "Archer",
            "Engineer",
            "work",
            true,
        ),
        ("bob@example.org", "Bob", "Baker", "Designer", "home", true),
        (
            "carol@example.com",
            "Carol",
            "Cooper",
            "Engineer",
            "work",
            false,
        ),
        ("dave_100%@example.net", "Dave", "Dunn", "", "other", true),
    ];
    for (user_name, given, family, title, email_type, active) in people {
        let mut body = common::user(user_name, given, family);
        body["emails"] = json!([{"value": user_name, "type": email_type, "primary": true}]);
        body["active"] = json!(active);
        if !title.is_empty() {
            body["title"] = json!(title);
        }
        body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] =
            json!({"employeeNumber": format!("{}", given.len())});
        let r = b.post("/Users", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
}

async fn names(b: &TestBridge, filter: &str) -> Vec<String> {
    let r = b.get(&q(filter)).await;
    assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.body);
    let mut v: Vec<String> = r.body["Resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|u| u["name"]["givenName"].as_str().unwrap_or("").to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_filter_operator_and_combinator() {
    let b = TestBridge::start().await;
    seed(&b).await;
    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "ALICE@example.com""#, &["Alice"]),
        (
            r#"userName ne "alice@example.com""#,
            &["Bob", "Carol", "Dave"],
        ),
        (r#"userName co "EXAMPLE.COM""#, &["Alice", "Carol"]),
        (r#"userName sw "b""#, &["Bob"]),
        (r#"userName ew ".org""#, &["Bob"]),
        (r#"userName co "100%""#, &["Dave"]),
        (r#"userName co "_""#, &["Dave"]),
        (r#"title pr"#, &["Alice", "Bob", "Carol"]),
        (r#"not (title pr)"#, &["Dave"]),
        (r#"title eq "engineer" and active eq true"#, &["Alice"]),
        (
            r#"title eq "Designer" or name.familyName eq "Dunn""#,
            &["Bob", "Dave"],
        ),
        (r#"active eq false"#, &["Carol"]),
        (r#"name.givenName gt "Bob""#, &["Carol", "Dave"]),
        (r#"name.givenName ge "Bob""#, &["Bob", "Carol", "Dave"]),
        (r#"name.givenName lt "Bob""#, &["Alice"]),
        (r#"name.givenName le "Bob""#, &["Alice", "Bob"]),
        (r#"emails[type eq "work" and value co "alice"]"#, &["Alice"]),
        (r#"emails[type eq "work"]"#, &["Alice", "Carol"]),
        (r#"emails.type eq "home""#, &["Bob"]),
        (r#"emails co "example.net""#, &["Dave"]),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "carol""#,
            &["Carol"],
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "5""#,
            &["Alice", "Carol"],
        ),
        (r#"USERNAME EQ "bob@example.org""#, &["Bob"]),
        (
            r#"meta.created gt "2000-01-01T00:00:00Z""#,
            &["Alice", "Bob", "Carol", "Dave"],
        ),
        (r#"meta.lastModified lt "2000-01-01T00:00:00Z""#, &[]),
        (
            r#"(userName sw "a" or userName sw "b") and not (userName sw "b")"#,
            &["Alice"],
        ),
    ];
    for (filter, want) in cases {
        assert_eq!(
            names(&b, filter).await,
            want.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "{filter}"
        );
    }
    b.stop().await;
}

#[tokio::test]
async fn sorting_paging_and_projection() {
    let b = TestBridge::start().await;
    seed(&b).await;
    let r = b
        .get("/Users?sortBy=name.givenName&sortOrder=descending&count=2")
        .await;
    let got: Vec<&str> = r.body["Resources"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|u| u["name"]["givenName"].as_str())
        .collect();
    assert_eq!(got, vec!["Dave", "Carol"]);
    assert_eq!(r.body["totalResults"], 4);
    let r = b.get("/Users?sortBy=userName&startIndex=2&count=1").await;
    assert_eq!(r.body["Resources"][0]["userName"], "bob@example.org");
    assert_eq!(r.body["startIndex"], 2);
    let r = b.get("/Users?attributes=userName&count=1").await;
    let u = &r.body["Resources"][0];
    assert!(u.get("userName").is_some() && u.get("id").is_some());
    assert!(u.get("name").is_none() && u.get("emails").is_none(), "{u}");
    let r = b.get("/Users?excludedAttributes=emails,name&count=1").await;
    let u = &r.body["Resources"][0];
    assert!(
        u.get("emails").is_none() && u.get("name").is_none() && u.get("userName").is_some(),
        "{u}"
    );
    let r = b
        .post("/Users/.search", json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter":"title eq \"Engineer\"","attributes":["userName"],"sortBy":"userName","startIndex":1,"count":10}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["totalResults"], 2);
    assert_eq!(r.body["Resources"][0]["userName"], "alice@example.com");
    b.stop().await;
}

#[tokio::test]
async fn a_created_user_answers_with_its_location_and_etag_whole_or_projected() {
    let b = TestBridge::start().await;
    let mut body = common::user("ada@example.com", "Ada", "Lovelace \"Byron\"");
    body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] =
        json!({"department": "R&D"});
    let r = b.post("/Users", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.header("location"), r.body["meta"]["location"].as_str());
    assert_eq!(r.header("etag"), r.body["meta"]["version"].as_str());
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    let id = r.body["id"].as_str().expect("id");
    let read = b.get(&format!("/Users/{id}")).await;
    assert_eq!(
        read.body, r.body,
        "the answer is the user as a read shows it"
    );

    let r = b
        .post(
            "/Users?attributes=userName",
            common::user("bob@example.com", "Bob", "Baker"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["userName"], "bob@example.com");
    assert!(r.body.get("name").is_none(), "{}", r.body);
    let id = r.body["id"].as_str().expect("id");
    assert!(r
        .header("location")
        .is_some_and(|l| l.ends_with(&format!("/Users/{id}"))));
    // `meta` is not among the attributes asked for, but the ETag is still the resource's.
    assert!(r.body.get("meta").is_none(), "{}", r.body);
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    let read = b.get(&format!("/Users/{id}?attributes=userName")).await;
    assert_eq!(read.header("etag"), Some("W/\"1\""));
    let patched = b
        .patch(
            &format!("/Users/{id}?attributes=userName"),
            patch_op(json!([{"op": "replace", "path": "title", "value": "Baker"}])),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.header("etag"), Some("W/\"2\""));
    b.stop().await;
}

#[tokio::test]
async fn etags_guard_updates_and_save_reads() {
    let b = TestBridge::start().await;
    let id = b.create_user("etag@example.com").await;
    let r = b.get(&format!("/Users/{id}")).await;
    let etag = r.header("etag").expect("etag").to_owned();
    assert_eq!(r.body["meta"]["version"], etag.as_str());
    let not_modified = b
        .send_with(
            Method::GET,
            &format!("/Users/{id}"),
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    let op = patch_op(json!([{"op":"replace","path":"title","value":"One"}]));
    let ok = b
        .send_with(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(op.clone()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_ne!(ok.header("etag"), Some(etag.as_str()));
    let stale = b
        .send_with(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(op),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    let del = b
        .send_with(
            Method::DELETE,
            &format!("/Users/{id}"),
            None,
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(del.status, StatusCode::PRECONDITION_FAILED);
    b.stop().await;
}

#[tokio::test]
async fn bulk_resolves_bulk_ids_and_honours_fail_on_errors_and_max_operations() {
    let b = TestBridge::start().await;
    let req = json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
        {"method":"POST","path":"/Groups","bulkId":"g1","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName":"Bulk Group","members":[{"value":"bulkId:u1"}]}},
        {"method":"POST","path":"/Users","bulkId":"u1","data":common::user("bulk@example.com","B","Ulk")},
        {"method":"PATCH","path":"/Users/bulkId:u1","data":patch_op(json!([{"op":"replace","path":"title","value":"Bulked"}]))}
    ]});
    let r = b.post("/Bulk", req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ops = r.body["Operations"].as_array().expect("ops");
    assert_eq!(ops.len(), 3);
    assert!(
        ops.iter()
            .all(|o| o["status"] == "201" || o["status"] == "200"),
        "{}",
        r.body
    );
    let g = b
        .get("/Groups?filter=displayName%20eq%20%22Bulk%20Group%22")
        .await;
    assert_eq!(
        g.body["Resources"][0]["members"].as_array().map(Vec::len),
        Some(1)
    );
    let fail = json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"failOnErrors":1,"Operations":[
        {"method":"POST","path":"/Users","bulkId":"d1","data":common::user("bulk@example.com","B","Ulk")},
        {"method":"POST","path":"/Users","bulkId":"d2","data":common::user("never@example.com","N","Ever")}
    ]});
    let r = b.post("/Bulk", fail).await;
    let ops = r.body["Operations"].as_array().expect("ops");
    assert_eq!(ops.len(), 1, "stops after the first error: {}", r.body);
    assert_eq!(ops[0]["status"], "409");
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"method":"DELETE","path":format!("/Users/{i}")}))
        .collect();
    let r = b.post("/Bulk", json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":many})).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.scim_type(), Some("tooMany"));
    b.stop().await;
}

#[tokio::test]
async fn discovery_is_read_only_and_me_is_not_implemented() {
    let b = TestBridge::start().await;
    let spc = b.get("/ServiceProviderConfig").await;
    assert_eq!(spc.status, StatusCode::OK);
    assert_eq!(spc.body["patch"]["supported"], true);
    assert_eq!(spc.body["bulk"]["maxOperations"], 1000);
    assert_eq!(spc.body["filter"]["maxResults"], 1000);
    assert_eq!(spc.body["etag"]["supported"], true);
    assert_eq!(spc.body["sort"]["supported"], true);
    let schemas = b.get("/Schemas").await;
    assert_eq!(schemas.status, StatusCode::OK);
    assert!(
        schemas.body["totalResults"].as_u64().unwrap_or(0) >= 4,
        "{}",
        schemas.body
    );
    let one = b
        .get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await;
    assert_eq!(one.status, StatusCode::OK);
    let rts = b.get("/ResourceTypes").await;
    assert_eq!(rts.body["totalResults"], 2);
    assert_eq!(b.get("/ResourceTypes/User").await.status, StatusCode::OK);
    for path in ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes"] {
        let r = b.post(path, json!({})).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(r.body["status"], "405");
    }
    let me = b.get("/Me").await;
    assert_eq!(me.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(me.body["status"], "501");
    let health = b.get(&format!("{}/health", b.origin)).await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.body);
    assert_eq!(health.body["components"]["store"]["status"], "ok");
    b.stop().await;
}

#[tokio::test]
async fn built_in_groups_exist_and_cannot_be_deleted_or_renamed() {
    let b = TestBridge::start().await;
    let r = b
        .get("/Groups?filter=displayName%20eq%20%22Owners%22")
        .await;
    assert_eq!(r.body["totalResults"], 1);
    let owners = r.body["Resources"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let del = b.delete(&format!("/Groups/{owners}")).await;
    assert_eq!(del.status, StatusCode::BAD_REQUEST);
    assert_eq!(del.scim_type(), Some("mutability"));
    let rename = b
        .patch(
            &format!("/Groups/{owners}"),
            patch_op(json!([{"op":"replace","path":"displayName","value":"Bosses"}])),
        )
        .await;
    assert_eq!(rename.status, StatusCode::BAD_REQUEST);
    let u = b.create_user("owner@example.com").await;
    let add = b
        .patch(
            &format!("/Groups/{owners}"),
            patch_op(json!([{"op":"add","path":"members","value":[{"value":u}]}])),
        )
        .await;
    assert_eq!(add.status, StatusCode::OK, "{}", add.body);
    let user = b.get(&format!("/Users/{u}")).await;
    assert_eq!(
        user.body["urn:keybridge:params:scim:schemas:extension:account:2.0:User"]["role"],
        "owner"
    );
    let dup = b.post("/Groups", json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"administrators"})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    b.stop().await;
}

/// A group read with all of its members is written as text, not through a `Value` per
/// member; it must say exactly what the projected path says, for awkward display names
/// too, and keep the group's own attributes and ETag.
#[tokio::test]
async fn a_group_read_whole_lists_the_same_members_as_a_projected_read() {
    let b = TestBridge::start().await;
    let names = [
        ("quote@example.com", "Say \"hi\""),
        ("slash@example.com", "Back\\slash / and\ttab"),
        ("unicode@example.com", "Élodie 😀"),
    ];
    let mut ids = Vec::new();
    for (user_name, display) in names {
        let mut body = common::user(user_name, "Test", "Person");
        body["displayName"] = json!(display);
        let r = b.post("/Users", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.body["id"].as_str().expect("id").to_owned());
    }
    let group = b.create_group("Awkward names").await;
    let add: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    let r = b
        .patch(
            &format!("/Groups/{group}"),
            patch_op(json!([{"op": "add", "path": "members", "value": add.clone()}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The PATCH's own answer lists them too (read back after the commit).
    assert_eq!(
        r.body["members"].as_array().map(Vec::len),
        Some(3),
        "{}",
        r.body
    );
    assert_eq!(r.body["displayName"], "Awkward names");
    let put = b
        .put(
            &format!("/Groups/{group}"),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                   "displayName": "Awkward names", "members": add}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["members"], r.body["members"], "{}", put.body);
    assert_eq!(put.header("etag"), put.body["meta"]["version"].as_str());

    // Written as text: the default answer, and `attributes=members`.
    let whole = b.get(&format!("/Groups/{group}")).await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.body);
    assert_eq!(whole.body["displayName"], "Awkward names");
    assert_eq!(whole.body["id"], group.as_str());
    let version = whole.body["meta"]["version"].as_str().expect("version");
    assert_eq!(whole.header("etag"), Some(version));
    let only = b.get(&format!("/Groups/{group}?attributes=members")).await;
    assert_eq!(only.status, StatusCode::OK, "{}", only.body);
    assert!(only.body.get("displayName").is_none(), "{}", only.body);
    // Through the projection: a sub-attribute named, so every member is a `Value`.
    let projected = b
        .get(&format!(
            "/Groups/{group}?attributes=members.value,members.display,members.$ref,members.type"
        ))
        .await;
    assert_eq!(projected.status, StatusCode::OK, "{}", projected.body);

    let members = |v: &Value| v["members"].as_array().cloned().unwrap_or_default();
    assert_eq!(members(&whole.body).len(), 3, "{}", whole.body);
    assert_eq!(members(&whole.body), members(&projected.body));
    assert_eq!(members(&only.body), members(&projected.body));
    for (member, ((_, display), id)) in members(&whole.body).iter().zip(names.iter().zip(&ids)) {
        assert_eq!(member["value"], id.as_str());
        assert_eq!(member["display"], *display);
        assert_eq!(member["type"], "User");
        assert!(member["$ref"]
            .as_str()
            .is_some_and(|r| r.ends_with(&format!("/Users/{id}"))));
    }

    // An empty group still answers an empty list.
    let empty = b.create_group("Nobody").await;
    let r = b.get(&format!("/Groups/{empty}")).await;
    assert_eq!(r.body["members"], json!([]), "{}", r.body);
    b.stop().await;
}
