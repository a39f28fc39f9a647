//! The `tokens` table: bearer token digests by name. The plaintext is never stored here.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenRow {
    pub name: String,
    #[serde(skip)]
    pub digest: Vec<u8>,
    pub created: String,
    pub last_used: Option<String>,
}

pub fn insert(
    conn: &Connection,
    name: &str,
    digest: &[u8],
    created: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO tokens (name, digest, created) VALUES (?1, ?2, ?3)")?
        .execute(params![name, digest, created])?;
    Ok(())
}

pub fn exists(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM tokens WHERE name = ?1")?
        .query_row([name], |_| Ok(()))
        .optional()?
        .is_some())
}

pub fn all(conn: &Connection) -> Result<Vec<TokenRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, digest, created, last_used FROM tokens ORDER BY created, name",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(TokenRow {
                name: r.get(0)?,
                digest: r.get(1)?,
                created: r.get(2)?,
                last_used: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn delete(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM tokens WHERE name = ?1")?
        .execute([name])?
        > 0)
}

pub fn touch(conn: &Connection, name: &str, when: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE tokens SET last_used = ?2 WHERE name = ?1")?
        .execute([name, when])?;
    Ok(())
}
