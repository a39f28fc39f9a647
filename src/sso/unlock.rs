//! The unlock policy over the store: editing it, each person's status, signing out those
//! who missed their deadline, and recovery. The rules themselves are in `policy`.

use keybridge_scim::username_key;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::policy::{
    self, Grace, Policy, PolicyMode, SelectedGroup, UnlockMethod, UnlockRecord, UnlockState,
    Verdict, DEFAULT_GRACE_DAYS, MAX_GRACE_DAYS, MIN_GRACE_DAYS,
};
use super::{events, parse_time, Sso, SsoError};
use crate::directory::audit::{self, Subject};
use crate::store::groups::{self as group_table, GroupKind};
use crate::store::people::{self, PersonRow, PersonState};
use crate::store::{format_timestamp, settings, sso as sso_table, StoreError};

const POLICY_KEY: &str = "sso.policy";

/// The mode and the Everyone modes' grace period, as kept in the settings table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct StoredMode {
    mode: PolicyMode,
    everyone_configured_at: Option<String>,
    everyone_grace_days: Option<u8>,
}

fn stored_mode(conn: &Connection) -> Result<StoredMode, StoreError> {
    match settings::get(conn, POLICY_KEY)? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|_| StoreError::Corrupt("the unlock policy setting is damaged".into())),
        None => Ok(StoredMode::default()),
    }
}

fn save_mode(conn: &Connection, m: &StoredMode) -> Result<(), StoreError> {
    let json = serde_json::to_string(m).map_err(|e| StoreError::Internal(e.to_string()))?;
    settings::set(conn, POLICY_KEY, &json)
}

/// The whole policy, as the rules take it.
pub(super) fn load_policy(conn: &Connection) -> Result<Policy, StoreError> {
    let m = stored_mode(conn)?;
    let groups = sso_table::groups(conn)?
        .into_iter()
        .map(|g| {
            Ok(SelectedGroup {
                group_seq: g.group_seq,
                name: g.group_name,
                grace: Grace {
                    configured_at: parse_time(&g.configured_at)?,
                    days: u8::try_from(g.grace_days).unwrap_or(DEFAULT_GRACE_DAYS),
                },
                order: g.ord,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let everyone = match &m.everyone_configured_at {
        Some(t) => Some(Grace {
            configured_at: parse_time(t)?,
            days: m.everyone_grace_days.unwrap_or(DEFAULT_GRACE_DAYS),
        }),
        None => None,
    };
    Ok(Policy {
        mode: m.mode,
        groups,
        everyone,
    })
}

/// The facts the rules need about one person.
pub(super) fn facts(conn: &Connection, row: &PersonRow) -> Result<policy::PersonFacts, StoreError> {
    let record = sso_table::person(conn, row.seq)?;
    let opt_time = |t: &Option<String>| t.as_deref().map(parse_time).transpose();
    Ok(policy::PersonFacts {
        state: row.state,
        is_owner: sso_table::is_owner(conn, row.seq)?,
        is_guest: is_guest(&row.doc),
        created: parse_time(&row.created)?,
        memberships: sso_table::memberships_of(conn, row.seq)?
            .into_iter()
            .map(|(g, t)| Ok((g, parse_time(&t)?)))
            .collect::<Result<Vec<_>, StoreError>>()?,
        record: UnlockRecord {
            switched_at: opt_time(&record.switched_at)?,
            recovered_at: opt_time(&record.recovered_at)?,
        },
    })
}

/// A guest is a person whose SCIM `userType` is "Guest" (see `policy`).
pub fn is_guest(doc: &Value) -> bool {
    doc.get("userType")
        .and_then(Value::as_str)
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("guest"))
}

pub(super) fn verdict(
    conn: &Connection,
    policy: &Policy,
    row: &PersonRow,
    now: OffsetDateTime,
) -> Result<Verdict, StoreError> {
    Ok(policy::evaluate(policy, &facts(conn, row)?, now))
}

/// One person's unlock method, deadline and state, for the CLI and the app.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PersonUnlock {
    pub id: String,
    pub user_name: String,
    pub email: Option<String>,
    pub person_state: PersonState,
    pub method: UnlockMethod,
    #[serde(flatten)]
    pub unlock: UnlockState,
    /// The selected group whose grace period applies.
    pub group: Option<String>,
    pub grace_days: Option<u8>,
    /// When the person was signed out for missing a deadline (until recovered).
    pub signed_out_at: Option<String>,
}

/// The policy as the CLI and the app show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PolicyView {
    pub mode: PolicyMode,
    pub groups: Vec<PolicyGroupView>,
    pub everyone_grace_days: Option<u8>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub everyone_deadline: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PolicyGroupView {
    pub id: String,
    pub name: String,
    pub grace_days: u8,
    #[serde(with = "time::serde::rfc3339")]
    pub configured_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
}

pub(super) fn find_person(conn: &Connection, who: &str) -> Result<PersonRow, SsoError> {
    let who = who.trim();
    if let Some(row) = people::by_user_name_key(conn, &username_key(who))? {
        return Ok(row);
    }
    let mut found = people::by_email(conn, who)?;
    match found.len() {
        0 => Err(SsoError::UnknownPerson(who.to_owned())),
        1 => Ok(found.remove(0)),
        n => Err(SsoError::AmbiguousPerson {
            who: who.to_owned(),
            n,
        }),
    }
}

fn find_group(conn: &Connection, name: &str) -> Result<group_table::GroupRow, SsoError> {
    let name = name.trim();
    if let Some(g) = group_table::by_id(conn, name)? {
        return Ok(g);
    }
    group_table::by_name_key(conn, &username_key(name))?
        .ok_or_else(|| SsoError::UnknownGroup(name.to_owned()))
}

fn check_grace(days: Option<i64>) -> Result<Option<u8>, SsoError> {
    match days {
        None => Ok(None),
        Some(d) if (i64::from(MIN_GRACE_DAYS)..=i64::from(MAX_GRACE_DAYS)).contains(&d) => {
            Ok(u8::try_from(d).ok())
        }
        Some(d) => Err(SsoError::BadGraceDays(d)),
    }
}

fn person_unlock(
    conn: &Connection,
    policy: &Policy,
    row: &PersonRow,
    now: OffsetDateTime,
) -> Result<PersonUnlock, StoreError> {
    let v = verdict(conn, policy, row, now)?;
    let record = sso_table::person(conn, row.seq)?;
    let group = v.governing_group.and_then(|seq| {
        policy
            .groups
            .iter()
            .find(|g| g.group_seq == seq)
            .map(|g| g.name.clone())
    });
    Ok(PersonUnlock {
        id: row.id.clone(),
        user_name: row.user_name.clone(),
        email: row.email.clone(),
        person_state: row.state,
        method: v.method,
        unlock: v.state,
        group,
        grace_days: v.grace.map(|g| g.days),
        signed_out_at: record.signed_out_at,
    })
}

fn policy_event(conn: &Connection, actor: &str, attributes: Vec<String>) -> Result<(), StoreError> {
    audit::success(
        conn,
        events::SSO_POLICY_UPDATE,
        Subject::default(),
        attributes,
        actor,
    )
}

impl Sso {
    /// The policy with each selected group's deadline.
    pub async fn policy(&self) -> Result<PolicyView, SsoError> {
        self.store
            .read(|conn| -> Result<PolicyView, SsoError> {
                let p = load_policy(conn)?;
                let mut groups = Vec::new();
                for row in sso_table::groups(conn)? {
                    let configured_at = parse_time(&row.configured_at)?;
                    let days = u8::try_from(row.grace_days).unwrap_or(DEFAULT_GRACE_DAYS);
                    groups.push(PolicyGroupView {
                        id: row.group_id,
                        name: row.group_name,
                        grace_days: days,
                        configured_at,
                        deadline: Grace {
                            configured_at,
                            days,
                        }
                        .deadline(),
                    });
                }
                Ok(PolicyView {
                    mode: p.mode,
                    groups,
                    everyone_grace_days: p.everyone.map(|g| g.days),
                    everyone_deadline: p.everyone.map(|g| g.deadline()),
                })
            })
            .await
    }

    /// Chooses who unlocks with SSO. Choosing an Everyone mode for the first time starts
    /// its grace period now; moving between the two Everyone modes, or changing
    /// `grace_days`, keeps the original date.
    pub async fn set_policy_mode(
        &self,
        actor: &str,
        mode: PolicyMode,
        grace_days: Option<i64>,
    ) -> Result<PolicyView, SsoError> {
        let days = check_grace(grace_days)?;
        let now = format_timestamp(self.now());
        let actor = actor.to_owned();
        self.store
            .write(move |conn| -> Result<(), SsoError> {
                let mut m = stored_mode(conn)?;
                let was_everyone = matches!(
                    m.mode,
                    PolicyMode::Everyone | PolicyMode::EveryoneExceptGuests
                );
                let is_everyone = matches!(
                    mode,
                    PolicyMode::Everyone | PolicyMode::EveryoneExceptGuests
                );
                if is_everyone && (!was_everyone || m.everyone_configured_at.is_none()) {
                    m.everyone_configured_at = Some(now);
                }
                if let Some(d) = days {
                    m.everyone_grace_days = Some(d);
                }
                m.mode = mode;
                save_mode(conn, &m)?;
                policy_event(conn, &actor, vec![format!("mode={}", mode.as_str())])?;
                Ok(())
            })
            .await?;
        self.policy().await
    }

    /// Selects a group (its grace period starts now), or changes the grace period of a
    /// group already selected (the deadline moves relative to the original date).
    pub async fn select_group(
        &self,
        actor: &str,
        group: &str,
        grace_days: Option<i64>,
    ) -> Result<PolicyView, SsoError> {
        let days = check_grace(grace_days)?;
        let now = format_timestamp(self.now());
        let (actor, group) = (actor.to_owned(), group.to_owned());
        self.store
            .write(move |conn| -> Result<(), SsoError> {
                let g = find_group(conn, &group)?;
                if g.kind == GroupKind::Owners {
                    return Err(SsoError::OwnersCannotBeSelected);
                }
                let current = sso_table::groups(conn)?
                    .into_iter()
                    .find(|s| s.group_seq == g.seq)
                    .map(|s| s.grace_days);
                let days = days
                    .map(i64::from)
                    .or(current)
                    .unwrap_or(i64::from(DEFAULT_GRACE_DAYS));
                sso_table::upsert_group(conn, g.seq, &now, days)?;
                policy_event(
                    conn,
                    &actor,
                    vec![
                        format!("group={}", g.display_name),
                        format!("grace_days={days}"),
                    ],
                )?;
                Ok(())
            })
            .await?;
        self.policy().await
    }

    /// Removes a group from the policy.
    pub async fn unselect_group(&self, actor: &str, group: &str) -> Result<PolicyView, SsoError> {
        let (actor, group) = (actor.to_owned(), group.to_owned());
        self.store
            .write(move |conn| -> Result<(), SsoError> {
                let g = find_group(conn, &group)?;
                if !sso_table::remove_group(conn, g.seq)? {
                    return Err(SsoError::NotAllowed(format!(
                        "the group '{}' is not selected",
                        g.display_name
                    )));
                }
                policy_event(
                    conn,
                    &actor,
                    vec![format!("removed_group={}", g.display_name)],
                )?;
                Ok(())
            })
            .await?;
        self.policy().await
    }

    /// Everyone's unlock status (people who left the account are left out).
    pub async fn status(&self) -> Result<Vec<PersonUnlock>, SsoError> {
        let now = self.now();
        self.store
            .read(move |conn| -> Result<Vec<PersonUnlock>, SsoError> {
                let policy = load_policy(conn)?;
                let sql = format!(
                    "SELECT {} FROM people WHERE state IN ('invited', 'active') ORDER BY seq",
                    people::COLUMNS
                );
                let mut stmt = conn.prepare(&sql)?;
                let rows = stmt
                    .query_map([], people::from_row)?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    out.push(person_unlock(conn, &policy, row, now)?);
                }
                Ok(out)
            })
            .await
    }

    /// One person's unlock status.
    pub async fn person_status(&self, who: &str) -> Result<PersonUnlock, SsoError> {
        let now = self.now();
        let who = who.to_owned();
        self.store
            .read(move |conn| -> Result<PersonUnlock, SsoError> {
                let policy = load_policy(conn)?;
                let row = find_person(conn, &who)?;
                Ok(person_unlock(conn, &policy, &row, now)?)
            })
            .await
    }

    /// Signs out everyone who has not switched by their deadline: records when, with an
    /// `sso_deadline_missed` event, once per missed deadline. Returns their userNames.
    pub async fn enforce_deadlines(&self, actor: &str) -> Result<Vec<String>, SsoError> {
        let now = self.now();
        let stamp = format_timestamp(now);
        let actor = actor.to_owned();
        self.store
            .write(move |conn| -> Result<Vec<String>, SsoError> {
                let policy = load_policy(conn)?;
                if policy.mode == PolicyMode::NoOne {
                    return Ok(vec![]);
                }
                let sql = format!(
                    "SELECT {} FROM people WHERE state = 'active' ORDER BY seq",
                    people::COLUMNS
                );
                let mut stmt = conn.prepare(&sql)?;
                let rows = stmt
                    .query_map([], people::from_row)?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut signed_out = Vec::new();
                for row in rows {
                    let v = verdict(conn, &policy, &row, now)?;
                    let UnlockState::NeedsRecovery { reason, deadline } = v.state else {
                        continue;
                    };
                    let mut record = sso_table::person(conn, row.seq)?;
                    if record.signed_out_at.is_some() {
                        continue;
                    }
                    record.signed_out_at = Some(stamp.clone());
                    sso_table::put_person(conn, row.seq, &record)?;
                    let why = match reason {
                        policy::RecoveryReason::DeadlineMissed => "deadline_missed",
                        policy::RecoveryReason::AddedAfterGracePeriod => "added_after_grace_period",
                    };
                    audit::success(
                        conn,
                        events::SSO_DEADLINE_MISSED,
                        Subject::user(&row.id, &row.user_name),
                        vec![
                            why.into(),
                            format!("deadline={}", format_timestamp(deadline)),
                        ],
                        &actor,
                    )?;
                    signed_out.push(row.user_name);
                }
                Ok(signed_out)
            })
            .await
    }

    /// Account recovery by an administrator: a new grace period from now.
    pub async fn recover(&self, actor: &str, who: &str) -> Result<PersonUnlock, SsoError> {
        let now = self.now();
        let stamp = format_timestamp(now);
        let (actor, who) = (actor.to_owned(), who.to_owned());
        self.store
            .write(move |conn| -> Result<PersonUnlock, SsoError> {
                let policy = load_policy(conn)?;
                let row = find_person(conn, &who)?;
                let v = verdict(conn, &policy, &row, now)?;
                if !matches!(v.state, UnlockState::NeedsRecovery { .. }) {
                    return Err(SsoError::NotAllowed(format!(
                        "{who} does not need account recovery ({})",
                        v.state.label()
                    )));
                }
                let mut record = sso_table::person(conn, row.seq)?;
                record.recovered_at = Some(stamp);
                record.signed_out_at = None;
                sso_table::put_person(conn, row.seq, &record)?;
                audit::success(
                    conn,
                    events::SSO_RECOVERED,
                    Subject::user(&row.id, &row.user_name),
                    vec![],
                    &actor,
                )?;
                Ok(person_unlock(conn, &policy, &row, now)?)
            })
            .await
    }
}
