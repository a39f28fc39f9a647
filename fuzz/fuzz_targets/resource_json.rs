//! Request bodies as the bridge reads them: JSON, then the tolerant reader (POST/PUT) or
//! PATCH parsing and application. A refused body must be a 4xx and must leave the
//! document untouched.
#![no_main]

use keybridge_scim::schema::ResourceType;
use keybridge_scim::{apply_patch, normalize_group, normalize_user, parse_patch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for e in [normalize_user(&body).err(), normalize_group(&body).err()]
        .into_iter()
        .flatten()
    {
        assert!((400..500).contains(&e.status), "{e:?}");
    }
    let Ok(ops) = parse_patch(&body) else {
        return;
    };
    let docs = [
        (
            ResourceType::User,
            serde_json::json!({
                "userName": "ada@example.io",
                "name": {"givenName": "Ada", "familyName": "Lovelace"},
                "active": true,
                "emails": [{"value": "ada@example.io", "type": "work", "primary": true}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m1"}}
            }),
        ),
        (
            ResourceType::Group,
            serde_json::json!({"displayName": "Engineers"}),
        ),
    ];
    for (rt, mut doc) in docs {
        let before = doc.clone();
        if let Err(e) = apply_patch(rt, &mut doc, &ops) {
            assert!((400..500).contains(&e.status), "{e:?}");
            assert_eq!(doc, before, "a refused PATCH changed the document");
        }
    }
});
