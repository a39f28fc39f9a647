//! Property tests: no request body, PATCH or parameter makes the crate panic, whatever
//! its shape. Keys are drawn mostly from real attribute names so that the generated
//! bodies reach deep into validation rather than being ignored as unknown.

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::schema::{ResourceType, CORE_GROUP, CORE_USER, ENTERPRISE_USER, PATCH_OP};

const KEYS: &[&str] = &[
    "userName",
    "name",
    "givenName",
    "name.givenName",
    "emails",
    "value",
    "type",
    "primary",
    "active",
    "members",
    "displayName",
    "manager",
    "id",
    "meta",
    "password",
    "groups",
    "addresses",
    "$ref",
    "op",
    "path",
    "Operations",
    "schemas",
    ENTERPRISE_USER,
    CORE_USER,
    CORE_GROUP,
    PATCH_OP,
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "x509Certificates",
    "roles",
];

const PATHS: &[&str] = &[
    "emails",
    "emails[type eq \"work\"].value",
    "emails[type eq \"work\"]",
    "name.givenName",
    "name",
    "members",
    "members[value eq \"u1\"]",
    "members[type eq \"User\"]",
    "active",
    "userName",
    "id",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "emails.primary",
    "addresses[type eq \"work\" and primary eq true].locality",
    ENTERPRISE_USER,
    "displayName",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![4 => proptest::sample::select(KEYS).prop_map(str::to_owned), 1 => "[a-zA-Z$.:]{0,12}"]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just("True".to_owned()),
            Just("work".to_owned()),
            Just("2024-01-01T00:00:00Z".to_owned()),
            any::<String>()
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn operation() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("add"), Just("Replace"), Just("remove"), Just("bogus")],
        proptest::option::of(proptest::sample::select(PATHS)),
        proptest::option::of(json()),
    )
        .prop_map(|(op, path, value)| {
            let mut m = Map::new();
            m.insert("op".into(), op.into());
            if let Some(p) = path {
                m.insert("path".into(), p.into());
            }
            if let Some(v) = value {
                m.insert("value".into(), v);
            }
            Value::Object(m)
        })
}

proptest! {
    #[test]
    fn normalizing_any_body_never_panics(mut body in json(), with_schemas in any::<bool>()) {
        if with_schemas {
            if let Value::Object(m) = &mut body {
                m.insert("schemas".into(), serde_json::json!([CORE_USER, CORE_GROUP]));
            }
        }
        let _ = crate::normalize_user(&body);
        let _ = crate::normalize_group(&body);
    }

    #[test]
    fn patching_never_panics_and_keeps_a_document(ops in proptest::collection::vec(operation(), 1..5), group in any::<bool>()) {
        let body = serde_json::json!({"schemas": [PATCH_OP], "Operations": ops});
        let rt = if group { ResourceType::Group } else { ResourceType::User };
        if let Ok(parsed) = crate::parse_patch(&body) {
            let mut doc = serde_json::json!({
                "userName": "a", "displayName": "G",
                "emails": [{"value": "a@x", "type": "work", "primary": true}],
                ENTERPRISE_USER: {"manager": {"value": "m"}}
            });
            let before = doc.clone();
            match crate::apply_patch(rt, &mut doc, &parsed) {
                Ok(_) => prop_assert!(doc.is_object()),
                Err(_) => prop_assert_eq!(doc, before),
            }
        }
    }

    #[test]
    fn list_parameters_never_panic(params in proptest::collection::vec((key(), any::<String>()), 0..6), body in json()) {
        let _ = crate::parse_list_params(ResourceType::User, params.iter().map(|(k, v)| (k.as_str(), v.as_str())), 100);
        let _ = crate::parse_search_request(ResourceType::Group, &body, 100);
    }

    #[test]
    fn projection_never_panics(doc in json(), attrs in "[a-zA-Z.,:]{0,30}") {
        let list = crate::parse_attribute_list(ResourceType::User, &attrs).unwrap_or_default();
        let _ = crate::project(ResourceType::User, &doc, &list, &list);
    }
}

/// PATCH paths as an identity provider might garble them: real names and URNs, value
/// filters, sub-attributes, and stray brackets, quotes, dots and colons.
fn garbled_path() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        3 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z$]{0,6}",
    ];
    let filter = prop_oneof![
        Just("type eq \"work\"".to_owned()),
        Just("value eq \"a@x\" or primary eq true".to_owned()),
        Just("not (value pr)".to_owned()),
        "[a-z \"\\[\\]().:]{0,16}",
    ];
    (
        name.clone(),
        proptest::option::of(filter),
        proptest::option::of(name),
        "[\\[\\]\".: ]{0,3}",
    )
        .prop_map(|(attr, filter, sub, junk)| {
            let mut p = attr;
            if let Some(f) = filter {
                p = format!("{p}[{f}]");
            }
            if let Some(s) = sub {
                p = format!("{p}.{s}");
            }
            p + &junk
        })
}

proptest! {
    #[test]
    fn path_parsers_never_panic_on_any_text(s in any::<String>()) {
        let _ = crate::parse_patch_path(&s);
        let _ = crate::parse_attr_path(&s);
        let _ = crate::parse_attribute_list(ResourceType::User, &s);
        let _ = crate::parse_attribute_list(ResourceType::Group, &s);
    }

    #[test]
    fn patching_with_garbled_paths_never_panics_and_fails_cleanly(
        path in garbled_path(),
        op in prop_oneof![Just("add"), Just("replace"), Just("remove")],
        value in proptest::option::of(json()),
        group in any::<bool>(),
    ) {
        let mut operation = serde_json::json!({"op": op, "path": path});
        if let Some(v) = value {
            operation["value"] = v;
        }
        let body = serde_json::json!({"schemas": [PATCH_OP], "Operations": [operation]});
        let rt = if group { ResourceType::Group } else { ResourceType::User };
        if let Ok(parsed) = crate::parse_patch(&body) {
            let mut doc = serde_json::json!({
                "userName": "a", "displayName": "G",
                "emails": [{"value": "a@x", "type": "work", "primary": true}],
                "name": {"givenName": "A"}
            });
            let before = doc.clone();
            match crate::apply_patch(rt, &mut doc, &parsed) {
                Ok(_) => prop_assert!(doc.is_object()),
                Err(e) => {
                    prop_assert_eq!(doc, before);
                    prop_assert!((400..500).contains(&e.status), "{:?}", e);
                }
            }
        }
    }

    /// The uniqueness key is a fixed point: keying a key changes nothing, so two names
    /// that collide keep colliding however often they are normalised.
    #[test]
    fn the_username_key_is_idempotent(s in any::<String>()) {
        let once = crate::username_key(&s);
        prop_assert_eq!(crate::username_key(&once), once.clone());
    }

    /// Bodies of any bytes: only those serde_json accepts reach the normaliser, and it
    /// answers every one with a document or a 4xx error.
    #[test]
    fn normalizing_json_parsed_from_any_bytes_fails_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(body) = serde_json::from_slice::<Value>(&bytes) {
            for e in [crate::normalize_user(&body).err(), crate::normalize_group(&body).err()].into_iter().flatten() {
                prop_assert!((400..500).contains(&e.status), "{:?}", e);
            }
        }
    }
}
