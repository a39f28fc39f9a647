use serde_json::{json, Value};

use super::*;
use crate::error::ScimType;
use crate::filter::{parse_filter, resolve::resolve_relative};
use crate::schema::{ENTERPRISE_USER, KEYBRIDGE_USER};

fn ops(operations: Value) -> Vec<PatchOp> {
    let body = json!({"schemas": [PATCH_OP], "Operations": operations});
    parse_patch(&body).unwrap_or_else(|e| panic!("{e}"))
}

fn patch(rt: ResourceType, doc: &mut Value, operations: Value) -> Result<PatchOutcome, ScimError> {
    apply_patch(rt, doc, &ops(operations))
}

fn ada() -> Value {
    json!({
        "userName": "ada@example.io",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "active": true,
        "emails": [{"value": "ada@example.io", "type": "work", "primary": true}],
        ENTERPRISE_USER: {"department": "Research"}
    })
}

fn user_after(operations: Value) -> Value {
    let mut doc = ada();
    patch(ResourceType::User, &mut doc, operations).unwrap_or_else(|e| panic!("{e}"));
    doc
}

fn user_error(operations: Value) -> ScimError {
    let mut doc = ada();
    match patch(ResourceType::User, &mut doc, operations) {
        Ok(o) => panic!("succeeded: {o:?} {doc}"),
        Err(e) => {
            assert_eq!(doc, ada(), "a failed PATCH changes nothing");
            e
        }
    }
}

fn group_changes(operations: Value) -> Vec<MemberChange> {
    let mut doc = json!({"displayName": "Engineers"});
    patch(ResourceType::Group, &mut doc, operations)
        .map(|o| o.member_changes)
        .unwrap_or_else(|e| panic!("{e}"))
}

// ---- parsing ----

#[test]
fn op_names_are_case_insensitive() {
    let parsed = ops(
        json!([{"op": "Add", "path": "title", "value": "x"}, {"op": "REPLACE", "path": "title", "value": "y"}, {"op": "remove", "path": "title"}]),
    );
    let kinds: Vec<PatchOpKind> = parsed.iter().map(|o| o.op).collect();
    assert_eq!(
        kinds,
        [PatchOpKind::Add, PatchOpKind::Replace, PatchOpKind::Remove]
    );
}

#[test]
fn malformed_requests_are_rejected_with_the_right_scim_type() {
    let t = |body: Value| parse_patch(&body).err().map(|e| e.scim_type);
    let syntax = Some(Some(ScimType::InvalidSyntax));
    assert_eq!(t(json!({"schemas": [PATCH_OP]})), syntax);
    assert_eq!(t(json!({"schemas": [PATCH_OP], "Operations": []})), syntax);
    assert_eq!(
        t(json!({"schemas": ["urn:x"], "Operations": [{"op": "add", "value": {}}]})),
        syntax
    );
    assert_eq!(
        t(json!({"Operations": [{"op": "move", "path": "title"}]})),
        syntax
    );
    assert_eq!(t(json!({"Operations": [{"path": "title"}]})), syntax);
    assert_eq!(
        t(json!({"Operations": [{"op": "add", "path": "title"}]})),
        syntax
    );
    assert_eq!(
        t(json!({"Operations": [{"op": "remove"}]})),
        Some(Some(ScimType::NoTarget))
    );
    assert_eq!(
        t(json!({"Operations": [{"op": "add", "path": "emails[type eq]", "value": 1}]})),
        Some(Some(ScimType::InvalidPath))
    );
    assert_eq!(t(json!([])), syntax);
}

#[test]
fn errors_name_the_operation() {
    let e = parse_patch(
        &json!({"Operations": [{"op": "add", "path": "a", "value": 1}, {"op": "nope"}]}),
    )
    .err();
    assert!(e.is_some_and(|e| e.detail.starts_with("Operations[1]: unknown op \"nope\"")));
}

#[test]
fn a_path_naming_an_extension_urn_becomes_a_no_path_operation() {
    let parsed =
        ops(json!([{"op": "replace", "path": ENTERPRISE_USER, "value": {"department": "Ops"}}]));
    assert_eq!(
        parsed,
        vec![PatchOp {
            op: PatchOpKind::Replace,
            path: None,
            value: Some(json!({ENTERPRISE_USER: {"department": "Ops"}}))
        }]
    );
}

// ---- JumpCloud ----

#[test]
fn jumpcloud_replaces_one_path_at_a_time() {
    let doc = user_after(json!([
        {"op": "replace", "path": "name.givenName", "value": "Augusta"},
        {"op": "replace", "path": "title", "value": "Analyst"},
        {"op": "replace", "path": "active", "value": false}
    ]));
    assert_eq!(
        doc["name"],
        json!({"givenName": "Augusta", "familyName": "Lovelace"})
    );
    assert_eq!(doc["title"], "Analyst");
    assert_eq!(doc["active"], false);
}

#[test]
fn jumpcloud_removes_members_with_a_value_list() {
    let changes = group_changes(json!([
        {"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]},
        {"op": "remove", "path": "members", "value": [{"value": "u1"}]}
    ]));
    assert_eq!(
        changes,
        vec![
            MemberChange::Add(vec!["u1".into(), "u2".into()]),
            MemberChange::Remove(vec!["u1".into()])
        ]
    );
}

// ---- Okta ----

#[test]
fn okta_deactivates_with_a_no_path_replace() {
    assert_eq!(
        user_after(json!([{"op": "replace", "value": {"active": false}}]))["active"],
        false
    );
}

#[test]
fn okta_renames_a_group_with_its_id_in_the_value() {
    let mut doc = json!({"displayName": "Old"});
    let outcome = patch(
        ResourceType::Group,
        &mut doc,
        json!([{"op": "replace", "value": {"id": "g1", "displayName": "New"}}]),
    );
    assert_eq!(
        outcome.map(|o| o.changed),
        Ok(vec!["displayName".to_string()])
    );
    assert_eq!(doc, json!({"displayName": "New"}));
}

#[test]
fn okta_removes_a_member_with_a_value_filter_and_replaces_the_list() {
    let changes = group_changes(json!([
        {"op": "remove", "path": "members[value eq \"u1\"]"},
        {"op": "replace", "path": "members", "value": [{"value": "u3", "display": "C"}]}
    ]));
    assert_eq!(
        changes,
        vec![
            MemberChange::Remove(vec!["u1".into()]),
            MemberChange::Replace(vec!["u3".into()])
        ]
    );
}

// ---- Entra ----

#[test]
fn entra_sends_capitalised_ops_and_boolean_strings() {
    assert_eq!(
        user_after(json!([{"op": "Replace", "path": "active", "value": "False"}]))["active"],
        false
    );
}

#[test]
fn entra_replaces_a_work_email_that_does_not_exist_yet() {
    let mut doc = json!({"userName": "a"});
    let r = patch(
        ResourceType::User,
        &mut doc,
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a@x.io"}]),
    );
    assert_eq!(r.map(|o| o.changed), Ok(vec!["emails".to_string()]));
    assert_eq!(doc["emails"], json!([{"type": "work", "value": "a@x.io"}]));
}

#[test]
fn entra_replaces_the_existing_work_email() {
    let doc = user_after(
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.io"}]),
    );
    assert_eq!(
        doc["emails"],
        json!([{"value": "new@x.io", "type": "work", "primary": true}])
    );
}

#[test]
fn entra_uses_urn_qualified_paths_and_a_string_manager() {
    let doc = user_after(json!([
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "42"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m1"}
    ]));
    assert_eq!(
        doc[ENTERPRISE_USER],
        json!({"department": "Research", "employeeNumber": "42", "manager": {"value": "m1"}})
    );
}

#[test]
fn entra_no_path_replace_with_dotted_and_urn_keys() {
    let doc = user_after(json!([{"op": "Replace", "value": {
        "name.givenName": "Augusta", "displayName": "Augusta Ada",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Maths",
        ENTERPRISE_USER: {"costCenter": "7"}
    }}]));
    assert_eq!(doc["name"]["givenName"], "Augusta");
    assert_eq!(doc["displayName"], "Augusta Ada");
    assert_eq!(
        doc[ENTERPRISE_USER],
        json!({"department": "Maths", "costCenter": "7"})
    );
}

#[test]
fn entra_member_add_with_null_ref_and_remove_with_value_list() {
    let changes = group_changes(json!([
        {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}]},
        {"op": "Remove", "path": "members", "value": [{"value": "u1"}]}
    ]));
    assert_eq!(
        changes,
        vec![
            MemberChange::Add(vec!["u1".into()]),
            MemberChange::Remove(vec!["u1".into()])
        ]
    );
}

// ---- RFC semantics ----

#[test]
fn null_and_empty_arrays_clear() {
    let doc = user_after(json!([
        {"op": "replace", "path": "emails", "value": []},
        {"op": "replace", "path": "name", "value": null},
        {"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": null}}
    ]));
    assert_eq!(doc, json!({"userName": "ada@example.io", "active": true}));
}

#[test]
fn add_to_a_multi_valued_attribute_appends_without_duplicates_and_moves_primary() {
    let doc = user_after(json!([{"op": "add", "path": "emails", "value": [
        {"value": "ada@example.io", "type": "work", "primary": true}
    ]}, {"op": "add", "path": "emails", "value": [
        {"value": "ada@home.example", "type": "home", "primary": "true"}
    ]}]));
    assert_eq!(
        doc["emails"],
        json!([
            {"value": "ada@example.io", "type": "work", "primary": false},
            {"value": "ada@home.example", "type": "home", "primary": true}
        ])
    );
}

#[test]
fn setting_primary_through_a_filter_clears_the_other_primary() {
    let mut doc = ada();
    let r = patch(
        ResourceType::User,
        &mut doc,
        json!([
            {"op": "add", "path": "emails", "value": {"value": "h@x", "type": "home"}},
            {"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}
        ]),
    );
    assert!(r.is_ok());
    assert_eq!(doc["emails"][0]["primary"], false);
    assert_eq!(doc["emails"][1]["primary"], true);
}

#[test]
fn add_to_a_single_valued_attribute_replaces_and_replace_of_complex_merges() {
    let doc = user_after(json!([
        {"op": "add", "path": "userName", "value": "augusta@example.io"},
        {"op": "replace", "path": "name", "value": {"middleName": "King"}}
    ]));
    assert_eq!(doc["userName"], "augusta@example.io");
    assert_eq!(
        doc["name"],
        json!({"givenName": "Ada", "familyName": "Lovelace", "middleName": "King"})
    );
}

#[test]
fn remove_with_a_value_filter_removes_matching_values() {
    let doc = user_after(json!([
        {"op": "add", "path": "emails", "value": [{"value": "h@x", "type": "home"}]},
        {"op": "remove", "path": "emails[type eq \"work\"]"}
    ]));
    assert_eq!(doc["emails"], json!([{"value": "h@x", "type": "home"}]));
    let doc = user_after(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]));
    assert_eq!(
        doc["emails"],
        json!([{"value": "ada@example.io", "type": "work"}])
    );
}

#[test]
fn removing_a_missing_attribute_is_fine() {
    let mut doc = ada();
    let r = patch(
        ResourceType::User,
        &mut doc,
        json!([{"op": "remove", "path": "title"}, {"op": "remove", "path": "phoneNumbers[type eq \"fax\"]"}]),
    );
    assert_eq!(r.map(|o| o.changed), Ok(vec![]));
    assert_eq!(doc, ada());
}

#[test]
fn explicit_paths_to_read_only_attributes_are_mutability_errors() {
    for path in [
        "id",
        "meta.created",
        "groups",
        "meta",
        &format!("{KEYBRIDGE_USER}:state"),
        &format!("{ENTERPRISE_USER}:manager.displayName"),
    ] {
        let e = user_error(json!([{"op": "replace", "path": path, "value": "x"}]));
        assert_eq!(e.scim_type, Some(ScimType::Mutability), "{path}: {e}");
    }
}

#[test]
fn read_only_keys_in_a_no_path_value_and_password_are_ignored() {
    let doc = user_after(json!([
        {"op": "replace", "value": {"id": "x", "meta": {}, "groups": [], "password": "p", "title": "T"}},
        {"op": "replace", "path": "password", "value": "p"}
    ]));
    assert_eq!(doc["title"], "T");
    assert!(doc.get("password").is_none() && doc.get("id").is_none());
}

#[test]
fn unknown_paths_are_invalid_path_but_unknown_extensions_are_ignored() {
    assert_eq!(
        user_error(json!([{"op": "replace", "path": "nickname2", "value": "x"}])).scim_type,
        Some(ScimType::InvalidPath)
    );
    assert_eq!(
        user_error(json!([{"op": "replace", "path": "name.nope", "value": "x"}])).scim_type,
        Some(ScimType::InvalidPath)
    );
    assert_eq!(
        user_error(json!([{"op": "replace", "path": "title[value eq \"x\"]", "value": "x"}]))
            .scim_type,
        Some(ScimType::InvalidPath)
    );
    let doc = user_after(
        json!([{"op": "replace", "path": "urn:example:custom:2.0:User:shoeSize", "value": "9"}]),
    );
    assert_eq!(doc, ada());
}

#[test]
fn wrong_types_are_invalid_value() {
    assert_eq!(
        user_error(json!([{"op": "replace", "path": "active", "value": "perhaps"}])).scim_type,
        Some(ScimType::InvalidValue)
    );
    assert_eq!(
        user_error(json!([{"op": "replace", "value": "x"}])).scim_type,
        Some(ScimType::InvalidValue)
    );
}

#[test]
fn user_name_cannot_be_removed() {
    let e = user_error(json!([{"op": "remove", "path": "userName"}]));
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn a_failing_operation_leaves_the_document_unchanged() {
    let e = user_error(
        json!([{"op": "replace", "path": "title", "value": "T"}, {"op": "replace", "path": "id", "value": "x"}]),
    );
    assert!(e.detail.starts_with("Operations[1]:"), "{e}");
}

#[test]
fn replace_with_a_non_equality_filter_matching_nothing_is_no_target() {
    let e = user_error(
        json!([{"op": "replace", "path": "emails[value co \"nobody\"].type", "value": "home"}]),
    );
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
}

#[test]
fn changed_lists_top_level_names_once_in_order() {
    let mut doc = ada();
    let r = patch(
        ResourceType::User,
        &mut doc,
        json!([
            {"op": "replace", "path": "title", "value": "T"},
            {"op": "replace", "path": "name.givenName", "value": "Ada"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "X"},
            {"op": "replace", "path": "title", "value": "U"}
        ]),
    );
    assert_eq!(
        r.map(|o| o.changed),
        Ok(vec![
            "title".to_string(),
            format!("{ENTERPRISE_USER}:department")
        ])
    );
}

#[test]
fn member_filters_other_than_value_equality_become_remove_where() {
    let changes = group_changes(json!([
        {"op": "remove", "path": "members[value eq \"a\" or value eq \"b\"]"},
        {"op": "remove", "path": "members[type eq \"Group\"]"},
        {"op": "remove", "path": "members"},
        {"op": "add", "value": {"members": [{"value": "c"}], "displayName": "Eng"}},
        {"op": "replace", "value": {"members": []}}
    ]));
    let members = ResourceType::Group
        .core_schema()
        .attribute("members")
        .unwrap_or_else(|| panic!("members"));
    let type_group = resolve_relative(
        members,
        parse_filter("type eq \"Group\"").unwrap_or_else(|e| panic!("{e}")),
    );
    assert_eq!(
        changes,
        vec![
            MemberChange::Remove(vec!["a".into(), "b".into()]),
            MemberChange::RemoveWhere(type_group.unwrap_or_else(|e| panic!("{e}"))),
            MemberChange::RemoveAll,
            MemberChange::Add(vec!["c".into()]),
            MemberChange::Replace(vec![]),
        ]
    );
}

#[test]
fn member_changes_are_not_applied_to_the_document() {
    let mut doc = json!({"displayName": "Eng"});
    let r = patch(
        ResourceType::Group,
        &mut doc,
        json!([{"op": "add", "path": "members", "value": [{"value": "u1"}]}]),
    );
    assert_eq!(r.map(|o| o.changed), Ok(vec!["members".to_string()]));
    assert_eq!(doc, json!({"displayName": "Eng"}));
}

#[test]
fn unsupported_member_paths_are_invalid_path() {
    let mut doc = json!({"displayName": "Eng"});
    for op in [
        json!({"op": "replace", "path": "members.value", "value": "x"}),
        json!({"op": "add", "path": "members[value eq \"x\"]", "value": {"value": "x"}}),
    ] {
        let r = patch(ResourceType::Group, &mut doc, json!([op]));
        assert_eq!(
            r.err().map(|e| e.scim_type),
            Some(Some(ScimType::InvalidPath))
        );
    }
    let r = patch(
        ResourceType::Group,
        &mut doc,
        json!([{"op": "add", "path": "members", "value": [{"display": "x"}]}]),
    );
    assert_eq!(
        r.err().map(|e| e.scim_type),
        Some(Some(ScimType::InvalidValue))
    );
}

#[test]
fn removing_a_whole_extension_clears_its_attributes() {
    let mut doc = serde_json::json!({"userName": "a",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R", "costCenter": "1"}});
    let ops = parse_patch(&serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]}))
    .expect("parse");
    apply_patch(ResourceType::User, &mut doc, &ops).expect("apply");
    assert!(
        doc.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .is_none(),
        "{doc}"
    );
}
