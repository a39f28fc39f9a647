//! The SQL the store runs for a filter selects exactly the people the protocol crate's
//! in-memory evaluation of that filter matches: random filters over a varied directory.

use keybridge::directory::{Actor, Directory, ListRequest};
use keybridge::scim::schema::ResourceType;
use keybridge::scim::{parse_filter, resolve_filter};
use keybridge::store::{Store, StoreOptions};
use proptest::prelude::*;
use serde_json::{json, Value};

const ATTRS: &[(&str, &[&str])] = &[
    (
        "userName",
        &[
            "\"alice@example.com\"",
            "\"ALICE\"",
            "\"b\"",
            "\"example\"",
            "\"élodie\"",
        ],
    ),
    (
        "title",
        &["\"Engineer\"", "\"engineer\"", "\"\"", "\"Eng\""],
    ),
    ("name.givenName", &["\"Alice\"", "\"Bob\"", "\"M\""]),
    (
        "emails.value",
        &["\"alice@example.com\"", "\"example.org\""],
    ),
    ("emails.type", &["\"work\"", "\"home\""]),
    ("active", &["true", "false"]),
    ("externalId", &["\"ext-1\"", "\"EXT-1\""]),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        &["\"R&D\"", "\"Sales\""],
    ),
];

fn leaf() -> impl Strategy<Value = String> {
    (0..ATTRS.len(), 0..9usize, 0..5usize).prop_map(|(a, op, v)| {
        let (attr, values) = ATTRS[a];
        let value = values[v % values.len()];
        let is_bool = attr == "active";
        let ops: &[&str] = if is_bool {
            &["eq", "ne", "pr"]
        } else {
            &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"]
        };
        match ops[op % ops.len()] {
            "pr" => format!("{attr} pr"),
            o => format!("{attr} {o} {value}"),
        }
    })
}

fn filter() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
            inner.clone().prop_map(|a| format!("not ({a})")),
            Just("emails[type eq \"work\" and value co \"alice\"]".to_owned()),
        ]
    })
}

fn people() -> Vec<Value> {
    vec![
        json!({"userName": "alice@example.com", "title": "Engineer", "name": {"givenName": "Alice"},
               "emails": [{"value": "alice@example.com", "type": "work", "primary": true}], "externalId": "ext-1",
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}}),
        json!({"userName": "bob@example.org", "title": "engineer", "name": {"givenName": "Bob"},
               "emails": [{"value": "bob@example.org", "type": "home"}, {"value": "b@example.com", "type": "work"}], "active": false}),
        json!({"userName": "élodie", "name": {"givenName": "Élodie"}, "externalId": "EXT-1",
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}}),
        json!({"userName": "M", "title": "", "emails": []}),
        json!({"userName": "zed@example.com", "title": "Eng", "name": {"givenName": "M"}}),
    ]
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    directory: Directory,
    docs: Vec<Value>,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (directory, docs) = rt.block_on(async {
        let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
        let directory = Directory::open(store).await.expect("directory");
        let mut docs = Vec::new();
        for mut p in people() {
            p["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User"]);
            docs.push(
                directory
                    .create_user(&Actor::admin(), p, "http://x/scim/v2")
                    .await
                    .expect("create"),
            );
        }
        (directory, docs)
    });
    Fixture {
        rt,
        directory,
        docs,
        _dir: dir,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn sql_and_in_memory_filters_agree(text in filter()) {
        thread_local!(static FIX: Fixture = fixture());
        let parsed = parse_filter(&text).and_then(|f| resolve_filter(ResourceType::User, f));
        let Ok(f) = parsed else { return Ok(()); };
        FIX.with(|fix| {
            let mut want: Vec<String> = fix.docs.iter().filter(|d| f.matches(ResourceType::User, d)).map(|d| d["userName"].as_str().unwrap_or("").to_owned()).collect();
            let page = fix.rt.block_on(fix.directory.list(ResourceType::User, ListRequest {
                filter: Some(f.clone()), start_index: 1, count: 100, sort_by: None, descending: false, with_members: false,
            }, "http://x/scim/v2"));
            let page = match page { Ok(p) => p, Err(e) => panic!("{text}: {e}") };
            let mut got: Vec<String> = page.items.iter().map(|d| d["userName"].as_str().unwrap_or("").to_owned()).collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "filter: {text}");
        });
    }
}
