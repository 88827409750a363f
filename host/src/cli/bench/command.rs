//! `bazaar bench ...`: the arguments and the printing of each benchmark.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use bazaar::store::SqliteDriver;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Per-call cost of a fresh isolated plugin instance, beside native code and a reused instance
    Plugin {
        /// A component to measure; repeat it to compare builds side by side in one run (a
        /// Rust, a TypeScript and a Python build of one plugin) [default: the workspace's
        /// word-count and parse-event builds, beside the same code in native Rust]
        #[arg(long)]
        component: Vec<PathBuf>,
        /// The event file the component gets, as for `plugin run` [default: a 905-byte
        /// task.created event]
        #[arg(long, requires = "component")]
        event: Option<PathBuf>,
        #[arg(long, default_value_t = 20_000)]
        iterations: usize,
        /// Make only this kind of call, with no warm-up or rounds: to count one kind's
        /// instructions under a profiler (`valgrind --tool=callgrind`; run it at two
        /// --iterations and subtract, so that start-up cancels out)
        #[arg(long, value_enum)]
        only: Option<super::plugin::CallKind>,
    },
    /// Sustained deliveries per second to a plugin and to a local webhook receiver
    Delivery {
        /// Events per target [default: 10000]; with --nodes, deliveries per measurement
        /// [default: 6400]
        #[arg(long)]
        events: Option<usize>,
        /// Organizations (installations or REST hooks) the events are spread over [default: 8];
        /// with --nodes, REST hooks of one organization [default: 64]
        #[arg(long)]
        subscribers: Option<usize>,
        /// Start this many `bazaar serve` processes on one PostgreSQL (--database-url) and
        /// measure webhook deliveries per second for each count, e.g. --nodes 1,2,4
        #[arg(long, value_delimiter = ',', requires = "database_url")]
        nodes: Vec<usize>,
        /// With --nodes: how long each receiver takes to answer
        #[arg(long, default_value_t = 20)]
        receiver_delay_ms: u64,
        /// With --nodes: deliveries each node runs at once
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// With --nodes: also measure the nodes of this other `bazaar` build, in the same run
        #[arg(long)]
        baseline: Option<PathBuf>,
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
        /// On SQLite: how the store reaches it; give both (`in-process,sqlx`) to compare them
        /// in one run, alternating
        #[arg(long, value_delimiter = ',', default_value = "in-process")]
        sqlite_driver: Vec<SqliteDriverArg>,
        /// How many times each driver is measured (alternating)
        #[arg(long, default_value_t = 1)]
        rounds: usize,
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
        /// On SQLite: how the store reaches it; give both (`in-process,sqlx`) to compare them
        /// in one run, alternating
        #[arg(long, value_delimiter = ',', default_value = "in-process")]
        sqlite_driver: Vec<SqliteDriverArg>,
        /// How many times each driver is measured (alternating)
        #[arg(long, default_value_t = 1)]
        rounds: usize,
    },
}

/// How `bench api` and `bench oauth` reach SQLite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SqliteDriverArg {
    /// rusqlite on the calling thread (the store's way)
    InProcess,
    /// sqlx's SQLite driver, a worker thread per connection (the store before 2026-12-07)
    Sqlx,
}

impl SqliteDriverArg {
    fn driver(self) -> SqliteDriver {
        match self {
            SqliteDriverArg::InProcess => SqliteDriver::InProcess,
            SqliteDriverArg::Sqlx => SqliteDriver::Sqlx,
        }
    }
}

/// Each driver in turn, `rounds` times; PostgreSQL is measured once per round.
fn driver_rounds(drivers: &[SqliteDriverArg], rounds: usize, url: &Option<String>) -> Vec<SqliteDriverArg> {
    let drivers = if url.is_some() {
        &drivers[..1.min(drivers.len())]
    } else {
        drivers
    };
    (0..rounds.max(1)).flat_map(|_| drivers.iter().copied()).collect()
}

/// The benchmark component: `path`, or the workspace's build of test-plugin-parse-event.
fn bench_component(path: Option<PathBuf>) -> anyhow::Result<Vec<u8>> {
    match path {
        Some(path) => std::fs::read(&path).with_context(|| format!("reading {}", path.display())),
        None => super::plugin::workspace_component("test_plugin_parse_event", "test-plugin-parse-event"),
    }
}

/// Runs one benchmark and prints its figures.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run it with `cargo run --release -- bench ...` for real figures"
        );
    }
    let tracing = super::tracing_switch::TracingSwitch::install().await?;
    match command {
        BenchCommand::Delivery {
            events,
            subscribers,
            nodes,
            receiver_delay_ms,
            concurrency,
            baseline,
            component: _,
            database_url: Some(database_url),
        } if !nodes.is_empty() => {
            let subscribers = subscribers.unwrap_or(64).max(1);
            let mut servers = vec![("this build".to_owned(), std::env::current_exe()?)];
            if let Some(baseline) = baseline {
                servers.push((format!("baseline {}", baseline.display()), baseline));
            }
            let spec = super::nodes::NodesBench {
                nodes,
                subscribers,
                tasks: events.unwrap_or(6400).div_ceil(subscribers),
                receiver_delay: Duration::from_millis(receiver_delay_ms),
                concurrency: concurrency.max(1),
                database_url,
                servers,
            };
            let figures = super::nodes::run_nodes(&spec).await?;
            println!(
                "webhook delivery across nodes on one PostgreSQL: {} tasks x {subscribers} REST hooks, \
                 receivers answer after {receiver_delay_ms} ms, {} deliveries at once per node:",
                spec.tasks, spec.concurrency
            );
            println!(
                "  {:<28} {:>5} {:>10} {:>8} {:>12} {:>9} {:>10} {:>10} {:>12} {:>5}",
                "server",
                "nodes",
                "deliveries",
                "seconds",
                "deliveries/s",
                "x 1 node",
                "duplicates",
                "two at once",
                "out of order",
                "lost"
            );
            for figure in &figures {
                let one = figures
                    .iter()
                    .find(|f| f.server == figure.server && f.nodes == 1)
                    .map(|f| figure.per_second() / f.per_second());
                println!(
                    "  {:<28} {:>5} {:>10} {:>8.2} {:>12.0} {:>9} {:>10} {:>10} {:>12} {:>5}",
                    figure.server,
                    figure.nodes,
                    figure.deliveries,
                    figure.seconds,
                    figure.per_second(),
                    one.map(|x| format!("{x:.2}x")).unwrap_or_else(|| "-".into()),
                    figure.duplicates,
                    figure.overlaps,
                    figure.out_of_order,
                    figure.lost
                );
            }
        }
        BenchCommand::Delivery {
            events,
            subscribers,
            component,
            database_url,
            ..
        } => {
            let (events, subscribers) = (events.unwrap_or(10_000), subscribers.unwrap_or(8));
            let database = database_name(&database_url);
            let spec = super::delivery::DeliveryBench {
                events,
                subscribers: subscribers.max(1),
                database_url,
                component: bench_component(component)?,
            };
            let report = super::delivery::run_delivery(&spec, &tracing).await?;
            println!(
                "event delivery on {database}, {events} events per target over {subscribers} subscribers:"
            );
            for (name, figure) in [
                ("plugin (fresh sandbox per event)", &report.plugin),
                ("plugin, traced over OTLP", &report.plugin_traced),
                ("plugin, untraced again", &report.plugin_again),
                ("webhook (signed POST, loopback)", &report.webhook),
            ] {
                println!(
                    "  {name:<34} {:>6} deliveries in {:>6.2} s   {:>8.0} deliveries/s",
                    figure.deliveries,
                    figure.seconds,
                    figure.per_second()
                );
            }
            let (exports, bytes) = tracing.received();
            let untraced = (report.plugin.per_second() + report.plugin_again.per_second()) / 2.0;
            println!(
                "  tracing changes plugin deliveries/s by {:+.1} % ({exports} OTLP exports, {} KiB received)",
                (report.plugin_traced.per_second() / untraced - 1.0) * 100.0,
                bytes / 1024
            );
        }
        BenchCommand::Oauth {
            connections,
            seconds,
            database_url,
            sqlite_driver,
            rounds,
        } => {
            let database = database_name(&database_url);
            println!("OAuth on {database}, {connections} keep-alive connections, {seconds} s each:");
            for driver in driver_rounds(&sqlite_driver, rounds, &database_url) {
                let spec = super::oauth::OAuthBench {
                    connections,
                    warmup: Duration::from_secs(2),
                    duration: Duration::from_secs(seconds),
                    database_url: database_url.clone(),
                    driver: driver.driver(),
                };
                let report = super::oauth::run_oauth(&spec).await?;
                for (name, t) in [
                    ("POST /oauth/token (refresh, rotated)", &report.refresh),
                    ("GET /v1/me (bearer token)", &report.me),
                ] {
                    println!(
                        "  {:<10} {name:<38} {:>8.0} req/s   p50 {:>6} µs   p99 {:>6} µs   ({} requests)",
                        driver_name(driver, &database_url),
                        t.per_second,
                        t.p50_us,
                        t.p99_us,
                        t.requests
                    );
                }
            }
        }
        BenchCommand::Plugin {
            component,
            event,
            iterations,
            only,
        } => {
            let workloads = if component.is_empty() {
                super::plugin::Workload::defaults()?
            } else {
                component
                    .iter()
                    .map(|path| super::plugin::Workload::from_files(path, event.as_deref()))
                    .collect::<anyhow::Result<Vec<_>>>()?
            };
            for workload in &workloads {
                if let Some(kind) = only {
                    let figures = super::plugin::run_only(workload, iterations, kind).await?;
                    println!(
                        "{}: {iterations} {kind:?} calls, median {:.2} µs, p99 {:.2} µs",
                        workload.name, figures.median_us, figures.p99_us
                    );
                    continue;
                }
                let report = super::plugin::run(workload, iterations, &tracing).await?;
                super::plugin::print(workload, iterations, &report);
                let (exports, bytes) = tracing.received();
                println!(
                    "    traced calls sent {exports} OTLP exports so far ({} KiB)",
                    bytes / 1024
                );
            }
        }
        BenchCommand::Api {
            projects,
            page,
            connections,
            seconds,
            database_url,
            sqlite_driver,
            rounds,
        } => {
            println!(
                "GET /v1/projects on {} (API key, {projects} projects, page of {page}, {connections} connections, {seconds} s)",
                database_name(&database_url)
            );
            for driver in driver_rounds(&sqlite_driver, rounds, &database_url) {
                let spec = super::ApiBench {
                    projects,
                    page,
                    connections,
                    warmup: Duration::from_secs(2),
                    duration: Duration::from_secs(seconds),
                    database_url: database_url.clone(),
                    driver: driver.driver(),
                };
                let report = super::run_api(&spec).await?;
                println!(
                    "  {:<10} {:>8.0} requests/s   p50 {} µs   p99 {} µs   max {} µs   ({} requests)",
                    driver_name(driver, &database_url),
                    report.requests_per_second(),
                    report.p50_us,
                    report.p99_us,
                    report.max_us,
                    report.requests
                );
            }
        }
    }
    Ok(())
}

fn driver_name(driver: SqliteDriverArg, url: &Option<String>) -> &'static str {
    match (url, driver) {
        (Some(_), _) => "sqlx",
        (None, SqliteDriverArg::InProcess) => "in-process",
        (None, SqliteDriverArg::Sqlx) => "sqlx",
    }
}

fn database_name(url: &Option<String>) -> &'static str {
    if url.is_some() { "PostgreSQL" } else { "SQLite" }
}
