//! The unlock policy over a real store with an injected clock: grace periods counted from
//! configuration, edits that never restart them, deadlines that sign people out (once,
//! with an event), and recovery that gives a new chance.

mod peers;

use std::sync::Arc;

use keybridge::directory::Actor;
use keybridge::sso::policy::{PolicyMode, RecoveryReason, UnlockState};
use keybridge::sso::{ManualClock, SsoError};
use peers::SsoBridge;
use time::{Duration, OffsetDateTime};

async fn active_person(b: &SsoBridge, email: &str) -> String {
    let id = b.create_user(email).await;
    b.directory
        .confirm_person(&Actor::admin(), email, &b.base)
        .await
        .expect("confirm");
    id
}

#[tokio::test]
async fn editing_a_grace_period_moves_the_deadline_from_the_original_date() {
    let t0 = OffsetDateTime::now_utc();
    let clock = ManualClock::at(t0);
    let b = SsoBridge::start_with_clock(Arc::new(clock.clone())).await;
    b.create_group("Engineering", &[]).await;
    b.sso
        .set_policy_mode("t", PolicyMode::SelectedGroups, None)
        .await
        .expect("mode");
    let p = b
        .sso
        .select_group("t", "Engineering", None)
        .await
        .expect("select");
    assert_eq!(p.groups[0].grace_days, 5, "the default is 5 days");
    let first = p.groups[0].deadline;

    clock.advance(Duration::days(3));
    let p = b
        .sso
        .select_group("t", "engineering", Some(10))
        .await
        .expect("edit");
    assert_eq!(p.groups[0].configured_at, first - Duration::days(5));
    assert_eq!(p.groups[0].deadline, first + Duration::days(5));

    for bad in [0, 31] {
        assert!(matches!(
            b.sso.select_group("t", "Engineering", Some(bad)).await,
            Err(SsoError::BadGraceDays(_))
        ));
    }
    assert!(matches!(
        b.sso.select_group("t", "Owners", None).await,
        Err(SsoError::OwnersCannotBeSelected)
    ));
    b.stop().await;
}

#[tokio::test]
async fn missing_the_deadline_signs_a_person_out_once_and_recovery_gives_a_new_chance() {
    let t0 = OffsetDateTime::now_utc();
    let clock = ManualClock::at(t0);
    let b = SsoBridge::start_with_clock(Arc::new(clock.clone())).await;
    let id = active_person(&b, "gus@example.com").await;
    b.create_group("Engineering", &[&id]).await;
    b.sso
        .set_policy_mode("t", PolicyMode::SelectedGroups, None)
        .await
        .expect("mode");
    b.sso
        .select_group("t", "Engineering", Some(2))
        .await
        .expect("select");
    let deadline = match b
        .sso
        .person_status("gus@example.com")
        .await
        .expect("status")
        .unlock
    {
        UnlockState::SwitchPending { deadline } => deadline,
        other => panic!("expected a pending switch, got {other:?}"),
    };
    // Stored times keep milliseconds.
    assert!((deadline - (t0 + Duration::days(2))).abs() < Duration::milliseconds(1));

    clock.advance(Duration::days(2));
    assert_eq!(
        b.sso.enforce_deadlines("t").await.expect("enforce"),
        ["gus@example.com"]
    );
    assert!(
        b.sso
            .enforce_deadlines("t")
            .await
            .expect("again")
            .is_empty(),
        "signed out once"
    );
    let st = b
        .sso
        .person_status("gus@example.com")
        .await
        .expect("status");
    assert!(matches!(
        st.unlock,
        UnlockState::NeedsRecovery {
            reason: RecoveryReason::DeadlineMissed,
            ..
        }
    ));
    assert!(st.signed_out_at.is_some());
    // A switch link is not handed out to someone who must be recovered first.
    assert!(b.sso.switch_link("t", "gus@example.com").await.is_err());

    clock.advance(Duration::hours(1));
    let st = b
        .sso
        .recover("t", "gus@example.com")
        .await
        .expect("recover");
    assert!(st.signed_out_at.is_none());
    match st.unlock {
        UnlockState::SwitchPending { deadline } => {
            assert!(
                deadline > t0 + Duration::days(4),
                "a new 2-day period from the recovery"
            )
        }
        other => panic!("expected a new chance, got {other:?}"),
    }
    let names: Vec<String> = b.events().await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names.iter().filter(|n| *n == "sso_deadline_missed").count(),
        1
    );
    assert!(names.contains(&"sso_recovered".to_owned()));
    b.stop().await;
}

#[tokio::test]
async fn a_person_added_to_a_group_after_its_grace_period_needs_recovery() {
    // The group was configured ten days ago with five days of grace; membership times
    // come from the database's own clock (now), so the person is added after expiry.
    let clock = ManualClock::at(OffsetDateTime::now_utc() - Duration::days(10));
    let b = SsoBridge::start_with_clock(Arc::new(clock.clone())).await;
    let gid = b.create_group("Engineering", &[]).await;
    b.sso
        .set_policy_mode("t", PolicyMode::SelectedGroups, None)
        .await
        .expect("mode");
    b.sso
        .select_group("t", "Engineering", None)
        .await
        .expect("select");
    clock.set(OffsetDateTime::now_utc());

    let id = active_person(&b, "hana@example.com").await;
    b.set_members(&gid, "Engineering", &[&id]).await;
    let st = b
        .sso
        .person_status("hana@example.com")
        .await
        .expect("status");
    assert!(
        matches!(
            st.unlock,
            UnlockState::NeedsRecovery {
                reason: RecoveryReason::AddedAfterGracePeriod,
                ..
            }
        ),
        "{st:?}"
    );
    assert_eq!(st.group.as_deref(), Some("Engineering"));
    assert_eq!(
        b.sso.enforce_deadlines("t").await.expect("enforce"),
        ["hana@example.com"]
    );
    b.stop().await;
}

#[tokio::test]
async fn owners_and_guests_follow_the_policy_modes() {
    let clock = ManualClock::at(OffsetDateTime::now_utc());
    let b = SsoBridge::start_with_clock(Arc::new(clock.clone())).await;
    let owner = active_person(&b, "olga@example.com").await;
    let guest = b
        .directory
        .create_user(
            &Actor::admin(),
            serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "gina@example.com", "userType": "Guest",
                "emails": [{"value": "gina@example.com", "primary": true}]}),
            &b.base,
        )
        .await
        .expect("guest")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(!guest.is_empty());
    active_person(&b, "mia@example.com").await;
    // Owners: the built-in group.
    let owners_id = b
        .store
        .read(|conn| -> Result<String, keybridge::store::StoreError> {
            Ok(
                conn.query_row("SELECT id FROM groups WHERE kind = 'owners'", [], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
        .expect("owners");
    b.set_members(&owners_id, "Owners", &[&owner]).await;

    let state = |who: &'static str| {
        let sso = b.sso.clone();
        async move { sso.person_status(who).await.expect("status").unlock }
    };
    b.sso
        .set_policy_mode("t", PolicyMode::EveryoneExceptGuests, None)
        .await
        .expect("mode");
    assert!(!state("olga@example.com").await.sso_required());
    assert!(!state("gina@example.com").await.sso_required());
    assert!(state("mia@example.com").await.sso_required());
    b.sso
        .set_policy_mode("t", PolicyMode::Everyone, None)
        .await
        .expect("mode");
    assert!(
        !state("olga@example.com").await.sso_required(),
        "owners never"
    );
    assert!(
        state("gina@example.com").await.sso_required(),
        "guests under Everyone"
    );
    b.sso
        .set_policy_mode("t", PolicyMode::NoOne, None)
        .await
        .expect("mode");
    assert!(!state("mia@example.com").await.sso_required());
    b.stop().await;
}
