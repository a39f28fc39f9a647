//! `keybridge serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use keybridge::bridge::acme::{self, AcmeConfig, ChallengeKind};
use keybridge::bridge::tls::CertificateSource;
use keybridge::bridge::{self, BridgeConfig, Limits, TlsMode};
use keybridge::directory::Directory;
use keybridge::store::lock::DataDirLock;
use keybridge::store::{Store, StoreOptions};

use super::Cli;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// The public host name JumpCloud reaches this machine by (base URL, certificate).
    #[arg(long)]
    pub hostname: Option<String>,
    /// How to serve: a self-signed certificate, your own PEM files, a certificate from
    /// Let's Encrypt (or another ACME CA), or plain HTTP (only behind a gateway that
    /// terminates TLS).
    #[arg(long, value_enum, default_value_t = TlsChoice::SelfSigned)]
    pub tls: TlsChoice,
    /// Certificate chain (PEM), with --tls pem.
    #[arg(long, required_if_eq("tls", "pem"))]
    pub cert: Option<PathBuf>,
    /// Private key (PEM), with --tls pem.
    #[arg(long, required_if_eq("tls", "pem"))]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub acme: AcmeArgs,
    /// The 1Password profile: externalId is always the email's local part.
    #[arg(long)]
    pub onepassword_compat: Option<bool>,
    /// Log as JSON lines on the terminal too (the files in DATA/logs are always JSON).
    #[arg(long)]
    pub log_json: bool,
    /// How many daily log files to keep in DATA/logs.
    #[arg(long, default_value_t = keybridge::logging::DEFAULT_KEEP_FILES)]
    pub log_files: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsChoice {
    SelfSigned,
    Pem,
    Acme,
    None,
}

/// The options of `--tls acme`.
#[derive(Debug, Args)]
pub struct AcmeArgs {
    /// The ACME CA's directory URL, or `letsencrypt` / `letsencrypt-staging`.
    #[arg(long, default_value = "letsencrypt")]
    pub acme_directory: String,
    /// Contact address for the ACME account (the CA's expiry warnings).
    #[arg(long)]
    pub acme_email: Option<String>,
    /// How the CA validates the host name; default: tls-alpn-01 when listening on port
    /// 443, else http-01.
    #[arg(long, value_enum)]
    pub acme_challenge: Option<ChallengeChoice>,
    /// Port of the plain-HTTP listener for http-01 (the CA connects to port 80).
    #[arg(long, default_value_t = 80)]
    pub acme_http_port: u16,
    /// Renew when the certificate has fewer than this many days left.
    #[arg(long, default_value_t = 30)]
    pub acme_renew_days: u32,
    /// Trust this root certificate (PEM) for the CA's own HTTPS instead of the system's
    /// roots; for test CAs such as pebble.
    #[arg(long)]
    pub acme_ca_root: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChallengeChoice {
    #[value(name = "tls-alpn-01")]
    TlsAlpn01,
    #[value(name = "http-01")]
    Http01,
}

impl AcmeArgs {
    fn config(&self) -> AcmeConfig {
        let mut config = AcmeConfig::new(acme::directory_url(&self.acme_directory));
        config.email = self.acme_email.clone();
        config.challenge = self.acme_challenge.map(|c| match c {
            ChallengeChoice::TlsAlpn01 => ChallengeKind::TlsAlpn01,
            ChallengeChoice::Http01 => ChallengeKind::Http01,
        });
        config.http_port = self.acme_http_port;
        config.renew_before =
            std::time::Duration::from_secs(u64::from(self.acme_renew_days) * 86_400);
        config.ca_root = self.acme_ca_root.clone();
        config
    }
}

pub async fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let data_dir = super::data_dir(cli)?;
    // Held until the end of `run`: dropping it flushes the log file.
    let _log_guard = keybridge::logging::init(&keybridge::logging::LogConfig {
        data_dir: Some(data_dir.clone()),
        terminal_json: args.log_json,
        keep_files: args.log_files,
    })?;
    let tls = match args.tls {
        TlsChoice::SelfSigned => TlsMode::SelfSigned,
        TlsChoice::None => TlsMode::None,
        TlsChoice::Acme => TlsMode::Acme(args.acme.config()),
        TlsChoice::Pem => TlsMode::Pem {
            cert: args.cert.clone().context("--tls pem needs --cert FILE")?,
            key: args.key.clone().context("--tls pem needs --key FILE")?,
        },
    };
    // Held until this function returns: `keybridge restore` takes the same lock, so it
    // cannot replace the store under a running bridge (nor can a second bridge start).
    keybridge::store::create_private_dir(&data_dir)?;
    let _lock = DataDirLock::acquire(&data_dir, "keybridge serve")?;
    let store = Store::open(&data_dir, StoreOptions::default())
        .with_context(|| format!("cannot open the directory in {}", data_dir.display()))?;
    let directory = Directory::open(store.clone()).await?;
    if let Some(on) = args.onepassword_compat {
        directory.set_onepassword_compat(on).await?;
    }
    if tls == TlsMode::None {
        tracing::warn!("serving PLAIN HTTP (--tls none): bearer tokens cross the network unencrypted; use this only behind a gateway that terminates TLS, or in tests");
    }
    let config = BridgeConfig {
        listen: args.listen,
        hostname: args.hostname.clone(),
        tls,
        data_dir: data_dir.clone(),
        limits: Limits::default(),
    };
    // Single sign-on and invitation mail need the secret store (client ID, SMTP
    // password); without one the join pages still work for people who do not use SSO.
    let secrets = match super::sso::secret_store(cli, &data_dir) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "no secret store: single sign-on and SMTP credentials are unavailable");
            None
        }
    };
    let sso = keybridge::sso::Sso::new(
        store.clone(),
        secrets,
        std::sync::Arc::new(keybridge::sso::SystemClock),
    )?;
    let running = bridge::serve_with(config, directory.clone(), sso.clone()).await?;
    if let (Some(acme), Some(certificate)) = (running.acme(), &running.certificate) {
        let current = certificate.current();
        if current.source == CertificateSource::AcmePending {
            println!(
                "Obtaining a certificate for {} from the ACME CA ({}); a self-signed one is served until it arrives (`keybridge status` shows which).",
                args.hostname.as_deref().unwrap_or_default(),
                acme.challenge().name(),
            );
        } else {
            println!(
                "Serving the stored ACME certificate for {} (expires {}); it is renewed {} days ahead.",
                current.info.dns_names.join(", "),
                current.info.not_after.date(),
                args.acme.acme_renew_days,
            );
        }
    }
    let (stop_background, background_stopped) = tokio::sync::watch::channel(false);
    let background =
        tokio::spawn(sso.run_background(std::time::Duration::from_secs(60), background_stopped));
    // A bridge without a token cannot be used: say how to issue one.
    let has_token = keybridge::tokens::list(&store)
        .await
        .is_ok_and(|t| !t.is_empty());
    tracing::info!(listen = %running.local_addr, data_dir = %data_dir.display(), "bridge is serving");
    println!("Keybridge is serving SCIM 2.0.");
    println!(
        "Base URL (paste into JumpCloud's Provisioning tab): {}",
        running.base_url
    );
    if !has_token {
        println!(
            "No bearer token exists yet: run `keybridge --data-dir {} token issue --name jumpcloud` and paste the token it prints.",
            data_dir.display()
        );
    }
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    let _ = stop_background.send(true);
    let _ = background.await;
    running.shutdown().await;
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
