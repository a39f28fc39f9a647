//! `keybridge token issue|list|rotate|retire|revoke`.

use std::process::ExitCode;

use clap::Subcommand;
use keybridge::secrets::{KeychainStore, SecretStore, SecretsError};
use keybridge::store::{Store, StoreOptions};
use keybridge::tokens;

use super::{Cli, SecretsChoice};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a new bearer token; it is printed once, alone on the last line.
    Issue {
        #[arg(long)]
        name: String,
    },
    /// List tokens (names and dates; never the tokens).
    List,
    /// Issue a new token for NAME; the current one keeps working for the grace period
    /// (or until `retire`), so the identity provider can be switched without downtime.
    Rotate {
        name: String,
        /// How long the current token stays valid, in hours (at most 2160 = 90 days).
        #[arg(long, default_value_t = 168)]
        grace_hours: u64,
    },
    /// End a rotation now: the previous token of NAME stops working.
    Retire { name: String },
    /// Revoke a token by name (during a rotation, both of its tokens).
    Revoke { name: String },
}

fn secret_store(
    cli: &Cli,
    data_dir: &std::path::Path,
) -> anyhow::Result<Option<Box<dyn SecretStore>>> {
    Ok(match cli.secrets {
        SecretsChoice::File => Some(Box::new(keybridge::secrets::FileStore::open(data_dir)?)),
        SecretsChoice::Keychain => {
            let k = KeychainStore::for_data_dir(data_dir);
            k.probe()?;
            Some(Box::new(k))
        }
        SecretsChoice::Auto => {
            let k = KeychainStore::for_data_dir(data_dir);
            match k.probe() {
                Ok(()) => Some(Box::new(k)),
                Err(SecretsError::KeychainUnavailable { .. }) => None,
                Err(e) => return Err(e.into()),
            }
        }
    })
}

/// Keeps a token's plaintext in the secret store when there is one, so the desktop app can
/// copy it again; says so either way.
fn keep_in_secret_store(
    cli: &Cli,
    data_dir: &std::path::Path,
    name: &str,
    token: &keybridge::secrets::Secret,
) {
    match secret_store(cli, data_dir) {
        Ok(Some(secrets)) => match secrets.set(&format!("token/{name}"), token) {
            Ok(()) => eprintln!(
                "The token is also kept in the secret store, so the desktop app can copy it again."
            ),
            Err(e) => eprintln!("note: the token was not kept in the secret store: {e}"),
        },
        Ok(None) => eprintln!(
            "note: no OS keychain here; the token is shown only now. Keep it somewhere safe."
        ),
        Err(e) => eprintln!("note: the token was not kept in the secret store: {e}"),
    }
}

pub async fn run(cli: &Cli, cmd: &TokenCommand) -> anyhow::Result<ExitCode> {
    let data_dir = super::data_dir(cli)?;
    let store = Store::open(
        &data_dir,
        StoreOptions {
            readers: 1,
            ..Default::default()
        },
    )?;
    let result = match cmd {
        TokenCommand::Issue { name } => {
            let token = tokens::issue(&store, name).await?;
            keep_in_secret_store(cli, &data_dir, name, &token);
            eprintln!("Paste this token as JumpCloud's Token Key (Authorization: Bearer). It is shown once:");
            println!("{}", token.expose());
            Ok(())
        }
        TokenCommand::Rotate { name, grace_hours } => {
            let grace = std::time::Duration::from_secs(grace_hours.saturating_mul(3600));
            let rotation = tokens::rotate(&store, name, grace).await?;
            keep_in_secret_store(cli, &data_dir, name, &rotation.token);
            eprintln!(
                "The previous token of '{name}' keeps working until {} (or until `keybridge token retire {name}`).",
                rotation.previous_valid_until
            );
            eprintln!("Paste this new token into the identity provider. It is shown once:");
            println!("{}", rotation.token.expose());
            Ok(())
        }
        TokenCommand::Retire { name } => {
            tokens::retire(&store, name).await?;
            eprintln!("Retired the previous token of '{name}'. A running bridge refuses it within a second.");
            Ok(())
        }
        TokenCommand::List => {
            let rows = tokens::list(&store).await?;
            if rows.is_empty() {
                eprintln!("No tokens. Issue one with `keybridge token issue --name NAME`.");
            }
            for r in rows {
                let changeover = match r.previous_expires.as_deref() {
                    Some(until) if tokens::previous_is_valid(&r) => {
                        format!("\tprevious token valid until {until}")
                    }
                    _ => String::new(),
                };
                println!(
                    "{}\tcreated {}\tlast used {}{changeover}",
                    r.name,
                    r.created,
                    r.last_used.as_deref().unwrap_or("never")
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { name } => {
            tokens::revoke(&store, name).await?;
            if let Ok(Some(secrets)) = secret_store(cli, &data_dir) {
                let _ = secrets.delete(&format!("token/{name}"));
            }
            eprintln!("Revoked '{name}'. A running bridge refuses it within a second.");
            Ok(())
        }
    };
    store.close().await;
    result.map(|_| ExitCode::SUCCESS)
}
