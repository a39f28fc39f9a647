//! Concurrent writes over HTTP: no lost members, exactly one winner per userName.

mod common;

use common::{patch_op, TestBridge};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_hundred_concurrent_member_patches_leave_one_hundred_members() {
    let b = std::sync::Arc::new(TestBridge::start().await);
    let mut ids = Vec::new();
    for i in 0..100 {
        ids.push(b.create_user(&format!("member{i}@example.com")).await);
    }
    let g = b.create_group("Concurrent").await;
    let tasks: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let b = b.clone();
            let path = format!("/Groups/{g}?excludedAttributes=members");
            tokio::spawn(async move {
                b.patch(
                    &path,
                    patch_op(json!([{"op":"add","path":"members","value":[{"value":id}]}])),
                )
                .await
                .status
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("task"), StatusCode::OK);
    }
    let r = b.get(&format!("/Groups/{g}")).await;
    assert_eq!(r.body["members"].as_array().map(Vec::len), Some(100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_posts_of_one_user_name_leave_one_person_and_49_conflicts() {
    let b = std::sync::Arc::new(TestBridge::start().await);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move {
                b.post("/Users", common::user("same@example.com", "S", "Ame"))
                    .await
            })
        })
        .collect();
    let mut created = 0;
    let mut conflicts = 0;
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_eq!(r.scim_type(), Some("uniqueness"));
                conflicts += 1
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!((created, conflicts), (1, 49));
    let r = b
        .get("/Users?filter=userName%20eq%20%22same@example.com%22")
        .await;
    assert_eq!(r.body["totalResults"], 1);
}

#[tokio::test]
async fn the_three_spellings_of_elodie_are_one_user_name() {
    let b = TestBridge::start().await;
    let r = b.post("/Users", common::user("élodie", "É", "L")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    for spelling in ["ÉLODIE", "e\u{301}lodie", "ｅ\u{301}lodie"] {
        let dup = b.post("/Users", common::user(spelling, "É", "L")).await;
        assert_eq!(
            dup.status,
            StatusCode::CONFLICT,
            "{spelling} must collide: {}",
            dup.body
        );
        let filter = serde_json::to_string(spelling).expect("json");
        let found = b
            .get(&format!(
                "/Users?filter={}",
                urlencode(&format!("userName eq {filter}"))
            ))
            .await;
        assert_eq!(found.body["totalResults"], 1, "{spelling}: {}", found.body);
    }
    b.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
