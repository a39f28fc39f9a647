//! SCIM filters: parse, resolve against both resource types, evaluate, and check that
//! printing a parsed filter and parsing it again gives the same tree (the store turns
//! filters into SQL from the tree, so a tree that does not round-trip is a filter that
//! means something other than what the client sent).
#![no_main]

use keybridge_scim::schema::ResourceType;
use keybridge_scim::{parse_filter, resolve_filter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(filter) = parse_filter(text) else {
        return;
    };
    let printed = filter.to_string();
    assert_eq!(
        parse_filter(&printed).as_ref(),
        Ok(&filter),
        "{text:?} printed as {printed:?}"
    );
    let user = serde_json::json!({
        "userName": "ada@example.io",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "active": true,
        "emails": [{"value": "ada@example.io", "type": "work", "primary": true}],
        "meta": {"lastModified": "2024-01-01T00:00:00Z"}
    });
    for rt in [ResourceType::User, ResourceType::Group] {
        if let Ok(resolved) = resolve_filter(rt, filter.clone()) {
            let _ = resolved.matches(rt, &user);
        }
    }
});
