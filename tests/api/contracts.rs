//! Contract versions side by side: a plugin built against the frozen `bazaar:platform@0.1.0`
//! keeps running, unchanged, in the same server as plugins built against 0.2.0, through
//! delivery and through hooks inside requests.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::catalog::{approve, manifest};
use crate::delivery::{all_in, fast_config, install, wait_deliveries};
use crate::guests::{component, workspace};
use crate::support::{Backend, TestServer, code};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_built_against_0_1_0_runs_beside_0_2_0_plugins() {
    let server = TestServer::start_with(Backend::Sqlite, fast_config(&[0.2, 0.2])).await;
    let dev = server.org("Two Versions Ltd").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let classic_manifest =
        std::fs::read_to_string(workspace().join("tests/plugins/contract-0-1/bazaar.toml")).unwrap();
    let published = [
        (
            "classic-labeller",
            classic_manifest,
            component("test-plugin-contract-0-1"),
            "0.1.0",
        ),
        (
            "due-date-policy",
            manifest("due-date-policy"),
            component("due-date-policy"),
            "0.2.0",
        ),
        (
            "project-starter",
            manifest("project-starter"),
            component("project-starter"),
            "0.2.0",
        ),
    ];
    for (slug, manifest, bytes, contract) in &published {
        let (status, submitted) = server
            .publish_draft(&dev.key, manifest, "1.0.0", bytes, None)
            .await;
        assert_eq!(submitted["state"], "in_review", "{slug}: {status} {submitted}");
        let said = findings(&submitted, "contract");
        assert!(
            said.iter()
                .any(|m| m.starts_with(&format!("built against bazaar:platform@{contract}"))),
            "the review names the version {slug} targets: {said:?}"
        );
        approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    }
    let classic = install(
        &server,
        &tenant,
        "classic-labeller",
        &["tasks:read", "tasks:write"],
    )
    .await;
    install(&server, &tenant, "due-date-policy", &[]).await;
    let starter = install(
        &server,
        &tenant,
        "project-starter",
        &["projects:read", "tasks:write", "storage"],
    )
    .await;

    // Hooks of both versions guard the same request path.
    let project = server.project(&tenant.key, "Launch").await;
    let (status, body) = server
        .post(
            &tenant.key,
            "/v1/tasks",
            json!({ "project_id": project, "title": "keep the legacy-blocked flow" }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request")
    );
    assert_eq!(
        body["error"]["message"],
        "Classic labeller: titles may not say legacy-blocked"
    );
    let (status, body) = server
        .post(
            &tenant.key,
            "/v1/tasks",
            json!({ "project_id": project, "title": "Fix prod", "labels": ["urgent"] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["message"],
        "Due-date policy: urgent tasks need a due date"
    );

    // Delivery to both: the 0.2.0 plugin creates the starter tasks, and the 0.1.0 plugin labels
    // each new task, with the scopes it was granted.
    wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={starter}"),
        all_in("succeeded", 1),
    )
    .await;
    wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={classic}"),
        all_in("succeeded", 3),
    )
    .await;
    let (_, tasks) = server
        .get(&tenant.key, &format!("/v1/tasks?project_id={project}"))
        .await;
    let labels: Vec<&Value> = tasks["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["labels"])
        .collect();
    assert_eq!(labels.len(), 3, "{tasks}");
    for label in labels {
        assert_eq!(label, &json!(["starter", "classic"]), "{tasks}");
    }
}

/// The messages of the review findings of one check.
fn findings(version: &Value, check: &str) -> Vec<String> {
    version["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["check"] == check)
        .filter_map(|f| f["message"].as_str().map(str::to_owned))
        .collect()
}
