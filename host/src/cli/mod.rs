//! The `bazaar` command: its arguments, and one small function per command in the modules
//! below. The server itself is the `bazaar` library; these are its tools.

mod admin;
mod bench;
mod build;
mod demo;
mod plugin;
mod scaffold;
mod serve;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use bazaar::config::{Config, Overrides};

#[derive(Parser)]
#[command(
    name = "bazaar",
    version,
    about = "App catalog, WebAssembly plugin host, OAuth and webhooks"
)]
pub struct Cli {
    /// A TOML configuration file (its keys: listen, data_dir, database_url, max_body_bytes,
    /// shutdown_grace_secs, log, secret_key, node_id, allow_private_network, and a [delivery]
    /// table; see the README).
    #[arg(long = "config-file", global = true, env = "BAZAAR_CONFIG")]
    pub config_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Default)]
pub struct StoreArgs {
    /// Folder for the embedded SQLite database [default: data]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Use PostgreSQL at this URL instead of SQLite (postgres://user:pass@host/db)
    #[arg(long)]
    pub database_url: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long)]
        listen: Option<SocketAddr>,
        #[command(flatten)]
        store: StoreArgs,
        /// Create a demo organization on first start and print how to sign in, and publish the
        /// example plugins into the catalog
        #[arg(long)]
        demo: bool,
        /// With --demo: the example plugins' folder [default: the workspace's example-plugins]
        #[arg(long)]
        examples: Option<PathBuf>,
        /// With --demo: where the built plugins are [default: target/wasm32-wasip2/plugin]
        #[arg(long)]
        plugins: Option<PathBuf>,
    },
    /// Apply database migrations and exit
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Manage organizations
    #[command(subcommand)]
    Org(admin::OrgCommand),
    /// Print the OpenAPI document of /v1
    Openapi {
        /// Write it to this file instead of standard output
        #[arg(long)]
        out: Option<PathBuf>,
        /// Exit non-zero if this file differs from what the code generates
        #[arg(long, conflicts_with = "out")]
        check: Option<PathBuf>,
    },
    /// Manage platform reviewers, who approve apps for the catalog
    #[command(subcommand)]
    Reviewer(admin::ReviewerCommand),
    /// Build, audit and run plugins locally
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// The WIT contract, for partners who bring their own bindings generator
    #[command(subcommand)]
    Wit(WitCommand),
    /// Measure performance (run from a release build)
    #[command(subcommand)]
    Bench(bench::command::BenchCommand),
}

#[derive(Subcommand)]
pub enum WitCommand {
    /// Write the WIT of every contract version this binary supports, one folder per version
    Export {
        /// The folder to write into
        dir: PathBuf,
    },
    /// Write the TypeScript declarations of the contract's interfaces (what the TypeScript SDK
    /// imports), generated from the WIT
    Typescript {
        /// The `.d.ts` file to write
        out: PathBuf,
    },
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = cli.config_file.as_deref();
    match cli.command {
        Command::Serve {
            listen,
            store,
            demo,
            examples,
            plugins,
        } => {
            serve::serve(
                file,
                listen,
                &store,
                demo.then_some(serve::Demo { examples, plugins }),
            )
            .await
        }
        Command::Migrate { store } => serve::migrate(file, &store).await,
        Command::Org(command) => admin::org(file, command).await,
        Command::Reviewer(command) => admin::reviewer(file, command).await,
        Command::Openapi { out, check } => openapi(out, check),
        Command::Plugin(command) => {
            init_logging("warn");
            plugin::run(command).await
        }
        Command::Wit(WitCommand::Export { dir }) => {
            for folder in scaffold::kit::export_wit(&dir)? {
                let version = folder.file_name().unwrap_or_default().to_string_lossy();
                println!("wrote {} (bazaar:platform@{version})", folder.display());
            }
            Ok(())
        }
        Command::Wit(WitCommand::Typescript { out }) => {
            scaffold::kit::write_file(&out, &scaffold::typescript::declarations()?)?;
            println!("wrote {} ({})", out.display(), scaffold::kit::contract());
            Ok(())
        }
        // The benchmarks install their own subscriber, to turn tracing on and off.
        Command::Bench(command) => bench::command::run(command).await,
    }
}

/// `bazaar openapi`: print, write or check the OpenAPI document.
fn openapi(out: Option<PathBuf>, check: Option<PathBuf>) -> anyhow::Result<()> {
    let text = bazaar::api::openapi_json();
    if let Some(path) = check {
        let kept = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        if kept != text {
            anyhow::bail!(
                "{} is out of date with the code; regenerate it with `bazaar openapi --out {}`",
                path.display(),
                path.display()
            );
        }
        eprintln!("{} matches the code", path.display());
    } else if let Some(path) = out {
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    } else {
        print!("{text}");
    }
    Ok(())
}

/// The configuration: embedded defaults, the file, `BAZAAR_*` variables, then these flags.
pub fn load_config(
    cli_config: Option<&Path>,
    store: &StoreArgs,
    listen: Option<SocketAddr>,
) -> anyhow::Result<Config> {
    let overrides = Overrides {
        listen,
        data_dir: store.data_dir.clone(),
        database_url: store.database_url.clone(),
    };
    Ok(Config::load(cli_config, &overrides)?)
}

/// Logs to standard error, filtered by `BAZAAR_LOG`/`RUST_LOG` or `filter`.
pub fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
