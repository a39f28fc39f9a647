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
