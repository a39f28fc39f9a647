//! Invitation mail over SMTP (lettre, rustls on ring). The SMTP settings live in the
//! settings table; the password in the secret store.
//!
//! The mailer takes invitations not delivered yet, mints each a link just before sending
//! (so the plaintext never rests anywhere), and marks it delivered after the relay
//! accepted it. A failed send is retried with a growing pause; the log names the person
//! and the relay's answer, never the link.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::invite::{link_url, mint, person_by_seq};
use super::unlock::{load_policy, verdict};
use super::{events, Sso, SsoError};
use crate::directory::audit::{self, Subject};
use crate::secrets::Secret;
use crate::store::invitations;
use crate::store::{format_timestamp, settings, StoreError};

const SETTINGS_KEY: &str = "mail.smtp";
const PASSWORD_SECRET: &str = "smtp/password";
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required), usually port 587.
    Starttls,
    /// TLS from the first byte, usually port 465.
    Tls,
    /// No encryption: only for a relay on this machine (127.0.0.1, ::1, localhost).
    None,
}

/// Where and how to send mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub relay: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// The sender, e.g. `Keybridge <it@example.com>`.
    pub from: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("'{0}' is not an email address (write it as name@example.com or \"Name <name@example.com>\")")]
    BadAddress(String),
    #[error("SMTP without encryption is allowed only to a relay on this machine; use --security starttls or tls for {0}")]
    PlainToRemote(String),
    #[error("the SMTP relay {relay} refused or failed: {reason}")]
    Send { relay: String, reason: String },
    #[error("cannot build the message: {0}")]
    Build(String),
}

/// A freshly minted link and what the message needs to say.
struct Minted {
    token: Secret,
    to: String,
    name: String,
    purpose: String,
    with_sso: bool,
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "::1" | "[::1]" | "localhost")
}

impl Sso {
    /// Saves the SMTP settings (and the password into the secret store).
    pub async fn configure_smtp(
        &self,
        actor: &str,
        s: SmtpSettings,
        password: Option<&Secret>,
    ) -> Result<(), SsoError> {
        s.from
            .parse::<Mailbox>()
            .map_err(|_| MailError::BadAddress(s.from.clone()))?;
        if s.security == SmtpSecurity::None && !is_loopback(&s.relay) {
            return Err(MailError::PlainToRemote(s.relay.clone()).into());
        }
        if let Some(p) = password {
            self.secrets()?.set(PASSWORD_SECRET, p)?;
        }
        let json = serde_json::to_string(&s).map_err(|e| StoreError::Internal(e.to_string()))?;
        let actor = actor.to_owned();
        self.store
            .write(move |conn| -> Result<(), SsoError> {
                settings::set(conn, SETTINGS_KEY, &json)?;
                audit::success(
                    conn,
                    "mail_settings_update",
                    Subject::default(),
                    vec![
                        "relay".into(),
                        "port".into(),
                        "security".into(),
                        "from".into(),
                    ],
                    &actor,
                )?;
                Ok(())
            })
            .await
    }

    /// Whether an SMTP password is kept in the secret store.
    pub fn has_smtp_password(&self) -> bool {
        matches!(
            self.secrets.as_deref().map(|s| s.get(PASSWORD_SECRET)),
            Some(Ok(Some(_)))
        )
    }

    /// The SMTP settings, if any.
    pub async fn smtp_settings(&self) -> Result<Option<SmtpSettings>, SsoError> {
        self.store
            .read(|conn| -> Result<Option<SmtpSettings>, SsoError> {
                match settings::get(conn, SETTINGS_KEY)? {
                    Some(json) => Ok(Some(serde_json::from_str(&json).map_err(|_| {
                        StoreError::Corrupt("the SMTP settings are damaged".into())
                    })?)),
                    None => Ok(None),
                }
            })
            .await
    }

    fn transport(&self, s: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, SsoError> {
        let relay_err = |e: lettre::transport::smtp::Error| MailError::Send {
            relay: s.relay.clone(),
            reason: e.to_string(),
        };
        let builder = match s.security {
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.relay).map_err(relay_err)?
            }
            SmtpSecurity::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&s.relay).map_err(relay_err)?
            }
            SmtpSecurity::None => {
                if !is_loopback(&s.relay) {
                    return Err(MailError::PlainToRemote(s.relay.clone()).into());
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.relay)
            }
        };
        let mut builder = builder.port(s.port).timeout(Some(SEND_TIMEOUT));
        if let Some(user) = &s.username {
            let password = match self.secrets.as_deref() {
                Some(store) => store.get(PASSWORD_SECRET)?,
                None => None,
            };
            if let Some(p) = password {
                builder =
                    builder.credentials(Credentials::new(user.clone(), p.expose().to_owned()));
            }
        }
        Ok(builder.build())
    }

    /// Sends every invitation that is due; returns how many went out. Without SMTP
    /// settings nothing is sent (the links are handed over by hand).
    pub async fn deliver_due_invitations(&self, actor: &str) -> Result<usize, SsoError> {
        let Some(smtp) = self.smtp_settings().await? else {
            return Ok(0);
        };
        let public = self.public_url().await?;
        let now = self.now();
        let stamp = format_timestamp(now);
        let due = self
            .store
            .read(move |conn| -> Result<_, SsoError> {
                Ok(invitations::due_for_delivery(conn, &stamp, 50)?)
            })
            .await?;
        let transport = self.transport(&smtp)?;
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|_| MailError::BadAddress(smtp.from.clone()))?;
        let mut sent = 0;
        for inv in due {
            match self
                .deliver_one(&transport, &from, &public, &smtp.relay, inv.seq, actor, now)
                .await
            {
                Ok(true) => sent += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(invitation = inv.seq, error = %e, "could not mail an invitation; will retry");
                    let backoff = 60i64 << inv.attempts.clamp(0, 6);
                    let next = format_timestamp(now + time::Duration::seconds(backoff));
                    let seq = inv.seq;
                    self.store
                        .write(move |conn| -> Result<(), SsoError> {
                            invitations::mark_attempt_failed(conn, seq, &next)?;
                            Ok(())
                        })
                        .await?;
                }
            }
        }
        Ok(sent)
    }

    #[allow(clippy::too_many_arguments)]
    async fn deliver_one(
        &self,
        transport: &AsyncSmtpTransport<Tokio1Executor>,
        from: &Mailbox,
        public: &str,
        relay: &str,
        seq: i64,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<bool, SsoError> {
        // Mint in its own write, after re-checking that the invitation is still live, so
        // a person deprovisioned meanwhile gets no mail.
        let minted = self
            .store
            .write(move |conn| -> Result<Option<Minted>, SsoError> {
                let Some(inv) = invitations::by_seq(conn, seq)? else {
                    return Ok(None);
                };
                if inv.used.is_some() || inv.revoked.is_some() || inv.delivered.is_some() {
                    return Ok(None);
                }
                let Some(person) = person_by_seq(conn, inv.person_seq)? else {
                    return Ok(None);
                };
                let with_sso = verdict(conn, &load_policy(conn)?, &person, now)?
                    .state
                    .sso_required();
                let token = mint(conn, seq, now)?;
                let to = person
                    .email
                    .clone()
                    .unwrap_or_else(|| person.user_name.clone());
                let name = person
                    .display_name
                    .clone()
                    .unwrap_or_else(|| person.user_name.clone());
                Ok(Some(Minted {
                    token,
                    to,
                    name,
                    purpose: inv.purpose,
                    with_sso,
                }))
            })
            .await?;
        let Some(Minted {
            token,
            to,
            name,
            purpose,
            with_sso,
        }) = minted
        else {
            return Ok(false);
        };
        let to_box: Mailbox = Mailbox::new(
            Some(name.clone()),
            to.parse().map_err(|_| MailError::BadAddress(to.clone()))?,
        );
        let link = link_url(public, &token);
        let (subject, intro) = if purpose == "join" {
            (
                "You are invited to join your team's account",
                "You have been invited to join your team's account.",
            )
        } else {
            (
                "Switch to single sign-on",
                "Your team now unlocks its account with single sign-on.",
            )
        };
        let how = if with_sso {
            "Open the link and sign in with your identity provider (JumpCloud) to finish."
        } else {
            "Open the link and accept the invitation to finish."
        };
        let body = format!(
            "Hello {name},\n\n{intro}\n{how}\n\n{}\n\nThe link works once and expires in 7 days.\n",
            link.expose()
        );
        let message = Message::builder()
            .from(from.clone())
            .to(to_box)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Build(e.to_string()))?;
        transport.send(message).await.map_err(|e| MailError::Send {
            relay: relay.to_owned(),
            reason: e.to_string(),
        })?;
        let stamp = format_timestamp(now);
        let actor = actor.to_owned();
        self.store
            .write(move |conn| -> Result<(), SsoError> {
                invitations::mark_delivered(conn, seq, &stamp)?;
                if let Some(inv) = invitations::by_seq(conn, seq)? {
                    if let Some(p) = person_by_seq(conn, inv.person_seq)? {
                        audit::success(
                            conn,
                            events::INVITATION_MAILED,
                            Subject::user(&p.id, &p.user_name),
                            vec![inv.purpose],
                            &actor,
                        )?;
                    }
                }
                Ok(())
            })
            .await?;
        Ok(true)
    }

    /// Runs the background duties of a serving bridge until `stop` fires: mailing due
    /// invitations and signing out people who missed their deadline.
    pub async fn run_background(
        self,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            if let Err(e) = self.deliver_due_invitations("keybridge").await {
                tracing::warn!(error = %e, "invitation mail round failed");
            }
            if let Err(e) = self.enforce_deadlines("keybridge").await {
                tracing::warn!(error = %e, "checking SSO deadlines failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
