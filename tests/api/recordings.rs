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
        page.contains("Recorded failures") && page.contains(&recording_id),
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
