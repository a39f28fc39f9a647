//! People and groups as the admin looks at them: search with state and group filters, a
//! person's every attribute and event history, groups with members and kind.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::events::{self as app_events, EventView};
use super::{App, AppError};
use crate::store::groups::{self as store_groups, GroupKind, GroupRow};
use crate::store::people::{self as store_people, PersonRow, PersonState};
use crate::store::search::{self, PeopleSearch};
use crate::store::StoreError;

/// The base URL used for `$ref`s in resources shown in the app (not a real address).
const VIEW_BASE: &str = "keybridge:/scim/v2";

/// A person's lifecycle state, as filters and badges name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum PersonStateView {
    Invited,
    Active,
    Suspended,
    Removed,
}

impl From<PersonState> for PersonStateView {
    fn from(s: PersonState) -> Self {
        match s {
            PersonState::Invited => PersonStateView::Invited,
            PersonState::Active => PersonStateView::Active,
            PersonState::Suspended => PersonStateView::Suspended,
            PersonState::Removed => PersonStateView::Removed,
        }
    }
}

impl From<PersonStateView> for PersonState {
    fn from(s: PersonStateView) -> Self {
        match s {
            PersonStateView::Invited => PersonState::Invited,
            PersonStateView::Active => PersonState::Active,
            PersonStateView::Suspended => PersonState::Suspended,
            PersonStateView::Removed => PersonState::Removed,
        }
    }
}

/// Which people to show.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct PeopleQuery {
    pub text: Option<String>,
    pub state: Option<PersonStateView>,
    pub group_id: Option<String>,
    pub offset: u32,
    /// At most 500; 0 means 100.
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PersonSummary {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub state: PersonStateView,
    pub role: String,
    pub modified: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PeoplePage {
    pub total: u32,
    pub offset: u32,
    pub items: Vec<PersonSummary>,
}

/// A group a person belongs to, or a person a group has.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Ref {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PersonDetail {
    pub summary: PersonSummary,
    /// The person exactly as a SCIM client reads them: every attribute.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
    pub resource: Value,
    pub groups: Vec<Ref>,
    /// Newest first.
    pub events: Vec<EventView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum GroupKindView {
    Owners,
    Administrators,
    Custom,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GroupSummary {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub kind: GroupKindView,
    /// Owners and Administrators: cannot be deleted or renamed over SCIM.
    pub built_in: bool,
    /// Created or taken over by the identity provider.
    pub managed: bool,
    pub member_count: u32,
    pub modified: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GroupDetail {
    pub summary: GroupSummary,
    /// At most 1000 members, in the order they were provisioned.
    pub members: Vec<PersonSummary>,
}

fn summary(row: &PersonRow, role: &str) -> PersonSummary {
    PersonSummary {
        id: row.id.clone(),
        user_name: row.user_name.clone(),
        display_name: row.display_name.clone(),
        email: row.email.clone(),
        external_id: row.external_id.clone(),
        state: row.state.into(),
        role: role.to_owned(),
        modified: row.modified.clone(),
    }
}

fn group_summary(row: &GroupRow, members: u64) -> GroupSummary {
    GroupSummary {
        id: row.id.clone(),
        display_name: row.display_name.clone(),
        external_id: row.external_id.clone(),
        kind: match row.kind {
            GroupKind::Owners => GroupKindView::Owners,
            GroupKind::Administrators => GroupKindView::Administrators,
            GroupKind::Custom => GroupKindView::Custom,
        },
        built_in: row.kind.is_builtin(),
        managed: row.managed,
        member_count: u32::try_from(members).unwrap_or(u32::MAX),
        modified: row.modified.clone(),
    }
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl App {
    /// People matching `q`, in the order they were provisioned.
    pub async fn people(&self, q: PeopleQuery) -> Result<PeoplePage, AppError> {
        let search = PeopleSearch {
            text: q.text,
            state: q.state.map(Into::into),
            group_id: q.group_id.filter(|g| !g.is_empty()),
            offset: u64::from(q.offset),
            limit: u64::from(if q.limit == 0 { 100 } else { q.limit.min(500) }),
        };
        let offset = q.offset;
        self.store
            .read(move |conn| -> Result<PeoplePage, StoreError> {
                let (total, rows) = search::people(conn, &search)?;
                let mut items = Vec::with_capacity(rows.len());
                for row in &rows {
                    items.push(summary(row, search::role_of(conn, row.seq)?));
                }
                Ok(PeoplePage {
                    total: clamp(total),
                    offset,
                    items,
                })
            })
            .await
            .map_err(AppError::from)
    }

    /// One person with every attribute, their groups and their event history.
    pub async fn person(&self, id: &str) -> Result<PersonDetail, AppError> {
        let id = id.to_owned();
        let found = self
            .store
            .read({
                let id = id.clone();
                move |conn| -> Result<_, StoreError> {
                    let Some(row) = store_people::by_id(conn, &id)? else {
                        return Ok(None);
                    };
                    let role = search::role_of(conn, row.seq)?;
                    let groups = store_people::groups_of(conn, row.seq)?
                        .into_iter()
                        .map(|(id, name, _kind)| Ref { id, name })
                        .collect();
                    Ok(Some((summary(&row, role), groups)))
                }
            })
            .await?;
        let Some((summary, groups)) = found else {
            return Err(AppError::NotFound(format!(
                "no person has the id {id}; they may have been deleted by the identity provider. Search again"
            )));
        };
        let resource = self.directory.get_user(&id, VIEW_BASE).await?;
        let events = app_events::for_resource(&self.store, &id, 200).await?;
        Ok(PersonDetail {
            summary,
            resource,
            groups,
            events,
        })
    }

    /// Every group, built-in ones first.
    pub async fn groups(&self) -> Result<Vec<GroupSummary>, AppError> {
        self.store
            .read(|conn| -> Result<_, StoreError> {
                Ok(search::groups_with_counts(conn)?
                    .iter()
                    .map(|(row, n)| group_summary(row, *n))
                    .collect())
            })
            .await
            .map_err(AppError::from)
    }

    /// One group with its members.
    pub async fn group(&self, id: &str) -> Result<GroupDetail, AppError> {
        let id = id.to_owned();
        let found = self
            .store
            .read({
                let id = id.clone();
                move |conn| -> Result<_, StoreError> {
                    let Some(row) = store_groups::by_id(conn, &id)? else {
                        return Ok(None);
                    };
                    let count = store_groups::member_count(conn, row.seq)?;
                    let mut members = Vec::new();
                    for p in search::members_of(conn, row.seq, 1000)? {
                        members.push(summary(&p, search::role_of(conn, p.seq)?));
                    }
                    Ok(Some(GroupDetail {
                        summary: group_summary(&row, count),
                        members,
                    }))
                }
            })
            .await?;
        found.ok_or_else(|| {
            AppError::NotFound(format!(
                "no group has the id {id}; it may have been deleted by the identity provider. Reload the list"
            ))
        })
    }
}
