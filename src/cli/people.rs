//! `keybridge people confirm|list`.

use std::process::ExitCode;

use clap::Subcommand;
use keybridge::directory::{Actor, Directory, ListRequest};
use keybridge::scim::schema::ResourceType;
use keybridge::store::{Store, StoreOptions};
use serde_json::Value;

use super::Cli;

#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// Mark an Invited person Active (until joining by invitation exists).
    Confirm {
        /// The person's email address or userName.
        email: String,
    },
    /// List people with their state.
    List,
    /// Print a fresh join link for an invited person (the previous link stops working).
    InviteLink {
        /// The person's email address or userName.
        email: String,
        /// Where people's browsers reach the bridge (https://HOST[:PORT]), if not
        /// configured with `keybridge sso configure --public-url`.
        #[arg(long)]
        public_url: Option<String>,
    },
}

pub async fn run(cli: &Cli, cmd: &PeopleCommand) -> anyhow::Result<ExitCode> {
    if let PeopleCommand::InviteLink { email, public_url } = cmd {
        return invite_link(cli, email, public_url.as_deref()).await;
    }
    let data_dir = super::data_dir(cli)?;
    let store = Store::open(
        &data_dir,
        StoreOptions {
            readers: 1,
            ..Default::default()
        },
    )?;
    let directory = Directory::open(store.clone()).await?;
    let base = "keybridge:/scim/v2";
    let result = match cmd {
        PeopleCommand::Confirm { email } => directory
            .confirm_person(&Actor::admin(), email, base)
            .await
            .map(|_| eprintln!("{email} is now Active."))
            .map_err(|e| anyhow::anyhow!(e.to_scim().detail)),
        PeopleCommand::InviteLink { .. } => Ok(()),
        PeopleCommand::List => {
            let mut start = 1;
            loop {
                let page = directory
                    .list(
                        ResourceType::User,
                        ListRequest {
                            filter: None,
                            start_index: start,
                            count: 500,
                            sort_by: None,
                            descending: false,
                            with_members: false,
                        },
                        base,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!(e.to_scim().detail))?;
                for p in &page.items {
                    let state = p
                        .get(keybridge::scim::schema::KEYBRIDGE_USER)
                        .and_then(|k| k.get("state"))
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    println!(
                        "{}\t{}\t{}",
                        p["userName"].as_str().unwrap_or(""),
                        state,
                        p["id"].as_str().unwrap_or("")
                    );
                }
                start += page.items.len() as u64;
                if page.items.is_empty() || start > page.total {
                    break;
                }
            }
            Ok(())
        }
    };
    store.close().await;
    result.map(|_| ExitCode::SUCCESS)
}

async fn invite_link(cli: &Cli, email: &str, public_url: Option<&str>) -> anyhow::Result<ExitCode> {
    let (store, sso) = super::sso::open(cli).await?;
    if let Some(u) = public_url {
        sso.set_runtime_public_url(u);
    }
    let result = sso.invite_link("local admin", email).await;
    store.close().await;
    let link = result?;
    eprintln!("Give {email} this link; it works once and expires in 7 days:");
    println!("{}", link.expose());
    Ok(ExitCode::SUCCESS)
}
