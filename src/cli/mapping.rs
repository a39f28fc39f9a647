//! `keybridge mapping show|set|restore-defaults|history|preview`: the team's stored table.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use keybridge::mapping::MappingTable;
use keybridge::mappings;
use keybridge::store::{Store, StoreOptions};

use super::Cli;

#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// Print the table in force (JSON).
    Show,
    /// Validate a table (JSON file) and save it as a new version.
    Set {
        file: PathBuf,
        #[arg(long)]
        note: Option<String>,
    },
    /// Save the default 1Password table as a new version.
    RestoreDefaults,
    /// List saved versions, newest first.
    History,
    /// Print what JumpCloud would send for a JumpCloud user with the table in force.
    Preview {
        #[arg(long)]
        jc_user: PathBuf,
        #[arg(long)]
        provider_user: Option<PathBuf>,
    },
}

fn read_json(path: &PathBuf) -> anyhow::Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

pub async fn run(cli: &Cli, cmd: &MappingCommand) -> anyhow::Result<ExitCode> {
    let data_dir = super::data_dir(cli)?;
    let store = Store::open(
        &data_dir,
        StoreOptions {
            readers: 1,
            ..Default::default()
        },
    )?;
    let result: anyhow::Result<()> = async {
        match cmd {
            MappingCommand::Show => {
                let current = mappings::current(&store).await?;
                eprintln!("version {}{}", current.version, if current.version == 0 { " (the built-in default)" } else { "" });
                println!("{}", current.table.to_json_pretty());
            }
            MappingCommand::Set { file, note } => {
                let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
                let table = MappingTable::from_json(&text)?;
                let version = mappings::save(&store, "local admin", &table, note.as_deref()).await?;
                eprintln!("Saved as version {version}. JumpCloud applies a changed table at its next sync.");
            }
            MappingCommand::RestoreDefaults => {
                let version = mappings::restore_defaults(&store, "local admin").await?;
                eprintln!("Restored the default table as version {version}.");
            }
            MappingCommand::History => {
                let versions = store
                    .read(|conn| -> Result<_, keybridge::store::StoreError> { keybridge::store::mappings::history(conn) })
                    .await?;
                for v in versions {
                    println!("{}\t{}\t{}\t{}", v.version, v.saved_at, v.actor, v.note.unwrap_or_default());
                }
            }
            MappingCommand::Preview { jc_user, provider_user } => {
                let jc = read_json(jc_user)?;
                let provider = provider_user.as_ref().map(read_json).transpose()?;
                let preview = mappings::preview(&store, &jc, provider.as_ref(), provider.is_none()).await?;
                println!("{}", serde_json::to_string_pretty(&preview)?);
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    result.map(|_| ExitCode::SUCCESS)
}
