//! Delivery across process deaths and across nodes, with the real `bazaar serve` binary: a node
//! killed with SIGKILL in the middle of delivery, and two nodes sharing one PostgreSQL. Both
//! report what at-least-once costs: how many events were delivered twice.

use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::{bazaar, serve_with};
use crate::receiver::{Plan, Receiver};
use crate::support::{fresh_postgres_database, postgres_url};

const EVENTS: usize = 1000;
/// Every node of a cluster seals secrets with the same key.
const SHARED_KEY: &str = "c2FtZS1rZXktZm9yLWV2ZXJ5LW5vZGUtb2YtdGhlLWM=";

/// A configuration file for a node: fast polling, the loopback receiver allowed.
fn node_config(dir: &std::path::Path, node: &str, database_url: Option<&str>, slots: usize) -> String {
    let path = dir.join(format!("{node}.toml"));
    let mut text = format!(
        "node_id = \"{node}\"\nallow_private_network = true\nsecret_key = \"{SHARED_KEY}\"\n{}\n[delivery]\npoll_ms = 20\nlease_secs = 5\nconcurrency = {slots}\nretry_schedule_secs = [0.2, 0.5, 1.0]\n",
        database_url
            .map(|u| format!("database_url = \"{u}\""))
            .unwrap_or_default(),
    );
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn org_key(args: &[&str]) -> String {
    let mut all = vec![
        "org",
        "create",
        "Acme",
        "--admin-email",
        "ada@acme.test",
        "--admin-password",
        "a-long-password",
        "--json",
    ];
    all.extend_from_slice(args);
    let out = bazaar(&all).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    created["api_key"]["secret"].as_str().unwrap().to_owned()
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    async fn post(&self, path: &str, body: Value) -> Value {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }

    /// Subscribes `url` to `task.created`.
    async fn hook(&self, url: &str) {
        self.post("/v1/hooks", json!({ "target_url": url, "event": "task.created" }))
            .await;
    }

    /// Creates one project and `n` tasks in it, eight requests at a time.
    async fn tasks(&self, n: usize) {
        let project = self.post("/v1/projects", json!({ "name": "Load" })).await;
        let project = project["id"].as_str().unwrap().to_owned();
        let mut pending = tokio::task::JoinSet::new();
        for i in 0..n {
            if pending.len() >= 8 {
                pending.join_next().await;
            }
            let (http, base, key, project) = (
                self.http.clone(),
                self.base.clone(),
                self.key.clone(),
                project.clone(),
            );
            pending.spawn(async move {
                let res = http
                    .post(format!("{base}/v1/tasks"))
                    .bearer_auth(key)
                    .json(&json!({ "project_id": project, "title": format!("Task {i}") }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::CREATED);
            });
        }
        while pending.join_next().await.is_some() {}
    }
}

fn kill(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL: no shutdown, no release of claims
    child.wait().unwrap();
}

fn duplicates(receiver: &Receiver) -> usize {
    let ok = receiver.received().iter().filter(|r| r.answered == 200).count();
    ok - receiver.delivered_ids().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_delivery_delivers_every_event_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let key = org_key(&["--data-dir", data]);
    let config = node_config(dir.path(), "solo", None, 32);
    let receiver = Receiver::start(Plan::Slow(Duration::from_millis(4))).await;

    let (mut child, addr) = serve_with(&[
        "serve",
        "--config-file",
        &config,
        "--data-dir",
        data,
        "--listen",
        "127.0.0.1:0",
    ]);
    let client = Client {
        http: reqwest::Client::new(),
        base: format!("http://{addr}"),
        key,
    };
    client.hook(&receiver.url).await;
    client.tasks(EVENTS).await;

    // Kill it in the middle of delivery.
    let started = Instant::now();
    while receiver.delivered_ids().len() < EVENTS / 4 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "delivery did not start"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    kill(&mut child);
    let before_restart = receiver.delivered_ids().len();
    assert!(before_restart < EVENTS, "the kill came too late to test anything");

    let (mut child, _) = serve_with(&[
        "serve",
        "--config-file",
        &config,
        "--data-dir",
        data,
        "--listen",
        "127.0.0.1:0",
    ]);
    receiver
        .wait_for_delivered(EVENTS, Duration::from_secs(120))
        .await;
    kill(&mut child);
    let twice = duplicates(&receiver);
    println!(
        "crash test: {EVENTS} events, {before_restart} delivered before SIGKILL, all {EVENTS} after restart, {twice} delivered twice"
    );
    // Only what was delivered but not yet recorded at the kill can come twice: at most one
    // claimed batch of the one subscriber.
    let batch = bazaar::config::DeliveryConfig::default().batch;
    assert!(twice <= batch, "{twice} duplicates");

    // And in event order, across the kill: the claims taken back at the restart go before the
    // newer events, so each event first arrives after every earlier one.
    let store = bazaar::store::Store::open_data_dir(std::path::Path::new(data))
        .await
        .unwrap();
    let order: Vec<(String,)> =
        bazaar::store::query_as("SELECT id FROM events WHERE kind = 'task.created' ORDER BY seq")
            .fetch_all(store.reader())
            .await
            .unwrap();
    let position: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, (id,))| (id.as_str(), i))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let first_arrivals: Vec<usize> = receiver
        .received()
        .iter()
        .filter(|r| r.answered == 200 && seen.insert(r.id.clone()))
        .map(|r| position[r.id.as_str()])
        .collect();
    let out_of_order = first_arrivals.windows(2).filter(|w| w[1] < w[0]).count();
    assert_eq!(
        out_of_order, 0,
        "events reached the subscriber out of order: {first_arrivals:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_share_the_deliveries() {
    if postgres_url().is_none() {
        return;
    }
    let url = fresh_postgres_database().await;
    let dir = tempfile::tempdir().unwrap();
    let key = org_key(&["--database-url", &url]);
    // Each receiver takes a moment, so that two deliveries to one subscriber at once would show.
    let slow = Plan::Slow(Duration::from_millis(1));
    let receivers = [
        Receiver::start(slow).await,
        Receiver::start(slow).await,
        Receiver::start(slow).await,
        Receiver::start(slow).await,
    ];
    let mut nodes = Vec::new();
    let mut addrs = Vec::new();
    for node in ["node-a", "node-b"] {
        let config = node_config(dir.path(), node, Some(&url), 2);
        let data = dir.path().join(node);
        let (child, addr) = serve_with(&[
            "serve",
            "--config-file",
            &config,
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ]);
        nodes.push(child);
        addrs.push(addr);
    }
    let client = Client {
        http: reqwest::Client::new(),
        base: format!("http://{}", addrs[0]),
        key,
    };
    for receiver in &receivers {
        client.hook(&receiver.url).await;
    }
    // Half the events are written through each node. Each node serves two subscribers at a
    // time, so neither can take all four.
    client.tasks(EVENTS / 2).await;
    let other = Client {
        base: format!("http://{}", addrs[1]),
        ..client
    };
    other.tasks(EVENTS / 2).await;
    for receiver in &receivers {
        receiver
            .wait_for_delivered(EVENTS, Duration::from_secs(180))
            .await;
    }
    // A receiver has its delivery a moment before the node writes the attempt row: wait for
    // every row before the kill, or the kill can take the last one with it.
    let store = bazaar::store::Store::connect(&url).await.unwrap();
    let expected = EVENTS * receivers.len() + receivers.iter().map(duplicates).sum::<usize>();
    let waiting = std::time::Instant::now();
    loop {
        let (written,): (i64,) =
            bazaar::store::query_as("SELECT COUNT(*) FROM delivery_attempts WHERE outcome = 'ok'")
                .fetch_one(store.reader())
                .await
                .unwrap();
        if written as usize >= expected || waiting.elapsed() > Duration::from_secs(30) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for node in &mut nodes {
        kill(node);
    }
    let split: Vec<(String, i64)> = bazaar::store::query_as(
        "SELECT node_id, COUNT(*) FROM delivery_attempts WHERE outcome = 'ok' GROUP BY node_id ORDER BY node_id",
    )
    .fetch_all(store.reader())
    .await
    .unwrap();
    let split: HashMap<String, i64> = split.into_iter().collect();
    let twice: usize = receivers.iter().map(duplicates).sum();
    println!(
        "two nodes: {} deliveries ({EVENTS} events x {} hooks), split {split:?}, {twice} delivered twice",
        EVENTS * receivers.len(),
        receivers.len()
    );
    assert_eq!(split.len(), 2, "both nodes delivered: {split:?}");
    for receiver in &receivers {
        assert_eq!(
            receiver.max_in_flight(),
            1,
            "one delivery at a time per subscriber, across nodes"
        );
    }
    assert!(split.values().all(|n| *n > 0));
    assert_eq!(
        split.values().sum::<i64>() as usize,
        EVENTS * receivers.len() + twice
    );
}

/// Eight nodes claim at once, round after round, on one PostgreSQL: no delivery and no
/// subscriber is ever held by two of them, and each subscriber's claims come in event order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_never_give_one_subscriber_to_two_nodes() {
    use bazaar::events::queue::{self, Completion, Next};
    use bazaar::platform::{ScopeSet, credentials, orgs, projects, tasks};
    use bazaar::webhooks::rest_hooks::{self, NewHook, Subscriber};
    if postgres_url().is_none() {
        return;
    }
    const SUBSCRIBERS: usize = 12;
    const TASKS: usize = 15;
    const NODES: usize = 8;
    let store = bazaar::store::Store::connect(&fresh_postgres_database().await)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secrets = bazaar::secrets::Secrets::load(None, dir.path()).unwrap();
    let (org, _) = orgs::create_with_owner(&store, "Claims", "claims@acme.test", "a-long-password")
        .await
        .unwrap();
    let key = credentials::create_api_key(&store, &org.id, "hooks", ScopeSet::all(), None)
        .await
        .unwrap();
    for n in 0..SUBSCRIBERS {
        let url = format!("https://receiver-{n}.example/hook");
        let hook = NewHook {
            subscriber: Subscriber::ApiKey(key.key.id.clone()),
            held: ScopeSet::all(),
            event: "task.created",
            target_url: &url,
        };
        rest_hooks::create(&store, &secrets, &org.id, hook, true)
            .await
            .unwrap();
    }
    let project = projects::create(&store, &org.id, "Claims", "").await.unwrap();
    let mut order = HashMap::new();
    for i in 0..TASKS {
        let task = tasks::NewTask {
            project_id: project.id.clone(),
            title: format!("Task {i}"),
            description: String::new(),
            labels: vec![],
            due_date: None,
        };
        tasks::create(&store, &org.id, task).await.unwrap();
    }
    while bazaar::events::fanout::fan_out(&store, 100).await.unwrap().0 > 0 {}
    let events: Vec<(String,)> =
        bazaar::store::query_as("SELECT id FROM events WHERE kind = 'task.created' ORDER BY seq")
            .fetch_all(store.reader())
            .await
            .unwrap();
    for (i, (id,)) in events.iter().enumerate() {
        order.insert(id.clone(), i);
    }

    let mut delivered: HashMap<String, Vec<usize>> = HashMap::new();
    let mut total = 0;
    let mut rounds = 0;
    while total < SUBSCRIBERS * TASKS {
        rounds += 1;
        assert!(rounds < 500, "claims stopped making progress at {total}");
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(NODES));
        let mut claimers = tokio::task::JoinSet::new();
        for n in 0..NODES {
            let (store, barrier) = (store.clone(), barrier.clone());
            claimers.spawn(async move {
                barrier.wait().await;
                (
                    n,
                    queue::claim(&store, &format!("node-{n}"), 2, 4, 60_000)
                        .await
                        .unwrap(),
                )
            });
        }
        let mut held: HashMap<String, usize> = HashMap::new();
        let mut done = Vec::new();
        while let Some(joined) = claimers.join_next().await {
            let (n, mut claims) = joined.unwrap();
            // As the dispatcher runs them: by id, which is the order fan-out made them in.
            claims.sort_by(|a, b| a.id.cmp(&b.id));
            for claim in &claims {
                if let Some(other) = held.insert(claim.subscriber_id.clone(), n) {
                    assert_eq!(
                        other, n,
                        "subscriber {} held by node {other} and node {n}",
                        claim.subscriber_id
                    );
                }
                delivered
                    .entry(claim.subscriber_id.clone())
                    .or_default()
                    .push(order[&claim.event_id]);
            }
            done.push((n, claims));
        }
        for (n, claims) in done {
            total += claims.len();
            let completions: Vec<Completion> = claims
                .into_iter()
                .map(|claim| Completion {
                    claim,
                    next: Next::Succeeded,
                    started_at: 0,
                    duration_us: 1,
                    outcome: "ok".into(),
                    message: String::new(),
                    fuel_used: None,
                    status_code: Some(200),
                    excerpt: None,
                    gone: false,
                })
                .collect();
            queue::complete(&store, &format!("node-{n}"), &completions, i64::MAX)
                .await
                .unwrap();
        }
    }
    assert_eq!(total, SUBSCRIBERS * TASKS, "each delivery claimed exactly once");
    for (subscriber, events) in &delivered {
        let expected: Vec<usize> = (0..TASKS).collect();
        assert_eq!(
            events, &expected,
            "{subscriber} got its events in order, each once"
        );
    }
    println!("{rounds} rounds of {NODES} concurrent claims for {total} deliveries");
}
