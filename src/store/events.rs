//! The `events` table: the audit log. Written in the same transaction as the change it
//! records, so the log never claims a change that was rolled back, nor misses one.

use rusqlite::{params, Connection, Row};

use super::StoreError;

/// One audit event. Never carries a secret: `detail` is an error message written by us,
/// `actor` the token's name, `attributes` attribute names only (no values).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Event {
    pub seq: i64,
    pub time: String,
    pub name: String,
    pub outcome: Outcome,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub attributes: Vec<String>,
    pub actor: Option<String>,
    pub status: Option<u16>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

pub fn insert(conn: &Connection, e: &Event) -> Result<i64, StoreError> {
    let attributes = serde_json::to_string(&e.attributes)
        .map_err(|err| StoreError::Internal(err.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO events (time, name, outcome, resource_type, resource_id, resource_name, attributes, actor, status, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        e.time,
        e.name,
        e.outcome.as_str(),
        e.resource_type,
        e.resource_id,
        e.resource_name,
        attributes,
        e.actor,
        e.status,
        e.detail
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Which events to list.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EventQuery {
    pub name: Option<String>,
    pub outcome: Option<Outcome>,
    pub resource_id: Option<String>,
    /// Inclusive lower bound on `time` (RFC 3339).
    pub since: Option<String>,
    /// Exclusive upper bound on `time`.
    pub until: Option<String>,
    /// Newest first; at most this many (default 100, at most 10 000).
    pub limit: Option<u32>,
    /// Only events older than this seq (for paging backwards).
    pub before_seq: Option<i64>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Event> {
    let outcome: String = r.get(3)?;
    let attributes: String = r.get(7)?;
    Ok(Event {
        seq: r.get(0)?,
        time: r.get(1)?,
        name: r.get(2)?,
        outcome: if outcome == "success" {
            Outcome::Success
        } else {
            Outcome::Failure
        },
        resource_type: r.get(4)?,
        resource_id: r.get(5)?,
        resource_name: r.get(6)?,
        attributes: serde_json::from_str(&attributes).unwrap_or_default(),
        actor: r.get(8)?,
        status: r.get(9)?,
        detail: r.get(10)?,
    })
}

pub fn list(conn: &Connection, q: &EventQuery) -> Result<Vec<Event>, StoreError> {
    let limit = q.limit.unwrap_or(100).min(10_000);
    let mut stmt = conn.prepare_cached(
        "SELECT seq, time, name, outcome, resource_type, resource_id, resource_name, attributes, actor, status, detail
         FROM events
         WHERE (?1 IS NULL OR name = ?1) AND (?2 IS NULL OR outcome = ?2) AND (?3 IS NULL OR resource_id = ?3)
           AND (?4 IS NULL OR time >= ?4) AND (?5 IS NULL OR time < ?5) AND (?6 IS NULL OR seq < ?6)
         ORDER BY seq DESC LIMIT ?7",
    )?;
    let rows = stmt
        .query_map(
            params![
                q.name,
                q.outcome.map(Outcome::as_str),
                q.resource_id,
                q.since,
                q.until,
                q.before_seq,
                limit
            ],
            from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
