//! One table row (at least) per sentence of the unlock rules, over an injected "now".

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;

const T0: OffsetDateTime = datetime!(2030-01-01 09:00 UTC);

fn day(n: i64) -> OffsetDateTime {
    T0 + Duration::days(n)
}

fn hours(n: i64) -> OffsetDateTime {
    T0 + Duration::hours(n)
}

const ENG: i64 = 10;
const OPS: i64 = 11;

fn group(seq: i64, configured: OffsetDateTime, days: u8, order: i64) -> SelectedGroup {
    SelectedGroup {
        group_seq: seq,
        name: format!("group {seq}"),
        grace: Grace {
            configured_at: configured,
            days,
        },
        order,
    }
}

fn selected(groups: Vec<SelectedGroup>) -> Policy {
    Policy {
        mode: PolicyMode::SelectedGroups,
        groups,
        everyone: None,
    }
}

fn everyone(mode: PolicyMode, configured: OffsetDateTime, days: u8) -> Policy {
    Policy {
        mode,
        groups: vec![],
        everyone: Some(Grace {
            configured_at: configured,
            days,
        }),
    }
}

fn eng_policy() -> Policy {
    selected(vec![group(ENG, day(0), DEFAULT_GRACE_DAYS, 1)])
}

fn active() -> PersonFacts {
    PersonFacts {
        state: PersonState::Active,
        is_owner: false,
        is_guest: false,
        created: day(-30),
        memberships: vec![],
        record: UnlockRecord::default(),
    }
}

fn member_of(groups: &[(i64, OffsetDateTime)]) -> PersonFacts {
    PersonFacts {
        memberships: groups.to_vec(),
        ..active()
    }
}

fn pending(d: OffsetDateTime) -> UnlockState {
    UnlockState::SwitchPending { deadline: d }
}

fn recovery(reason: RecoveryReason, d: OffsetDateTime) -> UnlockState {
    UnlockState::NeedsRecovery {
        reason,
        deadline: d,
    }
}

fn not_required(reason: NotRequired) -> UnlockState {
    UnlockState::NotRequired { reason }
}

struct Case {
    rule: &'static str,
    policy: Policy,
    person: PersonFacts,
    now: OffsetDateTime,
    expect: UnlockState,
}

fn check(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let got = evaluate(&c.policy, &c.person, c.now).state;
        if got != c.expect {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                c.rule, c.expect, got
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn no_one_is_the_default_and_asks_nobody() {
    assert_eq!(Policy::default().mode, PolicyMode::NoOne);
    check(vec![Case {
        rule: "No one: a member of a group still unlocks with the account password",
        policy: Policy {
            mode: PolicyMode::NoOne,
            ..eng_policy()
        },
        person: member_of(&[(ENG, day(-1))]),
        now: day(1),
        expect: not_required(NotRequired::PolicyIsNoOne),
    }]);
}

#[test]
fn owners_never_unlock_with_sso() {
    let owner = PersonFacts {
        is_owner: true,
        ..member_of(&[(ENG, day(-1))])
    };
    check(vec![
        Case {
            rule: "an owner in a selected group",
            policy: eng_policy(),
            person: owner.clone(),
            now: day(1),
            expect: not_required(NotRequired::Owner),
        },
        Case {
            rule: "an owner under Everyone",
            policy: everyone(PolicyMode::Everyone, day(0), 5),
            person: owner.clone(),
            now: day(1),
            expect: not_required(NotRequired::Owner),
        },
        Case {
            rule: "an owner past every deadline is not signed out",
            policy: everyone(PolicyMode::Everyone, day(0), 5),
            person: owner,
            now: day(100),
            expect: not_required(NotRequired::Owner),
        },
    ]);
}

#[test]
fn guests_unlock_with_sso_only_under_everyone() {
    let guest = PersonFacts {
        is_guest: true,
        ..member_of(&[(ENG, day(-1))])
    };
    check(vec![
        Case {
            rule: "a guest in a selected group",
            policy: eng_policy(),
            person: guest.clone(),
            now: day(1),
            expect: not_required(NotRequired::Guest),
        },
        Case {
            rule: "a guest under Everyone except guests",
            policy: everyone(PolicyMode::EveryoneExceptGuests, day(0), 5),
            person: guest.clone(),
            now: day(1),
            expect: not_required(NotRequired::Guest),
        },
        Case {
            rule: "a guest under Everyone",
            policy: everyone(PolicyMode::Everyone, day(0), 5),
            person: guest,
            now: day(1),
            expect: pending(day(5)),
        },
        Case {
            rule: "a member (not a guest) under Everyone except guests",
            policy: everyone(PolicyMode::EveryoneExceptGuests, day(0), 5),
            person: active(),
            now: day(1),
            expect: pending(day(5)),
        },
    ]);
}

#[test]
fn selected_groups_ask_only_their_members() {
    check(vec![
        Case {
            rule: "a member of a selected group",
            policy: eng_policy(),
            person: member_of(&[(ENG, day(-1))]),
            now: day(1),
            expect: pending(day(5)),
        },
        Case {
            rule: "someone in no selected group",
            policy: eng_policy(),
            person: member_of(&[]),
            now: day(1),
            expect: not_required(NotRequired::NotInSelectedGroup),
        },
    ]);
}

#[test]
fn the_grace_period_counts_from_when_the_group_was_configured() {
    check(vec![
        Case {
            rule: "added on day 3 of a 5-day grace period: the deadline is still day 5",
            policy: eng_policy(),
            person: member_of(&[(ENG, day(3))]),
            now: day(4),
            expect: pending(day(5)),
        },
        Case {
            rule: "a 30-day grace period",
            policy: selected(vec![group(ENG, day(0), 30, 1)]),
            person: member_of(&[(ENG, day(-1))]),
            now: day(29),
            expect: pending(day(30)),
        },
    ]);
}

#[test]
fn editing_the_grace_period_moves_the_deadline_from_the_original_date() {
    // Configured on day 0 with 5 days, edited on day 4 to 10 days: the deadline is day 10
    // (day 0 + 10), not day 14 (day 4 + 10).
    check(vec![
        Case {
            rule: "lengthened on day 4 to 10 days",
            policy: selected(vec![group(ENG, day(0), 10, 1)]),
            person: member_of(&[(ENG, day(-1))]),
            now: day(4),
            expect: pending(day(10)),
        },
        Case {
            rule: "shortened on day 4 to 2 days: the deadline has already passed",
            policy: selected(vec![group(ENG, day(0), 2, 1)]),
            person: member_of(&[(ENG, day(-1))]),
            now: day(4),
            expect: recovery(RecoveryReason::DeadlineMissed, day(2)),
        },
    ]);
}

#[test]
fn a_person_in_several_groups_gets_the_grace_period_of_the_first_group_configured() {
    // OPS was configured first (day 0, 3 days), ENG later (day 1, 20 days); the list
    // order does not matter.
    let policy = selected(vec![group(ENG, day(1), 20, 2), group(OPS, day(0), 3, 1)]);
    let tie = selected(vec![group(ENG, day(0), 20, 2), group(OPS, day(0), 3, 1)]);
    check(vec![
        Case {
            rule: "in both groups: OPS's deadline",
            policy: policy.clone(),
            person: member_of(&[(ENG, day(-1)), (OPS, day(-1))]),
            now: day(2),
            expect: pending(day(3)),
        },
        Case {
            rule: "in both groups, past OPS's deadline: needs recovery although ENG's is later",
            policy: policy.clone(),
            person: member_of(&[(ENG, day(-1)), (OPS, day(-1))]),
            now: day(4),
            expect: recovery(RecoveryReason::DeadlineMissed, day(3)),
        },
        Case {
            rule: "in ENG only: ENG's deadline",
            policy,
            person: member_of(&[(ENG, day(-1))]),
            now: day(4),
            expect: pending(day(21)),
        },
        Case {
            rule: "configured at the same moment: the one configured first in order",
            policy: tie,
            person: member_of(&[(ENG, day(-1)), (OPS, day(-1))]),
            now: day(1),
            expect: pending(day(3)),
        },
    ]);
    let v = evaluate(
        &selected(vec![group(ENG, day(1), 20, 2), group(OPS, day(0), 3, 1)]),
        &member_of(&[(ENG, day(-1)), (OPS, day(-1))]),
        day(2),
    );
    assert_eq!(v.governing_group, Some(OPS));
}

#[test]
fn a_person_added_after_the_grace_period_expired_needs_recovery() {
    check(vec![
        Case {
            rule: "added on day 6 to a group whose 5 days ended on day 5",
            policy: eng_policy(),
            person: member_of(&[(ENG, day(6))]),
            now: day(6),
            expect: recovery(RecoveryReason::AddedAfterGracePeriod, day(5)),
        },
        Case {
            rule: "added an hour before the deadline still has that hour",
            policy: eng_policy(),
            person: member_of(&[(ENG, hours(5 * 24 - 1))]),
            now: hours(5 * 24 - 1),
            expect: pending(day(5)),
        },
        Case {
            rule:
                "under Everyone, someone provisioned after the deadline who did not join with SSO",
            policy: everyone(PolicyMode::Everyone, day(0), 5),
            person: PersonFacts {
                created: day(7),
                ..active()
            },
            now: day(8),
            expect: recovery(RecoveryReason::AddedAfterGracePeriod, day(5)),
        },
    ]);
}

#[test]
fn a_person_who_has_not_switched_by_the_deadline_needs_recovery() {
    check(vec![
        Case {
            rule: "a minute before the deadline",
            policy: eng_policy(),
            person: member_of(&[(ENG, day(-1))]),
            now: day(5) - Duration::minutes(1),
            expect: pending(day(5)),
        },
        Case {
            rule: "at the deadline",
            policy: eng_policy(),
            person: member_of(&[(ENG, day(-1))]),
            now: day(5),
            expect: recovery(RecoveryReason::DeadlineMissed, day(5)),
        },
        Case {
            rule: "under Everyone except guests, past the deadline",
            policy: everyone(PolicyMode::EveryoneExceptGuests, day(0), 1),
            person: active(),
            now: day(2),
            expect: recovery(RecoveryReason::DeadlineMissed, day(1)),
        },
    ]);
}

#[test]
fn recovery_by_an_administrator_gives_a_new_chance() {
    let recovered = |person: PersonFacts, at| PersonFacts {
        record: UnlockRecord {
            recovered_at: Some(at),
            ..Default::default()
        },
        ..person
    };
    check(vec![
        Case {
            rule: "deadline missed, recovered on day 7: a new 5 days",
            policy: eng_policy(),
            person: recovered(member_of(&[(ENG, day(-1))]), day(7)),
            now: day(8),
            expect: pending(day(12)),
        },
        Case {
            rule: "the new chance runs out too",
            policy: eng_policy(),
            person: recovered(member_of(&[(ENG, day(-1))]), day(7)),
            now: day(12),
            expect: recovery(RecoveryReason::DeadlineMissed, day(12)),
        },
        Case {
            rule: "added after the grace period, recovered the day after",
            policy: eng_policy(),
            person: recovered(member_of(&[(ENG, day(6))]), day(7)),
            now: day(7),
            expect: pending(day(12)),
        },
        Case {
            rule: "a recovery from before the person was added does not count",
            policy: eng_policy(),
            person: recovered(member_of(&[(ENG, day(6))]), day(2)),
            now: day(7),
            expect: recovery(RecoveryReason::AddedAfterGracePeriod, day(5)),
        },
    ]);
}

#[test]
fn switched_people_unlock_with_sso_and_invited_people_join_with_it() {
    let switched = PersonFacts {
        record: UnlockRecord {
            switched_at: Some(day(2)),
            ..Default::default()
        },
        ..member_of(&[(ENG, day(-1))])
    };
    let invited = PersonFacts {
        state: PersonState::Invited,
        ..member_of(&[(ENG, day(9))])
    };
    check(vec![
        Case {
            rule: "switched before the deadline, looked at after it",
            policy: eng_policy(),
            person: switched.clone(),
            now: day(40),
            expect: UnlockState::Switched,
        },
        Case {
            rule: "invited into a selected group, even after its grace period",
            policy: eng_policy(),
            person: invited,
            now: day(10),
            expect: UnlockState::JoinsWithSso,
        },
        Case {
            rule: "suspended people are outside the policy",
            policy: eng_policy(),
            person: PersonFacts {
                state: PersonState::Suspended,
                ..member_of(&[(ENG, day(-1))])
            },
            now: day(10),
            expect: not_required(NotRequired::NotInAccount),
        },
    ]);
    assert_eq!(
        evaluate(&eng_policy(), &switched, day(40)).method,
        UnlockMethod::Sso
    );
}

#[test]
fn policy_modes_parse_from_their_names() {
    for mode in [
        PolicyMode::NoOne,
        PolicyMode::SelectedGroups,
        PolicyMode::EveryoneExceptGuests,
        PolicyMode::Everyone,
    ] {
        assert_eq!(PolicyMode::parse(mode.as_str()), Some(mode));
    }
    assert_eq!(
        PolicyMode::parse("Everyone except guests"),
        Some(PolicyMode::EveryoneExceptGuests)
    );
    assert_eq!(PolicyMode::parse("some"), None);
}
