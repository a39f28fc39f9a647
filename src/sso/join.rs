//! Joining (and switching) through a link. When the policy says the person unlocks with
//! SSO, they sign in through the identity provider (the bridge as a public client with
//! PKCE) and the verified email must be theirs; otherwise they simply accept. Either way
//! the link is used up and the person becomes Active, in one transaction with its event.

use std::collections::HashMap;
use std::time::Instant;

use rusqlite::Connection;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::invite::{person_by_seq, resolve, LinkError};
use super::oidc::{self, Callback, Discovered, PendingSignIn, SignInError};
use super::policy::UnlockState;
use super::unlock::{load_policy, verdict};
use super::{events, Sso, SsoError, REDIRECT_PATH};
use crate::directory::audit::{self, Subject};
use crate::secrets::Secret;
use crate::store::invitations;
use crate::store::people::{self, PersonState};
use crate::store::{format_timestamp, sso as sso_table};

/// How long a sign-in started from a join page may take.
const PENDING_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// Pending sign-ins kept at most (each needs a valid link to start).
const PENDING_MAX: usize = 10_000;

/// What the join page shows before anything is used up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JoinView {
    pub display_name: String,
    pub email: String,
    /// `join` or `switch`.
    pub purpose: String,
    /// Whether the person must sign in through the identity provider.
    pub with_sso: bool,
}

/// The outcome of a successful join or switch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Joined {
    pub user_name: String,
    pub purpose: String,
    pub with_sso: bool,
}

struct PendingJoin {
    signin: PendingSignIn,
    discovered: Discovered,
    invitation_seq: i64,
    expected_email: String,
    binding: [u8; 32],
    started: Instant,
}

/// Sign-ins started from join pages, by `state`.
#[derive(Default)]
pub struct PendingJoins {
    by_state: HashMap<String, PendingJoin>,
}

impl PendingJoins {
    fn prune(&mut self) {
        self.by_state
            .retain(|_, p| p.started.elapsed() < PENDING_TTL);
    }
}

/// The browser binding handed out with a sign-in (a cookie): the response from the
/// identity provider is accepted only in the browser that started the sign-in.
pub struct SignInStart {
    pub authorization_url: url::Url,
    pub binding: Secret,
}

fn needs_sso(
    conn: &Connection,
    person: &people::PersonRow,
    now: OffsetDateTime,
) -> Result<UnlockState, SsoError> {
    Ok(verdict(conn, &load_policy(conn)?, person, now)?.state)
}

fn email_of(p: &people::PersonRow) -> String {
    p.email.clone().unwrap_or_else(|| p.user_name.clone())
}

impl Sso {
    /// What a link is for, without using it.
    pub async fn inspect_link(&self, token: &str) -> Result<JoinView, SsoError> {
        let now = self.now();
        let token = token.to_owned();
        self.store
            .read(move |conn| -> Result<JoinView, SsoError> {
                let (inv, person) = resolve(conn, &token, now)?;
                let state = needs_sso(conn, &person, now)?;
                if let UnlockState::NeedsRecovery { .. } = state {
                    return Err(LinkError::NotApplicable(
                        "Your deadline to switch to single sign-on has passed, so you were signed out. Ask your administrator to recover your account.".into(),
                    )
                    .into());
                }
                Ok(JoinView {
                    display_name: person
                        .display_name
                        .clone()
                        .unwrap_or_else(|| person.user_name.clone()),
                    email: email_of(&person),
                    purpose: inv.purpose,
                    with_sso: state.sso_required(),
                })
            })
            .await
    }

    /// Joins without the identity provider: allowed only when the policy does not ask
    /// this person to use SSO.
    pub async fn accept_link(&self, actor: &str, token: &str) -> Result<Joined, SsoError> {
        let now = self.now();
        let (actor, token) = (actor.to_owned(), token.to_owned());
        self.store
            .write(move |conn| -> Result<Joined, SsoError> {
                let (inv, person) = resolve(conn, &token, now)?;
                if needs_sso(conn, &person, now)?.sso_required() {
                    return Err(LinkError::NotApplicable(
                        "You join by signing in with your identity provider: use the sign-in button on the join page.".into(),
                    )
                    .into());
                }
                redeem(conn, inv.seq, false, &actor, now)
            })
            .await
    }

    /// Starts the identity provider's sign-in for a link whose person must use SSO.
    pub async fn begin_join_sign_in(&self, token: &str) -> Result<SignInStart, SsoError> {
        let now = self.now();
        let tok = token.to_owned();
        let (inv_seq, expected_email) = self
            .store
            .read(move |conn| -> Result<(i64, String), SsoError> {
                let (inv, person) = resolve(conn, &tok, now)?;
                match needs_sso(conn, &person, now)? {
                    UnlockState::JoinsWithSso | UnlockState::SwitchPending { .. } => {}
                    UnlockState::NeedsRecovery { .. } => {
                        return Err(LinkError::NotApplicable(
                            "Your deadline to switch to single sign-on has passed; ask your administrator to recover your account.".into(),
                        )
                        .into())
                    }
                    _ => {
                        return Err(LinkError::NotApplicable(
                            "This account does not use single sign-on; accept the invitation on the join page.".into(),
                        )
                        .into())
                    }
                }
                Ok((inv.seq, email_of(&person)))
            })
            .await?;
        let config = self.config().await?;
        let client_id = self.client_id()?;
        let redirect = format!("{}{REDIRECT_PATH}", self.public_url().await?);
        let discovered =
            oidc::discover(&self.http, &config.well_known_url, &mut Vec::new()).await?;
        let signin = oidc::begin(&discovered, &client_id, &redirect)?;
        let binding = Secret::new(hex::encode(rand::random::<[u8; 32]>()));
        let start = SignInStart {
            authorization_url: signin.url.clone(),
            binding: Secret::new(binding.expose()),
        };
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| SignInError::Setup("the sign-in table is unavailable".into()))?;
        pending.prune();
        if pending.by_state.len() >= PENDING_MAX {
            return Err(SignInError::Setup(
                "too many sign-ins are in progress; try again in a few minutes".into(),
            )
            .into());
        }
        pending.by_state.insert(
            signin.state().to_owned(),
            PendingJoin {
                signin,
                discovered,
                invitation_seq: inv_seq,
                expected_email,
                binding: Sha256::digest(binding.expose().as_bytes()).into(),
                started: Instant::now(),
            },
        );
        Ok(start)
    }

    /// Finishes a join sign-in when the browser comes back to the redirect URI. The
    /// pending sign-in is removed first, so a replayed response finds nothing.
    pub async fn finish_join_sign_in(
        &self,
        actor: &str,
        callback: Callback,
        binding: Option<&str>,
    ) -> Result<Joined, SsoError> {
        let state = callback
            .state
            .clone()
            .ok_or(SignInError::StateUnknownOrReplayed)?;
        let pending = {
            let mut map = self
                .pending
                .lock()
                .map_err(|_| SignInError::Setup("the sign-in table is unavailable".into()))?;
            map.prune();
            map.by_state
                .remove(&state)
                .ok_or(SignInError::StateUnknownOrReplayed)?
        };
        let presented: [u8; 32] = Sha256::digest(binding.unwrap_or("").as_bytes()).into();
        if !bool::from(presented.ct_eq(&pending.binding)) {
            return Err(SignInError::StateUnknownOrReplayed.into());
        }
        let code = callback.into_code()?;
        let client_id = self.client_id()?;
        // Token expiry is judged by the real clock, as the identity provider's is; the
        // injected clock governs the account's own days.
        let identity = oidc::finish(
            &self.http,
            &pending.discovered,
            &client_id,
            pending.signin,
            code,
            OffsetDateTime::now_utc(),
        )
        .await?;
        let got = identity.email.ok_or(SignInError::NoEmail)?;
        if !same_email(&got, &pending.expected_email) {
            return Err(SignInError::EmailMismatch {
                expected: pending.expected_email,
                got,
            }
            .into());
        }
        let now = self.now();
        let (actor, seq) = (actor.to_owned(), pending.invitation_seq);
        self.store
            .write(move |conn| -> Result<Joined, SsoError> { redeem(conn, seq, true, &actor, now) })
            .await
    }
}

/// Email addresses are compared without regard to case: domains are case-insensitive and
/// identity providers differ in how they case the local part.
fn same_email(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Uses the invitation and applies it: a join makes the person Active (`user_join`), a
/// switch records SSO as their unlock method (`sso_switched`).
fn redeem(
    conn: &Connection,
    invitation_seq: i64,
    with_sso: bool,
    actor: &str,
    now: OffsetDateTime,
) -> Result<Joined, SsoError> {
    let inv = invitations::by_seq(conn, invitation_seq)?.ok_or(LinkError::Unknown)?;
    let stamp = format_timestamp(now);
    // The conditional UPDATE is what makes the link single-use, also when two requests
    // race: only one of them changes the row.
    if !invitations::mark_used(conn, inv.seq, &stamp)? {
        return Err(if inv.revoked.is_some() {
            LinkError::Revoked
        } else {
            LinkError::Used
        }
        .into());
    }
    let mut person = person_by_seq(conn, inv.person_seq)?.ok_or(LinkError::Revoked)?;
    let subject = Subject::user(&person.id, &person.user_name);
    if inv.purpose == "join" {
        if person.state != PersonState::Invited {
            return Err(LinkError::Used.into());
        }
        person.state = PersonState::Active;
        person.joined_at = Some(stamp.clone());
        person.version += 1;
        person.modified = stamp.clone();
        people::update(conn, &person)?;
        let method = if with_sso { "sso" } else { "account_password" };
        audit::success(
            conn,
            events::USER_JOIN,
            subject,
            vec![format!("unlock={method}")],
            actor,
        )?;
    } else {
        if person.state != PersonState::Active || !with_sso {
            return Err(LinkError::NotApplicable(
                "Switching to single sign-on needs a sign-in with the identity provider.".into(),
            )
            .into());
        }
        audit::success(conn, events::SSO_SWITCHED, subject, vec![], actor)?;
    }
    if with_sso {
        let mut record = sso_table::person(conn, person.seq)?;
        record.switched_at = Some(stamp);
        record.signed_out_at = None;
        sso_table::put_person(conn, person.seq, &record)?;
    }
    Ok(Joined {
        user_name: person.user_name,
        purpose: inv.purpose,
        with_sso,
    })
}
