//! Mapping tables: the JSON format, validation of every row, targets, row kinds,
//! create-only rows, and the CLI helpers.

use serde_json::json;

use crate::table::Column;
use crate::{
    expr_command, map_command, preview, Applies, CompiledTable, MappingTable, RowResult, TableError,
};

fn table(rows: serde_json::Value) -> MappingTable {
    MappingTable::from_json(&rows.to_string()).expect("a well-formed table")
}

fn errors_of(rows: serde_json::Value) -> Vec<(usize, Column, String)> {
    table(rows)
        .validate()
        .into_iter()
        .map(|e| (e.row, e.column, e.to_string()))
        .collect()
}

#[test]
fn a_table_reads_from_an_object_or_a_bare_array_of_rows() {
    let rows = json!([{"kind": "direct", "source": "email", "target": "userName"}]);
    let a = table(rows.clone());
    let b = table(json!({"version": 1, "rows": rows}));
    assert_eq!(a, b);
    assert_eq!(a.rows[0].applies, Applies::CreateAndUpdate);
    let back = MappingTable::from_json(&a.to_json_pretty()).expect("round trip");
    assert_eq!(back, a);
}

#[test]
fn malformed_table_json_is_reported() {
    let err =
        MappingTable::from_json("{\"rows\": [{\"kind\": \"magic\"}]}").expect_err("unknown kind");
    assert!(
        matches!(err, TableError::Format(ref m) if m.contains("magic")),
        "{err}"
    );
}

#[test]
fn the_default_table_is_valid_and_round_trips() {
    let t = crate::default_table();
    assert!(t.validate().is_empty());
    assert_eq!(MappingTable::from_json(&t.to_json_pretty()).ok(), Some(t));
}

#[test]
fn validation_reports_every_bad_row_with_its_column() {
    let errors = errors_of(json!([
        {"kind": "expression", "source": "jcUser.firstname +", "target": "displayName"},
        {"kind": "direct", "source": "email", "target": "userNam"},
        {"kind": "expression", "source": "jcuser.email", "target": "$enterpriseUser.nope"},
        {"kind": "direct", "source": "email", "target": "userName"},
        {"kind": "direct", "source": "addresses[x]", "target": "title"},
        {"kind": "expression", "source": 42, "target": "nickName"},
        {"kind": "constant", "source": "x", "target": "id"},
        {"kind": "direct", "source": "firstname", "target": "name"},
        {"kind": "direct", "source": "firstname", "target": "name.givenName"}
    ]));
    let rows: Vec<(usize, Column)> = errors.iter().map(|(r, c, _)| (*r, *c)).collect();
    assert_eq!(
        rows,
        vec![
            (0, Column::Source),
            (1, Column::Target),
            (2, Column::Source),
            (2, Column::Target),
            (4, Column::Source),
            (5, Column::Source),
            (6, Column::Target),
            (8, Column::Target),
        ]
    );
    assert_eq!(errors[0].2, "row 1 (source): unexpected end of expression (1:19)\n | jcUser.firstname +\n | ..................^");
    assert!(
        errors[1]
            .2
            .starts_with("row 2 (target): userNam is not an attribute of the core User schema"),
        "{}",
        errors[1].2
    );
    assert_eq!(
        errors[2].2,
        "row 3 (source): unknown name jcuser (did you mean jcUser?) (1:1)\n | jcuser.email\n | ^"
    );
    assert!(errors[3]
        .2
        .contains("nope is not an attribute of the enterprise User extension"));
    assert!(errors[6]
        .2
        .contains("id is assigned by the service provider"));
    assert_eq!(
        errors[7].2,
        "row 9 (target): name.givenName overlaps name of row 8"
    );
}

#[test]
fn compiling_a_bad_table_lists_all_errors() {
    let t = table(json!([
        {"kind": "expression", "source": "1 +", "target": "title"},
        {"kind": "expression", "source": "2 +", "target": "nickName"}
    ]));
    let err = CompiledTable::compile(&t).expect_err("two bad rows");
    let text = err.to_string();
    assert!(
        text.starts_with("2 row(s) of the mapping table are not valid:\nrow 1 (source)"),
        "{text}"
    );
    assert!(text.contains("\nrow 2 (source)"), "{text}");
}

#[test]
fn targets_accept_enterprise_and_urn_qualified_extension_attributes() {
    let t = table(json!([
        {"kind": "constant", "source": "E7", "target": "$enterpriseUser.employeeNumber"},
        {"kind": "constant", "source": "M1", "target": "$enterpriseUser.manager.value"},
        {"kind": "constant", "source": 42, "target": "urn:ietf:params:scim:schemas:extension:acme:2.0:User:badge"},
        {"kind": "constant", "source": "x", "target": "urn:ietf:params:scim:schemas:extension:acme:2.0:User:desk.floor"},
        {"kind": "constant", "source": "Ada", "target": "urn:ietf:params:scim:schemas:core:2.0:User:nickName"},
        {"kind": "constant", "source": true, "target": "active"}
    ]));
    let compiled = CompiledTable::compile(&t).expect("valid targets");
    let p = preview(&json!({}), None, &compiled, true);
    let acme = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(
        p.user,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", enterprise, acme],
            "nickName": "Ada",
            "active": true,
            enterprise: {"employeeNumber": "E7", "manager": {"value": "M1"}},
            acme: {"badge": 42, "desk": {"floor": "x"}}
        })
    );
}

#[test]
fn target_names_are_case_insensitive_and_canonicalised() {
    let t = table(json!([{"kind": "constant", "source": "x", "target": "NAME.GIVENNAME"}]));
    let p = preview(
        &json!({}),
        None,
        &CompiledTable::compile(&t).expect("valid"),
        true,
    );
    assert_eq!(p.user["name"], json!({"givenName": "x"}));
    assert_eq!(p.rows[0].target, "name.givenName");
}

#[test]
fn direct_rows_follow_paths_and_read_custom_attributes_by_name() {
    let t = table(json!([
        {"kind": "direct", "source": "jcUser.addresses[1].locality", "target": "title"},
        {"kind": "direct", "source": "badge number", "target": "nickName"},
        {"kind": "direct", "source": "addresses[9].locality", "target": "profileUrl"}
    ]));
    let user = json!({
        "addresses": [{"locality": "A"}, {"locality": "B"}],
        "attributes": [{"name": "badge number", "value": "B-12"}]
    });
    let p = preview(
        &user,
        None,
        &CompiledTable::compile(&t).expect("valid"),
        true,
    );
    assert_eq!(p.user["title"], "B");
    assert_eq!(p.user["nickName"], "B-12");
    assert_eq!(p.rows[2].result, RowResult::Omitted);
}

#[test]
fn nil_leaves_the_attribute_out_and_a_failing_row_is_reported() {
    let t = table(json!([
        {"kind": "expression", "source": "nil", "target": "title"},
        {"kind": "expression", "source": "jcUser.firstname + 1", "target": "nickName"},
        {"kind": "expression", "source": "upper(jcUser.firstname)", "target": "displayName"}
    ]));
    let p = preview(
        &json!({"firstname": "ada"}),
        None,
        &CompiledTable::compile(&t).expect("valid"),
        true,
    );
    assert!(p.user.get("title").is_none());
    assert!(p.user.get("nickName").is_none());
    assert_eq!(p.user["displayName"], "ADA");
    match &p.rows[1].result {
        RowResult::Failed { error, text } => {
            assert_eq!(error.message, "invalid operation: string + int");
            assert_eq!((error.line, error.col), (1, 18));
            assert!(text.ends_with("^"), "{text}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn create_only_rows_are_skipped_on_update() {
    let t = table(json!([
        {"kind": "constant", "source": "welcome", "target": "title", "applies": "create_only"},
        {"kind": "constant", "source": "always", "target": "nickName"}
    ]));
    let compiled = CompiledTable::compile(&t).expect("valid");
    let created = preview(&json!({}), None, &compiled, true);
    assert_eq!(created.user["title"], "welcome");
    let updated = preview(&json!({}), Some(&json!({"id": "p1"})), &compiled, false);
    assert!(updated.user.get("title").is_none());
    assert_eq!(updated.user["nickName"], "always");
    assert_eq!(updated.rows[0].result, RowResult::SkippedOnUpdate);
}

#[test]
fn group_mapping_takes_the_name_as_display_name() {
    assert_eq!(
        crate::map_group(&json!({"name": "Engineering", "id": "g1"})),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering"})
    );
}

#[test]
fn expr_command_prints_go_json() {
    assert_eq!(
        expr_command("{b: 2.0, a: [1e21, nil, '<&>']}", None).as_deref(),
        Ok(r#"{"a":[1e+21,null,"\u003c\u0026\u003e"],"b":2}"#)
    );
    assert_eq!(
        expr_command("jcUser.n * 2", Some(r#"{"jcUser": {"n": 21}}"#)).as_deref(),
        Ok("42")
    );
    assert_eq!(
        expr_command("1 +", None),
        Err("unexpected end of expression (1:4)\n | 1 +\n | ...^".to_string())
    );
    assert!(expr_command("1", Some("[1]")).is_err_and(|e| e.contains("JSON object")));
    assert!(expr_command("1", Some("{")).is_err_and(|e| e.contains("not valid JSON")));
}

#[test]
fn map_command_prints_the_scim_user_or_every_bad_row() {
    let jc = r#"{"_id": "1", "email": "a@b.c", "firstname": "Ada"}"#;
    let out = map_command(jc, None, None).expect("the default table maps");
    assert!(out.starts_with("{\n  \"displayName\": \"Ada\",\n"), "{out}");
    let table = r#"{"rows": [{"kind": "expression", "source": "1 +", "target": "title"}, {"kind": "direct", "source": "email", "target": "nope"}]}"#;
    let err = map_command(jc, None, Some(table)).expect_err("bad rows");
    assert!(
        err.contains("row 1 (source)") && err.contains("row 2 (target)"),
        "{err}"
    );
    let failing =
        r#"[{"kind": "expression", "source": "jcUser.firstname + 1", "target": "title"}]"#;
    let err = map_command(jc, None, Some(failing)).expect_err("a failing row");
    assert!(
        err.starts_with("1 row(s) failed for this user:\nrow 1 (title): invalid operation"),
        "{err}"
    );
    let updated = map_command(jc, Some(r#"{"locale": "de-DE"}"#), None).expect("maps");
    assert!(updated.contains("\"locale\": \"de-DE\""), "{updated}");
}

#[test]
fn only_extensions_that_got_a_value_are_listed_in_schemas() {
    let t = table(json!([
        {"kind": "direct", "source": "department", "target": "$enterpriseUser.department"},
        {"kind": "constant", "source": 1, "target": "urn:ietf:params:scim:schemas:extension:acme:2.0:User:badge"},
        {"kind": "direct", "source": "company", "target": "urn:ietf:params:scim:schemas:extension:beta:1.0:User:org"}
    ]));
    let compiled = CompiledTable::compile(&t).expect("valid");
    let p = preview(&json!({"company": "Acme"}), None, &compiled, true);
    assert_eq!(
        p.user["schemas"],
        json!([
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:acme:2.0:User",
            "urn:ietf:params:scim:schemas:extension:beta:1.0:User"
        ])
    );
    assert!(p
        .user
        .get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        .is_none());
}
