//! The single sign-on tables: groups selected by the unlock policy (`sso_groups`), when
//! people were added to them (`sso_membership_times`, filled by a trigger), and each
//! person's unlock history (`sso_people`).

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoGroupRow {
    pub ord: i64,
    pub group_seq: i64,
    pub group_id: String,
    pub group_name: String,
    pub group_kind: String,
    pub configured_at: String,
    pub grace_days: i64,
}

/// Every selected group, in the order they were configured.
pub fn groups(conn: &Connection) -> Result<Vec<SsoGroupRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.ord, s.group_seq, g.id, g.display_name, g.kind, s.configured_at, s.grace_days
         FROM sso_groups s JOIN groups g ON g.seq = s.group_seq ORDER BY s.configured_at, s.ord",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(SsoGroupRow {
                ord: r.get(0)?,
                group_seq: r.get(1)?,
                group_id: r.get(2)?,
                group_name: r.get(3)?,
                group_kind: r.get(4)?,
                configured_at: r.get(5)?,
                grace_days: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Selects a group, or changes only its grace period if it is already selected: the
/// date it was configured is never moved.
pub fn upsert_group(
    conn: &Connection,
    group_seq: i64,
    configured_at: &str,
    grace_days: i64,
) -> Result<bool, StoreError> {
    let existed = conn
        .prepare_cached("UPDATE sso_groups SET grace_days = ?2 WHERE group_seq = ?1")?
        .execute(params![group_seq, grace_days])?
        == 1;
    if !existed {
        conn.prepare_cached(
            "INSERT INTO sso_groups (group_seq, configured_at, grace_days) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![group_seq, configured_at, grace_days])?;
        // People already in the group were there when it was configured.
        conn.prepare_cached(
            "INSERT OR IGNORE INTO sso_membership_times (group_seq, person_seq, added_at)
             SELECT group_seq, person_seq, ?2 FROM memberships WHERE group_seq = ?1",
        )?
        .execute(params![group_seq, configured_at])?;
    }
    Ok(!existed)
}

pub fn remove_group(conn: &Connection, group_seq: i64) -> Result<bool, StoreError> {
    conn.prepare_cached("DELETE FROM sso_membership_times WHERE group_seq = ?1")?
        .execute([group_seq])?;
    Ok(conn
        .prepare_cached("DELETE FROM sso_groups WHERE group_seq = ?1")?
        .execute([group_seq])?
        == 1)
}

/// The selected groups a person is in, with when they were added.
pub fn memberships_of(
    conn: &Connection,
    person_seq: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.group_seq, t.added_at FROM sso_membership_times t
         JOIN memberships m ON m.group_seq = t.group_seq AND m.person_seq = t.person_seq
         WHERE t.person_seq = ?1",
    )?;
    let rows = stmt
        .query_map([person_seq], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// A person's unlock history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoPersonRow {
    pub switched_at: Option<String>,
    pub recovered_at: Option<String>,
    pub signed_out_at: Option<String>,
}

pub fn person(conn: &Connection, person_seq: i64) -> Result<SsoPersonRow, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT switched_at, recovered_at, signed_out_at FROM sso_people WHERE person_seq = ?1",
        )?
        .query_row([person_seq], |r| {
            Ok(SsoPersonRow {
                switched_at: r.get(0)?,
                recovered_at: r.get(1)?,
                signed_out_at: r.get(2)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

pub fn put_person(
    conn: &Connection,
    person_seq: i64,
    row: &SsoPersonRow,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO sso_people (person_seq, switched_at, recovered_at, signed_out_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(person_seq) DO UPDATE SET switched_at = excluded.switched_at,
            recovered_at = excluded.recovered_at, signed_out_at = excluded.signed_out_at",
    )?
    .execute(params![
        person_seq,
        row.switched_at,
        row.recovered_at,
        row.signed_out_at
    ])?;
    Ok(())
}

/// Whether the person belongs to the built-in Owners group.
pub fn is_owner(conn: &Connection, person_seq: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM memberships m JOIN groups g ON g.seq = m.group_seq
             WHERE m.person_seq = ?1 AND g.kind = 'owners'",
        )?
        .query_row([person_seq], |_| Ok(()))
        .optional()?
        .is_some())
}
