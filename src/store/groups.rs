//! The `groups` and `memberships` tables. Memberships are one row each, so a PATCH that
//! adds one member writes one row, whatever the size of the group.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::Value;

use super::StoreError;

/// What kind of group: the two built-in ones, or one of the team's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupKind {
    Owners,
    Administrators,
    Custom,
}

impl GroupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Owners => "owners",
            GroupKind::Administrators => "administrators",
            GroupKind::Custom => "custom",
        }
    }
    pub fn parse(s: &str) -> GroupKind {
        match s {
            "owners" => GroupKind::Owners,
            "administrators" => GroupKind::Administrators,
            _ => GroupKind::Custom,
        }
    }
    pub fn is_builtin(self) -> bool {
        self != GroupKind::Custom
    }
}

#[derive(Debug, Clone)]
pub struct GroupRow {
    pub seq: i64,
    pub id: String,
    pub display_name: String,
    pub display_name_key: String,
    pub external_id: Option<String>,
    pub kind: GroupKind,
    /// Provisioned (created or taken over) by the identity provider.
    pub managed: bool,
    /// The canonical SCIM document without `id`, `meta`, `members` and `schemas`.
    pub doc: Value,
    pub version: i64,
    pub created: String,
    pub modified: String,
}

pub const COLUMNS: &str =
    "groups.seq, groups.id, groups.display_name, groups.display_name_key, groups.external_id, \
     groups.kind, groups.managed, groups.doc, groups.version, groups.created, groups.modified";

pub fn from_row(row: &Row<'_>) -> rusqlite::Result<GroupRow> {
    let kind: String = row.get(5)?;
    let doc: String = row.get(7)?;
    Ok(GroupRow {
        seq: row.get(0)?,
        id: row.get(1)?,
        display_name: row.get(2)?,
        display_name_key: row.get(3)?,
        external_id: row.get(4)?,
        kind: GroupKind::parse(&kind),
        managed: row.get(6)?,
        doc: serde_json::from_str(&doc).unwrap_or(Value::Object(Default::default())),
        version: row.get(8)?,
        created: row.get(9)?,
        modified: row.get(10)?,
    })
}

pub fn insert(conn: &Connection, g: &GroupRow) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO groups (id, display_name, display_name_key, external_id, kind, managed, doc, version, created, modified)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        g.id,
        g.display_name,
        g.display_name_key,
        g.external_id,
        g.kind.as_str(),
        g.managed,
        super::json_text(&g.doc),
        g.version,
        g.created,
        g.modified
    ])?;
    Ok(conn.last_insert_rowid())
}

pub fn update(conn: &Connection, g: &GroupRow) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE groups SET display_name = ?2, display_name_key = ?3, external_id = ?4, managed = ?5, doc = ?6,
                version = ?7, modified = ?8
         WHERE seq = ?1",
    )?
    .execute(params![
        g.seq,
        g.display_name,
        g.display_name_key,
        g.external_id,
        g.managed,
        super::json_text(&g.doc),
        g.version,
        g.modified
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, seq: i64) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM groups WHERE seq = ?1")?
        .execute([seq])?;
    Ok(())
}

pub fn by_id(conn: &Connection, id: &str) -> Result<Option<GroupRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM groups WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()?)
}

pub fn by_name_key(conn: &Connection, key: &str) -> Result<Option<GroupRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM groups WHERE display_name_key = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([key], from_row)
        .optional()?)
}

pub fn by_kind(conn: &Connection, kind: GroupKind) -> Result<Option<GroupRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM groups WHERE kind = ?1 ORDER BY seq LIMIT 1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([kind.as_str()], from_row)
        .optional()?)
}

/// Adds one membership; false when it was already there.
pub fn add_member(conn: &Connection, group_seq: i64, person_seq: i64) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO memberships (group_seq, person_seq) VALUES (?1, ?2)",
        )?
        .execute([group_seq, person_seq])?;
    Ok(n > 0)
}

/// Removes one membership; false when it was not there.
pub fn remove_member(
    conn: &Connection,
    group_seq: i64,
    person_seq: i64,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("DELETE FROM memberships WHERE group_seq = ?1 AND person_seq = ?2")?
        .execute([group_seq, person_seq])?;
    Ok(n > 0)
}

pub fn clear_members(conn: &Connection, group_seq: i64) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM memberships WHERE group_seq = ?1")?
        .execute([group_seq])?)
}

/// A group's members: (person seq, person id, display name if the person has one), in
/// the order people were created (stable).
pub fn members(
    conn: &Connection,
    group_seq: i64,
) -> Result<Vec<(i64, String, Option<String>)>, StoreError> {
    let mut rows = Vec::new();
    each_member(conn, group_seq, |seq, id, display| {
        rows.push((seq, id.to_owned(), display.map(str::to_owned)));
        Ok(())
    })?;
    Ok(rows)
}

/// Calls `f` with each member (as [`members`] lists them) without collecting them
/// first: a group may have 100 000. Stops at the first error `f` returns.
pub fn each_member(
    conn: &Connection,
    group_seq: i64,
    mut f: impl FnMut(i64, &str, Option<&str>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.seq, p.id, p.display_name FROM memberships m
         JOIN people p ON p.seq = m.person_seq WHERE m.group_seq = ?1 ORDER BY p.seq",
    )?;
    let mut rows = stmt.query([group_seq])?;
    let corrupt =
        |e: rusqlite::types::FromSqlError| StoreError::Corrupt(format!("a member row: {e}"));
    while let Some(row) = rows.next()? {
        let id = row.get_ref(1)?.as_str().map_err(corrupt)?;
        let display = row.get_ref(2)?.as_str_or_null().map_err(corrupt)?;
        f(row.get(0)?, id, display)?;
    }
    Ok(())
}

pub fn member_count(conn: &Connection, group_seq: i64) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM memberships WHERE group_seq = ?1")?
        .query_row([group_seq], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

pub fn is_member(conn: &Connection, group_seq: i64, person_seq: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM memberships WHERE group_seq = ?1 AND person_seq = ?2")?
        .query_row([group_seq, person_seq], |_| Ok(()))
        .optional()?
        .is_some())
}
