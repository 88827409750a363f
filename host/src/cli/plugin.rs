//! `bazaar plugin`: audit, run and scaffold plugins locally, under production's limits.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use bazaar::platform::ScopeSet;

use super::scaffold::{self, Language};

#[derive(Subcommand)]
pub enum PluginCommand {
    /// List what a component can reach: each import, its scope, and reasons to reject it
    Audit {
        /// The component (.wasm) built for wasm32-wasip2
        file: PathBuf,
        /// Print the audit as JSON
        #[arg(long)]
        json: bool,
    },
    /// Run a component on an event in the local sandbox, with production's limits
    Run {
        /// The component (.wasm) built for wasm32-wasip2
        file: PathBuf,
        /// A JSON file: {"kind": "task.created", "payload": {...}}
        #[arg(long)]
        event: PathBuf,
        /// Scopes to grant, comma-separated (storage, network, tasks:read, ...)
        #[arg(long, value_delimiter = ',')]
        grant: Vec<String>,
        /// Configuration values, KEY=VALUE (repeatable)
        #[arg(long, value_parser = parse_key_value)]
        config: Vec<(String, String)>,
        /// Hosts the plugin may call with `http` (repeatable)
        #[arg(long)]
        allow_host: Vec<String>,
        /// The token or key of a connection bazaar.toml declares, NAME=SECRET (repeatable): the
        /// host attaches it to the plugin's requests for the connection's hosts, as in production
        #[arg(long, value_parser = parse_key_value)]
        connection: Vec<(String, String)>,
        /// Let `http` reach loopback and private addresses (local development only)
        #[arg(long)]
        allow_private_network: bool,
        /// Fuel for the call [default: production's]
        #[arg(long)]
        fuel: Option<u64>,
        /// Linear memory for the call, in bytes [default: production's]
        #[arg(long)]
        memory: Option<usize>,
        /// Wall-clock limit, in milliseconds [default: production's]
        #[arg(long)]
        timeout_ms: Option<u64>,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
    /// Run a recorded call again (from `GET /v1/recordings/{id}`), feeding back what it
    /// received, on the recorded component or a new build: the same outcome and fuel, or where
    /// the new build diverges
    Replay {
        /// The recording (JSON)
        recording: PathBuf,
        /// The component (.wasm) to run it on: the recorded one, or a new build
        #[arg(long)]
        component: PathBuf,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Create a plugin project that builds, with the SDK and the contract vendored in it
    New {
        /// The plugin's name: lowercase letters, digits and dashes
        name: String,
        /// The folder to create it in
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The language to write it in
        #[arg(long, value_enum, default_value = "rust")]
        lang: Language,
    },
    /// Build a plugin project (Rust, TypeScript, JavaScript or Python) into a component
    Build {
        /// The plugin project
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Manage the SDK vendored in a plugin project
    #[command(subcommand)]
    Sdk(SdkCommand),
}

#[derive(Subcommand)]
pub enum SdkCommand {
    /// Rewrite the project's SDK and WIT from this binary, and say what changed
    Update {
        /// The plugin project
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Discard local edits to the vendored files instead of refusing
        #[arg(long)]
        force: bool,
    },
}

/// The manifest of the plugin project in the current folder, if there is one that parses.
fn project_manifest() -> Option<bazaar::catalog::manifest::Manifest> {
    let text = std::fs::read_to_string("bazaar.toml").ok()?;
    bazaar::catalog::manifest::Manifest::from_toml(&text).ok()
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

/// `bazaar plugin audit | run | new`.
pub async fn run(command: PluginCommand) -> anyhow::Result<()> {
    use bazaar::runtime::audit;
    use bazaar::sandbox::{EventFile, Sandbox, SandboxRun};
    match command {
        PluginCommand::Build { dir } => {
            let built = super::build::build(&dir)?;
            let size = std::fs::metadata(&built.component).map(|m| m.len()).unwrap_or(0);
            println!(
                "built {} ({:?}, {} KiB)",
                built.component.display(),
                built.language,
                size / 1024
            );
            println!(
                "next: bazaar plugin audit {0}  |  bazaar plugin run {0} --event event.json",
                built.component.display()
            );
            Ok(())
        }
        PluginCommand::Audit { file, json } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let audit = audit::audit(&bytes)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&audit)?);
            } else {
                println!(
                    "{} ({} bytes, sha256 {})",
                    file.display(),
                    audit.size_bytes,
                    audit.sha256
                );
                let contract = audit.contract.as_deref().map_or_else(
                    || "none (it exports no bazaar:platform/handler)".to_owned(),
                    |v| format!("bazaar:platform@{v}"),
                );
                let ui = if audit.ui {
                    ", with UI (exports extension)"
                } else {
                    ""
                };
                println!("built against: {contract}{ui}");
                println!("imports:");
                for import in &audit.imports {
                    let scope = import.scope.as_deref().unwrap_or("no scope");
                    let mark = if import.refused { "REFUSED" } else { scope };
                    println!("  {:<42} {:<16} {}", import.name, mark, import.meaning);
                }
                println!("exports:");
                for export in &audit.exports {
                    println!("  {export}");
                }
                let scopes = if audit.required_scopes.is_empty() {
                    "none".to_owned()
                } else {
                    audit.required_scopes.join(", ")
                };
                println!("scopes it needs: {scopes}");
                if audit.passes() {
                    println!("verdict: passes");
                } else {
                    println!("verdict: would be rejected");
                    for finding in &audit.findings {
                        println!("  - {finding}");
                    }
                }
            }
            if !audit.passes() {
                std::process::exit(1);
            }
            Ok(())
        }
        PluginCommand::Run {
            file,
            event,
            grant,
            config,
            allow_host,
            connection,
            allow_private_network,
            fuel,
            memory,
            timeout_ms,
            json,
        } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let manifest = project_manifest();
            if let Some((name, _)) = connection.iter().find(|(name, _)| {
                !manifest
                    .as_ref()
                    .is_some_and(|m| m.connections.iter().any(|c| c.name == *name))
            }) {
                anyhow::bail!("--connection {name}: ./bazaar.toml declares no connection `{name}`");
            }
            let event_file = EventFile::read(&event)?;
            let mut grants = ScopeSet::parse_text(&grant.join(" "))?;
            let mut allowed_hosts = allow_host;
            let mut defaults = bazaar::runtime::Limits::EVENT;
            let mut connections = Vec::new();
            // In a project, run as an installation of it would: the manifest's scopes, hosts
            // and limits, unless the flags say otherwise.
            if let Some(manifest) = manifest {
                if grant.is_empty() {
                    grants = manifest.scope_set();
                }
                if allowed_hosts.is_empty() {
                    allowed_hosts = manifest.allowed_hosts.clone();
                }
                defaults = manifest.limits();
                connections = manifest
                    .connections
                    .iter()
                    .map(|spec| {
                        let secret = connection.iter().find(|(name, _)| *name == spec.name);
                        (spec.clone(), secret.map(|(_, s)| s.clone()).unwrap_or_default())
                    })
                    .collect();
                eprintln!(
                    "as installed from ./bazaar.toml: scopes [{}], hosts [{}]",
                    grants.names().join(", "),
                    allowed_hosts.join(", ")
                );
            }
            let run = SandboxRun {
                grants,
                config: config.into_iter().collect(),
                allowed_hosts,
                allow_private_network,
                connections,
                limits: bazaar::runtime::Limits {
                    fuel: fuel.unwrap_or(defaults.fuel),
                    memory_bytes: memory.unwrap_or(defaults.memory_bytes),
                    timeout_ms: timeout_ms.unwrap_or(defaults.timeout_ms),
                    ..defaults
                },
            };
            let sandbox = Sandbox::new(allow_private_network, None).await?;
            let event = sandbox.event(event_file);
            let report = sandbox.run_event(&bytes, &run, event).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("outcome:  {} - {}", report.outcome.class(), report.message);
                println!("fuel:     {} of {}", report.fuel_used, run.limits.capped().fuel);
                println!("duration: {:.3} ms", report.duration_us as f64 / 1000.0);
                println!(
                    "log:      {} lines{}",
                    report.log.len(),
                    if report.log_dropped_lines > 0 {
                        format!(
                            " ({} lines, {} bytes dropped at the cap)",
                            report.log_dropped_lines, report.log_dropped_bytes
                        )
                    } else {
                        String::new()
                    }
                );
                for line in &report.log {
                    println!("  [{}] {}", line.level, line.message);
                }
            }
            if report.outcome != bazaar::runtime::Outcome::Ok {
                std::process::exit(1);
            }
            Ok(())
        }
        PluginCommand::Replay {
            recording,
            component,
            json,
        } => {
            let text = std::fs::read_to_string(&recording)
                .with_context(|| format!("reading {}", recording.display()))?;
            let recorded: bazaar::runtime::recording::Recording = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a Bazaar recording", recording.display()))?;
            if recorded.format != bazaar::runtime::recording::FORMAT {
                anyhow::bail!(
                    "{} is a recording of format {}; this bazaar reads format {}",
                    recording.display(),
                    recorded.format,
                    bazaar::runtime::recording::FORMAT
                );
            }
            let bytes =
                std::fs::read(&component).with_context(|| format!("reading {}", component.display()))?;
            let sandbox = Sandbox::new(false, None).await?;
            let prepared = sandbox.runtime.prepare(&bytes)?;
            let replayed = sandbox.runtime.replay(&prepared, &recorded).await;
            let report = &replayed.report;
            if json {
                println!("{}", serde_json::to_string_pretty(&replayed)?);
            } else {
                println!("call:      {}", recorded.input.describe());
                println!(
                    "component: {}",
                    if replayed.same_component {
                        "the one recorded"
                    } else {
                        "a different build"
                    }
                );
                println!(
                    "recorded:  {} - {} (fuel {})",
                    recorded.outcome, recorded.message, recorded.fuel_used
                );
                let fuel = match report.fuel_used.cmp(&recorded.fuel_used) {
                    std::cmp::Ordering::Equal => "the same fuel".to_owned(),
                    _ => format!("fuel {}", report.fuel_used),
                };
                println!(
                    "replayed:  {} - {} ({fuel})",
                    report.outcome.class(),
                    report.message
                );
                match &replayed.divergence {
                    None => println!("diverged:  no: every host call was answered from the recording"),
                    Some(at) => println!("diverged:  {at}"),
                }
                for line in &report.log {
                    println!("  [{}] {}", line.level, line.message);
                }
            }
            if report.outcome != bazaar::runtime::Outcome::Ok {
                std::process::exit(1);
            }
            Ok(())
        }
        PluginCommand::New { name, dir, lang } => {
            let created = scaffold::new_plugin(&dir, &name, lang)?;
            let shown = if dir == Path::new(".") {
                PathBuf::from(&name)
            } else {
                created.root.clone()
            };
            println!(
                "created {}: a {lang:?} plugin for {} (bazaar-sdk {} in {}/{})",
                shown.display(),
                created.record.contract,
                created.record.sdk,
                shown.display(),
                scaffold::kit::FOLDER,
            );
            println!("next:");
            println!("  cd {}", shown.display());
            for command in scaffold::next_commands(&name, lang) {
                println!("  {command}");
            }
            Ok(())
        }
        PluginCommand::Sdk(SdkCommand::Update { dir, force }) => {
            let update = scaffold::update::update(&dir, force)?;
            for line in update.summary() {
                println!("{line}");
            }
            Ok(())
        }
    }
}
