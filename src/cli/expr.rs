//! `keybridge expr` and `keybridge map`: the mapping engine from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub struct ExprArgs {
    /// The expression (Expr, as in JumpCloud's attribute mappings).
    pub expression: String,
    /// A JSON object whose keys are the expression's variables.
    #[arg(long)]
    pub env: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MapArgs {
    /// A JumpCloud system user (JSON, as the JumpCloud API returns it).
    #[arg(long)]
    pub jc_user: PathBuf,
    /// The person's current SCIM record at the provider (JSON), for update mappings.
    #[arg(long)]
    pub provider_user: Option<PathBuf>,
    /// A mapping table (JSON), or `default` for the 1Password table.
    #[arg(long, default_value = "default")]
    pub table: String,
}

fn read(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

pub fn run_expr(args: &ExprArgs) -> anyhow::Result<ExitCode> {
    let env = args.env.as_ref().map(read).transpose()?;
    match keybridge::mapping::expr_command(&args.expression, env.as_deref()) {
        Ok(out) => {
            println!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("{message}");
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn run_map(args: &MapArgs) -> anyhow::Result<ExitCode> {
    let jc_user = read(&args.jc_user)?;
    let provider = args.provider_user.as_ref().map(read).transpose()?;
    let table = if args.table == "default" {
        None
    } else {
        Some(read(&PathBuf::from(&args.table))?)
    };
    match keybridge::mapping::map_command(&jc_user, provider.as_deref(), table.as_deref()) {
        Ok(out) => {
            println!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("{message}");
            Ok(ExitCode::FAILURE)
        }
    }
}
