//! `keybridge sso configure|show|check|policy|status|recover|enforce|switch-link|smtp`.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use keybridge::secrets::{open_store, Secret, SecretStore, StoreKind};
use keybridge::sso::check::{CheckOptions, OpenUrl};
use keybridge::sso::mail::{SmtpSecurity, SmtpSettings};
use keybridge::sso::policy::{PolicyMode, UnlockState};
use keybridge::sso::unlock::{PersonUnlock, PolicyView};
use keybridge::sso::{Sso, SsoConfig, SystemClock, DEFAULT_WELL_KNOWN};
use keybridge::store::{Store, StoreOptions};

use super::{Cli, SecretsChoice};

const ACTOR: &str = "local admin";

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Save the SSO configuration: the client ID goes into the secret store.
    Configure {
        /// The identity provider's discovery document.
        #[arg(long, default_value = DEFAULT_WELL_KNOWN)]
        well_known: String,
        /// The SSO application's client ID (JumpCloud shows it on the application's page).
        #[arg(long, env = "KEYBRIDGE_SSO_CLIENT_ID")]
        client_id: Option<String>,
        /// Where people's browsers reach the bridge: https://HOST[:PORT].
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Show the configuration, the redirect URIs to register, and the policy.
    Show,
    /// Check the identity provider: discovery, then a real sign-in ("test connection").
    /// Exits 0 only when every check passes.
    Check(CheckArgs),
    /// Who unlocks with SSO.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Each person's unlock method, deadline and state (or one person's).
    Status {
        /// An email address or userName.
        who: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Account recovery: a person who missed their deadline gets a new grace period.
    Recover { who: String },
    /// Sign out everyone who missed their deadline now (a serving bridge does this by
    /// itself every minute).
    Enforce,
    /// Print a link with which an active person switches to SSO.
    SwitchLink {
        who: String,
        /// Where people's browsers reach the bridge, if not configured.
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Save the SMTP settings for invitation mail (the password is read from stdin with
    /// --password-stdin and kept in the secret store).
    Smtp(SmtpArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long, default_value = DEFAULT_WELL_KNOWN)]
    pub well_known: String,
    #[arg(long, env = "KEYBRIDGE_SSO_CLIENT_ID")]
    pub client_id: String,
    /// Print the sign-in URL instead of opening the system browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Check discovery only; skip the test sign-in.
    #[arg(long)]
    pub no_sign_in: bool,
    /// Seconds to wait for the sign-in to come back.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show the policy.
    Show,
    /// Choose who unlocks with SSO: no-one, selected-groups, everyone-except-guests,
    /// everyone.
    Set {
        mode: String,
        /// The Everyone modes' grace period (1-30 days, default 5).
        #[arg(long)]
        grace_days: Option<i64>,
    },
    /// Select a group, or change its grace period (1-30 days, default 5).
    AddGroup {
        group: String,
        #[arg(long)]
        grace_days: Option<i64>,
    },
    /// Remove a group from the policy.
    RemoveGroup { group: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SecurityArg {
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Args)]
pub struct SmtpArgs {
    #[arg(long)]
    pub relay: String,
    #[arg(long)]
    pub port: u16,
    #[arg(long, value_enum, default_value_t = SecurityArg::Starttls)]
    pub security: SecurityArg,
    #[arg(long)]
    pub username: Option<String>,
    /// Read the SMTP password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// The sender, e.g. "Keybridge <it@example.com>".
    #[arg(long)]
    pub from: String,
}

/// The secret store the CLI choice names; `Auto` falls back to the owner-only file.
pub fn secret_store(cli: &Cli, data_dir: &Path) -> anyhow::Result<Arc<dyn SecretStore>> {
    let kind = match cli.secrets {
        SecretsChoice::Auto => StoreKind::Auto(data_dir.to_owned()),
        SecretsChoice::Keychain => StoreKind::Keychain(data_dir.to_owned()),
        SecretsChoice::File => StoreKind::File(data_dir.to_owned()),
    };
    let opened = open_store(kind)?;
    Ok(Arc::from(opened.store))
}

/// Opens the store and the SSO service for one command.
pub async fn open(cli: &Cli) -> anyhow::Result<(Store, Sso)> {
    let data_dir = super::data_dir(cli)?;
    let store = Store::open(
        &data_dir,
        StoreOptions {
            readers: 1,
            ..Default::default()
        },
    )
    .with_context(|| format!("cannot open the directory in {}", data_dir.display()))?;
    // Create the built-in groups on a fresh data directory, as every command does.
    keybridge::directory::Directory::open(store.clone()).await?;
    let secrets = secret_store(cli, &data_dir)?;
    let sso = Sso::new(store.clone(), Some(secrets), Arc::new(SystemClock))?;
    Ok((store, sso))
}

pub async fn run(cli: &Cli, cmd: &SsoCommand) -> anyhow::Result<ExitCode> {
    let (store, sso) = open(cli).await?;
    let result = dispatch(&sso, cmd).await;
    store.close().await;
    result
}

async fn dispatch(sso: &Sso, cmd: &SsoCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SsoCommand::Configure {
            well_known,
            client_id,
            public_url,
        } => {
            let id = client_id.as_deref().map(Secret::new);
            let config = sso
                .configure(ACTOR, well_known, id.as_ref(), public_url.as_deref())
                .await?;
            eprintln!("Saved. The client ID is kept in the secret store.");
            print_config(&config, true);
        }
        SsoCommand::Show => {
            let config = sso.config().await?;
            print_config(&config, sso.has_client_id());
            print_policy(&sso.policy().await?);
        }
        SsoCommand::Check(args) => return check(sso, args).await,
        SsoCommand::Policy(p) => {
            let view = match p {
                PolicyCommand::Show => sso.policy().await?,
                PolicyCommand::Set { mode, grace_days } => {
                    let mode = PolicyMode::parse(mode).ok_or_else(|| {
                        anyhow::anyhow!("'{mode}' is not a policy; use no-one, selected-groups, everyone-except-guests or everyone")
                    })?;
                    sso.set_policy_mode(ACTOR, mode, *grace_days).await?
                }
                PolicyCommand::AddGroup { group, grace_days } => {
                    sso.select_group(ACTOR, group, *grace_days).await?
                }
                PolicyCommand::RemoveGroup { group } => sso.unselect_group(ACTOR, group).await?,
            };
            print_policy(&view);
        }
        SsoCommand::Status { who, json } => {
            let rows = match who {
                Some(w) => vec![sso.person_status(w).await?],
                None => sso.status().await?,
            };
            if *json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print_status(&rows);
            }
        }
        SsoCommand::Recover { who } => {
            let row = sso.recover(ACTOR, who).await?;
            eprintln!("{who} was recovered.");
            print_status(&[row]);
        }
        SsoCommand::Enforce => {
            let out = sso.enforce_deadlines(ACTOR).await?;
            if out.is_empty() {
                eprintln!("Nobody has missed a deadline.");
            }
            for u in out {
                println!("signed out: {u}");
            }
        }
        SsoCommand::SwitchLink { who, public_url } => {
            if let Some(u) = public_url {
                sso.set_runtime_public_url(u);
            }
            let link = sso.switch_link(ACTOR, who).await?;
            eprintln!("Give {who} this link; it works once and expires in 7 days:");
            println!("{}", link.expose());
        }
        SsoCommand::Smtp(a) => {
            let password = if a.password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                Some(Secret::new(s.trim_end_matches(['\r', '\n'])))
            } else {
                None
            };
            let settings = SmtpSettings {
                relay: a.relay.clone(),
                port: a.port,
                security: match a.security {
                    SecurityArg::Starttls => SmtpSecurity::Starttls,
                    SecurityArg::Tls => SmtpSecurity::Tls,
                    SecurityArg::None => SmtpSecurity::None,
                },
                username: a.username.clone(),
                from: a.from.clone(),
            };
            sso.configure_smtp(ACTOR, settings, password.as_ref())
                .await?;
            eprintln!("Saved. A serving bridge mails new invitations from now on.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn check(sso: &Sso, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let no_browser = args.no_browser;
    let open: OpenUrl = Arc::new(move |url: &url::Url| {
        eprintln!("Sign in at:\n{url}");
        if !no_browser {
            open_browser(url.as_str());
        }
    });
    let opts = CheckOptions {
        well_known_url: args.well_known.clone(),
        client_id: Secret::new(args.client_id.clone()),
        sign_in: !args.no_sign_in,
        timeout: Duration::from_secs(args.timeout),
    };
    let report = sso.check(ACTOR, &opts, open).await?;
    for step in &report.steps {
        let mark = if step.ok { "ok  " } else { "FAIL" };
        println!("{mark} {}: {}", step.name, step.detail);
    }
    if report.passed() {
        println!("All checks passed.");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("The check failed; fix the first FAIL above and run it again.");
        Ok(ExitCode::FAILURE)
    }
}

/// Opens the system browser; failing that, the URL printed above is enough.
fn open_browser(url: &str) {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("(could not open a browser: {e}; open the URL above yourself)");
    }
}

fn print_config(config: &SsoConfig, has_client_id: bool) {
    println!("well-known URL: {}", config.well_known_url);
    println!(
        "client ID:      {}",
        if has_client_id {
            "stored in the secret store"
        } else {
            "not set"
        }
    );
    println!(
        "public URL:     {}",
        config
            .public_url
            .as_deref()
            .unwrap_or("not set (pass --public-url)")
    );
    println!("Redirect URIs to register in the identity provider:");
    for uri in SsoConfig::redirect_uris(config.public_url.as_deref()) {
        println!("  {uri}");
    }
    println!("  (the loopback one is for the desktop app and `keybridge sso check`; any port)");
}

fn print_policy(p: &PolicyView) {
    println!("policy: {}", p.mode.as_str());
    if let (Some(days), Some(deadline)) = (p.everyone_grace_days, p.everyone_deadline) {
        println!("  everyone: {days} day(s), deadline {deadline}");
    }
    for g in &p.groups {
        println!(
            "  group {}: {} day(s) from {} (deadline {})",
            g.name, g.grace_days, g.configured_at, g.deadline
        );
    }
}

fn print_status(rows: &[PersonUnlock]) {
    for r in rows {
        let detail = match r.unlock {
            UnlockState::SwitchPending { deadline } => format!("deadline {deadline}"),
            UnlockState::NeedsRecovery { reason, deadline } => {
                format!("{reason:?} (deadline {deadline})")
            }
            UnlockState::NotRequired { reason } => format!("{reason:?}"),
            _ => String::new(),
        };
        println!(
            "{}\t{}\t{}\t{}\t{}",
            r.user_name,
            r.person_state.as_str(),
            match r.method {
                keybridge::sso::policy::UnlockMethod::Sso => "sso",
                keybridge::sso::policy::UnlockMethod::AccountPassword => "account password",
            },
            r.unlock.label(),
            detail
        );
    }
}
