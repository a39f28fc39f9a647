//! `keybridge status`: the certificates in the data directory and, given `--url`, what a
//! running bridge's `/health` says.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use keybridge::bridge::tls::{self, CertificateInfo, StoredCertificate};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Cli;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A running bridge's origin or base URL (e.g. https://scim.example.com); its /health
    /// is read with the token in KEYBRIDGE_TOKEN.
    #[arg(long)]
    pub url: Option<String>,
    /// The bearer token for --url.
    #[arg(long, env = "KEYBRIDGE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Also trust this root certificate (PEM) for --url; the data directory's self-signed
    /// certificate and the system's roots are always trusted.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// /health answers in milliseconds; anything slower is a problem worth reporting.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(15);

pub async fn run(cli: &Cli, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let data_dir = super::data_dir(cli)?;
    let stored = tls::stored_certificates(&data_dir);
    let health = match &args.url {
        Some(url) => Some(fetch_health(&data_dir, url, args).await?),
        None => None,
    };
    if args.json {
        let certificates: Vec<Value> = stored
            .iter()
            .map(|c| match &c.info {
                Ok(info) => json!({"path": c.path, "certificate": info}),
                Err(e) => json!({"path": c.path, "error": e}),
            })
            .collect();
        let doc = json!({
            "dataDir": data_dir,
            "certificates": certificates,
            "health": health,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("Data directory: {}", data_dir.display());
    if stored.is_empty() {
        println!("No certificates yet (the bridge makes or obtains one when it first serves).");
    }
    for certificate in &stored {
        print_stored(certificate);
    }
    if let (Some(url), Some(health)) = (&args.url, &health) {
        print_health(url, health);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_stored(certificate: &StoredCertificate) {
    println!();
    println!("{}", certificate.path.display());
    match &certificate.info {
        Ok(info) => print_info(info, "  "),
        Err(e) => println!("  unreadable: {e}"),
    }
}

fn print_info(info: &CertificateInfo, indent: &str) {
    let now = OffsetDateTime::now_utc();
    let days = info.days_left(now);
    let left = if info.not_after <= now {
        "EXPIRED".to_owned()
    } else {
        format!("{days} days left")
    };
    println!("{indent}subject: {}", or_none(&info.subject));
    println!("{indent}issuer:  {}", or_none(&info.issuer));
    println!("{indent}names:   {}", info.dns_names.join(", "));
    println!("{indent}serial:  {}", info.serial);
    println!(
        "{indent}expires: {} ({left})",
        info.not_after.format(&Rfc3339).unwrap_or_default()
    );
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "(none)"
    } else {
        s
    }
}

fn print_health(url: &str, health: &Value) {
    println!();
    println!(
        "Bridge at {url}: {}",
        health["status"].as_str().unwrap_or("?")
    );
    let tls = &health["components"]["tls"];
    println!(
        "  tls: {} (mode {})",
        tls["status"].as_str().unwrap_or("?"),
        tls["mode"].as_str().unwrap_or("?")
    );
    if let Ok(info) = serde_json::from_value::<ServedInfo>(tls["certificate"].clone()) {
        println!("  subject: {}", or_none(&info.subject));
        println!("  issuer:  {}", or_none(&info.issuer));
        println!("  names:   {}", info.dns_names.join(", "));
        println!("  serial:  {}", info.serial);
        println!(
            "  expires: {} ({} days left)",
            info.not_after, tls["expiresInDays"]
        );
    }
    let acme = &tls["acme"];
    if acme.is_object() {
        println!(
            "  acme:    {} via {}",
            acme["directory"].as_str().unwrap_or("?"),
            acme["challenge"].as_str().unwrap_or("?")
        );
        if let Some(next) = acme["nextAttempt"].as_str() {
            println!("  next renewal attempt: {next}");
        }
        if let Some(error) = acme["lastError"].as_str() {
            println!("  last error: {error}");
        }
    }
}

/// The certificate as `/health` spells it (dates stay strings).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServedInfo {
    subject: String,
    issuer: String,
    serial: String,
    not_after: String,
    dns_names: Vec<String>,
}

async fn fetch_health(
    data_dir: &std::path::Path,
    url: &str,
    args: &StatusArgs,
) -> anyhow::Result<Value> {
    let token = args
        .token
        .as_deref()
        .context("--url needs a bearer token: set KEYBRIDGE_TOKEN (or pass --token)")?;
    let origin = url
        .trim_end_matches('/')
        .trim_end_matches("/scim/v2")
        .trim_end_matches("/scim");
    let mut builder = reqwest::Client::builder().timeout(HEALTH_TIMEOUT);
    let mut roots = vec![data_dir.join("tls").join("self-signed.crt")];
    roots.extend(args.ca.clone());
    for path in roots.iter().filter(|p| p.exists()) {
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    let client = builder.build()?;
    let response = client
        .get(format!("{origin}/health"))
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("cannot reach {origin}/health"))?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        anyhow::bail!("{origin}/health refused the token (401): check KEYBRIDGE_TOKEN");
    }
    response
        .json()
        .await
        .with_context(|| format!("{origin}/health did not answer JSON (HTTP {status})"))
}
