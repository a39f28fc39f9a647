//! The SSO configuration: the well-known URL (in the settings table), the client ID (in
//! the secret store), the bridge's public URL, and the redirect URIs to register.

use serde::{Deserialize, Serialize};

use super::{check_url, events, Sso, SsoError};
use crate::directory::audit::{self, Subject};
use crate::secrets::Secret;
use crate::store::{settings, StoreError};

/// JumpCloud's discovery document.
pub const DEFAULT_WELL_KNOWN: &str =
    "https://oauth.id.jumpcloud.com/.well-known/openid-configuration";

/// Where the identity provider sends a browser back to the bridge.
pub const REDIRECT_PATH: &str = "/sso/oidc/redirect/";

/// Where it sends the browser back to the CLI or the app: a loopback address on any port
/// (RFC 8252 §7.3).
pub const LOOPBACK_REDIRECT_PATH: &str = "/keybridge/oidc/callback";

const SETTINGS_KEY: &str = "sso.config";
pub(super) const CLIENT_ID_SECRET: &str = "sso/client-id";

/// The stored configuration (no secret in it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SsoConfig {
    pub well_known_url: String,
    /// `https://HOST[:PORT]`, as people's browsers reach the bridge.
    pub public_url: Option<String>,
    pub configured_at: String,
}

impl SsoConfig {
    /// The redirect URIs to register in the identity provider, for copying.
    pub fn redirect_uris(public_url: Option<&str>) -> Vec<String> {
        let bridge = match public_url {
            Some(u) => format!("{}{REDIRECT_PATH}", u.trim_end_matches('/')),
            None => format!("https://HOST{REDIRECT_PATH}"),
        };
        vec![bridge, format!("http://127.0.0.1{LOOPBACK_REDIRECT_PATH}")]
    }
}

pub(super) fn load(conn: &rusqlite::Connection) -> Result<Option<SsoConfig>, StoreError> {
    match settings::get(conn, SETTINGS_KEY)? {
        Some(json) => serde_json::from_str(&json)
            .map(Some)
            .map_err(|_| StoreError::Corrupt("the SSO settings are damaged".into())),
        None => Ok(None),
    }
}

impl Sso {
    /// The stored configuration with defaults filled in.
    pub async fn config(&self) -> Result<SsoConfig, SsoError> {
        let stored = self
            .store
            .read(|conn| -> Result<_, SsoError> { Ok(load(conn)?) })
            .await?;
        Ok(stored.unwrap_or_else(|| SsoConfig {
            well_known_url: DEFAULT_WELL_KNOWN.to_owned(),
            public_url: None,
            configured_at: String::new(),
        }))
    }

    /// Whether a client ID is stored.
    pub fn has_client_id(&self) -> bool {
        self.client_id().is_ok()
    }

    pub(crate) fn client_id(&self) -> Result<Secret, SsoError> {
        self.secrets()?
            .get(CLIENT_ID_SECRET)?
            .ok_or(SsoError::NotConfigured)
    }

    /// Saves the configuration: the client ID into the secret store, the rest into the
    /// settings, with an `sso_configured` event.
    pub async fn configure(
        &self,
        actor: &str,
        well_known_url: &str,
        client_id: Option<&Secret>,
        public_url: Option<&str>,
    ) -> Result<SsoConfig, SsoError> {
        check_url(well_known_url)?;
        let public_url = match public_url {
            Some(u) => Some(check_url(u)?.origin().ascii_serialization()),
            None => self.config().await?.public_url,
        };
        if let Some(id) = client_id {
            if id.expose().trim().is_empty() {
                return Err(SsoError::NotAllowed("the client ID is empty".into()));
            }
            self.secrets()?
                .set(CLIENT_ID_SECRET, &Secret::new(id.expose().trim()))?;
        } else if !self.has_client_id() {
            return Err(SsoError::NotAllowed(
                "no client ID is stored yet; pass --client-id (JumpCloud shows it on the SSO application's page)".into(),
            ));
        }
        let config = SsoConfig {
            well_known_url: well_known_url.trim().to_owned(),
            public_url,
            configured_at: crate::store::format_timestamp(self.now()),
        };
        let json =
            serde_json::to_string(&config).map_err(|e| StoreError::Internal(e.to_string()))?;
        let actor = actor.to_owned();
        self.store
            .write(move |conn| -> Result<(), SsoError> {
                settings::set(conn, SETTINGS_KEY, &json)?;
                audit::success(
                    conn,
                    events::SSO_CONFIGURED,
                    Subject::default(),
                    vec![
                        "well_known_url".into(),
                        "client_id".into(),
                        "public_url".into(),
                    ],
                    &actor,
                )?;
                Ok(())
            })
            .await?;
        Ok(config)
    }
}
