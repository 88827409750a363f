//! Plugins written in TypeScript and Python go the way of Rust ones: built from source by
//! `bazaar plugin build`, uploaded, reviewed (compiled once, there), installed with consent,
//! and run by real delivery and by hooks inside requests.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::catalog::{approve, manifest};
use crate::delivery::{all_in, fast_config, install, wait_deliveries};
use crate::guests::component;
use crate::support::{Backend, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_and_python_plugins_are_reviewed_installed_and_delivered_to() {
    let server = TestServer::start_with(Backend::Sqlite, fast_config(&[0.2, 0.2])).await;
    let dev = server.org("Polyglot Apps").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    for slug in ["project-starter", "completion-digest", "title-policy"] {
        let (status, submitted) = server
            .publish_draft(&dev.key, &manifest(slug), "1.0.0", &component(slug), None)
            .await;
        assert_eq!(
            submitted["state"], "in_review",
            "{slug} passes the automated review: {status} {submitted}"
        );
        approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    }
    // A project from before the TypeScript plugin was installed: its card offers to start it.
    let old = server.project(&tenant.key, "Old project").await;
    let starter = install(
        &server,
        &tenant,
        "project-starter",
        &["projects:read", "tasks:write", "storage"],
    )
    .await;
    let digest = install(&server, &tenant, "completion-digest", &["tasks:read", "storage"]).await;
    install(&server, &tenant, "title-policy", &[]).await;

    // The TypeScript hook guards the request: a placeholder title is refused with its reason.
    let project = server.project(&tenant.key, "Launch").await;
    let (status, body) = server
        .post(
            &tenant.key,
            "/v1/tasks",
            json!({ "project_id": project, "title": "TODO: the launch plan" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Title policy: a task title should say what to do, not \"TODO\""
    );

    // The TypeScript plugin gives the new project its three starter tasks, through delivery.
    wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={starter}"),
        all_in("succeeded", 1),
    )
    .await;
    let (_, tasks) = server
        .get(&tenant.key, &format!("/v1/tasks?project_id={project}"))
        .await;
    let mut titles: Vec<&str> = tasks["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["labels"] == json!(["starter"]))
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "Invite the team",
            "Plan the first milestone",
            "Write the project brief"
        ]
    );

    // The TypeScript plugin's UI: its card lists the starter tasks, and its button starts the
    // project that came before it.
    let admin = crate::support::Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();
    let (_, page) = admin.page(&format!("/projects/{project}")).await;
    assert!(
        page.contains("<h3>Starter tasks</h3><ul><li>Write the project brief</li>"),
        "{page}"
    );
    let (_, page) = admin.page(&format!("/projects/{old}")).await;
    assert!(page.contains("Add the starter tasks"), "{page}");
    let (status, acted) = admin
        .send(
            reqwest::Method::POST,
            &format!("/v1/installations/{starter}/actions"),
            Some(json!({ "point": "project-card", "subject_id": old, "action": "start" })),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{acted}");
    assert_eq!(acted["notice"], "3 starter tasks added");
    assert!(
        acted["html"]
            .as_str()
            .unwrap()
            .contains("<li>Invite the team</li>"),
        "{acted}"
    );

    // The Python plugin keeps the project's digest of completed tasks.
    let first = tasks["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = server
        .post(&tenant.key, &format!("/v1/tasks/{first}/complete"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let delivered = wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={digest}"),
        all_in("succeeded", 1),
    )
    .await;
    let (_, delivery) = server
        .get(
            &tenant.key,
            &format!("/v1/deliveries/{}", delivered[0]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(delivery["attempt_log"][0]["outcome"], "ok", "{delivery}");
    let (value,): (Vec<u8>,) =
        bazaar::store::query_as("SELECT value FROM plugin_kv WHERE installation_id = $1 AND key = $2")
            .bind(&digest)
            .bind(format!("digest/{project}"))
            .fetch_one(server.store.reader())
            .await
            .unwrap();
    let kept: Value = serde_json::from_slice(&value).unwrap();
    assert_eq!(kept["total"], 1, "{kept}");
    assert_eq!(kept["recent"][0], tasks["data"][0]["title"], "{kept}");

    // And shows it on the project's page, in its Python-made card.
    let (_, page) = admin.page(&format!("/projects/{project}")).await;
    let card = page
        .split(&format!("id=\"ext-{digest}\""))
        .nth(1)
        .unwrap_or_default();
    assert!(card.contains("<dt>Completed</dt><dd>1</dd>"), "{page}");
    assert!(
        card.contains(&format!(
            "<li>{}</li>",
            tasks["data"][0]["title"].as_str().unwrap()
        )),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_docs_teach_every_language() {
    let server = TestServer::start(Backend::Sqlite).await;
    let dev = server.org("Polyglot Apps").await;
    let browser = crate::support::Browser::sign_in(&server, &dev.owner_email, &dev.password)
        .await
        .unwrap();
    let page = server
        .http
        .get(format!("{}/developer/docs", server.base))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    // The contract, per version: the newest first, with what it added.
    let newest = html
        .find("<h3>bazaar:platform@0.2.0 (newest)</h3>")
        .expect("0.2.0 is documented");
    let frozen = html
        .find("<h3>bazaar:platform@0.1.0</h3>")
        .expect("0.1.0 is documented");
    assert!(newest < frozen);
    let added = html[newest..frozen]
        .split_once("Adds ")
        .and_then(|(_, rest)| rest.split_once('.'))
        .map(|(list, _)| list)
        .expect("what 0.2.0 added");
    for name in [
        "connections",
        "triggers",
        "plugin-with-ui",
        "full-plugin",
        "ui",
        "extension",
    ] {
        assert!(
            added.contains(&format!("<code>{name}</code>")),
            "0.2.0 adds {name}: {added}"
        );
    }
    assert!(!added.contains("<code>kv</code>"), "{added}");
    for (anchor, example) in [
        ("sdk-rust", "export_plugin!"),
        ("sdk-typescript", "definePlugin"),
        ("sdk-python", "Handler, Hooks = export("),
    ] {
        assert!(html.contains(&format!("id=\"{anchor}\"")), "{anchor}");
        assert!(html.contains(example), "{example}");
    }
    assert!(html.contains("rust|ts|js|python"), "the languages are named");
}
