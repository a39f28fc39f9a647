//! The setup check: discovery, then (optionally) "test connection", a real sign-in
//! through the system browser and a loopback redirect. Each step is reported; the check
//! passes only when all do.

use std::sync::Arc;
use std::time::Duration;

use super::loopback::Loopback;
use super::oidc::{self, CheckStep, SignInError, VerifiedIdentity};
use super::{events, Sso, SsoError};
use crate::directory::audit::{self, Subject};
use crate::secrets::Secret;

/// Opens the sign-in URL: the system browser in the CLI, a driver in tests.
pub type OpenUrl = Arc<dyn Fn(&url::Url) + Send + Sync>;

/// What to check.
pub struct CheckOptions {
    pub well_known_url: String,
    pub client_id: Secret,
    /// Also sign in for real ("test connection").
    pub sign_in: bool,
    /// How long to wait for the browser to come back.
    pub timeout: Duration,
}

/// The outcome, step by step.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckReport {
    pub steps: Vec<CheckStep>,
    /// Who signed in, when the test connection ran and passed.
    #[serde(skip)]
    pub identity: Option<VerifiedIdentity>,
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.ok)
    }

    /// The first failure, if any.
    pub fn first_failure(&self) -> Option<&CheckStep> {
        self.steps.iter().find(|s| !s.ok)
    }
}

/// Runs the check. `open` is called with the authorization URL when signing in.
pub async fn run(http: &reqwest::Client, opts: &CheckOptions, open: OpenUrl) -> CheckReport {
    let mut steps = Vec::new();
    let discovered = oidc::discover(http, &opts.well_known_url, &mut steps).await;
    let mut identity = None;
    if let (Ok(d), true) = (discovered, opts.sign_in) {
        match sign_in(http, &d, &opts.client_id, opts.timeout, open).await {
            Ok(who) => {
                steps.push(CheckStep {
                    name: "test connection",
                    ok: true,
                    detail: format!(
                        "signed in as {} (ID token verified: signature, issuer, audience, nonce, expiry)",
                        who.email.as_deref().unwrap_or(&who.subject)
                    ),
                });
                identity = Some(who);
            }
            Err(e) => steps.push(CheckStep {
                name: "test connection",
                ok: false,
                detail: e.to_string(),
            }),
        }
    }
    CheckReport { steps, identity }
}

async fn sign_in(
    http: &reqwest::Client,
    d: &oidc::Discovered,
    client_id: &Secret,
    timeout: Duration,
    open: OpenUrl,
) -> Result<VerifiedIdentity, SignInError> {
    let loopback = Loopback::bind()
        .await
        .map_err(|e| SignInError::Setup(format!("cannot listen on 127.0.0.1: {e}")))?;
    let pending = oidc::begin(d, client_id, &loopback.redirect_uri())?;
    open(&pending.url);
    let state = pending.state().to_owned();
    let code = loopback.wait(&state, timeout).await?;
    oidc::finish(
        http,
        d,
        client_id,
        pending,
        code,
        time::OffsetDateTime::now_utc(),
    )
    .await
}

impl Sso {
    /// Runs the check with this service's clock-free HTTP client and records an
    /// `sso_checked` event (success, or failure with the first failing step).
    pub async fn check(
        &self,
        actor: &str,
        opts: &CheckOptions,
        open: OpenUrl,
    ) -> Result<CheckReport, SsoError> {
        let report = run(&self.http, opts, open).await;
        let actor = actor.to_owned();
        let failure = report
            .first_failure()
            .map(|s| format!("{}: {}", s.name, s.detail));
        let steps: Vec<String> = report.steps.iter().map(|s| s.name.to_owned()).collect();
        self.store
            .write(move |conn| -> Result<(), SsoError> {
                match failure {
                    None => audit::success(
                        conn,
                        events::SSO_CHECKED,
                        Subject::default(),
                        steps,
                        &actor,
                    )?,
                    Some(detail) => audit::failure(
                        conn,
                        events::SSO_CHECKED,
                        Subject::default(),
                        &actor,
                        400,
                        &detail,
                    )?,
                }
                Ok(())
            })
            .await?;
        Ok(report)
    }
}
