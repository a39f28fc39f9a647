//! Queries for the admin's views (the desktop app, the CLI): people searched by text,
//! state and group; groups with their member counts; audit events counted per hour.
//! SCIM's own listing lives in `directory::list`; these answer questions SCIM cannot ask.

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

use super::groups::{self, GroupRow};
use super::people::{self, PersonRow, PersonState};
use super::StoreError;

/// Which people to find.
#[derive(Debug, Clone, Default)]
pub struct PeopleSearch {
    /// Matched case-insensitively (full Unicode folding) anywhere in userName, display
    /// name or email.
    pub text: Option<String>,
    pub state: Option<PersonState>,
    /// Only members of this group (by SCIM id).
    pub group_id: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// People matching `q` in creation order, and how many match in all.
pub fn people(conn: &Connection, q: &PeopleSearch) -> Result<(u64, Vec<PersonRow>), StoreError> {
    let mut conditions = Vec::new();
    let mut params: Vec<SqlValue> = Vec::new();
    if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        params.push(SqlValue::Text(caseless::default_case_fold_str(text)));
        let n = params.len();
        conditions.push(format!(
            "(instr(kb_fold(people.user_name), ?{n}) > 0 OR instr(kb_fold(coalesce(people.display_name, '')), ?{n}) > 0 \
             OR instr(kb_fold(coalesce(people.email, '')), ?{n}) > 0)"
        ));
    }
    if let Some(state) = q.state {
        params.push(SqlValue::Text(state.as_str().to_owned()));
        conditions.push(format!("people.state = ?{}", params.len()));
    }
    if let Some(group_id) = &q.group_id {
        params.push(SqlValue::Text(group_id.clone()));
        conditions.push(format!(
            "people.seq IN (SELECT m.person_seq FROM memberships m JOIN groups g ON g.seq = m.group_seq WHERE g.id = ?{})",
            params.len()
        ));
    }
    let condition = if conditions.is_empty() {
        "1".to_owned()
    } else {
        conditions.join(" AND ")
    };
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM people WHERE {condition}"))?
        .query_row(rusqlite::params_from_iter(params.iter()), |r| r.get(0))?;
    params.push(SqlValue::Integer(
        i64::try_from(q.limit).unwrap_or(i64::MAX),
    ));
    let limit = params.len();
    params.push(SqlValue::Integer(
        i64::try_from(q.offset).unwrap_or(i64::MAX),
    ));
    let offset = params.len();
    let sql = format!(
        "SELECT {} FROM people WHERE {condition} ORDER BY people.seq LIMIT ?{limit} OFFSET ?{offset}",
        people::COLUMNS
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(rusqlite::params_from_iter(params.iter()), people::from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((total.max(0) as u64, rows))
}

/// Every group in creation order (built-in groups first, as they are created first) with
/// its member count.
pub fn groups_with_counts(conn: &Connection) -> Result<Vec<(GroupRow, u64)>, StoreError> {
    let sql = format!(
        "SELECT {}, (SELECT count(*) FROM memberships m WHERE m.group_seq = groups.seq) FROM groups ORDER BY groups.seq",
        groups::COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([], |r| {
            let count: i64 = r.get(11)?;
            Ok((groups::from_row(r)?, count.max(0) as u64))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// A group's members as stored rows, in creation order, at most `limit`.
pub fn members_of(
    conn: &Connection,
    group_seq: i64,
    limit: u64,
) -> Result<Vec<PersonRow>, StoreError> {
    let sql = format!(
        "SELECT {} FROM memberships m JOIN people ON people.seq = m.person_seq
         WHERE m.group_seq = ?1 ORDER BY people.seq LIMIT ?2",
        people::COLUMNS
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(
            rusqlite::params![group_seq, i64::try_from(limit).unwrap_or(i64::MAX)],
            people::from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// A person's role, from the built-in groups they belong to.
pub fn role_of(conn: &Connection, person_seq: i64) -> Result<&'static str, StoreError> {
    let kinds = conn
        .prepare_cached(
            "SELECT g.kind FROM memberships m JOIN groups g ON g.seq = m.group_seq
             WHERE m.person_seq = ?1 AND g.kind <> 'custom'",
        )?
        .query_map([person_seq], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if kinds.iter().any(|k| k == "owners") {
        "owner"
    } else if kinds.iter().any(|k| k == "administrators") {
        "administrator"
    } else {
        "member"
    })
}

/// Events at or after `since` (RFC 3339) whose name matches `name_like` (a LIKE
/// pattern), counted per hour and outcome: (`YYYY-MM-DDTHH`, outcome, count).
pub fn events_per_hour(
    conn: &Connection,
    since: &str,
    name_like: &str,
) -> Result<Vec<(String, String, u64)>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT substr(time, 1, 13) AS hour, outcome, count(*) FROM events
             WHERE time >= ?1 AND name LIKE ?2 GROUP BY hour, outcome ORDER BY hour",
        )?
        .query_map([since, name_like], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
