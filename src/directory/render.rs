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

/// A person as a SCIM User, with `groups` and Keybridge's account extension. Takes the
/// row, whose document becomes the answer's body without a copy.
pub fn user(conn: &Connection, mut row: PersonRow, base: &str) -> Result<Value, StoreError> {
    let memberships = people::groups_of(conn, row.seq)?;
    let doc = match std::mem::take(&mut row.doc) {
        Value::Object(doc) => doc,
        _ => Map::new(),
    };
    Ok(user_in(&row, doc, memberships, base))
}

/// A resource's answer as JSON text, with what its response headers need.
#[derive(Debug, Clone)]
pub struct Answer {
    pub text: String,
    /// `meta.location`.
    pub location: String,
    /// `meta.version`, the ETag.
    pub version: String,
}

/// A person who was just created, and so is in no group yet, as the text of the answer:
/// the same bytes [`user_in`] prints (a test holds them to it), with `doc_text` — the
/// stored document, `row.doc` as text — spliced in. POST /Users is the one write the
/// single writer serialises most, and building its answer as a `Value`, then printing it,
/// was a tenth of the request's instructions.
pub fn new_user(row: &PersonRow, doc_text: &str, base: &str) -> Answer {
    let location = format!("{base}/Users/{}", row.id);
    let version = etag(row.version);
    let inner = doc_text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or("");
    let mut out: Vec<u8> = Vec::with_capacity(doc_text.len() + 384 + 2 * location.len());
    out.extend_from_slice(b"{\"schemas\":[");
    push_str(&mut out, CORE_USER);
    if row.doc.get(ENTERPRISE_USER).is_some() {
        out.push(b',');
        push_str(&mut out, ENTERPRISE_USER);
    }
    out.push(b',');
    push_str(&mut out, KEYBRIDGE_USER);
    out.extend_from_slice(b"],\"id\":");
    push_str(&mut out, &row.id);
    if !inner.is_empty() {
        out.push(b',');
        out.extend_from_slice(inner.as_bytes());
    }
    out.push(b',');
    push_str(&mut out, KEYBRIDGE_USER);
    out.extend_from_slice(b":{\"state\":");
    push_str(&mut out, row.state.as_str());
    out.extend_from_slice(b",\"role\":");
    push_str(&mut out, role_of(std::iter::empty()));
    out.extend_from_slice(b"},\"meta\":{\"resourceType\":\"User\",\"created\":");
    push_str(&mut out, &row.created);
    out.extend_from_slice(b",\"lastModified\":");
    push_str(&mut out, &row.modified);
    out.extend_from_slice(b",\"location\":");
    push_str(&mut out, &location);
    out.extend_from_slice(b",\"version\":");
    push_str(&mut out, &version);
    out.extend_from_slice(b"}}");
    Answer {
        text: into_text(out),
        location,
        version,
    }
}

/// Appends `s` as a JSON string, escaped exactly as serde_json prints it.
fn push_str(out: &mut Vec<u8>, s: &str) {
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// JSON text assembled from `&str` pieces and [`push_str`], so always UTF-8.
fn into_text(out: Vec<u8>) -> String {
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
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
    let mut out: Vec<u8> = Vec::with_capacity(64 * 1024);
    out.push(b'[');
    groups::each_member(conn, row.seq, |_, id, display| {
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"value\":");
        push_str(&mut out, id);
        out.extend_from_slice(b",\"$ref\":");
        push_str(&mut out, &format!("{base}/Users/{id}"));
        out.extend_from_slice(b",\"type\":\"User\"");
        if let Some(d) = display {
            out.extend_from_slice(b",\"display\":");
            push_str(&mut out, d);
        }
        out.push(b'}');
        Ok(())
    })?;
    out.push(b']');
    Ok(into_text(out))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::people::PersonState;

    fn row(doc: Value, state: PersonState) -> PersonRow {
        PersonRow {
            seq: 7,
            doc,
            version: 3,
            modified: "2026-11-29T17:00:01.000Z".into(),
            ..PersonRow::example("0192f0a4-0000-7000-8000-00000000\"\\", state)
        }
    }

    #[test]
    fn a_new_user_as_text_is_what_the_value_renderer_prints() {
        let docs = [
            json!({"userName": "ada@example.com", "name": {"givenName": "Ada", "familyName": "Lovelace \"Byron\"\t\\ 🦀"}, "active": true}),
            json!({"userName": "élodie@example.com", ENTERPRISE_USER: {"department": "R&D", "manager": {"value": "x"}}, "emails": [{"value": "e@example.com", "primary": true}]}),
            json!({}),
        ];
        for doc in docs {
            for state in [PersonState::Invited, PersonState::Suspended] {
                let r = row(doc.clone(), state);
                let base = "https://kb.example.com:8443/scim/v2\u{1}\"";
                let answer = new_user(&r, &crate::store::json_text(&r.doc), base);
                let map = r.doc.as_object().cloned().unwrap_or_default();
                let value = user_in(&r, map, Vec::new(), base);
                assert_eq!(answer.text, crate::store::json_text(&value), "{doc}");
                assert_eq!(
                    Some(answer.location.as_str()),
                    value["meta"]["location"].as_str()
                );
                assert_eq!(
                    Some(answer.version.as_str()),
                    value["meta"]["version"].as_str()
                );
            }
        }
    }
}
