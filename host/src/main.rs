//! The `bazaar` command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use bazaar::config::{Config, Overrides};
use bazaar::platform::{ScopeSet, credentials, orgs};
use bazaar::{api, bench, demo, server};

// The server allocates many small, short-lived buffers across threads (rows, JSON); mimalloc
// handles that markedly better than glibc's allocator (see `bazaar bench api`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "bazaar",
    version,
    about = "App catalog, WebAssembly plugin host, OAuth and webhooks"
)]
struct Cli {
    /// A TOML configuration file (its keys: listen, data_dir, database_url, max_body_bytes,
    /// shutdown_grace_secs, log, secret_key, node_id, allow_private_network, and a [delivery]
    /// table; see the README).
    #[arg(long = "config-file", global = true, env = "BAZAAR_CONFIG")]
    config_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Default)]
struct StoreArgs {
    /// Folder for the embedded SQLite database [default: data]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Use PostgreSQL at this URL instead of SQLite (postgres://user:pass@host/db)
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
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
    Org(OrgCommand),
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
    Reviewer(ReviewerCommand),
    /// Build, audit and run plugins locally
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Measure performance (run from a release build)
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum ReviewerCommand {
    /// Make an existing user a platform reviewer (scope `apps:review` on their sessions)
    Add {
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
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
    /// Create a plugin crate that builds
    New {
        /// The plugin's name: lowercase letters, digits and dashes
        name: String,
        /// The folder to create it in
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The bazaar-sdk crate to depend on [default: the one this binary was built with]
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

#[derive(Subcommand)]
enum OrgCommand {
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
enum BenchCommand {
    /// Per-call cost of a fresh isolated plugin instance, beside native code and a reused instance
    Plugin {
        /// The benchmark component [default: the workspace's test-plugin-parse-event build]
        #[arg(long)]
        component: Option<PathBuf>,
        #[arg(long, default_value_t = 20_000)]
        iterations: usize,
    },
    /// Sustained deliveries per second to a plugin and to a local webhook receiver
    Delivery {
        /// Events per target
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        /// Organizations (installations or REST hooks) the events are spread over
        #[arg(long, default_value_t = 8)]
        subscribers: usize,
        /// The benchmark component [default: the workspace's test-plugin-parse-event build]
        #[arg(long)]
        component: Option<PathBuf>,
        /// Benchmark on PostgreSQL instead of SQLite
        #[arg(long)]
        database_url: Option<String>,
    },
    /// /oauth/token refresh grants per second and GET /v1/me with a bearer token
    Oauth {
        #[arg(long, default_value_t = 16)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Benchmark on PostgreSQL instead of SQLite
        #[arg(long)]
        database_url: Option<String>,
    },
    /// GET /v1/projects requests per second and latency over loopback
    Api {
        #[arg(long, default_value_t = 1000)]
        projects: usize,
        #[arg(long, default_value_t = 50)]
        page: u32,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Benchmark on PostgreSQL instead of SQLite
        #[arg(long)]
        database_url: Option<String>,
    },
}

/// The benchmark component: `path`, or the workspace's build of test-plugin-parse-event.
fn bench_component(path: Option<PathBuf>) -> anyhow::Result<Vec<u8>> {
    let path = path.unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/wasm32-wasip2/plugin/test_plugin_parse_event.wasm")
    });
    std::fs::read(&path).with_context(|| {
        format!(
            "reading {}; build it with `cargo build --target wasm32-wasip2 --profile plugin -p test-plugin-parse-event`",
            path.display()
        )
    })
}

fn load_config(
    cli_config: Option<&PathBuf>,
    store: &StoreArgs,
    listen: Option<SocketAddr>,
) -> anyhow::Result<Config> {
    let overrides = Overrides {
        listen,
        data_dir: store.data_dir.clone(),
        database_url: store.database_url.clone(),
    };
    Ok(Config::load(cli_config.map(PathBuf::as_path), &overrides)?)
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            listen,
            store,
            demo,
            examples,
            plugins,
        } => {
            let config = load_config(cli.config_file.as_ref(), &store, listen)?;
            init_logging(&config.log);
            let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            let demo = demo.then(|| Demo {
                examples: examples.unwrap_or_else(|| workspace.join("example-plugins")),
                plugins: plugins.unwrap_or_else(|| workspace.join("target/wasm32-wasip2/plugin")),
            });
            serve(config, demo).await
        }
        Command::Migrate { store } => {
            let config = load_config(cli.config_file.as_ref(), &store, None)?;
            init_logging(&config.log);
            server::open_store(&config).await?;
            eprintln!("database is up to date");
            Ok(())
        }
        Command::Org(OrgCommand::Create {
            name,
            admin_email,
            admin_password,
            json,
            store,
        }) => {
            let config = load_config(cli.config_file.as_ref(), &store, None)?;
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
        Command::Org(OrgCommand::Plan { slug, plan, store }) => {
            let config = load_config(cli.config_file.as_ref(), &store, None)?;
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
        Command::Openapi { out, check } => {
            let text = api::openapi_json();
            if let Some(path) = check {
                let kept =
                    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
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
        Command::Reviewer(ReviewerCommand::Add { email, store }) => {
            let config = load_config(cli.config_file.as_ref(), &store, None)?;
            init_logging("warn");
            let store = server::open_store(&config).await?;
            bazaar::catalog::review::add_reviewer(&store, &email)
                .await
                .with_context(|| format!("no user has the email {email}; create them first"))?;
            println!("{email} is now a platform reviewer");
            store.close().await;
            Ok(())
        }
        Command::Plugin(command) => {
            init_logging("warn");
            plugin(command).await
        }
        Command::Bench(BenchCommand::Delivery {
            events,
            subscribers,
            component,
            database_url,
        }) => {
            init_logging("warn");
            let component = bench_component(component)?;
            if cfg!(debug_assertions) {
                eprintln!(
                    "warning: this is a debug build; run `cargo run --release -- bench delivery` for real figures"
                );
            }
            let database = if database_url.is_some() {
                "PostgreSQL"
            } else {
                "SQLite"
            };
            let spec = bench::delivery::DeliveryBench {
                events,
                subscribers: subscribers.max(1),
                database_url,
                component,
            };
            let report = bench::delivery::run_delivery(&spec).await?;
            println!(
                "event delivery on {database}, {events} events per target over {subscribers} subscribers:"
            );
            for (name, figure) in [
                ("plugin (fresh sandbox per event)", &report.plugin),
                ("webhook (signed POST, loopback)", &report.webhook),
            ] {
                println!(
                    "  {name:<34} {:>6} deliveries in {:>6.2} s   {:>8.0} deliveries/s",
                    figure.deliveries,
                    figure.seconds,
                    figure.per_second()
                );
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Oauth {
            connections,
            seconds,
            database_url,
        }) => {
            init_logging("warn");
            if cfg!(debug_assertions) {
                eprintln!(
                    "warning: this is a debug build; run `cargo run --release -- bench oauth` for real figures"
                );
            }
            let database = if database_url.is_some() {
                "PostgreSQL"
            } else {
                "SQLite"
            };
            let spec = bench::oauth::OAuthBench {
                connections,
                warmup: Duration::from_secs(2),
                duration: Duration::from_secs(seconds),
                database_url,
            };
            let report = bench::oauth::run_oauth(&spec).await?;
            println!("OAuth on {database}, {connections} keep-alive connections, {seconds} s each:");
            for (name, t) in [
                ("POST /oauth/token (refresh, rotated)", &report.refresh),
                ("GET /v1/me (bearer token)", &report.me),
            ] {
                println!(
                    "  {name:<38} {:>8.0} req/s   p50 {:>6} µs   p99 {:>6} µs",
                    t.per_second, t.p50_us, t.p99_us
                );
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Plugin {
            component,
            iterations,
        }) => {
            init_logging("warn");
            let bytes = bench_component(component)?;
            if cfg!(debug_assertions) {
                eprintln!(
                    "warning: this is a debug build; run `cargo run --release -- bench plugin` for real figures"
                );
            }
            let report = bench::run_plugin(&bytes, iterations).await?;
            println!(
                "plugin call, {}-byte event, {iterations} sequential calls each (one core):",
                report.event_bytes
            );
            for (name, p) in [
                ("fresh isolated instance", report.fresh),
                ("one reused instance", report.reused),
                ("native Rust, same logic", report.native),
            ] {
                println!(
                    "  {name:<26} median {:>8.2} µs   p99 {:>8.2} µs   {:>10.0} calls/s",
                    p.median_us, p.p99_us, p.calls_per_second
                );
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Api {
            projects,
            page,
            connections,
            seconds,
            database_url,
        }) => {
            init_logging("warn");
            let spec = bench::ApiBench {
                projects,
                page,
                connections,
                warmup: Duration::from_secs(2),
                duration: Duration::from_secs(seconds),
                database_url,
            };
            if cfg!(debug_assertions) {
                eprintln!(
                    "warning: this is a debug build; run `cargo run --release -- bench api` for real figures"
                );
            }
            let report = bench::run_api(&spec).await?;
            println!(
                "GET /v1/projects (API key, {projects} projects, page of {page}, {connections} connections, {seconds} s)"
            );
            println!(
                "  {:.0} requests/s   p50 {} µs   p99 {} µs   max {} µs   ({} requests)",
                report.requests_per_second(),
                report.p50_us,
                report.p99_us,
                report.max_us,
                report.requests
            );
            Ok(())
        }
    }
}

/// Where the demo finds the example plugins.
struct Demo {
    examples: PathBuf,
    plugins: PathBuf,
}

async fn serve(config: Config, demo: Option<Demo>) -> anyhow::Result<()> {
    let store = server::open_store(&config)
        .await
        .context("opening the database")?;
    if let Some(paths) = demo {
        let creds = demo::ensure(&store, &config.data_dir).await?;
        let published =
            demo::publish_examples(&store, &config.data_dir, &paths.examples, &paths.plugins).await?;
        if !published.is_empty() {
            println!(
                "Published {} example plugins in the catalog: {}",
                published.len(),
                published.join(", ")
            );
        }
        println!("Demo organization \"{}\" is ready.", creds.organization);
        println!("  open:     http://{}/ (the marketplace)", config.listen);
        println!("  sign in:  {} / {}", creds.email, creds.password);
        println!("  API key:  {}", creds.api_key);
        println!(
            "  try:      curl -H 'Authorization: Bearer {}' http://{}/v1/projects",
            creds.api_key, config.listen
        );
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another server using it? (set --listen)",
                config.listen
            )
        })?;
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let config = Arc::new(config);
    let running = server::spawn(listener, store.clone(), config.clone())?;
    tracing::info!(addr = %running.addr, "Bazaar is listening");
    println!("Bazaar is listening on http://{}", running.addr);
    server::serve_until_signal(running, grace).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn plugin(command: PluginCommand) -> anyhow::Result<()> {
    use bazaar::runtime::audit;
    use bazaar::sandbox::{EventFile, Sandbox, SandboxRun};
    match command {
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
            allow_private_network,
            fuel,
            memory,
            timeout_ms,
            json,
        } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let event_text =
                std::fs::read_to_string(&event).with_context(|| format!("reading {}", event.display()))?;
            let event_file: EventFile = serde_json::from_str(&event_text).with_context(|| {
                format!(
                    "{} is not an event: expected {{\"kind\": ..., \"payload\": {{...}}}}",
                    event.display()
                )
            })?;
            let grants = ScopeSet::parse_text(&grant.join(" "))?;
            let defaults = bazaar::runtime::Limits::EVENT;
            let run = SandboxRun {
                grants,
                config: config.into_iter().collect(),
                allowed_hosts: allow_host,
                allow_private_network,
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
                    if report.log_dropped_bytes > 0 {
                        format!(" ({} bytes dropped at the cap)", report.log_dropped_bytes)
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
        PluginCommand::New { name, dir, sdk } => {
            let sdk = sdk.unwrap_or_else(bazaar::scaffold::default_sdk_path);
            let root = bazaar::scaffold::new_plugin(&dir, &name, &sdk)?;
            println!("created {}", root.display());
            println!(
                "build it:  cd {} && cargo build --target wasm32-wasip2 --release",
                root.display()
            );
            Ok(())
        }
    }
}
