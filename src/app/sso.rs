//! Single sign-on as the app shows it: the SSO settings (client ID in the secret store,
//! well-known URL, redirect URIs to register, SMTP for invitation mail), the setup check
//! and "test connection", the unlock policy editor, and each person's unlock status with
//! recovery and hand-over links. Everything here wraps `crate::sso`; the types are plain
//! data for the UI.
//!
//! Secrets: the client ID and the SMTP password go from the form straight into the secret
//! store and are never sent back (the views say only whether one is stored). The input
//! types redact them in `Debug`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::directory_views::PersonStateView;
use super::{non_empty, App, AppError, FieldProblem};
use crate::secrets::Secret;
use crate::sso::check::{CheckOptions, OpenUrl};
use crate::sso::mail::{SmtpSecurity, SmtpSettings};
use crate::sso::policy::{
    NotRequired, PolicyMode, RecoveryReason, UnlockMethod, UnlockState, DEFAULT_GRACE_DAYS,
    MAX_GRACE_DAYS, MIN_GRACE_DAYS,
};
use crate::sso::unlock::PersonUnlock;
use crate::sso::{
    Sso, SsoConfig, SsoError, DEFAULT_WELL_KNOWN, LOOPBACK_REDIRECT_PATH, REDIRECT_PATH,
};

/// Who the audit log names for what the admin does in the app.
const ACTOR: &str = "desktop app";

/// How long "test connection" waits for the browser to come back.
pub const SIGN_IN_TIMEOUT_SECONDS: u32 = 180;

fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

/// A redirect URI to register in the identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RedirectUriView {
    /// What it is for.
    pub label: String,
    pub uri: String,
    /// What to watch for when registering it.
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurityView {
    /// STARTTLS (required), usually port 587.
    Starttls,
    /// TLS from the first byte, usually port 465.
    Tls,
    /// No encryption: only to a relay on this machine.
    None,
}

impl From<SmtpSecurity> for SmtpSecurityView {
    fn from(s: SmtpSecurity) -> Self {
        match s {
            SmtpSecurity::Starttls => SmtpSecurityView::Starttls,
            SmtpSecurity::Tls => SmtpSecurityView::Tls,
            SmtpSecurity::None => SmtpSecurityView::None,
        }
    }
}

impl From<SmtpSecurityView> for SmtpSecurity {
    fn from(s: SmtpSecurityView) -> Self {
        match s {
            SmtpSecurityView::Starttls => SmtpSecurity::Starttls,
            SmtpSecurityView::Tls => SmtpSecurity::Tls,
            SmtpSecurityView::None => SmtpSecurity::None,
        }
    }
}

/// The stored SMTP settings (the password only as "stored or not").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SmtpView {
    pub relay: String,
    pub port: u16,
    pub security: SmtpSecurityView,
    pub username: Option<String>,
    pub from: String,
    pub password_stored: bool,
}

/// The SSO settings page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SsoSettingsView {
    pub well_known_url: String,
    /// JumpCloud's, the default.
    pub default_well_known_url: String,
    /// Whether a client ID is kept in the secret store (it is never sent back).
    pub client_id_stored: bool,
    /// The public URL the admin entered, if any.
    pub public_url: Option<String>,
    /// The origin links and the bridge's redirect are built on now: the entered public
    /// URL, else the running bridge's address, else the one the settings give.
    pub effective_public_url: Option<String>,
    /// When the SSO settings were last saved.
    pub configured_at: Option<String>,
    pub redirect_uris: Vec<RedirectUriView>,
    /// Why the client ID cannot be kept (no secret store), when so.
    pub secrets_problem: Option<String>,
    pub smtp: Option<SmtpView>,
    /// How long "test connection" waits for the browser.
    pub sign_in_timeout_seconds: u32,
}

/// What the SSO settings form saves. An empty `client_id` keeps the stored one.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SsoSettingsInput {
    pub well_known_url: String,
    pub client_id: Option<String>,
    pub public_url: Option<String>,
}

impl fmt::Debug for SsoSettingsInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoSettingsInput")
            .field("well_known_url", &self.well_known_url)
            .field("client_id", &self.client_id.as_ref().map(|_| "[redacted]"))
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// What the SMTP form saves. An empty `password` keeps the stored one.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SmtpInput {
    pub relay: String,
    pub port: u32,
    pub security: SmtpSecurityView,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

impl fmt::Debug for SmtpInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpInput")
            .field("relay", &self.relay)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("from", &self.from)
            .finish()
    }
}

/// What to check: the form's well-known URL, and a client ID typed but not saved yet
/// (empty: the stored one).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SsoCheckRequest {
    pub well_known_url: String,
    pub client_id: Option<String>,
    /// Also sign in for real through the system browser ("test connection").
    pub sign_in: bool,
}

impl fmt::Debug for SsoCheckRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoCheckRequest")
            .field("well_known_url", &self.well_known_url)
            .field("client_id", &self.client_id.as_ref().map(|_| "[redacted]"))
            .field("sign_in", &self.sign_in)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CheckStepView {
    pub name: String,
    pub ok: bool,
    /// What was found, or what to fix in the identity provider.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SsoCheckResult {
    pub steps: Vec<CheckStepView>,
    /// Every step passed.
    pub passed: bool,
    /// The admin cancelled the sign-in (or started another check).
    pub cancelled: bool,
    /// Who signed in, when the test connection passed.
    pub signed_in_as: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PolicyModeView {
    NoOne,
    SelectedGroups,
    EveryoneExceptGuests,
    Everyone,
}

impl From<PolicyMode> for PolicyModeView {
    fn from(m: PolicyMode) -> Self {
        match m {
            PolicyMode::NoOne => PolicyModeView::NoOne,
            PolicyMode::SelectedGroups => PolicyModeView::SelectedGroups,
            PolicyMode::EveryoneExceptGuests => PolicyModeView::EveryoneExceptGuests,
            PolicyMode::Everyone => PolicyModeView::Everyone,
        }
    }
}

impl From<PolicyModeView> for PolicyMode {
    fn from(m: PolicyModeView) -> Self {
        match m {
            PolicyModeView::NoOne => PolicyMode::NoOne,
            PolicyModeView::SelectedGroups => PolicyMode::SelectedGroups,
            PolicyModeView::EveryoneExceptGuests => PolicyMode::EveryoneExceptGuests,
            PolicyModeView::Everyone => PolicyMode::Everyone,
        }
    }
}

/// A selected group with its grace period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PolicyGroupView {
    pub id: String,
    pub name: String,
    pub grace_days: u8,
    /// When the group was selected: the grace period counts from here, even after edits.
    pub configured_at: String,
    pub deadline: String,
}

/// A group the admin may pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GroupChoice {
    pub id: String,
    pub name: String,
    pub member_count: u32,
    /// Why it cannot be selected (the Owners group), if so.
    pub not_selectable: Option<String>,
}

/// The policy editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SsoPolicyView {
    pub mode: PolicyModeView,
    pub groups: Vec<PolicyGroupView>,
    /// The Everyone modes' grace period (the default until one was chosen).
    pub everyone_grace_days: u8,
    /// When everyone must have switched by, once an Everyone mode was chosen.
    pub everyone_deadline: Option<String>,
    pub choices: Vec<GroupChoice>,
    pub min_grace_days: u8,
    pub max_grace_days: u8,
    pub default_grace_days: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PolicyGroupInput {
    pub id: String,
    pub grace_days: i32,
}

/// What the policy editor saves.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SsoPolicyInput {
    pub mode: PolicyModeView,
    /// The selected groups (used under Selected groups, kept otherwise).
    pub groups: Vec<PolicyGroupInput>,
    /// Used under the Everyone modes.
    pub everyone_grace_days: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum UnlockMethodView {
    AccountPassword,
    Sso,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum UnlockStateView {
    NotRequired,
    JoinsWithSso,
    SwitchPending,
    Switched,
    NeedsRecovery,
}

/// Which link the admin can hand over to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// An invited person's join link.
    Invitation,
    /// An active person's link to switch to SSO before their deadline.
    Switch,
}

/// One person's unlock method, deadline and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct UnlockStatusView {
    pub id: String,
    pub user_name: String,
    pub email: Option<String>,
    pub person_state: PersonStateView,
    pub method: UnlockMethodView,
    pub state: UnlockStateView,
    /// The state in words, with the reason ("not required: Owners never use SSO").
    pub explanation: String,
    pub deadline: Option<String>,
    /// The selected group whose grace period applies.
    pub group: Option<String>,
    pub grace_days: Option<u8>,
    /// When the person was signed out for missing the deadline.
    pub signed_out_at: Option<String>,
    /// The admin may give them a new chance.
    pub can_recover: bool,
    /// The link the admin can hand over now, if any.
    pub link: Option<LinkKind>,
}

/// Everyone's unlock status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SsoStatusView {
    pub people: Vec<UnlockStatusView>,
    pub mode: PolicyModeView,
    /// Invitations are mailed; otherwise the admin hands links over.
    pub mail_configured: bool,
}

/// A link to hand over (the plaintext exists only in this answer).
#[derive(Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HandoverLink {
    pub kind: LinkKind,
    pub url: String,
    /// Whom it is for (their userName).
    pub user_name: String,
    pub valid_days: u32,
}

impl fmt::Debug for HandoverLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandoverLink")
            .field("kind", &self.kind)
            .field("url", &"[redacted]")
            .field("user_name", &self.user_name)
            .finish()
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    crate::store::format_timestamp(t)
}

fn status_view(p: PersonUnlock) -> UnlockStatusView {
    let (state, explanation, deadline) = match p.unlock {
        UnlockState::NotRequired { reason } => (
            UnlockStateView::NotRequired,
            match reason {
                NotRequired::PolicyIsNoOne => "Not required: the policy is No one",
                NotRequired::Owner => "Not required: Owners never unlock with SSO",
                NotRequired::Guest => "Not required: guests unlock with SSO only under Everyone",
                NotRequired::NotInSelectedGroup => "Not required: in no selected group",
                NotRequired::NotInAccount => "Not required: not in the account",
            }
            .to_owned(),
            None,
        ),
        UnlockState::JoinsWithSso => (
            UnlockStateView::JoinsWithSso,
            "Invited: joins by signing in with the identity provider".to_owned(),
            None,
        ),
        UnlockState::SwitchPending { deadline } => (
            UnlockStateView::SwitchPending,
            "Must switch to SSO before the deadline".to_owned(),
            Some(rfc3339(deadline)),
        ),
        UnlockState::Switched => (
            UnlockStateView::Switched,
            "Unlocks with SSO".to_owned(),
            None,
        ),
        UnlockState::NeedsRecovery { reason, deadline } => (
            UnlockStateView::NeedsRecovery,
            match reason {
                RecoveryReason::DeadlineMissed => {
                    "Signed out: did not switch by the deadline; needs recovery"
                }
                RecoveryReason::AddedAfterGracePeriod => {
                    "Needs recovery: added to the group after its grace period ended"
                }
            }
            .to_owned(),
            Some(rfc3339(deadline)),
        ),
    };
    let link = match (&p.person_state, state) {
        (crate::store::people::PersonState::Invited, _) => Some(LinkKind::Invitation),
        (_, UnlockStateView::SwitchPending) => Some(LinkKind::Switch),
        _ => None,
    };
    UnlockStatusView {
        id: p.id,
        user_name: p.user_name,
        email: p.email,
        person_state: p.person_state.into(),
        method: match p.method {
            UnlockMethod::AccountPassword => UnlockMethodView::AccountPassword,
            UnlockMethod::Sso => UnlockMethodView::Sso,
        },
        can_recover: state == UnlockStateView::NeedsRecovery,
        state,
        explanation,
        deadline,
        group: p.group,
        grace_days: p.grace_days,
        signed_out_at: p.signed_out_at,
        link,
    }
}

fn check_grace(field: &str, days: i32, problems: &mut Vec<FieldProblem>) {
    if !(i32::from(MIN_GRACE_DAYS)..=i32::from(MAX_GRACE_DAYS)).contains(&days) {
        problems.push(problem(
            field,
            format!("enter {MIN_GRACE_DAYS} to {MAX_GRACE_DAYS} days"),
        ));
    }
}

impl App {
    /// The single sign-on service over this installation's store, secret store and clock,
    /// told where the bridge is when it runs.
    pub fn sso(&self) -> Result<Sso, AppError> {
        let sso = Sso::new(self.store.clone(), self.secret_store(), self.clock.clone())?;
        if let Some(origin) = self.bridge_origin() {
            sso.set_runtime_public_url(&origin);
        }
        Ok(sso)
    }

    /// The running bridge's origin (its base URL without `/scim/v2`).
    fn bridge_origin(&self) -> Option<String> {
        self.controller.status().base_url.map(|u| {
            u.trim_end_matches('/')
                .trim_end_matches("/scim/v2")
                .to_owned()
        })
    }

    /// The origin the settings describe, when they name a host.
    async fn settings_origin(&self) -> Result<Option<String>, AppError> {
        let s = self.settings().await?;
        let Some(host) = s.hostname() else {
            return Ok(None);
        };
        let scheme = if s.tls == super::TlsChoice::None {
            "http"
        } else {
            "https"
        };
        let default_port = if scheme == "https" { 443 } else { 80 };
        Ok(Some(if s.port == default_port {
            format!("{scheme}://{host}")
        } else {
            format!("{scheme}://{host}:{}", s.port)
        }))
    }

    /// The SSO settings, the redirect URIs to register and the SMTP settings.
    pub async fn sso_settings(&self) -> Result<SsoSettingsView, AppError> {
        let sso = self.sso()?;
        let config = sso.config().await?;
        let effective = match &config.public_url {
            Some(u) => Some(u.clone()),
            None => match self.bridge_origin() {
                Some(o) => Some(o),
                None => self.settings_origin().await?,
            },
        };
        let [bridge, app]: [String; 2] = SsoConfig::redirect_uris(effective.as_deref())
            .try_into()
            .unwrap_or_else(|_| {
                [
                    format!("https://HOST{REDIRECT_PATH}"),
                    format!("http://127.0.0.1{LOOPBACK_REDIRECT_PATH}"),
                ]
            });
        let redirect_uris = vec![
            RedirectUriView {
                label: "The bridge (people joining and switching)".into(),
                note: if effective.is_some() {
                    "Built from the bridge's public address; it must be reachable from people's browsers.".into()
                } else {
                    "Replace HOST with the bridge's public host name (and :PORT if not 443), or enter the public URL below.".into()
                },
                uri: bridge,
            },
            RedirectUriView {
                label: "This app (Test connection)".into(),
                note: "A loopback address: the app listens on a free port of 127.0.0.1 while you test, as native apps do (RFC 8252).".into(),
                uri: app,
            },
        ];
        let smtp = sso.smtp_settings().await?.map(|s| SmtpView {
            relay: s.relay,
            port: s.port,
            security: s.security.into(),
            username: s.username,
            from: s.from,
            password_stored: sso.has_smtp_password(),
        });
        Ok(SsoSettingsView {
            well_known_url: config.well_known_url,
            default_well_known_url: DEFAULT_WELL_KNOWN.into(),
            client_id_stored: sso.has_client_id(),
            public_url: config.public_url,
            effective_public_url: effective,
            configured_at: Some(config.configured_at).filter(|c| !c.is_empty()),
            redirect_uris,
            secrets_problem: self.secrets_status().problem,
            smtp,
            sign_in_timeout_seconds: SIGN_IN_TIMEOUT_SECONDS,
        })
    }

    /// Saves the SSO settings: the client ID into the secret store (an empty one keeps
    /// the stored ID), the rest into the settings. Problems come back per field.
    pub async fn save_sso_settings(
        &self,
        input: SsoSettingsInput,
    ) -> Result<SsoSettingsView, AppError> {
        let sso = self.sso()?;
        let mut problems = Vec::new();
        let well_known = input.well_known_url.trim();
        if well_known.is_empty() {
            problems.push(problem(
                "wellKnownUrl",
                format!("enter the discovery URL (JumpCloud's is {DEFAULT_WELL_KNOWN})"),
            ));
        } else if crate::sso::check_url(well_known).is_err() {
            problems.push(problem(
                "wellKnownUrl",
                "enter an https URL ending in /.well-known/openid-configuration",
            ));
        }
        let client_id = non_empty(&input.client_id).map(Secret::new);
        if client_id.is_none() && !sso.has_client_id() {
            problems.push(problem(
                "clientId",
                "enter the client ID JumpCloud shows on the SSO application's page",
            ));
        }
        let public_url = non_empty(&input.public_url);
        if let Some(u) = public_url {
            if crate::sso::check_url(u).is_err() {
                problems.push(problem(
                    "publicUrl",
                    "enter https://HOST[:PORT], the address people's browsers reach the bridge at",
                ));
            }
        }
        if self.secret_store().is_none() && client_id.is_some() {
            problems.push(problem(
                "clientId",
                "no secret store is available to keep it; choose one under Secrets in Settings",
            ));
        }
        if !problems.is_empty() {
            return Err(AppError::InvalidSettings(problems));
        }
        sso.configure(ACTOR, well_known, client_id.as_ref(), public_url)
            .await?;
        self.sso_settings().await
    }

    /// Saves the SMTP settings for invitation mail (an empty password keeps the stored
    /// one).
    pub async fn save_smtp_settings(&self, input: SmtpInput) -> Result<SsoSettingsView, AppError> {
        let sso = self.sso()?;
        let mut problems = Vec::new();
        let relay = input.relay.trim();
        if relay.is_empty() || relay.contains(char::is_whitespace) || relay.contains('/') {
            problems.push(problem(
                "relay",
                "enter the relay's host name, such as smtp.example.com",
            ));
        }
        let port = u16::try_from(input.port).ok().filter(|p| *p > 0);
        if port.is_none() {
            problems.push(problem(
                "port",
                "enter a port from 1 to 65535 (587 for STARTTLS, 465 for TLS)",
            ));
        }
        let from = input.from.trim();
        if from.parse::<lettre::message::Mailbox>().is_err() {
            problems.push(problem(
                "from",
                "enter the sender as it@example.com or \"Keybridge <it@example.com>\"",
            ));
        }
        let security: SmtpSecurity = input.security.into();
        if security == SmtpSecurity::None
            && !matches!(relay, "127.0.0.1" | "::1" | "[::1]" | "localhost")
        {
            problems.push(problem(
                "security",
                "without encryption, mail may go only to a relay on this machine; choose STARTTLS or TLS",
            ));
        }
        let username = non_empty(&input.username).map(str::to_owned);
        let password = non_empty(&input.password).map(Secret::new);
        if password.is_some() && username.is_none() {
            problems.push(problem("username", "enter the user name for this password"));
        }
        if password.is_some() && self.secret_store().is_none() {
            problems.push(problem(
                "password",
                "no secret store is available to keep it; choose one under Secrets in Settings",
            ));
        }
        let Some(port) = port else {
            return Err(AppError::InvalidSettings(problems));
        };
        if !problems.is_empty() {
            return Err(AppError::InvalidSettings(problems));
        }
        sso.configure_smtp(
            ACTOR,
            SmtpSettings {
                relay: relay.to_owned(),
                port,
                security,
                username,
                from: from.to_owned(),
            },
            password.as_ref(),
        )
        .await?;
        self.sso_settings().await
    }

    /// The setup check: discovery (issuer, endpoints, S256, `code`, JWKS), and with
    /// `sign_in` a real sign-in with PKCE: `open` is handed the authorization URL (the
    /// desktop opens the system browser) and a loopback listener waits for the answer,
    /// up to [`SIGN_IN_TIMEOUT_SECONDS`] or until [`App::cancel_sso_check`].
    pub async fn sso_check(
        &self,
        request: SsoCheckRequest,
        open: OpenUrl,
    ) -> Result<SsoCheckResult, AppError> {
        let sso = self.sso()?;
        let well_known = request.well_known_url.trim();
        if crate::sso::check_url(well_known).is_err() {
            return Err(AppError::InvalidSettings(vec![problem(
                "wellKnownUrl",
                "enter an https URL ending in /.well-known/openid-configuration",
            )]));
        }
        let client_id = match non_empty(&request.client_id) {
            Some(id) => Secret::new(id),
            None if request.sign_in => match sso.client_id() {
                Ok(id) if !id.is_empty() => id,
                Err(e @ SsoError::Secrets(_)) => return Err(e.into()),
                _ => {
                    return Err(AppError::InvalidSettings(vec![problem(
                        "clientId",
                        "enter the client ID to test the connection",
                    )]))
                }
            },
            // Discovery does not use it.
            None => Secret::new(""),
        };
        let opts = CheckOptions {
            well_known_url: well_known.to_owned(),
            client_id,
            sign_in: request.sign_in,
            timeout: Duration::from_secs(u64::from(SIGN_IN_TIMEOUT_SECONDS)),
        };
        let (cancel, cancelled) = tokio::sync::oneshot::channel::<Option<String>>();
        if let Ok(mut slot) = self.sign_in_cancel.lock() {
            // A check already waiting is cancelled by this one (its sender is dropped).
            *slot = Some(cancel);
        }
        let report = tokio::select! {
            r = sso.check(ACTOR, &opts, open) => r?,
            why = cancelled => {
                // A reason: the sign-in could not go on; none: the admin cancelled (or
                // started another check, which dropped this one's sender).
                let steps = match why {
                    Ok(Some(reason)) => vec![CheckStepView {
                        name: "test connection".into(),
                        ok: false,
                        detail: reason,
                    }],
                    _ => Vec::new(),
                };
                return Ok(SsoCheckResult {
                    cancelled: steps.is_empty(),
                    steps,
                    passed: false,
                    signed_in_as: None,
                });
            }
        };
        Ok(SsoCheckResult {
            passed: report.passed(),
            cancelled: false,
            signed_in_as: report
                .identity
                .as_ref()
                .map(|w| w.email.clone().unwrap_or_else(|| w.subject.clone())),
            steps: report
                .steps
                .into_iter()
                .map(|s| CheckStepView {
                    name: s.name.to_owned(),
                    ok: s.ok,
                    detail: s.detail,
                })
                .collect(),
        })
    }

    /// Stops a "test connection" that waits for the browser. Answers whether one waited.
    pub fn cancel_sso_check(&self) -> bool {
        self.stop_sso_check(None)
    }

    /// Ends a waiting "test connection" as failed, with `reason` (what to do) as its
    /// last step: the front door could not open the browser.
    pub fn abandon_sso_check(&self, reason: &str) -> bool {
        self.stop_sso_check(Some(reason.to_owned()))
    }

    fn stop_sso_check(&self, reason: Option<String>) -> bool {
        let sender = self.sign_in_cancel.lock().ok().and_then(|mut s| s.take());
        sender.is_some_and(|s| s.send(reason).is_ok())
    }

    /// The unlock policy, with the groups the admin may select.
    pub async fn sso_policy(&self) -> Result<SsoPolicyView, AppError> {
        let policy = self.sso()?.policy().await?;
        let choices = self
            .groups()
            .await?
            .into_iter()
            .map(|g| GroupChoice {
                not_selectable: (g.kind == super::directory_views::GroupKindView::Owners)
                    .then(|| "Owners never unlock with SSO".to_owned()),
                id: g.id,
                name: g.display_name,
                member_count: g.member_count,
            })
            .collect();
        Ok(SsoPolicyView {
            mode: policy.mode.into(),
            groups: policy
                .groups
                .into_iter()
                .map(|g| PolicyGroupView {
                    id: g.id,
                    name: g.name,
                    grace_days: g.grace_days,
                    configured_at: rfc3339(g.configured_at),
                    deadline: rfc3339(g.deadline),
                })
                .collect(),
            everyone_grace_days: policy.everyone_grace_days.unwrap_or(DEFAULT_GRACE_DAYS),
            everyone_deadline: policy.everyone_deadline.map(rfc3339),
            choices,
            min_grace_days: MIN_GRACE_DAYS,
            max_grace_days: MAX_GRACE_DAYS,
            default_grace_days: DEFAULT_GRACE_DAYS,
        })
    }

    /// Saves the policy as the editor shows it: groups no longer listed are unselected,
    /// new ones selected (their grace period starts now), changed grace periods move
    /// the deadline relative to the original date; then the mode. Every grace period is
    /// checked first, so a bad field changes nothing.
    pub async fn save_sso_policy(&self, input: SsoPolicyInput) -> Result<SsoPolicyView, AppError> {
        let sso = self.sso()?;
        let current = sso.policy().await?;
        let choices = self.sso_policy().await?.choices;
        let mut problems = Vec::new();
        let mut wanted: Vec<&PolicyGroupInput> = Vec::new();
        for g in &input.groups {
            if wanted.iter().any(|w| w.id == g.id) {
                continue;
            }
            let field = format!("grace.{}", g.id);
            match choices.iter().find(|c| c.id == g.id) {
                None => problems.push(problem(&field, "this group no longer exists; remove it")),
                Some(c) if c.not_selectable.is_some() => {
                    problems.push(problem(&field, "Owners never unlock with SSO; remove it"))
                }
                Some(_) => check_grace(&field, g.grace_days, &mut problems),
            }
            wanted.push(g);
        }
        let mode: PolicyMode = input.mode.into();
        if mode == PolicyMode::SelectedGroups && wanted.is_empty() {
            problems.push(problem(
                "groups",
                "select at least one group, or choose No one",
            ));
        }
        let everyone_days = match (mode, input.everyone_grace_days) {
            (PolicyMode::Everyone | PolicyMode::EveryoneExceptGuests, Some(d)) => {
                check_grace("everyoneGraceDays", d, &mut problems);
                Some(d)
            }
            _ => None,
        };
        if !problems.is_empty() {
            return Err(AppError::InvalidSettings(problems));
        }
        for old in &current.groups {
            if !wanted.iter().any(|w| w.id == old.id) {
                sso.unselect_group(ACTOR, &old.id).await?;
            }
        }
        for w in &wanted {
            let unchanged = current
                .groups
                .iter()
                .any(|g| g.id == w.id && i32::from(g.grace_days) == w.grace_days);
            if !unchanged {
                sso.select_group(ACTOR, &w.id, Some(i64::from(w.grace_days)))
                    .await?;
            }
        }
        let everyone_changed = everyone_days.is_some_and(|d| {
            current.everyone_grace_days.map(i32::from) != Some(d)
                || current.everyone_deadline.is_none()
        });
        if mode != current.mode || everyone_changed {
            sso.set_policy_mode(ACTOR, mode, everyone_days.map(i64::from))
                .await?;
        }
        self.sso_policy().await
    }

    /// Everyone's unlock method, deadline and state.
    pub async fn sso_status(&self) -> Result<SsoStatusView, AppError> {
        let sso = self.sso()?;
        let people = sso.status().await?.into_iter().map(status_view).collect();
        Ok(SsoStatusView {
            people,
            mode: sso.policy().await?.mode.into(),
            mail_configured: sso.smtp_settings().await?.is_some(),
        })
    }

    /// One person's unlock status, by SCIM id.
    pub async fn person_unlock(&self, id: &str) -> Result<UnlockStatusView, AppError> {
        let user_name = self.user_name_of(id).await?;
        Ok(status_view(self.sso()?.person_status(&user_name).await?))
    }

    /// Account recovery: a person who missed the deadline (or joined a group too late)
    /// gets a new grace period from now.
    pub async fn recover_person(&self, id: &str) -> Result<UnlockStatusView, AppError> {
        let user_name = self.user_name_of(id).await?;
        Ok(status_view(self.sso()?.recover(ACTOR, &user_name).await?))
    }

    /// A fresh link to hand over: an invited person's join link, or an active person's
    /// switch link. The previous link of that kind stops working.
    pub async fn handover_link(&self, id: &str) -> Result<HandoverLink, AppError> {
        let user_name = self.user_name_of(id).await?;
        let sso = self.sso()?;
        if sso.config().await?.public_url.is_none() && self.bridge_origin().is_none() {
            if let Some(origin) = self.settings_origin().await? {
                sso.set_runtime_public_url(&origin);
            }
        }
        let status = status_view(sso.person_status(&user_name).await?);
        let (kind, url) = match status.link {
            Some(LinkKind::Invitation) => (
                LinkKind::Invitation,
                sso.invite_link(ACTOR, &user_name).await?,
            ),
            Some(LinkKind::Switch) => (LinkKind::Switch, sso.switch_link(ACTOR, &user_name).await?),
            None => {
                return Err(AppError::Invalid(format!(
                    "{user_name} has no link to hand over ({})",
                    status.explanation.to_lowercase()
                )))
            }
        };
        Ok(HandoverLink {
            kind,
            url: url.expose().to_owned(),
            user_name,
            valid_days: u32::try_from(crate::sso::invite::LINK_LIFETIME.whole_days()).unwrap_or(7),
        })
    }

    async fn user_name_of(&self, id: &str) -> Result<String, AppError> {
        let id = id.to_owned();
        let found = self
            .store
            .read({
                let id = id.clone();
                move |conn| crate::store::people::by_id(conn, &id)
            })
            .await?;
        found
            .map(|p| p.user_name)
            .ok_or_else(|| AppError::NotFound(format!("no person has the id {id}")))
    }
}

/// Opens nothing: for a discovery-only check, and for tests.
pub fn open_nothing() -> OpenUrl {
    Arc::new(|_: &url::Url| {})
}

#[cfg(test)]
#[path = "sso_tests.rs"]
mod tests;
