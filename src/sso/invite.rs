//! Join and switch links: 256 random bits in the URL, a SHA-256 digest in the store, one
//! use, an expiry.
//!
//! An invitation row is created by a trigger when a person is provisioned (migration 5),
//! in the directory's own transaction. Its link is *minted* only when it is handed over —
//! by the mailer, or shown by `keybridge people invite-link` — so the plaintext exists
//! only in the process that delivers it. Minting again replaces the digest: the older
//! link stops working.

use base64::Engine;
use rand::RngCore;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::policy::UnlockState;
use super::unlock::{find_person, load_policy, verdict};
use super::{events, parse_time, Sso, SsoError};
use crate::directory::audit::{self, Subject};
use crate::secrets::Secret;
use crate::store::invitations::{self, InvitationRow};
use crate::store::people::{self, PersonRow, PersonState};
use crate::store::{format_timestamp, StoreError};

/// How long a link works after it was handed over.
pub const LINK_LIFETIME: Duration = Duration::days(7);

/// Why a link cannot be used, in words for the person who clicked it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("This link is not valid. Check that it was copied completely, or ask your administrator for a new one.")]
    Unknown,
    #[error("This link was already used. Each link works once; ask your administrator for a new one if you still need it.")]
    Used,
    #[error("This link has expired. Ask your administrator for a new one.")]
    Expired,
    #[error("This invitation was withdrawn.")]
    Revoked,
    #[error("{0}")]
    NotApplicable(String),
}

/// Digest of a link token, as stored.
pub(super) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn new_token() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Gives invitation `seq` a fresh token and returns it.
pub(super) fn mint(conn: &Connection, seq: i64, now: OffsetDateTime) -> Result<Secret, StoreError> {
    let token = new_token();
    invitations::mint(
        conn,
        seq,
        &digest(token.expose()),
        &format_timestamp(now),
        &format_timestamp(now + LINK_LIFETIME),
    )?;
    Ok(token)
}

/// Hands a link over to the admin: mints its token, marks the invitation delivered
/// (so the mailer does not send it too) and audits it. `kind` is "join" or "switch".
fn hand_over(
    conn: &Connection,
    seq: i64,
    person: &PersonRow,
    kind: &str,
    now: OffsetDateTime,
    actor: &str,
) -> Result<Secret, SsoError> {
    let token = mint(conn, seq, now)?;
    invitations::mark_delivered(conn, seq, &format_timestamp(now))?;
    audit::success(
        conn,
        events::INVITATION_LINK,
        Subject::user(&person.id, &person.user_name),
        vec![kind.into()],
        actor,
    )?;
    Ok(token)
}

/// The link for a token.
pub fn link_url(public_url: &str, token: &Secret) -> Secret {
    Secret::new(format!(
        "{}/join/{}",
        public_url.trim_end_matches('/'),
        token.expose()
    ))
}

/// Finds the live invitation a token names, and its person.
pub(super) fn resolve(
    conn: &Connection,
    token: &str,
    now: OffsetDateTime,
) -> Result<(InvitationRow, PersonRow), SsoError> {
    let inv = invitations::by_digest(conn, &digest(token))?.ok_or(LinkError::Unknown)?;
    if inv.used.is_some() {
        return Err(LinkError::Used.into());
    }
    if inv.revoked.is_some() {
        return Err(LinkError::Revoked.into());
    }
    match &inv.expires {
        Some(e) if parse_time(e)? > now => {}
        _ => return Err(LinkError::Expired.into()),
    }
    let person = person_by_seq(conn, inv.person_seq)?.ok_or(LinkError::Revoked)?;
    let expected = if inv.purpose == "join" {
        PersonState::Invited
    } else {
        PersonState::Active
    };
    if person.state != expected {
        return Err(match person.state {
            PersonState::Active => LinkError::Used,
            _ => LinkError::Revoked,
        }
        .into());
    }
    Ok((inv, person))
}

pub(super) fn person_by_seq(conn: &Connection, seq: i64) -> Result<Option<PersonRow>, StoreError> {
    use rusqlite::OptionalExtension;
    let sql = format!("SELECT {} FROM people WHERE seq = ?1", people::COLUMNS);
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([seq], people::from_row)
        .optional()?)
}

impl Sso {
    /// A fresh join link for an Invited person, to hand over by hand (the previous link
    /// stops working). Writes a `user_invitation_link` event.
    pub async fn invite_link(&self, actor: &str, who: &str) -> Result<Secret, SsoError> {
        let public = self.public_url().await?;
        let now = self.now();
        let (actor, who) = (actor.to_owned(), who.to_owned());
        let token = self
            .store
            .write(move |conn| -> Result<Secret, SsoError> {
                let person = find_person(conn, &who)?;
                if person.state != PersonState::Invited {
                    return Err(LinkError::NotApplicable(format!(
                        "{who} is {}, not invited; only invited people get a join link",
                        person.state.as_str()
                    ))
                    .into());
                }
                let seq = match invitations::live_for(conn, person.seq, "join")? {
                    Some(inv) => inv.seq,
                    None => invitations::insert(conn, person.seq, "join", &format_timestamp(now))?,
                };
                hand_over(conn, seq, &person, "join", now, &actor)
            })
            .await?;
        Ok(link_url(&public, &token))
    }

    /// A link for an Active person whom the policy asks to switch to SSO before their
    /// deadline.
    pub async fn switch_link(&self, actor: &str, who: &str) -> Result<Secret, SsoError> {
        let public = self.public_url().await?;
        let now = self.now();
        let (actor, who) = (actor.to_owned(), who.to_owned());
        let token = self
            .store
            .write(move |conn| -> Result<Secret, SsoError> {
                let person = find_person(conn, &who)?;
                let v = verdict(conn, &load_policy(conn)?, &person, now)?;
                match v.state {
                    UnlockState::SwitchPending { .. } => {}
                    UnlockState::NeedsRecovery { .. } => {
                        return Err(LinkError::NotApplicable(format!(
                            "{who} missed the deadline and needs account recovery first (`keybridge sso recover {who}`)"
                        ))
                        .into())
                    }
                    other => {
                        return Err(LinkError::NotApplicable(format!(
                            "{who} has nothing to switch ({})",
                            other.label()
                        ))
                        .into())
                    }
                }
                let stamp = format_timestamp(now);
                invitations::revoke_live(conn, person.seq, "switch", &stamp)?;
                let seq = invitations::insert(conn, person.seq, "switch", &stamp)?;
                hand_over(conn, seq, &person, "switch", now, &actor)
            })
            .await?;
        Ok(link_url(&public, &token))
    }
}
