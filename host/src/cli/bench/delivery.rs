//! `bazaar bench delivery`: sustained deliveries per second to a plugin and to a local webhook
//! receiver.
//!
//! A fresh database (SQLite, or PostgreSQL with `--database-url`); the benchmark plugin (it
//! parses each event) published through the real review and installed in several
//! organizations, or REST hooks to an in-process receiver that answers 200 at once. The events
//! are written first; then this node's delivery workers start and the clock runs until every
//! delivery succeeded, fan-out included. The plugin target runs three times: tracing off, on
//! (every span exported over OTLP to a collector in this process), and off again. Run it from a release
//! build.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;

use bazaar::platform::{ScopeSet, credentials, orgs, projects};
use bazaar::store::Store;

/// What to measure: sustained deliveries per second to a plugin and to a local webhook receiver.
#[derive(Debug, Clone)]
pub struct DeliveryBench {
    /// Events written before the workers start (per target).
    pub events: usize,
    /// Organizations, each with one installation (plugin) or REST hook (webhook); the events
    /// are spread over them.
    pub subscribers: usize,
    pub database_url: Option<String>,
    /// The benchmark plugin (parses the event and returns).
    pub component: Vec<u8>,
}

/// Deliveries per second for one target.
#[derive(Debug, Clone)]
pub struct DeliveryFigure {
    pub deliveries: usize,
    pub seconds: f64,
}

impl DeliveryFigure {
    pub fn per_second(&self) -> f64 {
        self.deliveries as f64 / self.seconds
    }
}

#[derive(Debug, Clone)]
pub struct DeliveryBenchReport {
    pub plugin: DeliveryFigure,
    /// The same with every span exported over OTLP.
    pub plugin_traced: DeliveryFigure,
    /// Untraced again after the traced run, so that the order does not decide the cost.
    pub plugin_again: DeliveryFigure,
    pub webhook: DeliveryFigure,
}

const BENCH_MANIFEST: &str = r#"{"name": "Bench", "slug": "SLUG", "description": "Parses each new task.",
  "category": "developer-tools", "pricing": {"plan": "free"}, "events": ["task.created"],
  "scopes": [{"name": "tasks:read", "purpose": "Receive new tasks."}]}"#;

pub async fn run_delivery(
    bench: &DeliveryBench,
    tracing: &super::tracing_switch::TracingSwitch,
) -> anyhow::Result<DeliveryBenchReport> {
    use bazaar::catalog::{apps, review};
    let dir = tempfile::tempdir()?;
    let store = match &bench.database_url {
        Some(url) => Store::connect(url).await?,
        None => Store::open_data_dir(dir.path()).await?,
    };
    store.migrate().await?;
    let secrets = Arc::new(bazaar::secrets::Secrets::load(None, dir.path())?);

    // The plugin, published through the real review.
    let (developer, _) = orgs::create_with_owner(
        &store,
        "Bench developer",
        &format!("dev-{}@bench.test", bazaar::store::new_id("b")),
        "bench-password-1",
    )
    .await?;
    let sandbox = bazaar::sandbox::Sandbox::new(false, Some(dir.path().join("component-cache"))).await?;
    // A PostgreSQL database may hold earlier runs: this run's app and organizations are its own.
    let slug = format!("bench-{}", bazaar::store::new_id("p").replace('_', "-"));
    let manifest = BENCH_MANIFEST.replace("SLUG", &slug);
    let app = apps::create(&store, &developer.id, None, apps::AppKind::Plugin, &manifest).await?;
    let draft = apps::add_version(&store, &app, "1.0.0", &manifest, "Bench").await?;
    apps::upload_component(&store, &app, &draft.id, &bench.component).await?;
    let reviewed = review::submit(&store, &sandbox, &app, &draft.id, false).await?;
    if reviewed.state != apps::states::IN_REVIEW {
        bail!(
            "the benchmark plugin did not pass review: {:?}",
            reviewed.findings
        );
    }
    review::approve(&store, &draft.id, None, "bench").await?;

    // A receiver that answers 200 at once.
    let receiver = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let services = bazaar::events::Services {
        store: store.clone(),
        secrets: secrets.clone(),
        runtime: bazaar::runtime::SharedRuntime::new(
            bazaar::runtime::HostServices {
                store: store.clone(),
                files_root: dir.path().join("plugin-files"),
                allow_private_network: true,
                secrets: secrets.clone(),
                issuer: "http://127.0.0.1".into(),
                journal: Some(std::sync::Arc::new(bazaar::runtime::journal::Journal::new(
                    store.clone(),
                    24 * 3_600_000,
                ))),
            },
            dir.path().join("component-cache"),
        ),
        config: bazaar::config::DeliveryConfig::default(),
        node_id: "bench".into(),
        allow_private_network: true,
    };

    let mut figures = Vec::new();
    for (target, traced) in [
        ("plugin", false),
        ("plugin", true),
        ("plugin", false),
        ("webhook", false),
    ] {
        let mut orgs_ids = Vec::new();
        for n in 0..bench.subscribers {
            let (org, _) = orgs::create_with_owner(
                &store,
                &format!("Tenant {target} {traced} {n} {}", figures.len()),
                &format!("{target}-{traced}-{n}-{}@bench.test", bazaar::store::new_id("b")),
                "bench-password-1",
            )
            .await?;
            if target == "plugin" {
                let consent = vec!["tasks:read".to_owned()];
                bazaar::installs::install(
                    &store,
                    &secrets,
                    &org.id,
                    None,
                    &slug,
                    &consent,
                    None,
                    &Default::default(),
                )
                .await?;
            } else {
                let key =
                    credentials::create_api_key(&store, &org.id, "hooks", ScopeSet::all(), None).await?;
                let new = bazaar::webhooks::rest_hooks::NewHook {
                    subscriber: bazaar::webhooks::rest_hooks::Subscriber::ApiKey(key.key.id.clone()),
                    held: ScopeSet::all(),
                    event: "task.created",
                    target_url: &hook_url,
                };
                bazaar::webhooks::rest_hooks::create(&store, &secrets, &org.id, new, true).await?;
            }
            let project = projects::create(&store, &org.id, "Bench", "").await?;
            orgs_ids.push((org.id, project.id));
        }
        // Events first, then the workers: what is measured is delivery, fan-out included.
        for n in 0..bench.events {
            let (org_id, project_id) = &orgs_ids[n % orgs_ids.len()];
            let task = bazaar::platform::tasks::NewTask {
                project_id: project_id.clone(),
                title: format!("Task {n}"),
                description: "A task for the delivery benchmark".into(),
                labels: vec!["bench".into()],
                due_date: None,
            };
            bazaar::platform::tasks::create(&store, org_id, task).await?;
        }
        // Warm the compiled component so that compilation is not measured.
        if target == "plugin" {
            services.runtime.get().await?.prepare(&bench.component)?;
        }
        tracing.set(traced);
        let started = Instant::now();
        let dispatcher = bazaar::events::Dispatcher::start(services.clone(), Duration::from_secs(5)).await;
        let delivered = loop {
            let orgs: Vec<&str> = orgs_ids.iter().map(|(org_id, _)| org_id.as_str()).collect();
            let progress = bazaar::events::queue::progress(&store, &orgs).await?;
            let (done, failed) = (progress.succeeded, progress.failed);
            if failed > 0 {
                bail!("{failed} deliveries failed during the benchmark");
            }
            if done as usize >= bench.events {
                break done as usize;
            }
            if started.elapsed() > Duration::from_secs(600) {
                bail!("only {done} of {} deliveries after 10 minutes", bench.events);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let seconds = started.elapsed().as_secs_f64();
        tracing.set(false);
        dispatcher.stop().await;
        figures.push(DeliveryFigure {
            deliveries: delivered,
            seconds,
        });
    }
    let [plugin, plugin_traced, plugin_again, webhook]: [DeliveryFigure; 4] = figures
        .try_into()
        .map_err(|_| anyhow::anyhow!("a target was not measured"))?;
    Ok(DeliveryBenchReport {
        plugin,
        plugin_traced,
        plugin_again,
        webhook,
    })
}
