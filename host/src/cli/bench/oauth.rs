//! `bazaar bench oauth`: `/oauth/token` refresh grants per second, and authenticated
//! `GET /v1/me` requests per second with an OAuth bearer token.
//!
//! A real server on an ephemeral loopback port with a fresh database; an external app
//! published through the real review, authorized in an organization. Each client connection
//! keeps its own token family and rotates it on every grant (each answer carries the refresh
//! token for the next request), with `client_secret_basic`, as a real client does. Run it from
//! a release build.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use super::{client_loop, unlimited};
use bazaar::config::Config;
use bazaar::platform::{ScopeSet, orgs};
use bazaar::server;

#[derive(Debug, Clone)]
pub struct OAuthBench {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub database_url: Option<String>,
    /// How SQLite is reached.
    pub driver: bazaar::store::SqliteDriver,
}

#[derive(Debug, Clone)]
pub struct Throughput {
    pub requests: u64,
    pub per_second: f64,
    pub p50_us: u64,
    pub p99_us: u64,
}

#[derive(Debug, Clone)]
pub struct OAuthBenchReport {
    pub refresh: Throughput,
    pub me: Throughput,
}

const MANIFEST: &str = r#"{"name": "Bench client", "slug": "SLUG", "description": "Calls the API.",
  "category": "developer-tools", "pricing": {"plan": "free"}, "redirect_uris": ["https://bench.example.com/cb"],
  "scopes": [{"name": "tasks:read", "purpose": "Read tasks."}]}"#;

pub async fn run_oauth(bench: &OAuthBench) -> anyhow::Result<OAuthBenchReport> {
    use bazaar::catalog::{apps, review};
    use bazaar::oauth::{clients, grants};
    let dir = tempfile::tempdir()?;
    let store = super::bench_store(dir.path(), &bench.database_url, bench.driver).await?;
    let unique = bazaar::store::new_id("b");
    let (developer, _) = orgs::create_with_owner(
        &store,
        "Bench developer",
        &format!("dev-{unique}@bench.test"),
        "bench-password-1",
    )
    .await?;
    let (tenant, admin) = orgs::create_with_owner(
        &store,
        "Bench tenant",
        &format!("admin-{unique}@bench.test"),
        "bench-password-1",
    )
    .await?;
    let manifest = MANIFEST.replace("SLUG", &format!("bench-{}", unique.replace('_', "-")));
    let app = apps::create(&store, &developer.id, None, apps::AppKind::External, &manifest).await?;
    let draft = apps::add_version(&store, &app, "1.0.0", &manifest, "Bench").await?;
    let sandbox = bazaar::sandbox::Sandbox::new(false, None).await?;
    review::submit(&store, &sandbox, &app, &draft.id, false).await?;
    let version = review::approve(&store, &draft.id, None, "bench").await?;
    let secret = clients::new_secret(&store, &app.id).await?;
    let scopes: ScopeSet = ScopeSet::parse_text("tasks:read")?;
    let installation =
        bazaar::installs::authorize_external(&store, &tenant.id, &admin.id, &app, &version, scopes).await?;
    // One token family per connection, through the real code exchange.
    let mut families = Vec::new();
    for _ in 0..bench.connections.max(1) {
        let verifier = format!("{}{}", bazaar::store::new_id("v"), "x".repeat(20));
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()));
        let approval = grants::Approval {
            app_id: &app.id,
            org_id: &tenant.id,
            user_id: &admin.id,
            installation_id: &installation,
            redirect_uri: "https://bench.example.com/cb",
            scopes,
            code_challenge: &challenge,
        };
        let code = grants::issue_code(&store, &approval).await?;
        let tokens = grants::exchange_code(
            &store,
            &app.id,
            &code,
            Some("https://bench.example.com/cb"),
            Some(&verifier),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
        families.push(tokens);
    }

    let config = Arc::new(Config {
        data_dir: dir.path().to_owned(),
        rate_limits: unlimited(),
        ..Config::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let running = server::spawn(listener, store, config)?;
    let addr = running.addr;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{secret}", app.id))
    );

    // Refresh grants: each connection rotates its own family.
    let start = Instant::now();
    let (measure_from, end) = (start + bench.warmup, start + bench.warmup + bench.duration);
    let mut workers = Vec::new();
    for family in &families {
        let (basic, refresh) = (basic.clone(), family.refresh_token.clone());
        workers.push(tokio::spawn(async move {
            refresh_loop(addr, basic, refresh, measure_from, end).await
        }));
    }
    let refresh = collect(workers, bench.duration).await?;

    // Authenticated reads with a bearer token.
    let start = Instant::now();
    let (measure_from, end) = (start + bench.warmup, start + bench.warmup + bench.duration);
    let bearer = format!("Bearer {}", families[0].access_token);
    let mut workers = Vec::new();
    for _ in 0..bench.connections.max(1) {
        let bearer = bearer.clone();
        workers.push(tokio::spawn(async move {
            client_loop(addr, "/v1/me".into(), bearer, measure_from, end).await
        }));
    }
    let me = collect(workers, bench.duration).await?;
    running.stop().await?;
    Ok(OAuthBenchReport { refresh, me })
}

async fn collect(
    workers: Vec<tokio::task::JoinHandle<anyhow::Result<hdrhistogram::Histogram<u64>>>>,
    duration: Duration,
) -> anyhow::Result<Throughput> {
    let mut histogram = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for worker in workers {
        histogram.add(worker.await??)?;
    }
    Ok(Throughput {
        requests: histogram.len(),
        per_second: histogram.len() as f64 / duration.as_secs_f64(),
        p50_us: histogram.value_at_quantile(0.5),
        p99_us: histogram.value_at_quantile(0.99),
    })
}

async fn refresh_loop(
    addr: std::net::SocketAddr,
    basic: String,
    mut refresh: String,
    measure_from: Instant,
    end: Instant,
) -> anyhow::Result<hdrhistogram::Histogram<u64>> {
    let mut histogram = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        sender.ready().await?;
        let body = format!("grant_type=refresh_token&refresh_token={refresh}");
        let req = hyper::Request::post("/oauth/token")
            .header("host", "127.0.0.1")
            .header("authorization", &basic)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))?;
        let res = sender.send_request(req).await?;
        let status = res.status();
        let bytes = res.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            bail!("{status}: {}", String::from_utf8_lossy(&bytes));
        }
        let answer: serde_json::Value = serde_json::from_slice(&bytes)?;
        refresh = answer["refresh_token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no refresh_token in {answer}"))?
            .to_owned();
        if sent >= measure_from {
            histogram.record(sent.elapsed().as_micros().max(1) as u64)?;
        }
    }
    Ok(histogram)
}
