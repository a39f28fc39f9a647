//! The `invitations` table: links to `/join/…` kept as SHA-256 digests. A person's join
//! invitation is created with them (`people::insert`), created again and voided by
//! triggers on `people` when their state changes (migration 5); this file mints links,
//! finds them and marks them used.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::StoreError;

/// One invitation (or switch link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRow {
    pub seq: i64,
    pub person_seq: i64,
    /// `join` for an Invited person, `switch` for an Active one moving to SSO.
    pub purpose: String,
    pub created: String,
    pub minted: Option<String>,
    pub expires: Option<String>,
    pub delivered: Option<String>,
    pub attempts: i64,
    pub next_try: Option<String>,
    pub used: Option<String>,
    pub revoked: Option<String>,
}

const COLUMNS: &str = "seq, person_seq, purpose, created, minted, expires, delivered, attempts, next_try, used, revoked";

fn from_row(r: &Row<'_>) -> rusqlite::Result<InvitationRow> {
    Ok(InvitationRow {
        seq: r.get(0)?,
        person_seq: r.get(1)?,
        purpose: r.get(2)?,
        created: r.get(3)?,
        minted: r.get(4)?,
        expires: r.get(5)?,
        delivered: r.get(6)?,
        attempts: r.get(7)?,
        next_try: r.get(8)?,
        used: r.get(9)?,
        revoked: r.get(10)?,
    })
}

/// The person's live invitation of `purpose` (not used, not revoked), newest first.
pub fn live_for(
    conn: &Connection,
    person_seq: i64,
    purpose: &str,
) -> Result<Option<InvitationRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations WHERE person_seq = ?1 AND purpose = ?2
         AND used IS NULL AND revoked IS NULL ORDER BY seq DESC LIMIT 1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![person_seq, purpose], from_row)
        .optional()?)
}

pub fn by_digest(conn: &Connection, digest: &[u8]) -> Result<Option<InvitationRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM invitations WHERE digest = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([digest], from_row)
        .optional()?)
}

pub fn by_seq(conn: &Connection, seq: i64) -> Result<Option<InvitationRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM invitations WHERE seq = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([seq], from_row)
        .optional()?)
}

/// A new row: a join invitation for a new person, or a switch link.
pub fn insert(
    conn: &Connection,
    person_seq: i64,
    purpose: &str,
    created: &str,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO invitations (person_seq, purpose, created) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![person_seq, purpose, created])?;
    Ok(conn.last_insert_rowid())
}

/// Gives the invitation a new link digest (the previous link stops working).
pub fn mint(
    conn: &Connection,
    seq: i64,
    digest: &[u8],
    minted: &str,
    expires: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE invitations SET digest = ?2, minted = ?3, expires = ?4 WHERE seq = ?1",
    )?
    .execute(params![seq, digest, minted, expires])?;
    Ok(())
}

pub fn mark_delivered(conn: &Connection, seq: i64, when: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE invitations SET delivered = ?2 WHERE seq = ?1")?
        .execute(params![seq, when])?;
    Ok(())
}

/// Records a failed delivery and when to try again.
pub fn mark_attempt_failed(conn: &Connection, seq: i64, next_try: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE invitations SET attempts = attempts + 1, next_try = ?2 WHERE seq = ?1",
    )?
    .execute(params![seq, next_try])?;
    Ok(())
}

/// Marks the invitation used; `false` if it already was (or was revoked) — the
/// condition in the UPDATE is what makes a link single-use under concurrency.
pub fn mark_used(conn: &Connection, seq: i64, when: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE invitations SET used = ?2 WHERE seq = ?1 AND used IS NULL AND revoked IS NULL",
        )?
        .execute(params![seq, when])?
        == 1)
}

pub fn revoke_live(
    conn: &Connection,
    person_seq: i64,
    purpose: &str,
    when: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE invitations SET revoked = ?3 WHERE person_seq = ?1 AND purpose = ?2
         AND used IS NULL AND revoked IS NULL",
    )?
    .execute(params![person_seq, purpose, when])?;
    Ok(())
}

/// Live invitations not delivered yet whose next try is due, oldest first.
pub fn due_for_delivery(
    conn: &Connection,
    now: &str,
    limit: u32,
) -> Result<Vec<InvitationRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations WHERE delivered IS NULL AND used IS NULL
         AND revoked IS NULL AND (next_try IS NULL OR next_try <= ?1) ORDER BY seq LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![now, limit], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
