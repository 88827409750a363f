//! Benchmarks: `bazaar bench api` (below), `bench plugin`, `bench delivery` (one node, or
//! `--nodes` server processes on one PostgreSQL) and `bench oauth`.
//!
//! `bazaar bench api`: the throughput and latency of `GET /v1/projects` over loopback.
//!
//! A real server on an ephemeral port with a fresh SQLite (or PostgreSQL) database holding
//! 1,000 projects; keep-alive HTTP/1.1 clients in the same process ask for pages of 50 with an
//! API key. Run it from a release build: `cargo run --release -- bench api`.

pub mod command;
pub mod delivery;
pub mod nodes;
pub mod oauth;
pub mod plugin;
pub mod tracing_switch;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use bazaar::config::Config;
use bazaar::platform::{ScopeSet, credentials, orgs, projects};
use bazaar::server;
use bazaar::store::{SqliteDriver, Store};

/// What to measure.
#[derive(Debug, Clone)]
pub struct ApiBench {
    pub projects: usize,
    pub page: u32,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// PostgreSQL URL; SQLite in a temporary folder when absent.
    pub database_url: Option<String>,
    /// How SQLite is reached.
    pub driver: SqliteDriver,
}

/// What was measured.
#[derive(Debug, Clone)]
pub struct ApiBenchReport {
    pub requests: u64,
    pub seconds: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl ApiBenchReport {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

pub async fn run_api(bench: &ApiBench) -> anyhow::Result<ApiBenchReport> {
    let dir = tempfile::tempdir()?;
    let store = bench_store(dir.path(), &bench.database_url, bench.driver).await?;
    let (org, user) = orgs::create_with_owner(
        &store,
        "Bench",
        &format!("bench-{}@bench.test", bazaar::store::new_id("b")),
        "bench-password-1",
    )
    .await?;
    let key = credentials::create_api_key(&store, &org.id, "bench", ScopeSet::all(), Some(&user.id)).await?;
    for n in 0..bench.projects {
        projects::create(
            &store,
            &org.id,
            &format!("Project {n}"),
            "Seeded for the benchmark",
        )
        .await?;
    }
    let config = Arc::new(Config {
        data_dir: dir.path().to_owned(),
        rate_limits: unlimited(),
        ..Config::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let running = server::spawn(listener, store, config)?;
    let addr = running.addr;
    let path = format!("/v1/projects?limit={}", bench.page);
    let auth = format!("Bearer {}", key.secret);

    // One checked request: the benchmark measures real pages, not errors.
    let body = fetch_once(addr, &path, &auth).await?;
    let value: serde_json::Value = serde_json::from_slice(&body)?;
    let items = value["data"].as_array().map(Vec::len).unwrap_or(0);
    if items != bench.page as usize {
        bail!("expected a page of {} projects, got {items}: {value}", bench.page);
    }

    let start = Instant::now();
    let measure_from = start + bench.warmup;
    let end = measure_from + bench.duration;
    let mut workers = Vec::new();
    for _ in 0..bench.connections {
        let (path, auth) = (path.clone(), auth.clone());
        workers.push(tokio::spawn(async move {
            client_loop(addr, path, auth, measure_from, end).await
        }));
    }
    let mut histogram = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for worker in workers {
        histogram.add(worker.await??)?;
    }
    running.stop().await?;
    Ok(ApiBenchReport {
        requests: histogram.len(),
        seconds: bench.duration.as_secs_f64(),
        p50_us: histogram.value_at_quantile(0.50),
        p99_us: histogram.value_at_quantile(0.99),
        max_us: histogram.max(),
    })
}

/// The benchmark's database, migrated: PostgreSQL at `url`, or SQLite in `dir` reached by
/// `driver`.
pub async fn bench_store(
    dir: &std::path::Path,
    url: &Option<String>,
    driver: SqliteDriver,
) -> anyhow::Result<Store> {
    let url = match url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}?mode=rwc", dir.join("bazaar.db").display()),
    };
    let store = Store::connect_with(&url, driver).await?;
    store.migrate().await?;
    Ok(store)
}

/// Rate limits so high that a benchmark measures the limiter's cost, never its refusals.
pub fn unlimited() -> bazaar::config::RateLimitConfig {
    let mut limits = bazaar::config::RateLimitConfig::default();
    for plan in limits.plans.values_mut() {
        *plan = bazaar::config::PlanLimits {
            per_minute: u32::MAX,
            burst: u32::MAX,
        };
    }
    limits
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn request(sender: &mut Sender, path: &str, auth: &str) -> anyhow::Result<Bytes> {
    sender.ready().await?;
    let req = hyper::Request::get(path)
        .header("host", "127.0.0.1")
        .header("authorization", auth)
        .body(Empty::new())?;
    let res = sender.send_request(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        bail!("{status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(body)
}

async fn fetch_once(addr: std::net::SocketAddr, path: &str, auth: &str) -> anyhow::Result<Bytes> {
    let mut sender = connect(addr).await?;
    request(&mut sender, path, auth).await.context("first request")
}

async fn client_loop(
    addr: std::net::SocketAddr,
    path: String,
    auth: String,
    measure_from: Instant,
    end: Instant,
) -> anyhow::Result<hdrhistogram::Histogram<u64>> {
    let mut histogram = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut sender = connect(addr).await?;
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        request(&mut sender, &path, &auth).await?;
        if sent >= measure_from {
            histogram.record(sent.elapsed().as_micros().max(1) as u64)?;
        }
    }
    Ok(histogram)
}
