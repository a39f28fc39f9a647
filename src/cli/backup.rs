//! `keybridge backup FILE` and `keybridge restore FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use keybridge::store::backup::{self, BackupInfo, REPLACED_SUFFIX};
use keybridge::store::DB_FILE;

use super::Cli;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy. Safe while `keybridge serve` runs; an existing file is
    /// replaced only once the new copy is complete and verified.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file written by `keybridge backup`. Stop the bridge first: restore refuses to
    /// replace the store of a running bridge.
    pub file: PathBuf,
}

fn describe(info: &BackupInfo) -> String {
    format!(
        "{} people, {} groups, {} memberships (schema version {}, {} bytes)",
        info.people, info.groups, info.memberships, info.schema_version, info.bytes
    )
}

pub fn run_backup(cli: &Cli, args: &BackupArgs) -> anyhow::Result<ExitCode> {
    let data_dir = super::data_dir(cli)?;
    let info = backup::backup(&data_dir, &args.file)?;
    println!("Backed up {} to {}.", describe(&info), args.file.display());
    Ok(ExitCode::SUCCESS)
}

pub fn run_restore(cli: &Cli, args: &RestoreArgs) -> anyhow::Result<ExitCode> {
    let data_dir = super::data_dir(cli)?;
    let had_store = data_dir.join(DB_FILE).is_file();
    let info = backup::restore(&data_dir, &args.file)?;
    println!(
        "Restored {} into {}.",
        describe(&info),
        data_dir.join(DB_FILE).display()
    );
    if had_store {
        println!(
            "The store it replaced is kept as {}.",
            data_dir
                .join(format!("{DB_FILE}{REPLACED_SUFFIX}"))
                .display()
        );
    }
    println!("Start the bridge again with `keybridge serve`.");
    Ok(ExitCode::SUCCESS)
}
