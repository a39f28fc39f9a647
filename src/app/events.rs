//! The audit log as the admin reads it: filtered lists, provisioning events per hour
//! for the Overview's chart, the latest errors, and an export to a JSON file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{App, AppError};
use crate::store::events::{self as store_events, Event, EventQuery, Outcome};
use crate::store::{format_timestamp, search, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum OutcomeView {
    Success,
    Failure,
}

/// One audit event, named as JumpCloud's Directory Insights names it. Never a secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    pub seq: u32,
    pub time: String,
    pub name: String,
    pub outcome: OutcomeView,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    /// Names of the attributes written (never their values).
    pub attributes: Vec<String>,
    /// The token's name, or "local admin".
    pub actor: Option<String>,
    /// The HTTP status a failure answered with.
    pub status: Option<u16>,
    pub detail: Option<String>,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        EventView {
            seq: u32::try_from(e.seq).unwrap_or(u32::MAX),
            time: e.time,
            name: e.name,
            outcome: match e.outcome {
                Outcome::Success => OutcomeView::Success,
                Outcome::Failure => OutcomeView::Failure,
            },
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            resource_name: e.resource_name,
            attributes: e.attributes,
            actor: e.actor,
            status: e.status,
            detail: e.detail,
        }
    }
}

/// Which events to list (newest first).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct EventFilter {
    /// Exact event name, e.g. `user_create_provision`.
    pub name: Option<String>,
    pub outcome: Option<OutcomeView>,
    /// Inclusive lower bound (RFC 3339).
    pub since: Option<String>,
    /// Exclusive upper bound (RFC 3339).
    pub until: Option<String>,
    /// At most 5000; 0 means 200.
    pub limit: u32,
    /// Only events older than this one (paging).
    pub before_seq: Option<u32>,
}

impl EventFilter {
    fn query(self) -> EventQuery {
        EventQuery {
            name: self.name.filter(|n| !n.trim().is_empty()),
            outcome: self.outcome.map(|o| match o {
                OutcomeView::Success => Outcome::Success,
                OutcomeView::Failure => Outcome::Failure,
            }),
            resource_id: None,
            since: self.since.filter(|s| !s.is_empty()),
            until: self.until.filter(|s| !s.is_empty()),
            limit: Some(if self.limit == 0 {
                200
            } else {
                self.limit.min(5000)
            }),
            before_seq: self.before_seq.map(i64::from),
        }
    }
}

/// Provisioning events in one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HourCount {
    /// The hour's start, `YYYY-MM-DDTHH:00Z`.
    pub hour: String,
    pub success: u32,
    pub failure: u32,
}

async fn list(store: &Store, q: EventQuery) -> Result<Vec<EventView>, AppError> {
    let events = store
        .read(move |conn| -> Result<_, StoreError> { store_events::list(conn, &q) })
        .await?;
    Ok(events.into_iter().map(EventView::from).collect())
}

/// The newest `limit` events about one resource.
pub(super) async fn for_resource(
    store: &Store,
    id: &str,
    limit: u32,
) -> Result<Vec<EventView>, AppError> {
    list(
        store,
        EventQuery {
            resource_id: Some(id.to_owned()),
            limit: Some(limit),
            ..EventQuery::default()
        },
    )
    .await
}

/// Counts per hour for the `hours` hours up to and including the current one, oldest
/// first, with empty hours present (a chart needs every bar).
pub fn fill_hours(
    now: time::OffsetDateTime,
    hours: u32,
    counts: &[(String, String, u64)],
) -> Vec<HourCount> {
    let now = now.to_offset(time::UtcOffset::UTC);
    let top = now
        .replace_minute(0)
        .and_then(|t| t.replace_second(0))
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap_or(now);
    (0..hours)
        .rev()
        .map(|back| {
            let start = top - time::Duration::hours(i64::from(back));
            let stamp = format_timestamp(start);
            let key = &stamp[..13];
            let count = |outcome: &str| {
                counts
                    .iter()
                    .filter(|(h, o, _)| h == key && o == outcome)
                    .map(|(_, _, n)| *n)
                    .sum::<u64>()
            };
            HourCount {
                hour: format!("{key}:00Z"),
                success: u32::try_from(count("success")).unwrap_or(u32::MAX),
                failure: u32::try_from(count("failure")).unwrap_or(u32::MAX),
            }
        })
        .collect()
}

impl App {
    /// Events matching `filter`, newest first.
    pub async fn events(&self, filter: EventFilter) -> Result<Vec<EventView>, AppError> {
        list(&self.store, filter.query()).await
    }

    /// Provisioning events per hour over the last `hours` hours (at most a week).
    pub async fn events_per_hour(&self, hours: u32) -> Result<Vec<HourCount>, AppError> {
        let hours = hours.clamp(1, 168);
        let now = time::OffsetDateTime::now_utc();
        let since = format_timestamp(now - time::Duration::hours(i64::from(hours)));
        let counts = self
            .store
            .read(move |conn| search::events_per_hour(conn, &since, "%provision%"))
            .await?;
        Ok(fill_hours(now, hours, &counts))
    }

    /// The newest failures.
    pub async fn latest_errors(&self, limit: u32) -> Result<Vec<EventView>, AppError> {
        self.events(EventFilter {
            outcome: Some(OutcomeView::Failure),
            limit: limit.clamp(1, 100),
            ..EventFilter::default()
        })
        .await
    }

    /// Writes the events matching `filter` as a JSON array to a new file in `dir` and
    /// answers its path.
    pub async fn export_events(
        &self,
        filter: EventFilter,
        dir: &Path,
    ) -> Result<PathBuf, AppError> {
        let events = self.events(filter).await?;
        let stamp = crate::store::now_timestamp().replace([':', '.'], "-");
        let path = dir.join(format!("keybridge-events-{stamp}.json"));
        let body = serde_json::to_vec_pretty(&events)
            .map_err(|e| AppError::Store(StoreError::Internal(e.to_string())))?;
        let io = |source| AppError::Io {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::write(&path, body).map_err(io)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hour_has_a_bar_and_counts_land_in_their_hour() {
        let now = time::macros::datetime!(2026-03-01 10:42:07 UTC);
        let counts = vec![
            ("2026-03-01T10".to_owned(), "success".to_owned(), 3),
            ("2026-03-01T10".to_owned(), "failure".to_owned(), 1),
            ("2026-03-01T08".to_owned(), "success".to_owned(), 2),
        ];
        let hours = fill_hours(now, 4, &counts);
        let got: Vec<_> = hours
            .iter()
            .map(|h| (h.hour.as_str(), h.success, h.failure))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-03-01T07:00Z", 0, 0),
                ("2026-03-01T08:00Z", 2, 0),
                ("2026-03-01T09:00Z", 0, 0),
                ("2026-03-01T10:00Z", 3, 1),
            ]
        );
    }
}
