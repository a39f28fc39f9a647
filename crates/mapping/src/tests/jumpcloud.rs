//! JumpCloud's variables and functions.

use serde_json::json;

use crate::{normalize_jc_user, Expression, Value};

fn eval_with(src: &str, jc_user: serde_json::Value) -> String {
    let env = [normalize_jc_user(jc_user), Value::empty_map()];
    match Expression::compile(src, &["jcUser", "providerUser"]).and_then(|e| e.eval(&env)) {
        Ok(v) => crate::gojson::to_json(&v).unwrap_or_default(),
        Err(e) => format!("error: {}", e.message),
    }
}

#[test]
fn jc_user_takes_its_id_from_the_api_id() {
    assert_eq!(eval_with("jcUser.id", json!({"_id": "5f1"})), "\"5f1\"");
    assert_eq!(eval_with("jcUser._id", json!({"_id": "5f1"})), "null");
}

#[test]
fn unset_strings_read_as_empty_and_unset_arrays_as_empty_arrays() {
    let user = json!({"_id": "1", "firstname": "Ada", "lastname": null});
    assert_eq!(
        eval_with("jcUser.firstname + ' ' + jcUser.lastname", user.clone()),
        "\"Ada \""
    );
    assert_eq!(
        eval_with(
            "[jcUser.middlename, jcUser.displayname, jcUser.manager]",
            user.clone()
        ),
        r#"["","",""]"#
    );
    assert_eq!(
        eval_with(
            "[jcUser.addresses, jcUser.phoneNumbers, jcUser.attributes]",
            user.clone()
        ),
        "[[],[],[]]"
    );
    assert_eq!(
        eval_with("[jcUser.activated, jcUser.suspended]", user.clone()),
        "[false,false]"
    );
    assert_eq!(
        eval_with("find(jcUser.addresses, .type == 'work')", user),
        "null"
    );
}

#[test]
fn addresses_and_phone_numbers_get_all_their_fields() {
    let user = json!({"addresses": [{"type": "work", "locality": "Paris"}], "phoneNumbers": [{"number": "1"}]});
    assert_eq!(
        eval_with("jcUser.addresses[0]", user.clone()),
        r#"{"country":"","extendedAddress":"","locality":"Paris","poBox":"","postalCode":"","region":"","streetAddress":"","type":"work"}"#
    );
    assert_eq!(
        eval_with("jcUser.phoneNumbers[0]", user),
        r#"{"number":"1","type":""}"#
    );
}

#[test]
fn other_attributes_pass_through() {
    let user = json!({"account_locked": true, "attributes": [{"name": "badge", "value": 7}]});
    assert_eq!(eval_with("jcUser.account_locked", user.clone()), "true");
    assert_eq!(
        eval_with("find(jcUser.attributes, .name == 'badge').value", user),
        "7"
    );
}

#[test]
fn not_null_or_empty_is_false_only_for_nil_and_empty_values() {
    for (src, want) in [
        ("notNullOrEmpty(nil)", "false"),
        ("notNullOrEmpty('')", "false"),
        ("notNullOrEmpty([])", "false"),
        ("notNullOrEmpty({})", "false"),
        ("notNullOrEmpty(providerUser.externalId)", "false"),
        ("notNullOrEmpty(' ')", "true"),
        ("notNullOrEmpty(0)", "true"),
        ("notNullOrEmpty(false)", "true"),
        ("notNullOrEmpty([nil])", "true"),
    ] {
        assert_eq!(eval_with(src, json!({})), want, "{src}");
    }
}

#[test]
fn to_scim_emails() {
    assert_eq!(eval_with("toScimEmails(nil)", json!({})), "null");
    assert_eq!(eval_with("toScimEmails('')", json!({})), "null");
    assert_eq!(
        eval_with("toScimEmails(jcUser.email)", json!({"email": "a@b.c"})),
        r#"[{"primary":true,"type":"work","value":"a@b.c"}]"#
    );
    assert_eq!(
        eval_with("toScimEmails(1)", json!({})),
        "error: invalid argument for toScimEmails (type int)"
    );
}

#[test]
fn to_scim_addresses() {
    assert_eq!(eval_with("toScimAddresses(nil)", json!({})), "null");
    assert_eq!(eval_with("toScimAddresses([])", json!({})), "null");
    let user = json!({"addresses": [
        {"type": "", "streetAddress": "1 Main St", "locality": "Paris", "region": "", "postalCode": "75001", "country": "FR", "poBox": "9"},
        {"type": "home", "locality": "Lyon"}
    ]});
    assert_eq!(
        eval_with("toScimAddresses(jcUser.addresses[0])", user.clone()),
        r#"[{"country":"FR","locality":"Paris","postalCode":"75001","primary":true,"streetAddress":"1 Main St","type":"work"}]"#
    );
    assert_eq!(
        eval_with("toScimAddresses(jcUser.addresses)", user),
        r#"[{"country":"FR","locality":"Paris","postalCode":"75001","primary":true,"streetAddress":"1 Main St","type":"work"},{"locality":"Lyon","type":"home"}]"#
    );
}

#[test]
fn to_scim_phone_numbers_maps_jumpcloud_types() {
    assert_eq!(eval_with("toScimPhoneNumbers(nil)", json!({})), "null");
    for (jc, scim) in [
        ("work", "work"),
        ("home", "home"),
        ("mobile", "mobile"),
        ("work_mobile", "mobile"),
        ("work_fax", "fax"),
        ("pager", "other"),
        ("", "other"),
    ] {
        let user = json!({"phoneNumbers": [{"type": jc, "number": "+1 555"}]});
        assert_eq!(
            eval_with("toScimPhoneNumbers(jcUser.phoneNumbers[0])", user),
            format!(r#"[{{"primary":true,"type":"{scim}","value":"+1 555"}}]"#),
            "{jc}"
        );
    }
}
