//! Apps' UI in Bazaar's pages, over real HTTP: the task page shows installed plugins' panels
//! (their strings escaped, a hostile one replaced by a placeholder while the page still renders),
//! a button runs the plugin's action with the installation's scopes through CSRF-checked /v1,
//! failures land in the app log, and the consent page says where the app appears.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::catalog::{approve, manifest};
use crate::delivery::{fast_config, install};
use crate::guests::component;
use crate::support::{Backend, Browser, TestServer};

const CHAOS_UI: &str = r#"
name = "Chaos panel"
slug = "chaos-panel"
description = "A task panel that misbehaves on purpose, as its render setting says."
category = "developer-tools"
ui = ["task-panel", "settings-page"]

[[config]]
key = "render"
label = "How to misbehave"
type = "text"
required = true

[limits]
fuel = 20000000

[pricing]
plan = "free"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_panels_render_act_and_fail_safely() {
    let server = TestServer::start_with(Backend::Sqlite, fast_config(&[0.2, 0.2])).await;
    let dev = server.org("Panel Makers").await;
    let tenant = server.org("Acme").await;
    let other = server.org("Globex").await;
    let reviewer = server.reviewer().await;
    for (manifest, bytes) in [
        (manifest("auto-labeller"), component("auto-labeller")),
        (CHAOS_UI.to_owned(), component("test-plugin-hostile")),
    ] {
        let (status, submitted) = server
            .publish_draft(&dev.key, &manifest, "1.0.0", &bytes, None)
            .await;
        assert_eq!(submitted["state"], "in_review", "{status} {submitted}");
        approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    }
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();

    // The consent page says where the app appears and which contract it is built for.
    let (status, consent) = admin.page("/marketplace/auto-labeller/install").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        consent.contains("Where it appears") && consent.contains("a panel on each task&#39;s page"),
        "{consent}"
    );
    assert!(consent.contains("bazaar:platform@0.2.0"), "{consent}");

    let labeller = install(&server, &tenant, "auto-labeller", &["tasks:read", "tasks:write"]).await;
    let (status, chaos) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "chaos-panel", "scopes": [], "config": { "render": "ui.loop" } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{chaos}");
    let chaos = chaos["id"].as_str().unwrap().to_owned();

    let project = server.project(&tenant.key, "Launch").await;
    let task = server.task(&tenant.key, &project, "Draft").await;
    let task = task["id"].as_str().unwrap().to_owned();
    // Renamed once the labeller's event handler has seen "Draft": its panel sees the new title.
    crate::delivery::wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={labeller}"),
        crate::delivery::all_in("succeeded", 1),
    )
    .await;
    let (status, _) = server
        .call(
            &tenant.key,
            Method::PATCH,
            &format!("/v1/tasks/{task}"),
            Some(json!({ "title": "<script>alert(1)</script> fix the crash" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The page renders: the labeller's panel with its button, the title escaped; the endless
    // render stopped and replaced by a placeholder.
    let started = std::time::Instant::now();
    let (status, html) = admin.page(&format!("/tasks/{task}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the hostile panel did not hold the page"
    );
    assert!(html.contains(&format!("id=\"ext-{labeller}\"")), "{html}");
    assert!(
        html.contains("<strong>&lt;script&gt;alert(1)&lt;/script&gt; fix the crash</strong>"),
        "{html}"
    );
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("Add the labels"), "{html}");
    let placeholder = html
        .split(&format!("id=\"ext-{chaos}\""))
        .nth(1)
        .unwrap_or_default();
    assert!(placeholder.contains("could not show its content"), "{html}");

    // The button, as the page's script sends it: CSRF required, then the plugin acts.
    let press = json!({ "point": "task-panel", "subject_id": task, "action": "apply" });
    let path = format!("/v1/installations/{labeller}/actions");
    let (status, _) = admin.send(Method::POST, &path, Some(press.clone()), false).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token, no action");
    let (status, acted) = admin.send(Method::POST, &path, Some(press.clone()), true).await;
    assert_eq!(status, StatusCode::OK, "{acted}");
    assert_eq!(acted["notice"], "Added: bug");
    assert!(
        acted["html"]
            .as_str()
            .unwrap()
            .contains("no label it does not have"),
        "{acted}"
    );
    let (_, after) = server.get(&tenant.key, &format!("/v1/tasks/{task}")).await;
    assert_eq!(after["labels"], json!(["bug"]));

    // An unknown action is the plugin's clear refusal; another organization cannot press it.
    let (status, refused) = admin
        .send(
            Method::POST,
            &path,
            Some(json!({ "point": "task-panel", "subject_id": task, "action": "nope" })),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        "Auto-labeller: unknown action `nope`"
    );
    let stranger = Browser::sign_in(&server, &other.owner_email, &other.password)
        .await
        .unwrap();
    let (status, _) = stranger.send(Method::POST, &path, Some(press), true).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another organization's task and installation stay hidden"
    );
    let (status, _) = stranger.page(&format!("/tasks/{task}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The tenant reads what happened in the invocations of the hostile panel.
    let (_, page) = admin.page(&format!("/installed/{chaos}")).await;
    let log = page.split("id=\"invocations\"").nth(1).unwrap_or_default();
    assert!(log.contains("render task-panel"), "{page}");
    assert!(
        log.contains(">fuel_exhausted</span>") || log.contains(">deadline</span>"),
        "{log}"
    );
    assert!(
        log.contains("rendering forever"),
        "its own log lines are kept: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_page_shows_the_stats_card_from_delivery() {
    let server = TestServer::start_with(Backend::Sqlite, fast_config(&[0.2, 0.2])).await;
    let dev = server.org("Stats Inc").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let (_, submitted) = server
        .publish_draft(
            &dev.key,
            &manifest("project-stats"),
            "1.0.0",
            &component("project-stats"),
            None,
        )
        .await;
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let stats = install(&server, &tenant, "project-stats", &["tasks:read", "storage"]).await;
    let project = server.project(&tenant.key, "Launch").await;
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();
    let (_, before) = admin.page(&format!("/projects/{project}")).await;
    assert!(before.contains("No task counted yet"), "{before}");
    server.task(&tenant.key, &project, "Write the plan").await;
    crate::delivery::wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={stats}"),
        crate::delivery::all_in("succeeded", 1),
    )
    .await;
    let (_, after) = admin.page(&format!("/projects/{project}")).await;
    assert!(after.contains("<dt>Created</dt><dd>1</dd>"), "{after}");
    assert!(after.contains("<dt>Still open</dt><dd>1</dd>"), "{after}");
}
