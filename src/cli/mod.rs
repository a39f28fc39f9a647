//! Command-line parsing and dispatch. Each subcommand lives in its own module and calls
//! the core's public API; none holds business logic.

mod backup;
mod expr;
mod mapping;
mod people;
mod serve;
mod sso;
mod status;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Keybridge: a SCIM 2.0 bridge for JumpCloud, Okta and Entra ID.
#[derive(Debug, Parser)]
#[command(name = "keybridge", version, about)]
pub struct Cli {
    /// Where Keybridge keeps its directory, certificates and logs.
    #[arg(long, global = true, env = "KEYBRIDGE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where secrets (token plaintexts) are kept: the OS keychain when there is one, an
    /// owner-only file in the data directory, or nowhere.
    #[arg(long, global = true, value_enum, default_value_t = SecretsChoice::Auto)]
    pub secrets: SecretsChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecretsChoice {
    /// The OS keychain if it answers; otherwise token plaintexts are not kept.
    Auto,
    Keychain,
    File,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the SCIM bridge.
    Serve(serve::ServeArgs),
    /// The certificates in the data directory and, with --url, a running bridge's health.
    Status(status::StatusArgs),
    /// Issue, list and revoke bearer tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Look at and confirm people.
    #[command(subcommand)]
    People(people::PeopleCommand),
    /// Evaluate one mapping expression against a JSON environment.
    Expr(expr::ExprArgs),
    /// Print the SCIM User a mapping table makes of a JumpCloud user.
    Map(expr::MapArgs),
    /// The team's stored attribute-mapping table.
    #[command(subcommand)]
    Mapping(mapping::MappingCommand),
    /// Copy the store to FILE, consistently, while the bridge serves.
    Backup(backup::BackupArgs),
    /// Replace the store with a backup (refused while a bridge serves from this directory).
    Restore(backup::RestoreArgs),
    /// Single sign-on: configuration, setup check, unlock policy, recovery.
    #[command(subcommand)]
    Sso(sso::SsoCommand),
}

/// The data directory: `--data-dir`, else the platform's data directory.
pub fn data_dir(cli: &Cli) -> anyhow::Result<PathBuf> {
    if let Some(d) = &cli.data_dir {
        return Ok(d.clone());
    }
    dirs::data_dir()
        .map(|d| d.join("Keybridge"))
        .ok_or_else(|| {
            anyhow::anyhow!("cannot find this platform's data directory; pass --data-dir")
        })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Serve(args) => runtime()?.block_on(serve::run(&cli, args)),
        Command::Status(args) => runtime()?.block_on(status::run(&cli, args)),
        Command::Token(cmd) => runtime()?.block_on(token::run(&cli, cmd)),
        Command::People(cmd) => runtime()?.block_on(people::run(&cli, cmd)),
        Command::Expr(args) => expr::run_expr(args),
        Command::Map(args) => expr::run_map(args),
        Command::Mapping(cmd) => runtime()?.block_on(mapping::run(&cli, cmd)),
        Command::Backup(args) => backup::run_backup(&cli, args),
        Command::Restore(args) => backup::run_restore(&cli, args),
        Command::Sso(cmd) => runtime()?.block_on(sso::run(&cli, cmd)),
    }
}
