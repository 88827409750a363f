//! Event delivery end to end: a real server's workers deliver the outbox to an installed plugin
//! (run in the sandbox), to an external app's webhook receiver and to REST hooks (real HTTP on
//! loopback), with retries, signatures, dead letters, replay, pausing and analytics.

use std::time::{Duration, Instant};

use bazaar::config::{Config, DeliveryConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::catalog::{approve, manifest};
use crate::guests::component;
use crate::on_both_databases;
use crate::receiver::{Plan, Receiver};
use crate::support::{Backend, Browser, TestOrg, TestServer};

on_both_databases!(
    a_plugin_and_a_webhook_receiver_get_every_event,
    a_failing_receiver_gets_the_event_after_retries_signed_each_time,
    dead_letters_are_replayed_one_by_one_and_in_bulk,
    rest_hooks_subscribe_deliver_and_stop,
    a_subscriber_that_only_fails_is_paused_and_the_tenant_told,
    a_webhook_gone_shows_keeps_what_it_missed_and_comes_back,
    an_app_hears_about_its_own_installation_only
);

#[tokio::test]
async fn private_webhook_addresses_are_refused() {
    private_addresses_are_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_deliveries_are_deleted_after_the_retention_period() {
    let mut config = fast_config(&[0.05]);
    config.delivery.retention_hours = 0;
    config.delivery.lease_secs = 1;
    let server = TestServer::start_with(Backend::Sqlite, config).await;
    let tenant = server.org("Acme").await;
    let receiver = Receiver::start(Plan::Ok).await;
    let (status, _) = server
        .post(
            &tenant.key,
            "/v1/hooks",
            json!({ "target_url": receiver.url, "event": "project.created" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    server.project(&tenant.key, "Short-lived log").await;
    receiver.wait_for_delivered(1, Duration::from_secs(10)).await;
    // Gone from the delivery log at the next sweep; the event stays in the event log.
    let started = Instant::now();
    loop {
        let (_, list) = server.get(&tenant.key, "/v1/deliveries").await;
        if list["data"] == json!([]) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        server
            .event_kinds(&tenant.key)
            .await
            .contains(&"project.created".to_owned())
    );
}

#[tokio::test]
async fn plugin_failures_are_retried_only_when_the_plugin_says_so() {
    plugin_failures_are_classified(Backend::Sqlite).await;
}

/// A server whose workers retry fast and may reach the loopback receiver.
pub(crate) fn fast_config(schedule: &[f64]) -> Config {
    Config {
        allow_private_network: true,
        delivery: DeliveryConfig {
            poll_ms: 20,
            retry_schedule_secs: schedule.to_vec(),
            ..DeliveryConfig::default()
        },
        ..Config::default()
    }
}

/// Publishes an external app with a webhook, approved; returns its app id.
async fn publish_external(
    server: &TestServer,
    dev: &TestOrg,
    reviewer: &Browser,
    slug: &str,
    webhook_url: &str,
) -> String {
    let manifest = json!({
        "name": format!("App {slug}"), "slug": slug, "description": "Sends your tasks elsewhere.",
        "category": "automation", "pricing": {"plan": "free"},
        "redirect_uris": ["https://app.example.com/callback"],
        "scopes": [
            {"name": "tasks:read", "purpose": "Receive new and completed tasks."},
            {"name": "projects:read", "purpose": "Receive new projects."}
        ],
        "events": ["task.created", "task.completed", "project.created"],
        "webhook_url": webhook_url,
    });
    let (app_id, submitted) = submit_external(server, dev, &manifest).await;
    assert_eq!(submitted["state"], "in_review", "{submitted}");
    approve(reviewer, submitted["id"].as_str().unwrap()).await;
    app_id
}

/// Creates an external app from `manifest` and submits its first version to review; returns
/// the app id and the submitted version (with its state and findings).
async fn submit_external(server: &TestServer, dev: &TestOrg, manifest: &Value) -> (String, Value) {
    let (status, app) = server
        .post(
            &dev.key,
            "/v1/apps",
            json!({ "kind": "external", "manifest": manifest.to_string() }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    let app_id = app["id"].as_str().unwrap().to_owned();
    let (status, draft) = server
        .post(
            &dev.key,
            &format!("/v1/apps/{app_id}/versions"),
            json!({ "version": "1.0.0", "manifest": manifest }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let draft_id = draft["id"].as_str().unwrap();
    let (_, submitted) = server
        .post(
            &dev.key,
            &format!("/v1/apps/{app_id}/versions/{draft_id}/submit"),
            json!({}),
        )
        .await;
    (app_id, submitted)
}

/// Installs an app with consent to `scopes`; returns the installation id.
pub(crate) async fn install(server: &TestServer, tenant: &TestOrg, slug: &str, scopes: &[&str]) -> String {
    let (status, installation) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": slug, "scopes": scopes }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installation}");
    installation["id"].as_str().unwrap().to_owned()
}

async fn webhook_secret(server: &TestServer, tenant: &TestOrg, installation: &str) -> String {
    let (status, body) = server
        .get(
            &tenant.key,
            &format!("/v1/installations/{installation}/webhook-secret"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["secret"].as_str().unwrap().to_owned()
}

/// Waits until `check` holds for the deliveries listed with `query`; returns them.
pub(crate) async fn wait_deliveries(
    server: &TestServer,
    key: &str,
    query: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let (status, body) = server
            .get(key, &format!("/v1/deliveries?limit=200&{query}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let list = body["data"].as_array().unwrap().clone();
        if check(&list) {
            return list;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "deliveries never matched: {list:#?}"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

pub(crate) fn all_in(state: &'static str, n: usize) -> impl Fn(&[Value]) -> bool {
    move |list| list.len() == n && list.iter().all(|d| d["state"] == state)
}

async fn a_plugin_and_a_webhook_receiver_get_every_event(backend: Backend) {
    let server = TestServer::start_with(backend, fast_config(&[0.2, 0.2])).await;
    let dev = server.org("Stats Inc").await;
    let tenant = server.org("Acme").await;
    let bystander = server.org("Other").await;
    let reviewer = server.reviewer().await;
    let receiver = Receiver::start(Plan::Ok).await;

    let (_, submitted) = server
        .publish_draft(
            &dev.key,
            &manifest("project-stats"),
            "1.0.0",
            &component("project-stats"),
            None,
        )
        .await;
    let stats_app = submitted["app_id"].as_str().unwrap().to_owned();
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let plugin = install(&server, &tenant, "project-stats", &["tasks:read", "storage"]).await;
    let external_app = publish_external(&server, &dev, &reviewer, "task-bridge", &receiver.url).await;
    let external = install(&server, &tenant, "task-bridge", &["tasks:read", "projects:read"]).await;
    let secret = webhook_secret(&server, &tenant, &external).await;

    // The tenant works: one project, five tasks, two completed. Another org works too.
    let project = server.project(&tenant.key, "Launch").await;
    let mut task_ids = Vec::new();
    for n in 0..5 {
        let task = server.task(&tenant.key, &project, &format!("Task {n}")).await;
        task_ids.push(task["id"].as_str().unwrap().to_owned());
    }
    for id in &task_ids[..2] {
        let (status, _) = server
            .post(&tenant.key, &format!("/v1/tasks/{id}/complete"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let elsewhere = server.project(&bystander.key, "Not yours").await;
    server.task(&bystander.key, &elsewhere, "Private").await;

    // The webhook receiver gets 1 + 5 + 2 events, each once, signed, in the envelope.
    receiver.wait_for_delivered(8, Duration::from_secs(30)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 8, "each event once: {got:#?}");
    for r in &got {
        assert!(r.verify(&secret), "signature of {}", r.id);
        let body = r.json();
        assert_eq!(body["id"], r.id.as_str(), "webhook-id is the event id");
        assert_eq!(
            body["organization_id"],
            tenant.id.as_str(),
            "no other org's events"
        );
        assert_eq!(body["installation_id"], external.as_str());
        assert!(body["data"]["id"].is_string(), "{body}");
    }
    let kinds: Vec<String> = got
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "task.created").count(), 5);
    assert_eq!(kinds.iter().filter(|k| *k == "task.completed").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "project.created").count(), 1);

    // The plugin ran once per task event it subscribes to (not for project.created), and its
    // storage shows the counts.
    let plugin_deliveries = wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={plugin}"),
        all_in("succeeded", 7),
    )
    .await;
    assert!(plugin_deliveries.iter().all(|d| d["target"] == "plugin"));
    let (status, delivery) = server
        .get(
            &tenant.key,
            &format!("/v1/deliveries/{}", plugin_deliveries[0]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let attempt = &delivery["attempt_log"][0];
    assert_eq!(attempt["outcome"], "ok", "{delivery}");
    assert!(attempt["fuel_used"].as_i64().unwrap() > 0, "{delivery}");
    let counts: Vec<(Vec<u8>,)> = bazaar::store::query_as(
        "SELECT value FROM plugin_kv WHERE installation_id = $1 AND key LIKE 'stats/%'",
    )
    .bind(&plugin)
    .fetch_all(server.store.reader())
    .await
    .unwrap();
    let counts: Vec<Value> = counts
        .iter()
        .map(|(v,)| serde_json::from_slice(v).unwrap())
        .collect();
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert_eq!(
        (counts[0]["created"].as_i64(), counts[0]["completed"].as_i64()),
        (Some(5), Some(2))
    );

    // Another organization cannot see this delivery log.
    let (status, _) = server
        .get(
            &bystander.key,
            &format!("/v1/deliveries/{}", plugin_deliveries[0]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Analytics: the tenant sees its installation, the developer its app across installations;
    // neither sees the other's.
    let started = Instant::now();
    let usage = loop {
        let (status, usage) = server
            .get(&tenant.key, &format!("/v1/installations/{plugin}/analytics"))
            .await;
        assert_eq!(status, StatusCode::OK, "{usage}");
        if usage["totals"][0]["invocations"] == 7 {
            break usage;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{usage}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let totals = &usage["totals"][0];
    assert_eq!(totals["target"], "plugin");
    assert_eq!(totals["successes"], 7);
    assert!(totals["fuel_used"].as_u64().unwrap() > 0);
    assert!(totals["p50_ms"].as_f64().unwrap() > 0.0);
    assert!(totals["p95_ms"].as_f64().unwrap() >= totals["p50_ms"].as_f64().unwrap());
    assert_eq!(usage["hours"].as_array().unwrap().len(), 1);
    let (status, dev_view) = server
        .get(&dev.key, &format!("/v1/apps/{stats_app}/analytics"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dev_view["totals"][0]["invocations"], 7);
    assert!(!dev_view.to_string().contains(&tenant.id), "no tenant data");
    let (status, webhook_view) = server
        .get(&dev.key, &format!("/v1/apps/{external_app}/analytics"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let started = Instant::now();
    let mut webhook_view = webhook_view;
    while webhook_view["totals"][0]["invocations"] != 8 {
        assert!(started.elapsed() < Duration::from_secs(10), "{webhook_view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        webhook_view = server
            .get(&dev.key, &format!("/v1/apps/{external_app}/analytics"))
            .await
            .1;
    }
    assert_eq!(webhook_view["totals"][0]["target"], "webhook");
    let (status, _) = server
        .get(&tenant.key, &format!("/v1/apps/{stats_app}/analytics"))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only the developer reads app analytics"
    );
}

async fn a_failing_receiver_gets_the_event_after_retries_signed_each_time(backend: Backend) {
    let server = TestServer::start_with(backend, fast_config(&[0.1, 0.1, 0.1, 0.1])).await;
    let dev = server.org("Bridge Co").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let receiver = Receiver::start(Plan::FailTimes(3)).await;
    publish_external(&server, &dev, &reviewer, "flaky-bridge", &receiver.url).await;
    let installation = install(&server, &tenant, "flaky-bridge", &["tasks:read", "projects:read"]).await;
    let secret = webhook_secret(&server, &tenant, &installation).await;

    server.project(&tenant.key, "Retries").await;
    receiver.wait_for_delivered(1, Duration::from_secs(20)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 4, "three failures, then the success");
    assert!(
        got.iter().all(|r| r.id == got[0].id),
        "same webhook-id on every retry"
    );
    assert!(got.iter().all(|r| r.verify(&secret)), "every attempt is signed");
    assert_eq!(
        got.iter().map(|r| r.answered).collect::<Vec<_>>(),
        vec![503, 503, 503, 200]
    );

    let list = wait_deliveries(&server, &tenant.key, "", all_in("succeeded", 1)).await;
    let (_, delivery) = server
        .get(
            &tenant.key,
            &format!("/v1/deliveries/{}", list[0]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(delivery["attempts"], 4);
    let log = delivery["attempt_log"].as_array().unwrap();
    assert_eq!(
        log.iter()
            .map(|a| a["status_code"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![503, 503, 503, 200]
    );
    assert_eq!(log[0]["outcome"], "http_error");
    assert_eq!(log[0]["response_excerpt"], "answered 503");
    assert!(log[0]["next_attempt_at"].is_string());
    assert_eq!(log[3]["outcome"], "ok");

    // Rotation: during the grace period both secrets sign, so either one verifies.
    let (status, rotated) = server
        .post(
            &tenant.key,
            &format!("/v1/installations/{installation}/webhook-secret/rotate"),
            json!({ "grace_secs": 3600 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(rotated["previous_secret"], secret.as_str());
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    receiver.set_plan(Plan::Ok);
    server.project(&tenant.key, "After rotation").await;
    receiver.wait_for_delivered(2, Duration::from_secs(20)).await;
    let last = receiver.received().pop().unwrap();
    assert_eq!(last.signature.split(' ').count(), 2, "{}", last.signature);
    assert!(last.verify(&secret) && last.verify(&new_secret));
}

async fn dead_letters_are_replayed_one_by_one_and_in_bulk(backend: Backend) {
    let server = TestServer::start_with(backend, fast_config(&[0.05])).await;
    let dev = server.org("Bridge Co").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let receiver = Receiver::start(Plan::Always(500)).await;
    publish_external(&server, &dev, &reviewer, "down-bridge", &receiver.url).await;
    let installation = install(&server, &tenant, "down-bridge", &["tasks:read", "projects:read"]).await;
    let before = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();

    server.project(&tenant.key, "One").await;
    server.project(&tenant.key, "Two").await;
    server.project(&tenant.key, "Three").await;
    let dead = wait_deliveries(&server, &tenant.key, "state=dead", |l| l.len() == 3).await;
    assert!(
        dead.iter().all(|d| d["attempts"] == 2),
        "two attempts, then the dead letter: {dead:#?}"
    );
    assert_eq!(receiver.received().len(), 6);
    assert!(receiver.delivered_ids().is_empty());

    // The receiver is fixed; one delivery is replayed by hand, then the rest in bulk.
    receiver.set_plan(Plan::Ok);
    let first = dead[0]["id"].as_str().unwrap();
    let (status, replayed) = server
        .post(&tenant.key, &format!("/v1/deliveries/{first}/replay"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    receiver.wait_for_delivered(1, Duration::from_secs(10)).await;
    let (status, body) = server
        .post(&tenant.key, &format!("/v1/deliveries/{first}/replay"), json!({}))
        .await;
    assert!(
        status == StatusCode::OK || status == StatusCode::CONFLICT,
        "a succeeded delivery may be sent again; a queued one may not: {body}"
    );
    let (status, body) = server
        .post(
            &tenant.key,
            "/v1/deliveries/replay",
            json!({ "subscriber_id": installation, "since": before }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["replayed"], 2);
    receiver.wait_for_delivered(3, Duration::from_secs(10)).await;
    wait_deliveries(&server, &tenant.key, "", all_in("succeeded", 3)).await;

    // Another organization cannot replay them.
    let other = server.org("Other").await;
    let (status, _) = server
        .post(&other.key, &format!("/v1/deliveries/{first}/replay"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn rest_hooks_subscribe_deliver_and_stop(backend: Backend) {
    let server = TestServer::start_with(backend, fast_config(&[0.05])).await;
    let tenant = server.org("Acme").await;
    let receiver = Receiver::start(Plan::Ok).await;

    // A key without tasks:read cannot subscribe to task events.
    let (_, narrow) = server
        .post(
            &tenant.key,
            "/v1/api-keys",
            json!({ "name": "zapier", "scopes": ["hooks:write", "projects:read"] }),
        )
        .await;
    let narrow = narrow["secret"].as_str().unwrap().to_owned();
    let (status, body) = server
        .post(
            &narrow,
            "/v1/hooks",
            json!({ "target_url": receiver.url, "event": "task.created" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("tasks:read"));
    let (status, body) = server
        .post(
            &narrow,
            "/v1/hooks",
            json!({ "target_url": receiver.url, "event": "task.exploded" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, hook) = server
        .post(
            &narrow,
            "/v1/hooks",
            json!({ "target_url": receiver.url, "event": "project.created" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let (_, list) = server.get(&tenant.key, "/v1/hooks").await;
    assert_eq!(list["data"][0]["id"], hook_id.as_str());
    assert!(
        list["data"][0].get("secret").is_none(),
        "the secret is shown once"
    );

    let project = server.project(&tenant.key, "Hooked").await;
    server.task(&tenant.key, &project, "Not subscribed").await;
    receiver.wait_for_delivered(1, Duration::from_secs(10)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1, "only the subscribed kind");
    assert!(got[0].verify(&secret));
    assert_eq!(got[0].json()["type"], "project.created");
    assert_eq!(got[0].json()["hook_id"], hook_id.as_str());

    // Unsubscribed: nothing more arrives.
    let (status, _) = server
        .call(&narrow, Method::DELETE, &format!("/v1/hooks/{hook_id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    server.project(&tenant.key, "After unsubscribe").await;

    // A receiver answering 410 disables its hook.
    let gone = Receiver::start(Plan::Always(410)).await;
    let (_, hook) = server
        .post(
            &narrow,
            "/v1/hooks",
            json!({ "target_url": gone.url, "event": "project.created" }),
        )
        .await;
    let gone_id = hook["id"].as_str().unwrap().to_owned();
    server.project(&tenant.key, "Gone").await;
    let started = Instant::now();
    loop {
        let (_, list) = server.get(&tenant.key, "/v1/hooks").await;
        let hook = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == gone_id.as_str())
            .unwrap()
            .clone();
        if hook["status"] == "disabled" {
            assert!(hook["disabled_reason"].as_str().unwrap().contains("410"));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{hook}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    server.project(&tenant.key, "Gone again").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let names: Vec<Value> = gone
        .received()
        .iter()
        .map(|r| r.json()["data"]["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Gone")], "a disabled hook gets nothing more");
    assert_eq!(
        receiver.received().len(),
        1,
        "an unsubscribed hook gets nothing more"
    );

    // Revoking the key that made a hook ends it.
    let (_, hook) = server
        .post(
            &narrow,
            "/v1/hooks",
            json!({ "target_url": receiver.url, "event": "project.created" }),
        )
        .await;
    assert_eq!(hook["status"], "active");
    let (_, keys) = server.get(&tenant.key, "/v1/api-keys").await;
    let key_id = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "zapier")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = server
        .call(
            &tenant.key,
            Method::DELETE,
            &format!("/v1/api-keys/{key_id}"),
            None,
        )
        .await;
    assert!(status.is_success());
    server.project(&tenant.key, "After revoke").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "a revoked key's hook gets nothing");
}

async fn a_subscriber_that_only_fails_is_paused_and_the_tenant_told(backend: Backend) {
    let mut config = fast_config(&[0.2; 20]);
    config.delivery.pause_after_secs = 1;
    let server = TestServer::start_with(backend, config).await;
    let dev = server.org("Bridge Co").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let receiver = Receiver::start(Plan::Always(502)).await;
    publish_external(&server, &dev, &reviewer, "broken-bridge", &receiver.url).await;
    let installation = install(
        &server,
        &tenant,
        "broken-bridge",
        &["tasks:read", "projects:read"],
    )
    .await;

    server.project(&tenant.key, "Doomed").await;
    let started = Instant::now();
    loop {
        let (_, current) = server
            .get(&tenant.key, &format!("/v1/installations/{installation}"))
            .await;
        if current["status"] == "paused" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "{current}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "not before the period"
    );
    let kinds = server.event_kinds(&tenant.key).await;
    assert!(kinds.contains(&"app.delivery_paused".to_owned()), "{kinds:?}");

    // While paused nothing is sent; resuming with a fixed receiver delivers what waited.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attempts_while_paused = receiver.received().len();
    server.project(&tenant.key, "While paused").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), attempts_while_paused);
    receiver.set_plan(Plan::Ok);
    let (status, _) = server
        .post(
            &tenant.key,
            &format!("/v1/installations/{installation}/resume"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    receiver.wait_for_delivered(1, Duration::from_secs(10)).await;
}

async fn private_addresses_are_refused(backend: Backend) {
    // The default configuration: no private network.
    let mut config = fast_config(&[0.05]);
    config.allow_private_network = false;
    let server = TestServer::start_with(backend, config).await;
    let dev = server.org("Bridge Co").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let receiver = Receiver::start(Plan::Ok).await;

    for url in [
        receiver.url.clone(),
        "http://10.0.0.8/hook".into(),
        "http://169.254.169.254/latest/meta-data".into(),
        "http://[::1]:9/hook".into(),
        "http://localhost:9/hook".into(),
    ] {
        let (status, body) = server
            .post(
                &tenant.key,
                "/v1/hooks",
                json!({ "target_url": url, "event": "project.created" }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not a public address"),
            "{body}"
        );
    }

    // An app's webhook URL aimed at loopback, a private network or the metadata address is
    // refused at review, as REST hooks are at creation.
    for (n, url) in [
        "http://localhost:9/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data",
    ]
    .into_iter()
    .enumerate()
    {
        let slug = format!("private-bridge-{n}");
        let manifest = json!({
            "name": "Private bridge", "slug": slug, "description": "Sends your tasks elsewhere.",
            "category": "automation", "pricing": {"plan": "free"},
            "redirect_uris": ["https://app.example.com/callback"],
            "scopes": [{"name": "projects:read", "purpose": "Receive new projects."}],
            "events": ["project.created"], "webhook_url": url,
        });
        let (_, submitted) = submit_external(&server, &dev, &manifest).await;
        assert_eq!(submitted["state"], "rejected", "{url}: {submitted}");
        let findings = submitted["findings"].to_string();
        assert!(
            findings.contains("webhook_url") && findings.contains("not a public address"),
            "{findings}"
        );
    }

    // A URL that passed review and later resolves to a private address (DNS rebinding, here
    // its stored manifest changed under it) is refused by delivery, which checks the address
    // on every attempt: the receiver never hears from us.
    let app = publish_external(
        &server,
        &dev,
        &reviewer,
        "later-local",
        "https://93.184.215.14/hook",
    )
    .await;
    let local = receiver.url.replace("127.0.0.1", "localhost");
    bazaar::store::query("UPDATE app_versions SET manifest = REPLACE(manifest, 'https://93.184.215.14/hook', $1) WHERE app_id = $2")
        .bind(&local)
        .bind(&app)
        .execute(server.store.writer())
        .await
        .unwrap();
    install(&server, &tenant, "later-local", &["tasks:read", "projects:read"]).await;
    server.project(&tenant.key, "Probe").await;
    let dead = wait_deliveries(&server, &tenant.key, "state=dead", |l| l.len() == 1).await;
    assert_eq!(dead[0]["last_outcome"], "address_refused", "{dead:#?}");
    assert_eq!(dead[0]["attempts"], 1, "refused addresses are not retried");
    assert!(receiver.received().is_empty());
}

async fn plugin_failures_are_classified(backend: Backend) {
    let server = TestServer::start_with(backend, fast_config(&[0.05, 0.05])).await;
    let dev = server.org("Chaos Inc").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    // The hostile test plugin misbehaves by event kind; here it subscribes to project events.
    let hostile_manifest = r#"
name = "Chaos"
slug = "chaos"
description = "Misbehaves on purpose."
category = "developer-tools"
events = ["project.created", "project.updated", "project.archived"]
allowed_hosts = []

[[scopes]]
name = "projects:read"
purpose = "Receive project events."

[limits]
fuel = 20000000

[pricing]
plan = "free"
"#;
    let (_, submitted) = server
        .publish_draft(
            &dev.key,
            hostile_manifest,
            "1.0.0",
            &component("test-plugin-hostile"),
            None,
        )
        .await;
    if submitted["state"] != "in_review" {
        panic!("the hostile plugin did not reach review: {submitted}");
    }
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let installation = install(&server, &tenant, "chaos", &["projects:read"]).await;
    // The project's name picks the plugin's behaviour.
    for name in [
        "test.ok",
        "test.unavailable",
        "test.loop",
        "test.panic",
        "Unknown",
    ] {
        server.project(&tenant.key, name).await;
    }
    let list = wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={installation}"),
        |l| {
            l.len() == 5
                && l.iter()
                    .all(|d| d["state"] == "succeeded" || d["state"] == "dead")
        },
    )
    .await;
    let mut by_outcome: Vec<(String, String, i64)> = Vec::new();
    for d in &list {
        let (_, full) = server
            .get(
                &tenant.key,
                &format!("/v1/deliveries/{}", d["id"].as_str().unwrap()),
            )
            .await;
        let log = full["attempt_log"].as_array().unwrap();
        by_outcome.push((
            log[0]["outcome"].as_str().unwrap().to_owned(),
            full["state"].as_str().unwrap().to_owned(),
            full["attempts"].as_i64().unwrap(),
        ));
    }
    by_outcome.sort();
    let expect = |outcome: &str, state: &str, attempts: i64| {
        assert!(
            by_outcome.contains(&(outcome.to_owned(), state.to_owned(), attempts)),
            "{outcome}/{state}/{attempts} in {by_outcome:?}"
        );
    };
    expect("ok", "succeeded", 1);
    // `unavailable` asks for a retry: the whole schedule (1 + 2 retries), then the dead letter.
    expect("plugin_error", "dead", 3);
    // `invalid` (the unknown name), fuel and panics are permanent: one attempt.
    expect("plugin_error", "dead", 1);
    expect("fuel_exhausted", "dead", 1);
    expect("trap", "dead", 1);
    let (_, usage) = server
        .get(
            &tenant.key,
            &format!("/v1/installations/{installation}/analytics"),
        )
        .await;
    let started = Instant::now();
    let mut usage = usage;
    while usage["totals"][0]["invocations"] != 7 {
        assert!(started.elapsed() < Duration::from_secs(10), "{usage}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        usage = server
            .get(
                &tenant.key,
                &format!("/v1/installations/{installation}/analytics"),
            )
            .await
            .1;
    }
    let failures = &usage["totals"][0]["failures"];
    assert_eq!(failures["plugin_error"], 4, "{usage}");
    assert_eq!(failures["fuel_exhausted"], 1, "{usage}");
    assert_eq!(failures["trap"], 1, "{usage}");
}

/// A receiver answering 410 Gone turns the installation's webhook off: the tenant sees it, the
/// developer counts it, later events are kept in the log (not sent), and re-enabling sends
/// what was missed, in order.
async fn a_webhook_gone_shows_keeps_what_it_missed_and_comes_back(backend: Backend) {
    let server = TestServer::start_with(backend, fast_config(&[0.2, 0.2])).await;
    let dev = server.org("Bridge Inc").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let receiver = Receiver::start(Plan::Always(410)).await;
    let app = publish_external(&server, &dev, &reviewer, "gone-bridge", &receiver.url).await;
    let installation = install(&server, &tenant, "gone-bridge", &["tasks:read", "projects:read"]).await;
    let project = server.project(&tenant.key, "Launch").await;
    wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={installation}"),
        all_in("dead", 1),
    )
    .await;
    let (_, shown) = server
        .get(&tenant.key, &format!("/v1/installations/{installation}"))
        .await;
    assert!(
        shown["webhook_disabled"].as_str().unwrap().contains("410"),
        "{shown}"
    );
    assert_eq!(shown["status"], "active");
    let (_, usage) = server.get(&dev.key, &format!("/v1/apps/{app}/analytics")).await;
    assert_eq!(usage["webhooks_disabled"], 1, "{usage}");

    // Events meanwhile are recorded, not sent.
    for n in 0..3 {
        server.task(&tenant.key, &project, &format!("Task {n}")).await;
    }
    let held = wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={installation}"),
        |list| {
            list.len() == 4
                && list
                    .iter()
                    .filter(|d| d["last_outcome"] == "webhook_disabled")
                    .count()
                    == 3
        },
    )
    .await;
    assert!(held.iter().all(|d| d["state"] == "dead"), "{held:#?}");
    assert_eq!(
        receiver.received().len(),
        1,
        "nothing was sent to the disabled webhook"
    );

    // Re-enabled: the receiver is back and gets what it missed, the 410'd event first.
    receiver.set_plan(Plan::Ok);
    let (status, enabled) = server
        .post(
            &tenant.key,
            &format!("/v1/installations/{installation}/webhook/enable"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(enabled["replayed"], 4);
    assert!(enabled["installation"]["webhook_disabled"].is_null());
    receiver.wait_for_delivered(4, Duration::from_secs(30)).await;
    let kinds: Vec<String> = receiver
        .received()
        .iter()
        .filter(|r| r.answered == 200)
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["project.created", "task.created", "task.created", "task.created"]
    );
    let (status, again) = server
        .post(
            &tenant.key,
            &format!("/v1/installations/{installation}/webhook/enable"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
}

/// An app subscribing to `app.*` events passes the manifest check without a scope it could
/// never hold, and then does get them: about its own installation, never another app's.
async fn an_app_hears_about_its_own_installation_only(backend: Backend) {
    let server = TestServer::start_with(backend, fast_config(&[0.2])).await;
    let dev = server.org("Bridge Inc").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let receiver = Receiver::start(Plan::Ok).await;
    let other = Receiver::start(Plan::Ok).await;
    let mut slugs = Vec::new();
    for (slug, url) in [("lifecycle-a", &receiver.url), ("lifecycle-b", &other.url)] {
        let manifest = json!({
            "name": format!("App {slug}"), "slug": slug, "description": "Hears about its installation.",
            "category": "automation", "pricing": {"plan": "free"},
            "redirect_uris": ["https://app.example.com/callback"],
            "scopes": [{"name": "projects:read", "purpose": "Receive new projects."}],
            "events": ["app.installed", "app.upgraded", "project.created"], "webhook_url": url,
        });
        let (_, submitted) = submit_external(&server, &dev, &manifest).await;
        assert_eq!(submitted["state"], "in_review", "{submitted}");
        approve(&reviewer, submitted["id"].as_str().unwrap()).await;
        slugs.push(slug);
    }
    let first = install(&server, &tenant, slugs[0], &["projects:read"]).await;
    let second = install(&server, &tenant, slugs[1], &["projects:read"]).await;
    server.project(&tenant.key, "Launch").await;
    receiver.wait_for_delivered(2, Duration::from_secs(30)).await;
    other.wait_for_delivered(2, Duration::from_secs(30)).await;
    for (got, own) in [(receiver.received(), &first), (other.received(), &second)] {
        let kinds: Vec<(String, String)> = got
            .iter()
            .map(|r| {
                let body = r.json();
                (
                    body["type"].as_str().unwrap().to_owned(),
                    body["subject_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(kinds.len(), 2, "{kinds:?}");
        assert_eq!(
            kinds[0],
            ("app.installed".to_owned(), own.clone()),
            "its own installation only"
        );
        assert_eq!(kinds[1].0, "project.created");
    }
}
