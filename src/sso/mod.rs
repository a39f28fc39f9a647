//! Single sign-on: the OIDC setup check, the unlock policy with grace periods, and
//! joining by invitation.
//!
//! - `oidc`: discovery, the PKCE authorization-code sign-in and ID-token verification,
//!   with a message for each failure that says what to fix in the identity provider.
//! - `check`: the setup check (`keybridge sso check`), signing in through a loopback
//!   redirect (`loopback`).
//! - `policy`: the unlock rules, pure; `unlock`: the same rules over the store (status,
//!   deadlines, recovery, editing the policy).
//! - `invite`: single-use join and switch links; `join`: joining, with or without the
//!   identity provider; `mail`: sending invitations over SMTP.
//!
//! Invariants: a link's plaintext exists only in the process that hands it over (mail,
//! the CLI); the store keeps its SHA-256 digest. Every change writes its audit event in
//! the same transaction. Time comes from an injected [`Clock`].

pub mod check;
pub mod clock;
mod config;
pub mod events;
pub mod invite;
pub mod join;
pub mod loopback;
pub mod mail;
pub mod oidc;
pub mod policy;
pub mod unlock;

use std::sync::{Arc, Mutex, RwLock};

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{SsoConfig, DEFAULT_WELL_KNOWN, LOOPBACK_REDIRECT_PATH, REDIRECT_PATH};
pub use oidc::SignInError;

use crate::secrets::{SecretStore, SecretsError};
use crate::store::{Store, StoreError};

/// What can go wrong in single sign-on, joining and the unlock policy. Messages are for
/// the administrator or the person joining, and never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    SignIn(#[from] SignInError),
    #[error(transparent)]
    Link(#[from] invite::LinkError),
    #[error(transparent)]
    Mail(#[from] mail::MailError),
    #[error("no person has the email address or userName '{0}'")]
    UnknownPerson(String),
    #[error("{n} people share the email address '{who}'; use their userName")]
    AmbiguousPerson { who: String, n: usize },
    #[error("no group is named '{0}'")]
    UnknownGroup(String),
    #[error("a grace period is 1 to 30 days; {0} is not")]
    BadGraceDays(i64),
    #[error("Owners never unlock with single sign-on, so the Owners group cannot be selected")]
    OwnersCannotBeSelected,
    #[error("{0}")]
    NotAllowed(String),
    #[error("single sign-on is not configured: run `keybridge sso configure --well-known URL --client-id ID` first")]
    NotConfigured,
    #[error(
        "no secret store is available to keep the client ID; run with --secrets file or keychain"
    )]
    NoSecretStore,
    #[error("the bridge's public URL is not known; pass --public-url https://HOST[:PORT] (the address people's browsers reach the bridge at)")]
    PublicUrlUnknown,
    #[error("'{0}' is not an https URL (http is accepted only for 127.0.0.1 and localhost)")]
    BadUrl(String),
}

impl From<rusqlite::Error> for SsoError {
    fn from(e: rusqlite::Error) -> Self {
        SsoError::Store(StoreError::Sqlite(e))
    }
}

/// The single sign-on service: cheap to clone; shared by the bridge's join pages, the
/// CLI and (later) the desktop app.
#[derive(Clone)]
pub struct Sso {
    store: Store,
    secrets: Option<Arc<dyn SecretStore>>,
    clock: SharedClock,
    http: reqwest::Client,
    /// Sign-ins started from a join page, by their `state` (in memory: a restart only
    /// asks the person to click the link again).
    pending: Arc<Mutex<join::PendingJoins>>,
    /// The bridge's public origin as browsers reach it, when known at run time.
    public_url: Arc<RwLock<Option<String>>>,
}

impl Sso {
    /// `secrets` keeps the client ID and the SMTP password; without one, single sign-on
    /// and authenticated SMTP cannot be configured, and joining still works.
    pub fn new(
        store: Store,
        secrets: Option<Arc<dyn SecretStore>>,
        clock: SharedClock,
    ) -> Result<Sso, SsoError> {
        Ok(Sso {
            store,
            secrets,
            clock,
            http: oidc::http_client()?,
            pending: Arc::new(Mutex::new(join::PendingJoins::default())),
            public_url: Arc::new(RwLock::new(None)),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    fn secrets(&self) -> Result<&dyn SecretStore, SsoError> {
        self.secrets.as_deref().ok_or(SsoError::NoSecretStore)
    }

    /// Tells the service where the bridge is reachable, unless a public URL was
    /// configured (`keybridge sso configure --public-url`), which wins.
    pub fn set_runtime_public_url(&self, origin: &str) {
        if let Ok(mut u) = self.public_url.write() {
            *u = Some(origin.trim_end_matches('/').to_owned());
        }
    }

    /// The origin links and redirects are built on.
    pub async fn public_url(&self) -> Result<String, SsoError> {
        if let Some(configured) = self.config().await?.public_url {
            return Ok(configured);
        }
        self.public_url
            .read()
            .ok()
            .and_then(|u| u.clone())
            .ok_or(SsoError::PublicUrlUnknown)
    }
}

/// Checks that `url` is https, or http on loopback (tests, a local gateway).
pub(crate) fn check_url(url: &str) -> Result<url::Url, SsoError> {
    let parsed = url::Url::parse(url.trim()).map_err(|_| SsoError::BadUrl(url.to_owned()))?;
    let loopback = matches!(
        parsed.host_str(),
        Some("127.0.0.1") | Some("localhost") | Some("[::1]")
    );
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err(SsoError::BadUrl(url.to_owned())),
    }
}

pub(crate) fn parse_time(s: &str) -> Result<time::OffsetDateTime, StoreError> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| StoreError::Corrupt(format!("'{s}' is not a timestamp")))
}
