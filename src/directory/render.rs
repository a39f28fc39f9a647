//! Stored rows → the SCIM JSON a client reads.

use keybridge_scim::schema::{CORE_GROUP, CORE_USER, ENTERPRISE_USER, KEYBRIDGE_USER};
use rusqlite::Connection;
use serde_json::{json, Map, Value};

use crate::store::groups::{self, GroupKind, GroupRow};
use crate::store::people::{self, PersonRow};
use crate::store::StoreError;

/// The ETag of a version: weak, because the representation may vary (`attributes`).
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// A person as a SCIM User, with `groups` and Keybridge's account extension.
pub fn user(conn: &Connection, row: &PersonRow, base: &str) -> Result<Value, StoreError> {
    let memberships = people::groups_of(conn, row.seq)?;
    let doc = row.doc.as_object().cloned().unwrap_or_default();
    Ok(user_in(row, doc, memberships, base))
}

/// A person who was just created, and so is in no group yet. Takes the row so that its
/// document moves into the answer instead of being copied.
pub fn new_user(mut row: PersonRow, base: &str) -> Value {
    let doc = match row.doc.take() {
        Value::Object(doc) => doc,
        _ => Map::new(),
    };
    user_in(&row, doc, Vec::new(), base)
}

fn user_in(
    row: &PersonRow,
    doc: Map<String, Value>,
    memberships: Vec<(String, String, GroupKind)>,
    base: &str,
) -> Value {
    let role = role_of(memberships.iter().map(|(_, _, kind)| *kind));
    let mut out = Map::new();
    let mut schemas = vec![json!(CORE_USER)];
    if doc.contains_key(ENTERPRISE_USER) {
        schemas.push(json!(ENTERPRISE_USER));
    }
    schemas.push(json!(KEYBRIDGE_USER));
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), json!(row.id));
    out.extend(doc);
    if !memberships.is_empty() {
        let groups: Vec<Value> = memberships
            .into_iter()
            .map(|(id, name, _)| json!({"value": id, "$ref": format!("{base}/Groups/{id}"), "display": name, "type": "direct"}))
            .collect();
        out.insert("groups".into(), Value::Array(groups));
    }
    out.insert(
        KEYBRIDGE_USER.into(),
        json!({"state": row.state.as_str(), "role": role}),
    );
    out.insert(
        "meta".into(),
        meta(
            "User",
            &row.created,
            &row.modified,
            &format!("{base}/Users/{}", row.id),
            row.version,
        ),
    );
    Value::Object(out)
}

/// A person's role follows the built-in groups they are in.
fn role_of(kinds: impl Iterator<Item = GroupKind>) -> &'static str {
    let kinds: Vec<GroupKind> = kinds.collect();
    if kinds.contains(&GroupKind::Owners) {
        "owner"
    } else if kinds.contains(&GroupKind::Administrators) {
        "administrator"
    } else {
        "member"
    }
}

/// A group as a SCIM Group; members only when asked (a group may have 100 000).
pub fn group(
    conn: &Connection,
    row: &GroupRow,
    base: &str,
    with_members: bool,
) -> Result<Value, StoreError> {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([CORE_GROUP]));
    out.insert("id".into(), json!(row.id));
    if let Value::Object(doc) = &row.doc {
        for (k, v) in doc {
            out.insert(k.clone(), v.clone());
        }
    }
    if with_members {
        let mut members = Vec::new();
        groups::each_member(conn, row.seq, |_, id, display| {
            let mut m = json!({"value": id, "$ref": format!("{base}/Users/{id}"), "type": "User"});
            if let Some(d) = display {
                m["display"] = json!(d);
            }
            members.push(m);
            Ok(())
        })?;
        out.insert("members".into(), Value::Array(members));
    }
    out.insert(
        "meta".into(),
        meta(
            "Group",
            &row.created,
            &row.modified,
            &format!("{base}/Groups/{}", row.id),
            row.version,
        ),
    );
    Ok(Value::Object(out))
}

/// A group's `members` as JSON text, written straight from the rows: the same members
/// [`group`] lists, without a `Value` per member. Reading a 100 000-member group through
/// `Value`s took the process to over 300 MB at its peak; this text is about 13 MB.
pub fn members_json(conn: &Connection, row: &GroupRow, base: &str) -> Result<String, StoreError> {
    // Escaping a string into a Vec cannot fail; the error type is serde_json's anyway.
    let escape = |e: serde_json::Error| StoreError::Internal(format!("a member list: {e}"));
    let mut out: Vec<u8> = Vec::with_capacity(64 * 1024);
    out.push(b'[');
    groups::each_member(conn, row.seq, |_, id, display| {
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"value\":");
        serde_json::to_writer(&mut out, id).map_err(escape)?;
        out.extend_from_slice(b",\"$ref\":");
        serde_json::to_writer(&mut out, &format!("{base}/Users/{id}")).map_err(escape)?;
        out.extend_from_slice(b",\"type\":\"User\"");
        if let Some(d) = display {
            out.extend_from_slice(b",\"display\":");
            serde_json::to_writer(&mut out, d).map_err(escape)?;
        }
        out.push(b'}');
        Ok(())
    })?;
    out.push(b']');
    String::from_utf8(out).map_err(|e| StoreError::Internal(format!("a member list: {e}")))
}

fn meta(resource_type: &str, created: &str, modified: &str, location: &str, version: i64) -> Value {
    json!({
        "resourceType": resource_type,
        "created": created,
        "lastModified": modified,
        "location": location,
        "version": etag(version),
    })
}

/// Whether a group kind is one that SCIM may not delete or rename.
pub fn is_protected(kind: GroupKind) -> bool {
    kind.is_builtin()
}
