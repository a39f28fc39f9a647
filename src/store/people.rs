//! The `people` table: one row per person, the SCIM document plus the columns that
//! filters, uniqueness and the account rules need.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::Value;

use super::groups::GroupKind;
use super::StoreError;

/// Where a person is in the account's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PersonState {
    /// Provisioned, has not joined yet.
    Invited,
    /// Joined.
    Active,
    /// Deprovisioned after joining.
    Suspended,
    /// Deprovisioned before joining: no longer part of the account, invitation void.
    Removed,
}

impl PersonState {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonState::Invited => "invited",
            PersonState::Active => "active",
            PersonState::Suspended => "suspended",
            PersonState::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<PersonState> {
        match s {
            "invited" => Some(PersonState::Invited),
            "active" => Some(PersonState::Active),
            "suspended" => Some(PersonState::Suspended),
            "removed" => Some(PersonState::Removed),
            _ => None,
        }
    }
}

/// One stored person.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub seq: i64,
    pub id: String,
    pub user_name: String,
    pub user_name_key: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub state: PersonState,
    pub role: String,
    pub joined_at: Option<String>,
    /// The canonical SCIM document without `id`, `meta`, `groups` and `schemas`.
    pub doc: Value,
    pub version: i64,
    pub created: String,
    pub modified: String,
}

#[cfg(test)]
impl PersonRow {
    /// A person for tests: `id` serves as userName and key too; no document, version 1.
    pub fn example(id: &str, state: PersonState) -> PersonRow {
        PersonRow {
            seq: 0,
            id: id.into(),
            user_name: id.into(),
            user_name_key: id.into(),
            external_id: None,
            display_name: None,
            email: None,
            active: state == PersonState::Invited,
            state,
            role: "member".into(),
            joined_at: None,
            doc: serde_json::json!({}),
            version: 1,
            created: "2026-11-29T17:00:00.000Z".into(),
            modified: "2026-11-29T17:00:00.000Z".into(),
        }
    }
}

pub const COLUMNS: &str = "people.seq, people.id, people.user_name, people.user_name_key, people.external_id, \
     people.display_name, people.email, people.active, people.state, people.role, people.joined_at, people.doc, \
     people.version, people.created, people.modified";

pub fn from_row(row: &Row<'_>) -> rusqlite::Result<PersonRow> {
    let state: String = row.get(8)?;
    let doc: String = row.get(11)?;
    Ok(PersonRow {
        seq: row.get(0)?,
        id: row.get(1)?,
        user_name: row.get(2)?,
        user_name_key: row.get(3)?,
        external_id: row.get(4)?,
        display_name: row.get(5)?,
        email: row.get(6)?,
        active: row.get(7)?,
        state: PersonState::parse(&state).unwrap_or(PersonState::Invited),
        role: row.get(9)?,
        joined_at: row.get(10)?,
        doc: serde_json::from_str(&doc).unwrap_or(Value::Object(Default::default())),
        version: row.get(12)?,
        created: row.get(13)?,
        modified: row.get(14)?,
    })
}

/// Inserts a new person whose document is already serialised (`doc_text`), so that the
/// writer thread does not spend its time printing JSON, and returns its `seq`. An Invited
/// person gets their join invitation here, in the same transaction: this is the one
/// place a person is inserted. (A trigger did it until migration 6: a statement that
/// fires a trigger keeps a statement journal, which copied every page the insert touched
/// that an earlier job of the writer's batch had already changed.)
pub fn insert(conn: &Connection, p: &PersonRow, doc_text: &str) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO people (id, user_name, user_name_key, external_id, display_name, email, active, state,
                             role, joined_at, doc, version, created, modified)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        p.id,
        p.user_name,
        p.user_name_key,
        p.external_id,
        p.display_name,
        p.email,
        p.active,
        p.state.as_str(),
        p.role,
        p.joined_at,
        doc_text,
        p.version,
        p.created,
        p.modified
    ])?;
    let seq = conn.last_insert_rowid();
    if p.state == PersonState::Invited {
        super::invitations::insert(conn, seq, "join", &p.created)?;
    }
    Ok(seq)
}

/// Writes every column of an existing person (matched by `seq`).
pub fn update(conn: &Connection, p: &PersonRow) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE people SET user_name = ?2, user_name_key = ?3, external_id = ?4, display_name = ?5, email = ?6,
                active = ?7, state = ?8, role = ?9, joined_at = ?10, doc = ?11, version = ?12, modified = ?13
         WHERE seq = ?1",
    )?
    .execute(params![
        p.seq,
        p.user_name,
        p.user_name_key,
        p.external_id,
        p.display_name,
        p.email,
        p.active,
        p.state.as_str(),
        p.role,
        p.joined_at,
        super::json_text(&p.doc),
        p.version,
        p.modified
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, seq: i64) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM people WHERE seq = ?1")?
        .execute([seq])?;
    Ok(())
}

pub fn by_id(conn: &Connection, id: &str) -> Result<Option<PersonRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM people WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()?)
}

pub fn by_user_name_key(conn: &Connection, key: &str) -> Result<Option<PersonRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM people WHERE user_name_key = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([key], from_row)
        .optional()?)
}

/// People whose primary email (or userName) is `email`, compared case-insensitively.
pub fn by_email(conn: &Connection, email: &str) -> Result<Vec<PersonRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM people WHERE email = ?1 COLLATE NOCASE ORDER BY seq");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([email], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The `seq` of each id that names a person (unknown ids are left out).
pub fn seq_of(conn: &Connection, id: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT seq FROM people WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// The groups a person belongs to: (group id, display name, kind), in group creation
/// order.
pub fn groups_of(
    conn: &Connection,
    person_seq: i64,
) -> Result<Vec<(String, String, GroupKind)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT g.id, g.display_name, g.kind FROM memberships m JOIN groups g ON g.seq = m.group_seq
         WHERE m.person_seq = ?1 ORDER BY g.seq",
    )?;
    let rows = stmt
        .query_map([person_seq], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                GroupKind::parse(&r.get::<_, String>(2)?),
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// How many people there are in each state.
pub fn count_by_state(conn: &Connection) -> Result<Vec<(PersonState, u64)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT state, count(*) FROM people GROUP BY state")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, n)| PersonState::parse(&s).map(|s| (s, n.max(0) as u64)))
        .collect())
}
