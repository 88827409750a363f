//! `bazaar org` and `bazaar reviewer`: organizations, their plans, and platform reviewers.

use anyhow::Context;
use clap::Subcommand;

use super::{StoreArgs, init_logging, load_config};
use bazaar::platform::{ScopeSet, credentials, orgs};
use bazaar::server;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an organization with its owner and an API key holding every scope
    Create {
        /// The organization's display name
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long, env = "BAZAAR_ADMIN_PASSWORD")]
        admin_password: String,
        /// Print the organization, the user and the key as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Put an organization (by slug) on a rate-limit plan of the configuration
    Plan {
        slug: String,
        plan: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
pub enum ReviewerCommand {
    /// Make an existing user a platform reviewer (scope `apps:review` on their sessions)
    Add {
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `bazaar org create` and `bazaar org plan`.
pub async fn org(file: Option<&std::path::Path>, command: OrgCommand) -> anyhow::Result<()> {
    match command {
        OrgCommand::Create {
            name,
            admin_email,
            admin_password,
            json,
            store,
        } => {
            let config = load_config(file, &store, None)?;
            init_logging("warn");
            let store = server::open_store(&config).await?;
            let (org, user) = orgs::create_with_owner(&store, &name, &admin_email, &admin_password).await?;
            let key = credentials::create_api_key(&store, &org.id, "admin", ScopeSet::all(), Some(&user.id))
                .await?;
            if json {
                let out = serde_json::json!({ "organization": org, "user": user, "api_key": key });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "organization {} ({})\nowner {} ({})\nAPI key {}",
                    org.name, org.id, user.email, user.id, key.secret
                );
            }
            store.close().await;
            Ok(())
        }
        OrgCommand::Plan { slug, plan, store } => {
            let config = load_config(file, &store, None)?;
            init_logging("warn");
            if !config.rate_limits.plans.contains_key(&plan) {
                let known: Vec<&str> = config.rate_limits.plans.keys().map(String::as_str).collect();
                anyhow::bail!(
                    "no plan `{plan}` in the configuration; plans: {}",
                    known.join(", ")
                );
            }
            let store = server::open_store(&config).await?;
            let org = orgs::find_by_slug(&store, &slug)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organization with the slug `{slug}`"))?;
            orgs::set_plan(&store, &org.id, &plan).await?;
            println!(
                "{} is on the `{plan}` plan (each node applies it within a minute)",
                org.name
            );
            store.close().await;
            Ok(())
        }
    }
}

/// `bazaar reviewer add`.
pub async fn reviewer(file: Option<&std::path::Path>, command: ReviewerCommand) -> anyhow::Result<()> {
    let ReviewerCommand::Add { email, store } = command;
    let config = load_config(file, &store, None)?;
    init_logging("warn");
    let store = server::open_store(&config).await?;
    bazaar::platform::orgs::make_reviewer(&store, &email)
        .await
        .with_context(|| format!("no user has the email {email}; create them first"))?;
    println!("{email} is now a platform reviewer");
    store.close().await;
    Ok(())
}
