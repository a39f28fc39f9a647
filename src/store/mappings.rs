//! The `mapping_tables` table: every saved version of the team's mapping table.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

#[derive(Debug, Clone, serde::Serialize)]
pub struct MappingVersion {
    pub version: i64,
    /// The table as JSON (the mapping crate's format).
    pub body: String,
    pub saved_at: String,
    pub actor: String,
    pub note: Option<String>,
}

pub fn insert(
    conn: &Connection,
    body: &str,
    saved_at: &str,
    actor: &str,
    note: Option<&str>,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO mapping_tables (body, saved_at, actor, note) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![body, saved_at, actor, note])?;
    Ok(conn.last_insert_rowid())
}

pub fn latest(conn: &Connection) -> Result<Option<MappingVersion>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT version, body, saved_at, actor, note FROM mapping_tables ORDER BY version DESC LIMIT 1")?
        .query_row([], |r| {
            Ok(MappingVersion { version: r.get(0)?, body: r.get(1)?, saved_at: r.get(2)?, actor: r.get(3)?, note: r.get(4)? })
        })
        .optional()?)
}

/// Every version, newest first, without bodies.
pub fn history(conn: &Connection) -> Result<Vec<MappingVersion>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT version, saved_at, actor, note FROM mapping_tables ORDER BY version DESC",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(MappingVersion {
                version: r.get(0)?,
                body: String::new(),
                saved_at: r.get(1)?,
                actor: r.get(2)?,
                note: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
