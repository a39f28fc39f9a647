//! `keybridge token issue|list|revoke`.

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
    /// Revoke a token by name.
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
            match secret_store(cli, &data_dir) {
                Ok(Some(secrets)) => match secrets.set(&format!("token/{name}"), &token) {
                    Ok(()) => eprintln!("The token is also kept in the secret store, so the desktop app can copy it again."),
                    Err(e) => eprintln!("note: the token was not kept in the secret store: {e}"),
                },
                Ok(None) => eprintln!("note: no OS keychain here; the token is shown only now. Keep it somewhere safe."),
                Err(e) => eprintln!("note: the token was not kept in the secret store: {e}"),
            }
            eprintln!("Paste this token as JumpCloud's Token Key (Authorization: Bearer). It is shown once:");
            println!("{}", token.expose());
            Ok(())
        }
        TokenCommand::List => {
            let rows = tokens::list(&store).await?;
            if rows.is_empty() {
                eprintln!("No tokens. Issue one with `keybridge token issue --name NAME`.");
            }
            for r in rows {
                println!(
                    "{}\tcreated {}\tlast used {}",
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
            eprintln!("Revoked '{name}'. Requests with it are refused from now on.");
            Ok(())
        }
    };
    store.close().await;
    result.map(|_| ExitCode::SUCCESS)
}
