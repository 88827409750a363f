//! Recordings over real HTTP and real delivery: a failed call is recorded (without its secret),
//! the tenant finds it by event and downloads it, the app's developer only while the tenant
//! shares, and `bazaar plugin replay` runs it again: the same outcome and fuel on the recorded
//! component, `ok` on the fixed build.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::catalog::approve;
use crate::delivery::{fast_config, wait_deliveries};
use crate::guests::{component, component_path};
use crate::support::{Backend, Browser, TestServer};

const TOKEN: &str = "vendor-token-never-recorded";

fn manifest() -> String {
    r#"
name = "Item sync"
slug = "item-sync"
description = "Syncs items from a vendor for each new task (and has a bug)."
category = "automation"
events = ["task.created"]
allowed_hosts = ["127.0.0.1"]

[[scopes]]
name = "tasks:read"
purpose = "Hear about new tasks."

[[scopes]]
name = "storage"
purpose = "Count its runs."

[[scopes]]
name = "network"
purpose = "Ask the vendor for items."

[[config]]
key = "api_token"
label = "Vendor token"
type = "secret"
required = true

[[config]]
key = "vendor"
label = "Vendor URL"
type = "text"
required = true

[pricing]
plan = "free"
"#
    .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_is_recorded_shared_with_consent_and_replayed_by_the_cli() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let vendor = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/items",
        axum::routing::get(|| async { axum::Json(json!({ "items": [] })) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let server = TestServer::start_with(Backend::Sqlite, fast_config(&[0.2])).await;
    let dev = server.org("Sync Makers").await;
    let tenant = server.org("Acme").await;
    let stranger = server.org("Globex").await;
    let reviewer = server.reviewer().await;
    let (status, submitted) = server
        .publish_draft(
            &dev.key,
            &manifest(),
            "1.0.0",
            &component("test-plugin-replay-buggy"),
            None,
        )
        .await;
    assert_eq!(submitted["state"], "in_review", "{status} {submitted}");
    let app_id = submitted["app_id"].as_str().unwrap().to_owned();
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let (status, installed) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "item-sync", "scopes": ["tasks:read", "storage", "network"],
                    "config": { "api_token": TOKEN, "vendor": vendor } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    let id = installed["id"].as_str().unwrap().to_owned();
    let project = server.project(&tenant.key, "Web").await;
    server.task(&tenant.key, &project, "Sync now").await;
    let dead = wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={id}&state=dead"),
        |list| list.len() == 1,
    )
    .await;
    let event_id = dead[0]["event_id"].as_str().unwrap().to_owned();

    // The tenant finds it by its event.
    let (status, found) = server
        .get(&tenant.key, &format!("/v1/recordings?event_id={event_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let listed = found["data"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        1,
        "a trap is final: one attempt, one recording: {found}"
    );
    assert_eq!(listed[0]["outcome"], "trap");
    assert_eq!(listed[0]["input"], "on-event task.created");
    let recording_id = listed[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/recordings/{recording_id}");
    let (status, recording) = server.get(&tenant.key, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!recording.to_string().contains(TOKEN), "no secret in a recording");
    assert_eq!(recording["tape"]["host_calls"][2]["redacted"], true);

    // Nobody else, and the developer only with the tenant's consent; reviewers always.
    assert_eq!(server.get(&stranger.key, &path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(server.get(&dev.key, &path).await.0, StatusCode::NOT_FOUND);
    let (_, shared) = server
        .get(&dev.key, &format!("/v1/apps/{app_id}/recordings"))
        .await;
    assert_eq!(shared["data"], json!([]));
    let sharing = format!("/v1/installations/{id}/recordings-sharing");
    let (status, _) = server
        .call(&tenant.key, Method::PUT, &sharing, Some(json!({ "share": true })))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(server.get(&dev.key, &path).await.0, StatusCode::OK);
    let (_, shared) = server
        .get(&dev.key, &format!("/v1/apps/{app_id}/recordings"))
        .await;
    assert_eq!(shared["data"].as_array().unwrap().len(), 1);

    // The pages: the tenant sees the recording and the sharing switch; the developer's portal
    // lists it while shared.
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();
    let (_, page) = admin.page(&format!("/installed/{id}")).await;
    assert!(
        page.contains("Recorded calls") && page.contains(&recording_id),
        "{page}"
    );
    assert!(page.contains("Stop sharing them with the app"), "{page}");
    let developer = Browser::sign_in(&server, &dev.owner_email, &dev.password)
        .await
        .unwrap();
    let (_, portal) = developer.page(&format!("/developer/apps/{app_id}")).await;
    assert!(
        portal.contains(&format!("/v1/recordings/{recording_id}")),
        "{portal}"
    );
    let (status, _) = reviewer.send(Method::GET, &path, None, false).await;
    assert_eq!(status, StatusCode::OK);
    server
        .call(
            &tenant.key,
            Method::PUT,
            &sharing,
            Some(json!({ "share": false })),
        )
        .await;
    assert_eq!(server.get(&dev.key, &path).await.0, StatusCode::NOT_FOUND);

    // The partner replays it: the recorded build fails the same way with the same fuel; the
    // fixed build ends well.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recording.json");
    std::fs::write(&file, recording.to_string()).unwrap();
    let replay = |build: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_bazaar"))
            .args(["plugin", "replay"])
            .arg(&file)
            .arg("--component")
            .arg(component_path(build))
            .output()
            .unwrap()
    };
    let same = replay("test-plugin-replay-buggy");
    let said = String::from_utf8_lossy(&same.stdout);
    assert_eq!(
        same.status.code(),
        Some(1),
        "{said}{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert!(
        said.contains("component: the one recorded"),
        "{said}{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert!(
        said.contains("replayed:  trap") && said.contains("(the same fuel)"),
        "{said}"
    );
    assert!(said.contains("diverged:  no"), "{said}");
    let fixed = replay("test-plugin-replay-fixed");
    let said = String::from_utf8_lossy(&fixed.stdout);
    assert!(
        fixed.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&fixed.stderr)
    );
    assert!(
        said.contains("replayed:  ok") && said.contains("nothing to sync"),
        "{said}"
    );
}

/// The "Invocations" section of a page.
fn invocations_of(page: &str) -> &str {
    let after = page.split("id=\"invocations\"").nth(1).unwrap_or_default();
    after.split("</section>").next().unwrap_or_default()
}

/// Polls the journal at `path` until `check` holds (rows are written in batches).
async fn wait_invocations(
    server: &TestServer,
    key: &str,
    path: &str,
    check: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let started = std::time::Instant::now();
    loop {
        let (status, body) = server.get(key, path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let list = body["data"].as_array().unwrap().clone();
        if check(&list) {
            return list;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the journal never matched at {path}: {list:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

crate::on_both_databases!(every_call_is_journaled_with_its_log_lines_shown_to_the_developer_only_when_shared);

async fn every_call_is_journaled_with_its_log_lines_shown_to_the_developer_only_when_shared(
    backend: Backend,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let vendor = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/items",
        axum::routing::get(|| async { axum::Json(json!({ "items": [] })) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let server = TestServer::start_with(backend, fast_config(&[0.2])).await;
    let dev = server.org("Sync Makers").await;
    let tenant = server.org("Acme").await;
    let stranger = server.org("Globex").await;
    let reviewer = server.reviewer().await;
    let (_, submitted) = server
        .publish_draft(
            &dev.key,
            &manifest(),
            "1.0.0",
            &component("test-plugin-replay-fixed"),
            None,
        )
        .await;
    let app_id = submitted["app_id"].as_str().unwrap().to_owned();
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let (status, installed) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "item-sync", "scopes": ["tasks:read", "storage", "network"],
                    "config": { "api_token": TOKEN, "vendor": vendor } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    let id = installed["id"].as_str().unwrap().to_owned();
    let project = server.project(&tenant.key, "Web").await;
    server.task(&tenant.key, &project, "Sync now").await;
    server.task(&tenant.key, &project, "Sync again").await;

    // The tenant sees both successful calls, whole: timings, fuel, memory, the plugin's log.
    let mine = format!("/v1/invocations?installation_id={id}");
    let calls = wait_invocations(&server, &tenant.key, &mine, |l| l.len() == 2).await;
    for call in &calls {
        assert_eq!(call["outcome"], "ok", "{call}");
        assert_eq!(call["call"], "on-event task.created");
        assert!(call["fuel_used"].as_i64().unwrap() > 0, "{call}");
        assert!(call["memory_peak_bytes"].as_i64().unwrap() > 0, "{call}");
        assert!(call["duration_us"].as_i64().unwrap() > 0, "{call}");
        let log = call["log"].as_array().unwrap();
        assert!(
            log.iter()
                .any(|l| l.as_str().unwrap().contains("nothing to sync")),
            "{call}"
        );
        assert!(!call.to_string().contains(TOKEN), "no secret in the journal");
    }
    assert!(
        calls[0]["log"][0].as_str().unwrap().contains("run 2"),
        "newest first: {calls:?}"
    );
    // The newest successful call keeps its recording, to replay a call that ended well.
    let recording = calls[0]["recording_id"]
        .as_str()
        .expect("a recent call's recording");
    let (status, body) = server
        .get(&tenant.key, &format!("/v1/recordings/{recording}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["outcome"], "ok");

    // Filter by outcome, search by event id.
    let (_, failed) = server.get(&tenant.key, &format!("{mine}&outcome=failed")).await;
    assert_eq!(failed["data"], json!([]));
    let event_id = calls[1]["event_id"].as_str().unwrap();
    let (_, one) = server
        .get(&tenant.key, &format!("{mine}&event_id={event_id}"))
        .await;
    assert_eq!(one["data"].as_array().unwrap().len(), 1);
    assert_eq!(one["data"][0]["id"], calls[1]["id"]);
    let (_, theirs) = server.get(&stranger.key, &mine).await;
    assert_eq!(theirs["data"], json!([]), "another tenant sees none of them");

    // The developer: ids, classes and timings of every installation; log lines and recordings
    // only once the tenant shares.
    let of_app = format!("/v1/apps/{app_id}/invocations");
    let (status, hidden) = server.get(&dev.key, &of_app).await;
    assert_eq!(status, StatusCode::OK);
    let hidden = hidden["data"].as_array().unwrap();
    assert_eq!(hidden.len(), 2);
    assert_eq!(hidden[0]["outcome"], "ok");
    assert!(hidden[0]["duration_us"].as_i64().unwrap() > 0);
    assert_eq!(hidden[0]["log"], serde_json::Value::Null);
    assert_eq!(hidden[0]["recording_id"], serde_json::Value::Null);
    assert_eq!(server.get(&stranger.key, &of_app).await.0, StatusCode::NOT_FOUND);
    let developer = Browser::sign_in(&server, &dev.owner_email, &dev.password)
        .await
        .unwrap();
    let (_, portal) = developer.page(&format!("/developer/apps/{app_id}")).await;
    let section = invocations_of(&portal);
    assert!(
        section.contains("not shared") && !section.contains("nothing to sync"),
        "{section}"
    );
    server
        .call(
            &tenant.key,
            Method::PUT,
            &format!("/v1/installations/{id}/recordings-sharing"),
            Some(json!({ "share": true })),
        )
        .await;
    let (_, shared) = server.get(&dev.key, &of_app).await;
    assert!(
        shared["data"][0]["log"][0]
            .as_str()
            .unwrap()
            .contains("nothing to sync"),
        "{shared}"
    );
    let (_, portal) = developer
        .page(&format!("/developer/apps/{app_id}?event={event_id}"))
        .await;
    let section = invocations_of(&portal);
    assert!(
        section.contains("nothing to sync") && section.contains(&format!("<code>{event_id}</code>")),
        "{section}"
    );
    assert_eq!(
        section.matches("<tr>").count(),
        2,
        "the header and the one call: {section}"
    );

    // The tenant's page filters the same way.
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();
    let (_, page) = admin.page(&format!("/installed/{id}?outcome=failed")).await;
    let section = invocations_of(&page);
    assert!(section.contains("No call matches."), "{section}");
    let (_, page) = admin.page(&format!("/installed/{id}")).await;
    let section = invocations_of(&page);
    assert_eq!(section.matches("on-event task.created").count(), 2, "{section}");

    // Uninstalling forgets them.
    let (status, _) = server
        .call(
            &tenant.key,
            Method::DELETE,
            &format!("/v1/installations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, gone) = server.get(&tenant.key, &mine).await;
    assert_eq!(gone["data"], json!([]));
}
