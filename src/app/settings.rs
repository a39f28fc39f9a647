//! How this installation runs: where the bridge listens, its host name and TLS, updates,
//! start at login, and whether the bridge was running when the app last quit. Kept as
//! one JSON value in the store's `settings` table, so a copy of the data directory is a
//! complete copy of the installation. Nothing secret is kept here.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{AppError, FieldProblem};
use super::non_empty;
use crate::bridge::acme::{AcmeConfig, ChallengeKind, LETS_ENCRYPT};
use crate::bridge::TlsMode;
use crate::store::{self, Store, StoreError};

/// The `settings` key the value is kept under.
const KEY: &str = "app.settings";

/// How the bridge serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TlsChoice {
    /// A certificate Keybridge generates once and keeps in the data directory.
    #[default]
    SelfSigned,
    /// The admin's own certificate chain and key (PEM files).
    Pem,
    /// A publicly trusted certificate from an ACME CA (Let's Encrypt by default),
    /// obtained and renewed by the bridge itself (`keybridge serve --tls acme`).
    Acme,
    /// Plain HTTP, only behind a gateway that terminates TLS.
    None,
}

/// Which releases the updater offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum UpdateChannel {
    #[default]
    Stable,
    Beta,
    /// Never check.
    Off,
}

/// Where token plaintexts are kept so the admin can copy them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SecretsChoice {
    /// The OS keychain (Keychain, Credential Manager, Secret Service).
    #[default]
    Keychain,
    /// An owner-only file in the data directory: the explicit fallback where there is no
    /// keychain (servers, minimal desktops).
    File,
}

/// The window's colour theme. Kept in the store beside the settings, not in the web
/// view's own storage: WebKit keeps that in its network process, which the desktop app
/// ends while the window is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follows the desktop's light or dark preference.
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// The `settings` key the theme is kept under.
const THEME_KEY: &str = "ui.theme";

/// The saved theme; `System` when none was saved or the value is not one we know.
pub async fn load_theme(store: &Store) -> Result<Theme, AppError> {
    Ok(read_text(store, THEME_KEY)
        .await?
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

pub async fn save_theme(store: &Store, theme: Theme) -> Result<(), AppError> {
    write_json(store, THEME_KEY, &theme).await
}

/// The text stored under `key` in the `settings` table.
async fn read_text(store: &Store, key: &'static str) -> Result<Option<String>, AppError> {
    Ok(store
        .read(move |conn| -> Result<_, StoreError> { store::settings::get(conn, key) })
        .await?)
}

/// Stores `value` as JSON under `key` in the `settings` table.
async fn write_json(
    store: &Store,
    key: &'static str,
    value: &impl Serialize,
) -> Result<(), AppError> {
    let text = serde_json::to_string(value)
        .map_err(|e| AppError::Store(StoreError::Internal(e.to_string())))?;
    store
        .write(move |conn| -> Result<(), StoreError> { store::settings::set(conn, key, &text) })
        .await?;
    Ok(())
}

/// The settings as the Settings page edits them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct AppSettings {
    /// The address to listen on: `0.0.0.0` for every interface, `127.0.0.1` for this
    /// machine only.
    pub listen_address: String,
    pub port: u16,
    /// The public host name the identity provider reaches this machine by.
    pub hostname: Option<String>,
    pub tls: TlsChoice,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    /// With ACME: the account's contact address (optional; the CA may mail about the
    /// account).
    pub acme_email: Option<String>,
    /// With ACME: the CA's directory URL (Let's Encrypt production by default).
    pub acme_directory: String,
    /// With ACME's HTTP-01 challenge (a listen port other than 443): where the challenge
    /// listener binds. The CA always asks on port 80, so this is 80 unless a router or
    /// gateway forwards port 80 to another port of this machine.
    pub acme_http_port: u16,
    pub secrets: SecretsChoice,
    pub start_at_login: bool,
    pub update_channel: UpdateChannel,
    /// Overrides the release feed's manifest URL (for a mirror or an internal feed).
    pub update_endpoint: Option<String>,
    /// Whether the bridge was running when the app last quit (it comes back up at launch).
    pub was_running: bool,
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            listen_address: "0.0.0.0".into(),
            port: 8443,
            hostname: None,
            tls: TlsChoice::SelfSigned,
            cert_file: None,
            key_file: None,
            acme_email: None,
            acme_directory: LETS_ENCRYPT.to_owned(),
            acme_http_port: 80,
            secrets: SecretsChoice::Keychain,
            start_at_login: false,
            update_channel: UpdateChannel::Stable,
            update_endpoint: None,
            was_running: false,
        }
    }
}

fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

impl AppSettings {
    /// Every field that cannot be used, each with what to enter instead.
    pub fn validate(&self) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        if self.listen_address.trim().parse::<IpAddr>().is_err() {
            out.push(problem(
                "listenAddress",
                "enter an IP address: 0.0.0.0 for every interface, 127.0.0.1 for this machine only",
            ));
        }
        if self.port == 0 {
            out.push(problem("port", "enter a port from 1 to 65535, e.g. 8443"));
        }
        if let Some(h) = non_empty(&self.hostname) {
            if !valid_hostname(h) {
                out.push(problem(
                    "hostname",
                    "enter a host name like scim.example.com (letters, digits, '-' and '.'), or an IP address",
                ));
            }
        }
        if self.tls == TlsChoice::Pem {
            for (field, value, what) in [
                ("certFile", &self.cert_file, "certificate chain"),
                ("keyFile", &self.key_file, "private key"),
            ] {
                match value.as_deref().filter(|v| !v.trim().is_empty()) {
                    None => out.push(problem(
                        field,
                        format!("choose the PEM file with the {what}"),
                    )),
                    Some(p) if !Path::new(p.trim()).is_file() => out.push(problem(
                        field,
                        format!("{p} is not a readable file; choose the PEM file with the {what}"),
                    )),
                    Some(_) => {}
                }
            }
        }
        if self.tls == TlsChoice::Acme {
            self.validate_acme(&mut out);
        }
        if let Some(url) = self
            .update_endpoint
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            let url = url.trim();
            if !(url.starts_with("https://") || url.starts_with("http://127.0.0.1")) {
                out.push(problem(
                    "updateEndpoint",
                    "enter an https:// URL of an update manifest (latest.json), or leave it empty for Keybridge's releases",
                ));
            }
        }
        out
    }

    fn validate_acme(&self, out: &mut Vec<FieldProblem>) {
        match self.hostname() {
            None => out.push(problem(
                "hostname",
                "a Let's Encrypt certificate needs the public host name whose DNS leads to this machine, e.g. scim.example.com",
            )),
            Some(h) if h.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok() => {
                out.push(problem(
                    "hostname",
                    "Let's Encrypt certifies DNS names, not IP addresses: enter the host name whose DNS leads to this machine",
                ))
            }
            Some(_) => {}
        }
        if let Some(email) = self.acme_email().filter(|e| !valid_email(e)) {
            out.push(problem(
                "acmeEmail",
                format!("{email} is not an email address; enter one like ops@example.com, or leave it empty"),
            ));
        }
        let directory = self.acme_directory.trim();
        if directory.is_empty() {
            out.push(problem(
                "acmeDirectory",
                format!("enter the CA's directory URL; Let's Encrypt's is {LETS_ENCRYPT}"),
            ));
        } else if !directory.starts_with("https://") || directory.len() <= "https://".len() {
            out.push(problem(
                "acmeDirectory",
                format!("the CA's directory URL starts with https://, e.g. Let's Encrypt's {LETS_ENCRYPT}"),
            ));
        }
        if self.acme_challenge() == ChallengeKind::Http01 {
            if self.acme_http_port == 0 {
                out.push(problem(
                    "acmeHttpPort",
                    "enter the port the CA's port-80 check reaches this machine on: 80 unless your router forwards it elsewhere",
                ));
            } else if self.acme_http_port == self.port {
                out.push(problem(
                    "acmeHttpPort",
                    format!("the bridge itself listens on port {}; the HTTP-01 check needs another port, usually 80", self.port),
                ));
            }
        }
    }

    /// The contact address for the ACME account, if one is set.
    pub fn acme_email(&self) -> Option<String> {
        non_empty(&self.acme_email).map(str::to_owned)
    }

    /// How the CA checks this machine: on the bridge's own port 443 (TLS-ALPN-01), or on
    /// port 80 (HTTP-01) for any other port, as `keybridge serve` chooses.
    pub fn acme_challenge(&self) -> ChallengeKind {
        ChallengeKind::for_https_port(self.port)
    }

    /// The socket address to listen on (validated settings only).
    pub fn listen(&self) -> Result<SocketAddr, AppError> {
        let ip: IpAddr = self.listen_address.trim().parse().map_err(|_| {
            AppError::InvalidSettings(vec![problem(
                "listenAddress",
                "enter an IP address such as 0.0.0.0",
            )])
        })?;
        Ok(SocketAddr::new(ip, self.port))
    }

    /// The bridge's TLS mode.
    pub fn tls_mode(&self) -> TlsMode {
        match self.tls {
            TlsChoice::SelfSigned => TlsMode::SelfSigned,
            TlsChoice::None => TlsMode::None,
            TlsChoice::Acme => {
                let mut config = AcmeConfig::new(crate::bridge::acme::directory_url(
                    self.acme_directory.trim(),
                ));
                config.email = self.acme_email();
                config.http_port = self.acme_http_port;
                TlsMode::Acme(config)
            }
            TlsChoice::Pem => TlsMode::Pem {
                cert: PathBuf::from(self.cert_file.as_deref().unwrap_or_default().trim()),
                key: PathBuf::from(self.key_file.as_deref().unwrap_or_default().trim()),
            },
        }
    }

    /// The host name, if one is set.
    pub fn hostname(&self) -> Option<String> {
        non_empty(&self.hostname).map(str::to_owned)
    }

    /// Whether changing from `self` to `other` changes how the bridge serves (so a running
    /// bridge must restart to apply it).
    pub fn serving_differs(&self, other: &AppSettings) -> bool {
        self.listen_address != other.listen_address
            || self.port != other.port
            || self.hostname() != other.hostname()
            || self.tls_mode() != other.tls_mode()
    }
}

/// Loosely: something@domain.tld with no spaces (the CA has the final word).
fn valid_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

fn valid_hostname(h: &str) -> bool {
    h.parse::<IpAddr>().is_ok()
        || (h.len() <= 253
            && h.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }))
}

/// The stored settings, or the defaults when none were saved. A damaged value is
/// reported rather than silently replaced by defaults.
pub async fn load(store: &Store) -> Result<AppSettings, AppError> {
    match read_text(store, KEY).await? {
        None => Ok(AppSettings::default()),
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            AppError::Store(StoreError::Corrupt(format!(
                "the saved settings cannot be read ({e}); save them again in Settings"
            )))
        }),
    }
}

/// Validates and saves `settings`.
pub async fn save(store: &Store, settings: &AppSettings) -> Result<(), AppError> {
    let problems = settings.validate();
    if !problems.is_empty() {
        return Err(AppError::InvalidSettings(problems));
    }
    write(store, settings).await
}

/// Saves without validation (for flags the app itself sets, such as `was_running`).
pub(super) async fn write(store: &Store, settings: &AppSettings) -> Result<(), AppError> {
    write_json(store, KEY, settings).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_serve_self_signed_on_8443() {
        let s = AppSettings::default();
        assert!(s.validate().is_empty());
        assert_eq!(s.listen().expect("listen").port(), 8443);
        assert_eq!(s.tls_mode(), TlsMode::SelfSigned);
    }

    #[test]
    fn each_bad_field_is_named_with_what_to_enter() {
        let s = AppSettings {
            listen_address: "everywhere".into(),
            port: 0,
            hostname: Some("bad host!".into()),
            tls: TlsChoice::Pem,
            cert_file: None,
            key_file: Some("/no/such/key.pem".into()),
            update_endpoint: Some("ftp://mirror".into()),
            ..AppSettings::default()
        };
        let fields: Vec<_> = s.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "listenAddress",
                "port",
                "hostname",
                "certFile",
                "keyFile",
                "updateEndpoint"
            ]
        );
    }

    #[test]
    fn only_changes_to_how_the_bridge_serves_need_a_restart() {
        let a = AppSettings::default();
        let mut b = a.clone();
        b.start_at_login = true;
        b.update_channel = UpdateChannel::Beta;
        assert!(!a.serving_differs(&b));
        b.port = 9443;
        assert!(a.serving_differs(&b));
    }

    #[tokio::test]
    async fn settings_round_trip_through_the_store_and_invalid_ones_are_not_saved() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Default::default()).expect("store");
        assert_eq!(load(&store).await.expect("load"), AppSettings::default());
        let mut s = AppSettings {
            hostname: Some("scim.example.com".into()),
            port: 9443,
            ..AppSettings::default()
        };
        save(&store, &s).await.expect("save");
        assert_eq!(load(&store).await.expect("load"), s);
        s.port = 0;
        assert!(matches!(
            save(&store, &s).await,
            Err(AppError::InvalidSettings(_))
        ));
        assert_eq!(load(&store).await.expect("load").port, 9443);
    }
}
