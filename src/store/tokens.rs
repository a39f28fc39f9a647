//! The `tokens` table: bearer token digests by name. The plaintext is never stored here.
//! During a rotation a name has two digests: the current one and the previous one, which
//! stays valid until `previous_expires` or until it is retired.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenRow {
    pub name: String,
    #[serde(skip)]
    pub digest: Vec<u8>,
    pub created: String,
    pub last_used: Option<String>,
    /// The digest of the token this one replaced, while it is still accepted.
    #[serde(skip)]
    pub previous_digest: Option<Vec<u8>>,
    /// Until when the previous token is accepted (RFC 3339), during a changeover.
    pub previous_expires: Option<String>,
    /// When the token was last rotated.
    pub rotated: Option<String>,
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
        "SELECT name, digest, created, last_used, previous_digest, previous_expires, rotated
         FROM tokens ORDER BY created, name",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(TokenRow {
                name: r.get(0)?,
                digest: r.get(1)?,
                created: r.get(2)?,
                last_used: r.get(3)?,
                previous_digest: r.get(4)?,
                previous_expires: r.get(5)?,
                rotated: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The previous token's expiry of `name`, if `name` exists (`Some(None)`: no previous).
pub fn previous_expires(
    conn: &Connection,
    name: &str,
) -> Result<Option<Option<String>>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT CASE WHEN previous_digest IS NULL THEN NULL ELSE previous_expires END
             FROM tokens WHERE name = ?1",
        )?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

/// Makes `digest` the current token of `name` and keeps the current one as the previous,
/// valid until `previous_expires`.
pub fn rotate(
    conn: &Connection,
    name: &str,
    digest: &[u8],
    previous_expires: &str,
    now: &str,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE tokens SET previous_digest = digest, previous_expires = ?3, digest = ?2,
                    rotated = ?4
             WHERE name = ?1",
        )?
        .execute(params![name, digest, previous_expires, now])?
        > 0)
}

/// Forgets the previous token of `name`; whether there was one.
pub fn retire_previous(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE tokens SET previous_digest = NULL, previous_expires = NULL
             WHERE name = ?1 AND previous_digest IS NOT NULL",
        )?
        .execute([name])?
        > 0)
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
