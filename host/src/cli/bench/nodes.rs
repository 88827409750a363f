//! `bazaar bench delivery --nodes 1,2,4`: delivery throughput of N `bazaar serve` processes on
//! one PostgreSQL, to receivers that take a while to answer, as real ones do.
//!
//! For each node count: a fresh database, an organization made by `bazaar org create`, N
//! nodes started from a server binary (this one, and a `--baseline` build to compare with, in
//! the same run), REST hooks to one in-process receiver per subscriber, then tasks written one
//! at a time through the API. The receiver counts what a subscriber would notice: deliveries
//! per second (first delivery to last), events received twice, a subscriber served two at
//! once, and events that reached a subscriber before an earlier one. Everything goes through
//! the binary's command line and HTTP API, so any build can be measured.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

/// What to measure.
#[derive(Debug, Clone)]
pub struct NodesBench {
    /// The node counts to measure, in order.
    pub nodes: Vec<usize>,
    /// REST hooks, each with its own receiver path; every task is delivered to each.
    pub subscribers: usize,
    /// Tasks written per measurement (deliveries = tasks x subscribers).
    pub tasks: usize,
    /// How long a receiver takes to answer.
    pub receiver_delay: Duration,
    /// Deliveries each node runs at once (`[delivery] concurrency`).
    pub concurrency: usize,
    /// A PostgreSQL URL whose user may create databases.
    pub database_url: String,
    /// The server binaries to measure, each with the name it is printed under.
    pub servers: Vec<(String, PathBuf)>,
}

/// One measurement.
#[derive(Debug, Clone)]
pub struct NodesFigure {
    pub server: String,
    pub nodes: usize,
    pub deliveries: usize,
    pub seconds: f64,
    pub duplicates: usize,
    /// Times a subscriber had a second delivery while one was in flight.
    pub overlaps: usize,
    pub out_of_order: usize,
    pub lost: usize,
}

impl NodesFigure {
    pub fn per_second(&self) -> f64 {
        self.deliveries as f64 / self.seconds.max(1e-9)
    }
}

/// Every node of a cluster seals secrets with the same key.
const SHARED_KEY: &str = "YmVuY2gta2V5LWZvci1ldmVyeS1ub2RlLW9mLWEtY2w=";

pub async fn run_nodes(bench: &NodesBench) -> anyhow::Result<Vec<NodesFigure>> {
    let mut figures = Vec::new();
    for (name, binary) in &bench.servers {
        for &nodes in &bench.nodes {
            let figure = measure(bench, name, binary, nodes)
                .await
                .with_context(|| format!("{name} with {nodes} nodes"))?;
            figures.push(figure);
        }
    }
    Ok(figures)
}

async fn measure(bench: &NodesBench, name: &str, binary: &Path, nodes: usize) -> anyhow::Result<NodesFigure> {
    let url = fresh_database(&bench.database_url).await?;
    let dir = tempfile::tempdir()?;
    let run = |args: Vec<String>| {
        let binary = binary.to_owned();
        async move {
            let out = tokio::process::Command::new(&binary).args(&args).output().await?;
            if !out.status.success() {
                bail!(
                    "{} {}: {}",
                    binary.display(),
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Ok::<_, anyhow::Error>(out.stdout)
        }
    };
    run(vec!["migrate".into(), "--database-url".into(), url.clone()]).await?;
    let created = run([
        "org",
        "create",
        "Bench",
        "--admin-email",
        "bench@bench.test",
        "--admin-password",
        "bench-password-1",
        "--json",
        "--database-url",
        &url,
    ]
    .map(str::to_owned)
    .to_vec())
    .await?;
    let created: Value = serde_json::from_slice(&created)?;
    let key = created["api_key"]["secret"]
        .as_str()
        .context("org create printed no API key")?
        .to_owned();

    let receiver = Receiver::start(bench.receiver_delay, bench.subscribers).await?;
    let mut children = Vec::new();
    let mut addrs = Vec::new();
    for n in 0..nodes {
        let config = dir.path().join(format!("node-{n}.toml"));
        std::fs::write(
            &config,
            format!(
                "node_id = \"node-{n}\"\ndatabase_url = \"{url}\"\nallow_private_network = true\n\
                 secret_key = \"{SHARED_KEY}\"\nlog = \"warn\"\n\n[delivery]\npoll_ms = 20\nconcurrency = {}\n\n\
                 [rate_limits.plans.standard]\nper_minute = 100000000\nburst = 100000000\n",
                bench.concurrency
            ),
        )?;
        let mut child = tokio::process::Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--config-file"])
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join(format!("node-{n}")))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut stderr = child.stderr.take().context("no stderr")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let addr = loop {
            let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
                .await
                .context("a node did not start within a minute")??
                .context("a node exited before it listened");
            let line = match line {
                Ok(line) => line,
                Err(e) => {
                    let mut why = String::new();
                    let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut why).await;
                    return Err(e.context(why.trim().to_owned()));
                }
            };
            if let Some(addr) = line.strip_prefix("Bazaar is listening on http://") {
                break addr.to_owned();
            }
        };
        children.push(child);
        addrs.push(addr);
    }

    let api = Api {
        http: reqwest::Client::new(),
        base: format!("http://{}", addrs[0]),
        key,
    };
    for s in 0..bench.subscribers {
        api.post(
            "/v1/hooks",
            json!({ "target_url": format!("{}/hook/{s}", receiver.base), "event": "task.created" }),
        )
        .await?;
    }
    let project = api.post("/v1/projects", json!({ "name": "Load" })).await?;
    let project = project["id"].as_str().context("a project without id")?.to_owned();
    // One at a time, so that the events' order is the tasks' order.
    for i in 0..bench.tasks {
        api.post(
            "/v1/tasks",
            json!({ "project_id": project, "title": format!("Task {i}") }),
        )
        .await?;
    }
    let expected = bench.tasks * bench.subscribers;
    let deadline = Instant::now() + Duration::from_secs(600);
    while receiver.delivered() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A little longer, for duplicates still on their way.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for child in &mut children {
        let _ = child.kill().await;
    }
    let tally = receiver.tally();
    Ok(NodesFigure {
        server: name.to_owned(),
        nodes,
        deliveries: tally.seen.len(),
        seconds: match (tally.first, tally.last) {
            (Some(first), Some(last)) => (last - first).as_secs_f64(),
            _ => 0.0,
        },
        duplicates: tally.duplicates,
        overlaps: tally.overlaps,
        out_of_order: tally.out_of_order,
        lost: expected.saturating_sub(tally.seen.len()),
    })
}

/// Creates an empty database on the server of `url` and returns its URL.
async fn fresh_database(url: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let name = format!(
        "bench_nodes_{}",
        bazaar::store::new_id("db").to_lowercase().replace('-', "_")
    );
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .context("creating the benchmark's database (the user needs CREATEDB)")?;
    let mut parsed = url::Url::parse(url)?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}

struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("POST {path}: {status} {body}");
        }
        Ok(body)
    }
}

/// What the receivers saw.
#[derive(Default)]
struct Tally {
    in_flight: HashMap<usize, usize>,
    /// (subscriber, task number) pairs answered 200.
    seen: HashSet<(usize, u64)>,
    /// The last task number each subscriber first received.
    latest: HashMap<usize, u64>,
    duplicates: usize,
    overlaps: usize,
    out_of_order: usize,
    first: Option<Instant>,
    last: Option<Instant>,
}

struct Receiver {
    base: String,
    tally: Arc<Mutex<Tally>>,
}

impl Receiver {
    async fn start(delay: Duration, subscribers: usize) -> anyhow::Result<Receiver> {
        let tally = Arc::new(Mutex::new(Tally::default()));
        let state = tally.clone();
        let app = axum::Router::new().route(
            "/hook/{subscriber}",
            axum::routing::post(
                move |axum::extract::Path(subscriber): axum::extract::Path<usize>,
                      body: axum::body::Bytes| {
                    let tally = state.clone();
                    async move { receive(&tally, delay, subscriber, subscribers, &body).await }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Receiver { base, tally })
    }

    fn delivered(&self) -> usize {
        self.tally.lock().map(|t| t.seen.len()).unwrap_or(0)
    }

    fn tally(&self) -> Tally {
        self.tally
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default()
    }
}

async fn receive(
    tally: &Mutex<Tally>,
    delay: Duration,
    subscriber: usize,
    subscribers: usize,
    body: &[u8],
) -> axum::http::StatusCode {
    let task = serde_json::from_slice::<Value>(body).ok().and_then(|event| {
        event["data"]["title"]
            .as_str()
            .and_then(|title| title.strip_prefix("Task "))
            .and_then(|n| n.parse::<u64>().ok())
    });
    let (Some(task), true) = (task, subscriber < subscribers) else {
        return axum::http::StatusCode::BAD_REQUEST;
    };
    if let Ok(mut t) = tally.lock() {
        let in_flight = t.in_flight.entry(subscriber).or_default();
        *in_flight += 1;
        if *in_flight > 1 {
            t.overlaps += 1;
        }
    }
    tokio::time::sleep(delay).await;
    if let Ok(mut t) = tally.lock() {
        if let Some(in_flight) = t.in_flight.get_mut(&subscriber) {
            *in_flight -= 1;
        }
        let now = Instant::now();
        t.first.get_or_insert(now);
        if t.seen.insert((subscriber, task)) {
            t.last = Some(now);
            let latest = t.latest.entry(subscriber).or_insert(task);
            if *latest > task {
                t.out_of_order += 1;
            } else {
                *latest = task;
            }
        } else {
            t.duplicates += 1;
        }
    }
    axum::http::StatusCode::OK
}
