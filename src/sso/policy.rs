//! The unlock policy's rules, pure: who unlocks with the identity provider, by when they
//! must switch, and what happens when they have not. No I/O and no clock of its own: the
//! caller passes the facts and "now", so every sentence of the rules is a table row in
//! the tests.
//!
//! The rules:
//! - The policy is one of No one (default), Selected groups, Everyone except guests,
//!   Everyone. Owners never unlock with SSO; guests only under Everyone.
//! - A **guest** is a person whose SCIM `userType` is `Guest` (any case): identity
//!   providers send it for outside collaborators, and it belongs to the person rather
//!   than to a group an administrator might also select.
//! - Each selected group has a grace period of 1–30 days (default 5) counted from when
//!   that group was configured; editing it moves the deadline relative to that original
//!   date. The Everyone modes have one grace period, counted from when SSO was first
//!   required of everyone.
//! - A person in several selected groups gets the grace period of the first group
//!   configured.
//! - A person added to that group after its grace period expired needs account recovery.
//! - A person who has not switched by the deadline is signed out and needs recovery.
//! - Recovery by an administrator gives a new chance: a new grace period from the
//!   recovery.
//! - An invited person whom the policy covers joins through the identity provider, so
//!   they have no deadline: joining is switching.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::store::people::PersonState;

/// Grace periods, in days.
pub const MIN_GRACE_DAYS: u8 = 1;
pub const MAX_GRACE_DAYS: u8 = 30;
pub const DEFAULT_GRACE_DAYS: u8 = 5;

/// Who unlocks with the identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PolicyMode {
    /// Nobody: everyone unlocks with their account password (the default).
    #[default]
    NoOne,
    /// Members of the selected groups (recommended).
    SelectedGroups,
    /// Everyone except guests.
    EveryoneExceptGuests,
    /// Everyone, guests included.
    Everyone,
}

impl PolicyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyMode::NoOne => "no_one",
            PolicyMode::SelectedGroups => "selected_groups",
            PolicyMode::EveryoneExceptGuests => "everyone_except_guests",
            PolicyMode::Everyone => "everyone",
        }
    }

    pub fn parse(s: &str) -> Option<PolicyMode> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "no_one" | "none" | "nobody" => Some(PolicyMode::NoOne),
            "selected_groups" | "groups" => Some(PolicyMode::SelectedGroups),
            "everyone_except_guests" => Some(PolicyMode::EveryoneExceptGuests),
            "everyone" => Some(PolicyMode::Everyone),
            _ => None,
        }
    }

    fn is_everyone(self) -> bool {
        matches!(
            self,
            PolicyMode::Everyone | PolicyMode::EveryoneExceptGuests
        )
    }
}

/// A span of grace: from when it was configured, for so many days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grace {
    pub configured_at: OffsetDateTime,
    pub days: u8,
}

impl Grace {
    pub fn deadline(&self) -> OffsetDateTime {
        self.configured_at + Duration::days(i64::from(self.days))
    }
}

/// A group selected in the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedGroup {
    pub group_seq: i64,
    pub name: String,
    pub grace: Grace,
    /// Ties on `configured_at` are broken by the order of configuration.
    pub order: i64,
}

/// The whole policy as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    pub mode: PolicyMode,
    /// Selected groups; used under `SelectedGroups`.
    pub groups: Vec<SelectedGroup>,
    /// The Everyone modes' grace period; `None` until one of them was first chosen.
    pub everyone: Option<Grace>,
}

/// How a person unlocks now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlockMethod {
    AccountPassword,
    Sso,
}

/// What the store knows of a person's unlock history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnlockRecord {
    pub switched_at: Option<OffsetDateTime>,
    pub recovered_at: Option<OffsetDateTime>,
}

/// The facts about one person the rules look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFacts {
    pub state: PersonState,
    pub is_owner: bool,
    pub is_guest: bool,
    /// When the person was provisioned (entered the account).
    pub created: OffsetDateTime,
    /// Selected groups the person belongs to, with when they were added.
    pub memberships: Vec<(i64, OffsetDateTime)>,
    pub record: UnlockRecord,
}

/// Why the policy does not ask a person to use SSO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotRequired {
    PolicyIsNoOne,
    Owner,
    Guest,
    NotInSelectedGroup,
    NotInAccount,
}

/// Why a person needs account recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryReason {
    /// They did not switch by the deadline, and were signed out.
    DeadlineMissed,
    /// They were added to the group after its grace period had expired.
    AddedAfterGracePeriod,
}

/// Where a person stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UnlockState {
    /// The policy does not ask this person to use SSO.
    NotRequired { reason: NotRequired },
    /// Invited; will join (and so switch) through the identity provider.
    JoinsWithSso,
    /// Must switch before the deadline.
    SwitchPending {
        #[serde(with = "time::serde::rfc3339")]
        deadline: OffsetDateTime,
    },
    /// Unlocks with SSO.
    Switched,
    /// Signed out until an administrator recovers the account.
    NeedsRecovery {
        reason: RecoveryReason,
        #[serde(with = "time::serde::rfc3339")]
        deadline: OffsetDateTime,
    },
}

impl UnlockState {
    pub fn label(&self) -> &'static str {
        match self {
            UnlockState::NotRequired { .. } => "not required",
            UnlockState::JoinsWithSso => "joins with SSO",
            UnlockState::SwitchPending { .. } => "switch pending",
            UnlockState::Switched => "switched",
            UnlockState::NeedsRecovery { .. } => "needs recovery",
        }
    }

    /// Whether the policy asks this person to unlock with SSO.
    pub fn sso_required(&self) -> bool {
        !matches!(self, UnlockState::NotRequired { .. })
    }
}

/// The verdict for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub method: UnlockMethod,
    pub state: UnlockState,
    /// The selected group whose grace period applies (by `group_seq`), under
    /// Selected groups.
    pub governing_group: Option<i64>,
    /// The grace period that applies, if any.
    pub grace: Option<Grace>,
}

/// Applies the rules to one person at `now`.
pub fn evaluate(policy: &Policy, person: &PersonFacts, now: OffsetDateTime) -> Verdict {
    let method = if person.record.switched_at.is_some() {
        UnlockMethod::Sso
    } else {
        UnlockMethod::AccountPassword
    };
    let not_required = |reason| Verdict {
        method,
        state: UnlockState::NotRequired { reason },
        governing_group: None,
        grace: None,
    };
    if matches!(person.state, PersonState::Suspended | PersonState::Removed) {
        return not_required(NotRequired::NotInAccount);
    }
    if person.is_owner {
        return not_required(NotRequired::Owner);
    }
    // (grace, when the person came under it, governing group)
    let covered: (Grace, OffsetDateTime, Option<i64>) = match policy.mode {
        PolicyMode::NoOne => return not_required(NotRequired::PolicyIsNoOne),
        PolicyMode::SelectedGroups if person.is_guest => return not_required(NotRequired::Guest),
        PolicyMode::EveryoneExceptGuests if person.is_guest => {
            return not_required(NotRequired::Guest)
        }
        PolicyMode::SelectedGroups => {
            let first = policy
                .groups
                .iter()
                .filter_map(|g| {
                    person
                        .memberships
                        .iter()
                        .find(|(seq, _)| *seq == g.group_seq)
                        .map(|(_, added)| (g, *added))
                })
                .min_by_key(|(g, _)| (g.grace.configured_at, g.order));
            match first {
                Some((g, added)) => (g.grace, added, Some(g.group_seq)),
                None => return not_required(NotRequired::NotInSelectedGroup),
            }
        }
        mode => {
            debug_assert!(mode.is_everyone());
            let grace = policy.everyone.unwrap_or(Grace {
                configured_at: now,
                days: DEFAULT_GRACE_DAYS,
            });
            (grace, person.created, None)
        }
    };
    let (grace, came_under, governing_group) = covered;
    let verdict = |state| Verdict {
        method,
        state,
        governing_group,
        grace: Some(grace),
    };
    if method == UnlockMethod::Sso {
        return verdict(UnlockState::Switched);
    }
    if person.state == PersonState::Invited {
        return verdict(UnlockState::JoinsWithSso);
    }
    // A recovery after the person came under the policy is a new chance, counted from
    // the recovery with the same number of days.
    if let Some(recovered) = person.record.recovered_at.filter(|r| *r >= came_under) {
        let deadline = recovered + Duration::days(i64::from(grace.days));
        return verdict(if now < deadline {
            UnlockState::SwitchPending { deadline }
        } else {
            UnlockState::NeedsRecovery {
                reason: RecoveryReason::DeadlineMissed,
                deadline,
            }
        });
    }
    let deadline = grace.deadline();
    if came_under > deadline {
        return verdict(UnlockState::NeedsRecovery {
            reason: RecoveryReason::AddedAfterGracePeriod,
            deadline,
        });
    }
    verdict(if now < deadline {
        UnlockState::SwitchPending { deadline }
    } else {
        UnlockState::NeedsRecovery {
            reason: RecoveryReason::DeadlineMissed,
            deadline,
        }
    })
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
