//! The design doc's worked examples for the default 1Password table.

use serde_json::{json, Value as Json};

use crate::{default_table, preview, CompiledTable, RowResult};

fn scim(jc_user: Json, provider: Option<Json>) -> Json {
    let table = CompiledTable::compile(&default_table()).expect("the default table compiles");
    let p = preview(&jc_user, provider.as_ref(), &table, provider.is_none());
    assert_eq!(p.errors().count(), 0, "{:?}", p.rows);
    p.user
}

fn ada() -> Json {
    json!({"_id": "5f1", "email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"})
}

fn with(mut user: Json, key: &str, value: Json) -> Json {
    if let Some(obj) = user.as_object_mut() {
        obj.insert(key.to_string(), value);
    }
    user
}

#[test]
fn display_name_is_first_and_last_name() {
    assert_eq!(scim(ada(), None)["displayName"], "Ada Lovelace");
}

#[test]
fn display_name_without_a_last_name_is_the_first_name() {
    assert_eq!(
        scim(with(ada(), "lastname", json!("")), None)["displayName"],
        "Ada"
    );
    let no_last = json!({"_id": "1", "email": "a@b.c", "firstname": "Ada"});
    assert_eq!(scim(no_last, None)["displayName"], "Ada");
}

#[test]
fn display_name_prefers_jumpcloud_display_name() {
    assert_eq!(
        scim(with(ada(), "displayname", json!("Countess")), None)["displayName"],
        "Countess"
    );
}

#[test]
fn work_address_wins_over_the_first_address() {
    let user = with(
        ada(),
        "addresses",
        json!([{"type": "home", "locality": "London"}, {"type": "work", "locality": "Paris", "country": "FR"}]),
    );
    assert_eq!(
        scim(user, None)["addresses"],
        json!([{"type": "work", "locality": "Paris", "country": "FR", "primary": true}])
    );
}

#[test]
fn without_a_work_address_the_first_address_is_used() {
    let user = with(
        ada(),
        "addresses",
        json!([{"type": "home", "locality": "London"}, {"type": "other", "locality": "Bath"}]),
    );
    assert_eq!(
        scim(user, None)["addresses"],
        json!([{"type": "home", "locality": "London", "primary": true}])
    );
}

#[test]
fn without_addresses_the_attribute_is_left_out() {
    let user = scim(ada(), None);
    assert!(user.get("addresses").is_none(), "{user}");
}

#[test]
fn phone_types_are_mapped_and_work_phones_preferred() {
    let user = with(
        ada(),
        "phoneNumbers",
        json!([{"type": "home", "number": "1"}, {"type": "work", "number": "2"}]),
    );
    assert_eq!(
        scim(user, None)["phoneNumbers"],
        json!([{"value": "2", "type": "work", "primary": true}])
    );
    let user = with(
        ada(),
        "phoneNumbers",
        json!([{"type": "work_fax", "number": "3"}]),
    );
    assert_eq!(
        scim(user, None)["phoneNumbers"],
        json!([{"value": "3", "type": "fax", "primary": true}])
    );
    let user = with(
        ada(),
        "phoneNumbers",
        json!([{"type": "work_mobile", "number": "4"}]),
    );
    assert_eq!(scim(user, None)["phoneNumbers"][0]["type"], "mobile");
    assert!(scim(ada(), None).get("phoneNumbers").is_none());
}

#[test]
fn locale_and_language_fall_back_to_en_us() {
    let user = scim(ada(), None);
    assert_eq!(user["locale"], "en-US");
    assert_eq!(user["preferredLanguage"], "en-US");
}

#[test]
fn locale_and_language_owned_by_the_provider_are_kept() {
    let provider = json!({"locale": "fr-FR", "preferredLanguage": "fr", "externalId": "ext-9"});
    let user = scim(ada(), Some(provider));
    assert_eq!(user["locale"], "fr-FR");
    assert_eq!(user["preferredLanguage"], "fr");
    assert_eq!(user["externalId"], "ext-9");
}

#[test]
fn external_id_defaults_to_the_jumpcloud_id() {
    assert_eq!(scim(ada(), None)["externalId"], "5f1");
    assert_eq!(
        scim(ada(), Some(json!({"externalId": ""})))["externalId"],
        "5f1"
    );
}

#[test]
fn the_whole_user_for_a_typical_person() {
    let user = json!({
        "_id": "5f1", "email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace",
        "jobTitle": "Analyst", "department": "Engines", "company": "Babbage & Co", "costCenter": "CC7",
        "employeeIdentifier": "E1", "employeeType": "full-time",
        "addresses": [{"type": "work", "streetAddress": "1 St James's Square", "locality": "London", "country": "GB"}],
        "phoneNumbers": [{"type": "mobile", "number": "+44 20"}]
    });
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(
        scim(user, None),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", enterprise],
            "userName": "ada@example.com",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "displayName": "Ada Lovelace",
            "title": "Analyst",
            "userType": "full-time",
            "externalId": "5f1",
            "locale": "en-US",
            "preferredLanguage": "en-US",
            "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
            "addresses": [{"type": "work", "streetAddress": "1 St James's Square", "locality": "London", "country": "GB", "primary": true}],
            "phoneNumbers": [{"value": "+44 20", "type": "mobile", "primary": true}],
            enterprise: {"organization": "Babbage & Co", "costCenter": "CC7", "department": "Engines", "employeeNumber": "E1"}
        })
    );
}

#[test]
fn without_enterprise_attributes_only_the_core_schema_is_listed() {
    let user = scim(ada(), None);
    assert_eq!(
        user["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    assert!(user
        .get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        .is_none());
}

#[test]
fn unset_direct_attributes_are_left_out() {
    let user = scim(ada(), None);
    for absent in ["title", "userType"] {
        assert!(user.get(absent).is_none(), "{absent} in {user}");
    }
}

#[test]
fn every_row_reports_its_outcome() {
    let table = CompiledTable::compile(&default_table()).expect("compiles");
    let p = preview(&ada(), None, &table, true);
    assert_eq!(p.rows.len(), 16);
    assert_eq!(p.rows[0].target, "userName");
    assert_eq!(
        p.rows[0].result,
        RowResult::Set {
            value: json!("ada@example.com")
        }
    );
    assert_eq!(p.rows[1].target, "$enterpriseUser.organization");
    assert_eq!(p.rows[1].result, RowResult::Omitted);
    let as_json = serde_json::to_value(&p).expect("a preview serialises");
    assert_eq!(as_json["rows"][0]["status"], "set");
    assert_eq!(as_json["rows"][1]["status"], "omitted");
}
