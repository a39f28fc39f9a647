//! Certificates from an ACME CA (Let's Encrypt): obtained on first start, kept in the data
//! directory, renewed in the background before they expire, and swapped into the
//! listener's `LiveCertificate` without dropping a connection.
//!
//! Challenges: TLS-ALPN-01 is answered by the bridge's own TLS listener (the resolver
//! hands out the challenge certificate to `acme-tls/1` handshakes); HTTP-01 by a small
//! plain-HTTP listener on port 80 that serves nothing but challenge tokens.

mod files;
mod http01;
mod issue;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use instant_acme::Account;
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use self::files::AcmeFiles;
use self::http01::{Http01Listener, Http01Tokens};
use self::issue::Issuer;
use super::tls::{CertificateSource, LiveCertificate, ServedCertificate};

/// Let's Encrypt's production directory, the default.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory: untrusted certificates, generous rate limits.
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

/// How the CA checks that this machine answers for the host name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    /// A special certificate on the TLS port (443): no second port needed.
    TlsAlpn01,
    /// A token over plain HTTP on port 80.
    Http01,
}

impl ChallengeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChallengeKind::TlsAlpn01 => "tls-alpn-01",
            ChallengeKind::Http01 => "http-01",
        }
    }

    /// TLS-ALPN-01 when the bridge itself listens on 443 (where the CA connects), else
    /// HTTP-01, which the CA sends to port 80.
    pub fn for_https_port(port: u16) -> ChallengeKind {
        if port == 443 {
            ChallengeKind::TlsAlpn01
        } else {
            ChallengeKind::Http01
        }
    }

    fn hint(self, http_port: u16) -> String {
        match self {
            ChallengeKind::TlsAlpn01 => {
                "Check that the host name's DNS points at this machine and that port 443 \
                 reaches this bridge directly (not through a proxy that terminates TLS)."
                    .into()
            }
            ChallengeKind::Http01 => format!(
                "Check that the host name's DNS points at this machine and that port 80 reaches \
                 this bridge's challenge listener (port {http_port})."
            ),
        }
    }
}

/// What `--tls acme` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeConfig {
    /// The CA's directory URL.
    pub directory: String,
    /// A contact address for the account (expiry warnings, policy changes).
    pub email: Option<String>,
    /// None: chosen by the listening port (`ChallengeKind::for_https_port`).
    pub challenge: Option<ChallengeKind>,
    /// Where the HTTP-01 listener binds (on the TLS listener's address).
    pub http_port: u16,
    /// Renew once the certificate has less than this left.
    pub renew_before: Duration,
    /// Trust this root (PEM) for the CA's own HTTPS instead of the system's roots; for
    /// test CAs such as pebble.
    pub ca_root: Option<PathBuf>,
    /// First wait after a failed order; doubles per failure up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

impl AcmeConfig {
    /// Production defaults: renew 30 days ahead, retry from 10 s up to an hour.
    pub fn new(directory: impl Into<String>) -> AcmeConfig {
        AcmeConfig {
            directory: directory.into(),
            email: None,
            challenge: None,
            http_port: 80,
            renew_before: Duration::from_secs(30 * 24 * 3600),
            ca_root: None,
            retry_initial: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
        }
    }
}

/// Where the certificate issued by the CA at `directory_url` is kept in `data_dir`
/// (`DATA/tls/acme/<CA>/cert.pem`; it may not exist yet).
pub fn certificate_path(data_dir: &Path, directory_url: &str) -> PathBuf {
    AcmeFiles::new(data_dir, directory_url).cert_path()
}

/// `letsencrypt` and `letsencrypt-staging` stand for Let's Encrypt's directories;
/// anything else is taken as a directory URL.
pub fn directory_url(name_or_url: &str) -> String {
    match name_or_url {
        "letsencrypt" | "letsencrypt-production" => LETS_ENCRYPT.to_owned(),
        "letsencrypt-staging" => LETS_ENCRYPT_STAGING.to_owned(),
        url => url.to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error("--tls acme needs --hostname: the public DNS name the CA validates and the certificate names")]
    MissingHostname,
    #[error("{0} is an IP address; ACME certificates here are for DNS names: give --hostname the DNS name that points at this machine")]
    IpHostname(String),
    #[error("cannot listen on {addr} for ACME HTTP-01 challenges: {source}. Port 80 needs root or CAP_NET_BIND_SERVICE; or serve on port 443 with --acme-challenge tls-alpn-01")]
    BindHttp {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the ACME CA step \"{step}\" failed: {source}")]
    Acme {
        step: &'static str,
        source: instant_acme::Error,
    },
    #[error("the CA refused the order: {0}")]
    Rejected(String),
    #[error("the CA offers no {kind} challenge for {host}; try the other --acme-challenge")]
    NoChallenge { kind: &'static str, host: String },
    #[error("the CA could not validate {host} with {challenge}: {detail}. {hint}")]
    ValidationFailed {
        host: String,
        challenge: &'static str,
        detail: String,
        hint: String,
    },
    #[error("cannot build the certificate request: {0}")]
    Csr(String),
    #[error("the certificate the CA sent is unusable: {0}")]
    BadCertificate(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not an ACME account file ({source}); move it away to register a new account"
    )]
    AccountFile {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Files(String),
    #[error("the order did not complete within {0:?}")]
    Timeout(Duration),
}

impl AcmeError {
    fn is_unknown_account(&self) -> bool {
        matches!(
            self,
            AcmeError::Acme {
                source: instant_acme::Error::Api(problem),
                ..
            } if problem.r#type.as_deref() == Some("urn:ietf:params:acme:error:accountDoesNotExist")
        )
    }
}

/// One order may take this long, end to end, before it counts as failed and is retried.
const ORDER_TIMEOUT: Duration = Duration::from_secs(300);
/// The renewal task wakes at least this often, so a suspended machine or a clock change
/// delays a renewal by at most this much.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// The stored ACME certificate for `hostname`, if there is a usable one.
pub fn stored_certificate(
    data_dir: &Path,
    config: &AcmeConfig,
    hostname: &str,
) -> Option<ServedCertificate> {
    AcmeFiles::new(data_dir, &config.directory).load_certificate(hostname)
}

/// Every ACME certificate file kept in `data_dir`.
pub fn certificate_files(data_dir: &Path) -> Vec<PathBuf> {
    files::certificate_files(data_dir)
}

/// Where the ACME files for `directory` live.
pub fn files_dir(data_dir: &Path, directory: &str) -> PathBuf {
    AcmeFiles::new(data_dir, directory)
        .cert_path()
        .parent()
        .map_or_else(|| files::acme_root(data_dir), Path::to_owned)
}

/// The running ACME task (and HTTP-01 listener).
pub struct AcmeHandle {
    renew_now: Arc<Notify>,
    task: JoinHandle<()>,
    http01: Option<Http01Listener>,
    challenge: ChallengeKind,
}

impl AcmeHandle {
    /// Orders a new certificate now, whatever the schedule says (for operators' tools and
    /// tests; a renewal already running is followed by one more).
    pub fn renew_now(&self) {
        self.renew_now.notify_one();
    }

    /// The challenge type in use.
    pub fn challenge(&self) -> ChallengeKind {
        self.challenge
    }

    /// Where the HTTP-01 listener listens, with HTTP-01.
    pub fn http01_addr(&self) -> Option<SocketAddr> {
        self.http01.as_ref().map(|l| l.addr)
    }

    /// Stops renewing and closes the HTTP-01 listener. An order in flight is abandoned;
    /// its files are written by rename, so nothing half-written is left.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        if let Some(listener) = self.http01 {
            listener.stop().await;
        }
    }
}

/// What the ACME task needs from the server that starts it.
pub(crate) struct AcmeStart<'a> {
    pub config: &'a AcmeConfig,
    pub data_dir: &'a Path,
    pub hostname: Option<&'a str>,
    /// The TLS listener's bound address (its port picks the default challenge).
    pub https_addr: SocketAddr,
    /// `https://host[:port]`, where the HTTP-01 listener redirects browsers.
    pub https_origin: &'a str,
    pub certificate: Arc<LiveCertificate>,
}

/// Checks the host name, binds the HTTP-01 listener when that challenge is in use, and
/// starts the renewal task (which orders at once if no ACME certificate is served yet).
pub(crate) async fn start(start: AcmeStart<'_>) -> Result<AcmeHandle, AcmeError> {
    let hostname = check_hostname(start.hostname)?;
    let config = start.config.clone();
    let challenge = config
        .challenge
        .unwrap_or_else(|| ChallengeKind::for_https_port(start.https_addr.port()));
    let tokens = Http01Tokens::default();
    let http01 = match challenge {
        ChallengeKind::Http01 => {
            let addr = SocketAddr::new(start.https_addr.ip(), config.http_port);
            Some(http01::start(addr, tokens.clone(), start.https_origin).await?)
        }
        ChallengeKind::TlsAlpn01 => None,
    };
    start.certificate.update_renewal(|status| {
        status.directory = config.directory.clone();
        status.challenge = challenge.name().to_owned();
    });
    let renew_now = Arc::new(Notify::new());
    let renewer = Renewer {
        files: AcmeFiles::new(start.data_dir, &config.directory),
        config,
        hostname,
        challenge,
        live: start.certificate,
        tokens,
        renew_now: renew_now.clone(),
        account: None,
    };
    let task = tokio::spawn(renewer.run());
    Ok(AcmeHandle {
        renew_now,
        task,
        http01,
        challenge,
    })
}

fn check_hostname(hostname: Option<&str>) -> Result<String, AcmeError> {
    let name = hostname
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(AcmeError::MissingHostname)?;
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Err(AcmeError::IpHostname(name.to_owned()));
    }
    Ok(name.trim_end_matches('.').to_ascii_lowercase())
}

struct Renewer {
    config: AcmeConfig,
    files: AcmeFiles,
    hostname: String,
    challenge: ChallengeKind,
    live: Arc<LiveCertificate>,
    tokens: Http01Tokens,
    renew_now: Arc<Notify>,
    /// Loaded on first use and kept; dropped after a failure so the next try reloads it.
    account: Option<Account>,
}

impl Renewer {
    async fn run(mut self) {
        let mut failures: u32 = 0;
        loop {
            let wait = self.wait_before_next(failures);
            self.live.update_renewal(|s| {
                s.next_attempt = Some(OffsetDateTime::now_utc() + wait);
            });
            if !wait.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(wait.min(MAX_SLEEP)) => {
                        if wait > MAX_SLEEP {
                            continue;
                        }
                    }
                    _ = self.renew_now.notified() => {}
                }
            }
            let started = Instant::now();
            let outcome = match tokio::time::timeout(ORDER_TIMEOUT, self.order()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(AcmeError::Timeout(ORDER_TIMEOUT)),
            };
            match outcome {
                Ok(served) => {
                    failures = 0;
                    tracing::info!(
                        hostname = %self.hostname,
                        challenge = self.challenge.name(),
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "obtained a certificate from the ACME CA"
                    );
                    self.live.replace(served);
                    self.live.update_renewal(|s| {
                        s.last_success = Some(OffsetDateTime::now_utc());
                        s.last_error = None;
                        s.consecutive_failures = 0;
                    });
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    self.account = None;
                    let retry_in = self.backoff(failures);
                    tracing::warn!(
                        error = %e,
                        attempt = failures,
                        retry_in_s = retry_in.as_secs(),
                        "could not obtain a certificate; will retry"
                    );
                    self.live.update_renewal(|s| {
                        s.last_error = Some(e.to_string());
                        s.consecutive_failures = failures;
                    });
                }
            }
        }
    }

    /// Zero while no ACME certificate is served; else until `renew_before` ahead of its
    /// expiry; after a failure, the backoff.
    fn wait_before_next(&self, failures: u32) -> Duration {
        if failures > 0 {
            return self.backoff(failures);
        }
        let current = self.live.current();
        if current.source != CertificateSource::Acme || !current.info.covers(&self.hostname) {
            return Duration::ZERO;
        }
        renewal_wait(
            current.info.not_after,
            self.config.renew_before,
            OffsetDateTime::now_utc(),
        )
    }

    fn backoff(&self, failures: u32) -> Duration {
        backoff(self.config.retry_initial, self.config.retry_max, failures)
    }

    async fn order(&mut self) -> Result<ServedCertificate, AcmeError> {
        let issuer = Issuer {
            config: &self.config,
            files: &self.files,
            hostname: &self.hostname,
            challenge: self.challenge,
            live: &self.live,
            http01: &self.tokens,
        };
        let account = match &self.account {
            Some(account) => account.clone(),
            None => issuer.account().await?,
        };
        match issuer.obtain(&account).await {
            Ok(served) => {
                self.account = Some(account);
                Ok(served)
            }
            Err(e) if e.is_unknown_account() => {
                // The CA no longer knows the stored account (deactivated, or the CA was
                // reset): set it aside so the next try registers a new one.
                self.files.retire_account()?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}

/// How long until a certificate expiring at `not_after` is due for renewal.
fn renewal_wait(
    not_after: OffsetDateTime,
    renew_before: Duration,
    now: OffsetDateTime,
) -> Duration {
    let due = not_after - renew_before;
    Duration::try_from(due - now).unwrap_or(Duration::ZERO)
}

/// `initial`, doubled per further failure, capped at `max`.
fn backoff(initial: Duration, max: Duration, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(30);
    initial.saturating_mul(1u32 << doublings).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_due_thirty_days_before_expiry() {
        let now = OffsetDateTime::now_utc();
        let thirty = Duration::from_secs(30 * 24 * 3600);
        let expiry = now + time::Duration::days(90);
        let wait = renewal_wait(expiry, thirty, now);
        assert_eq!(wait.as_secs(), 60 * 24 * 3600);
        assert_eq!(
            renewal_wait(now + time::Duration::days(10), thirty, now),
            Duration::ZERO
        );
        assert_eq!(
            renewal_wait(now - time::Duration::days(1), thirty, now),
            Duration::ZERO
        );
    }

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let (initial, max) = (Duration::from_secs(10), Duration::from_secs(3600));
        let waits: Vec<u64> = (1..=11)
            .map(|n| backoff(initial, max, n).as_secs())
            .collect();
        assert_eq!(
            waits,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff(initial, max, u32::MAX), max);
    }

    #[test]
    fn the_challenge_follows_the_port_unless_chosen() {
        assert_eq!(ChallengeKind::for_https_port(443), ChallengeKind::TlsAlpn01);
        assert_eq!(ChallengeKind::for_https_port(8443), ChallengeKind::Http01);
    }

    #[test]
    fn host_names_are_required_and_ip_addresses_refused() {
        assert!(matches!(
            check_hostname(None),
            Err(AcmeError::MissingHostname)
        ));
        assert!(matches!(
            check_hostname(Some("203.0.113.7")),
            Err(AcmeError::IpHostname(_))
        ));
        assert!(matches!(
            check_hostname(Some("[2001:db8::1]")),
            Err(AcmeError::IpHostname(_))
        ));
        assert_eq!(
            check_hostname(Some("SCIM.Example.com.")).expect("name"),
            "scim.example.com"
        );
    }

    #[test]
    fn lets_encrypt_shorthands_expand_to_directory_urls() {
        assert_eq!(directory_url("letsencrypt-staging"), LETS_ENCRYPT_STAGING);
        assert_eq!(directory_url("letsencrypt"), LETS_ENCRYPT);
        assert_eq!(
            directory_url("https://127.0.0.1:14000/dir"),
            "https://127.0.0.1:14000/dir"
        );
    }
}
