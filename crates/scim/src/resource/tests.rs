use serde_json::json;

use super::*;
use crate::error::ScimType;
use crate::schema::{CORE_GROUP, CORE_USER, ENTERPRISE_USER, KEYBRIDGE_USER};

fn user(mut body: Value) -> Result<Value, ScimError> {
    if body.get("schemas").is_none() {
        body["schemas"] = json!([CORE_USER]);
    }
    normalize_user(&body)
}

fn ok(body: Value) -> Value {
    user(body).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn jumpcloud_create_keeps_every_attribute_in_canonical_form() {
    let doc = ok(json!({
        "schemas": [CORE_USER, ENTERPRISE_USER],
        "userName": "ada@example.io", "externalId": "5f1b2c3d4e5f60718293a4b5", "active": true,
        "displayName": "Ada Lovelace", "name": {"familyName": "Lovelace", "givenName": "Ada"},
        "emails": [{"primary": true, "type": "work", "value": "ada@example.io"}],
        "phoneNumbers": [{"primary": true, "type": "work", "value": "tel:+1-555-555-0100"}],
        "addresses": [{"country": "US", "locality": "Boulder", "postalCode": "80301", "primary": true,
                       "region": "CO", "streetAddress": "1 Main St", "type": "work"}],
        "locale": "en-US", "preferredLanguage": "en-US"
    }));
    let keys: Vec<&String> = doc
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "userName",
            "name",
            "displayName",
            "preferredLanguage",
            "locale",
            "active",
            "emails",
            "phoneNumbers",
            "addresses",
            "externalId"
        ]
    );
    assert_eq!(doc["addresses"][0]["postalCode"], "80301");
}

#[test]
fn read_only_write_only_and_unknown_attributes_are_ignored() {
    let doc = ok(json!({
        "userName": "a", "id": "x", "meta": {"version": "W/\"1\""}, "groups": [], "password": "hunter2",
        "favouriteColour": "blue", "urn:example:ext:1.0:User": {"x": 1}, "urn:example:ext:1.0:User:y": 2,
        KEYBRIDGE_USER: {"state": "active"}, "schemas": [CORE_USER, "urn:example:ext:1.0:User"]
    }));
    assert_eq!(doc, json!({"userName": "a"}));
}

#[test]
fn attribute_names_are_case_insensitive() {
    let doc = ok(json!({"USERNAME": "a", "Name": {"GivenName": "Ada"}, "ACTIVE": "False"}));
    assert_eq!(
        doc,
        json!({"userName": "a", "name": {"givenName": "Ada"}, "active": false})
    );
}

#[test]
fn null_and_empty_values_mean_unassigned() {
    let doc = ok(
        json!({"userName": "a", "emails": null, "addresses": [], "name": {}, "title": null, ENTERPRISE_USER: {}}),
    );
    assert_eq!(doc, json!({"userName": "a"}));
}

#[test]
fn extension_attributes_nest_under_their_urn_whichever_way_they_come() {
    let doc = ok(json!({
        "userName": "a",
        ENTERPRISE_USER: {"department": "Research", "manager": "m1"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42",
        "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.displayName": "ignored"
    }));
    assert_eq!(
        doc[ENTERPRISE_USER],
        json!({"employeeNumber": "42", "department": "Research", "manager": {"value": "m1"}})
    );
}

#[test]
fn manager_as_an_object_is_accepted_too() {
    let doc = ok(
        json!({"userName": "a", ENTERPRISE_USER: {"manager": {"value": "m1", "$ref": "../Users/m1"}}}),
    );
    assert_eq!(
        doc[ENTERPRISE_USER]["manager"],
        json!({"value": "m1", "$ref": "../Users/m1"})
    );
}

#[test]
fn dotted_keys_set_sub_attributes() {
    let doc = ok(json!({"userName": "a", "name.givenName": "Ada", "name": {"familyName": "L"}}));
    assert_eq!(doc["name"], json!({"givenName": "Ada", "familyName": "L"}));
}

#[test]
fn only_the_first_primary_value_stays_primary() {
    let doc = ok(json!({"userName": "a", "emails": [
        {"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}
    ]}));
    assert_eq!(doc["emails"][1]["primary"], false);
    assert_eq!(doc["emails"][0]["primary"], true);
}

#[test]
fn wrong_types_are_invalid_value_naming_the_attribute() {
    for (body, attr) in [
        (json!({"userName": "a", "active": "maybe"}), "active"),
        (json!({"userName": "a", "name": "Ada"}), "name"),
        (
            json!({"userName": "a", "emails": [{"value": 1}]}),
            "emails.value",
        ),
        (json!({"userName": ["a"]}), "userName"),
        (
            json!({"userName": "a", ENTERPRISE_USER: "x"}),
            ENTERPRISE_USER,
        ),
    ] {
        let e = user(body.clone()).err();
        assert_eq!(
            e.as_ref().map(|e| e.scim_type),
            Some(Some(ScimType::InvalidValue)),
            "{body}"
        );
        assert!(e.is_some_and(|e| e.detail.starts_with(attr)), "{body}");
    }
}

#[test]
fn user_name_is_required() {
    for body in [
        json!({}),
        json!({"userName": ""}),
        json!({"userName": "  "}),
        json!({"userName": null}),
    ] {
        let e = user(body).err();
        assert!(e.is_some_and(
            |e| e.scim_type == Some(ScimType::InvalidValue) && e.detail.contains("userName")
        ));
    }
}

#[test]
fn a_body_without_the_core_schema_is_invalid_syntax() {
    for body in [
        json!({"userName": "a", "schemas": []}),
        json!({"userName": "a", "schemas": "x"}),
        json!({"userName": "a", "schemas": [CORE_GROUP]}),
    ] {
        let e = normalize_user(&body).err();
        assert!(e.is_some_and(
            |e| e.scim_type == Some(ScimType::InvalidSyntax) && e.detail.contains(CORE_USER)
        ));
    }
    let e = normalize_user(&json!({"userName": "a"})).err();
    assert!(e.is_some_and(|e| e.detail.contains("must list the schema")));
    assert!(normalize_user(&json!([1])).is_err());
}

#[test]
fn entra_group_with_its_extra_schema_is_accepted() {
    let g = normalize_group(&json!({
        "schemas": [CORE_GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0", "displayName": "Engineers",
        "members": [{"$ref": null, "value": "u1"}, {"value": "u2", "display": "Bo"}, {"value": "u1"}]
    }));
    assert_eq!(
        g,
        Ok(NormalizedGroup {
            doc: json!({"displayName": "Engineers", "externalId": "8aa1a0c0"}),
            members: Some(vec!["u1".into(), "u2".into()]),
        })
    );
}

#[test]
fn group_members_absent_null_or_broken() {
    let base = |members: Option<Value>| {
        let mut b = json!({"schemas": [CORE_GROUP], "displayName": "G"});
        if let Some(m) = members {
            b["members"] = m;
        }
        normalize_group(&b).map(|g| g.members)
    };
    assert_eq!(base(None), Ok(None));
    assert_eq!(base(Some(json!(null))), Ok(Some(vec![])));
    assert_eq!(base(Some(json!([]))), Ok(Some(vec![])));
    assert!(base(Some(json!([{"display": "x"}]))).is_err_and(|e| e.detail.contains("members[0]")));
}

#[test]
fn group_display_name_is_required() {
    let e = normalize_group(&json!({"schemas": [CORE_GROUP]})).err();
    assert!(e.is_some_and(
        |e| e.scim_type == Some(ScimType::InvalidValue) && e.detail.contains("displayName")
    ));
}

#[test]
fn names_with_control_characters_are_refused() {
    for name in [
        "a\u{0}b",
        "\u{0}",
        "tab\tname",
        "bell\u{7}",
        "del\u{7f}",
        "c1\u{85}",
    ] {
        let e = normalize_user(&json!({"schemas": [CORE_USER], "userName": name})).err();
        assert!(
            e.is_some_and(|e| e.scim_type == Some(ScimType::InvalidValue)
                && e.detail.contains("control characters")),
            "{name:?}"
        );
        let e = normalize_group(&json!({"schemas": [CORE_GROUP], "displayName": name})).err();
        assert!(
            e.is_some_and(|e| e.detail.contains("control characters")),
            "{name:?}"
        );
    }
    // Letters from any script, spaces and symbols are not controls.
    assert!(normalize_user(&json!({"schemas": [CORE_USER], "userName": "Zoë O'Brien ☃"})).is_ok());
}
