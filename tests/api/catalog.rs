//! The catalog end to end through HTTP: a developer publishes a plugin built from
//! `example-plugins`, the automated review and a reviewer pass it, a tenant admin finds it,
//! installs it with consent, upgrades with re-consent and uninstalls it; and the negative paths.

use std::sync::Arc;

use bazaar::installs;
use bazaar::runtime::{HostServices, Outcome, Runtime};
use bazaar::secrets::Secrets;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::guests::{component, workspace};
use crate::on_both_databases;
use crate::support::{Backend, Browser, TestServer, code};

on_both_databases!(
    a_plugin_goes_from_upload_to_uninstall,
    the_review_and_the_catalog_refuse_what_they_must,
    secret_settings_are_sealed_and_never_returned,
    the_catalog_sorts_by_installs_rating_and_newest,
    installed_hooks_guard_task_changes,
    the_catalog_search_is_full_text
);

pub(crate) fn manifest(example: &str) -> String {
    std::fs::read_to_string(
        workspace()
            .join("example-plugins")
            .join(example)
            .join("bazaar.toml"),
    )
    .unwrap()
}

/// A reviewer approves a version.
pub(crate) async fn approve(reviewer: &Browser, version_id: &str) -> Value {
    let path = format!("/v1/review/versions/{version_id}/approve");
    let (status, body) = reviewer.send(Method::POST, &path, Some(json!({})), true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

impl TestServer {
    /// Creates the app, adds a version with a component, submits it; returns (app, version).
    pub(crate) async fn publish_draft(
        &self,
        key: &str,
        manifest: &str,
        version: &str,
        wasm: &[u8],
        app_id: Option<&str>,
    ) -> (String, Value) {
        let app_id = match app_id {
            Some(id) => id.to_owned(),
            None => {
                let (status, app) = self
                    .post(key, "/v1/apps", json!({ "kind": "plugin", "manifest": manifest }))
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{app}");
                app["id"].as_str().unwrap().to_owned()
            }
        };
        let body =
            json!({ "version": version, "manifest": manifest, "changelog": format!("Release {version}") });
        let (status, draft) = self.post(key, &format!("/v1/apps/{app_id}/versions"), body).await;
        assert_eq!(status, StatusCode::CREATED, "{draft}");
        let version_id = draft["id"].as_str().unwrap();
        let res = self
            .http
            .put(format!(
                "{}/v1/apps/{app_id}/versions/{version_id}/component",
                self.base
            ))
            .bearer_auth(key)
            .header("content-type", "application/wasm")
            .body(wasm.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
        let (status, submitted) = self
            .post(
                key,
                &format!("/v1/apps/{app_id}/versions/{version_id}/submit"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{submitted}");
        (app_id, submitted)
    }

    /// A platform reviewer, signed in.
    pub(crate) async fn reviewer(&self) -> Browser {
        let org = self.org("Bazaar staff").await;
        bazaar::platform::orgs::make_reviewer(&self.store, &org.owner_email)
            .await
            .unwrap();
        Browser::sign_in(self, &org.owner_email, &org.password)
            .await
            .unwrap()
    }
}

async fn a_plugin_goes_from_upload_to_uninstall(backend: Backend) {
    let server = TestServer::start(backend).await;
    let dev = server.org("Stats Inc").await;
    let tenant = server.org("Acme").await;
    let other = server.org("Nosy Corp").await;
    let reviewer = server.reviewer().await;
    let stats = component("project-stats");

    // The developer publishes; the automated review passes it to the queue.
    let (app_id, submitted) = server
        .publish_draft(&dev.key, &manifest("project-stats"), "1.0.0", &stats, None)
        .await;
    assert_eq!(submitted["state"], "in_review", "{submitted}");
    let findings = submitted["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["severity"] != "error"), "{findings:?}");
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == "smoke-run" && f["message"].as_str().unwrap().contains("successfully")),
        "{findings:?}"
    );
    let version_id = submitted["id"].as_str().unwrap().to_owned();

    // Not in the catalog before approval; a tenant's all-scope key cannot approve, and neither
    // can a key its admin mints: tenants never hold `apps:review`.
    let (_, cards) = server.get(&tenant.key, "/v1/catalog?q=statistics").await;
    assert_eq!(cards["data"], json!([]));
    let (status, body) = server
        .post(
            &dev.key,
            &format!("/v1/review/versions/{version_id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );

    let (status, queue) = reviewer.send(Method::GET, "/v1/review/queue", None, false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(queue["data"][0]["version"]["id"], json!(version_id));
    let (status, approved) = reviewer
        .send(
            Method::POST,
            &format!("/v1/review/versions/{version_id}/approve"),
            Some(json!({ "note": "Looks good" })),
            true,
        )
        .await;
    assert_eq!(
        (status, approved["state"].as_str()),
        (StatusCode::OK, Some("published")),
        "{approved}"
    );

    // The tenant admin finds it by search and reads its permissions in plain words.
    let (_, cards) = server
        .get(&tenant.key, "/v1/catalog?q=task%20counts&category=analytics")
        .await;
    assert_eq!(cards["data"][0]["slug"], "project-stats", "{cards}");
    assert_eq!(cards["data"][0]["installed"], false);
    let (_, page) = server.get(&tenant.key, "/v1/catalog/project-stats").await;
    let storage = page["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["scope"] == "storage")
        .unwrap()
        .clone();
    assert!(storage["purpose"].as_str().unwrap().contains("counts"));
    assert!(storage["means"].as_str().unwrap().contains("key-value store"));

    // Consent must be exactly what the app asks for.
    let (status, body) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "project-stats", "scopes": ["storage"] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("tasks:read"));
    let consent = json!({ "app": "project-stats", "scopes": ["storage", "tasks:read"] });
    let (status, installation) = server
        .post(&tenant.key, "/v1/installations", consent.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installation}");
    let installation_id = installation["id"].as_str().unwrap().to_owned();
    assert_eq!(installation["version"], "1.0.0");
    let (status, _) = server.post(&tenant.key, "/v1/installations", consent).await;
    assert_eq!(status, StatusCode::CONFLICT, "installed once");
    let (_, cards) = server.get(&tenant.key, "/v1/catalog?q=statistics").await;
    assert_eq!(
        (
            cards["data"][0]["installed"].as_bool(),
            cards["data"][0]["install_count"].as_i64()
        ),
        (Some(true), Some(1))
    );

    // The plugin runs as this installation and keeps data in its storage.
    let runtime = Runtime::new(
        HostServices {
            store: server.store.clone(),
            files_root: server.data_dir().join("plugin-files"),
            allow_private_network: false,
            secrets: std::sync::Arc::new(bazaar::secrets::Secrets::load(None, &server.data_dir()).unwrap()),
            issuer: "http://127.0.0.1".into(),
            journal: None,
        },
        None,
    )
    .unwrap();
    let secrets = Secrets::load(None, &server.data_dir()).unwrap();
    let runnable = installs::load_for_run(&server.store, &secrets, &installation_id)
        .await
        .unwrap();
    let prepared = runtime.prepare(&stats).unwrap();
    let event = bazaar::runtime::Event {
        id: "evt_1".into(),
        kind: "task.created".into(),
        org_id: tenant.id.clone(),
        subject_id: "tsk_1".into(),
        occurred_at: String::new(),
        payload: json!({ "project_id": "prj_x" }).to_string(),
    };
    let report = runtime
        .on_event(&prepared, Arc::new(runnable.installation), runnable.limits, event)
        .await;
    assert_eq!(report.outcome, Outcome::Ok, "{}", report.message);
    let kv_rows = |store: bazaar::store::Store, id: String| async move {
        let (n,): (i64,) =
            bazaar::store::query_as("SELECT COUNT(*) FROM plugin_kv WHERE installation_id = $1")
                .bind(id)
                .fetch_one(store.reader())
                .await
                .unwrap();
        n
    };
    assert_eq!(kv_rows(server.store.clone(), installation_id.clone()).await, 1);

    // Another organization can neither see nor change the installation.
    for (method, path) in [
        (Method::GET, format!("/v1/installations/{installation_id}")),
        (Method::POST, format!("/v1/installations/{installation_id}/pause")),
        (Method::DELETE, format!("/v1/installations/{installation_id}")),
    ] {
        let (status, _) = server.call(&other.key, method.clone(), &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let (_, theirs) = server.get(&other.key, "/v1/installations").await;
    assert_eq!(theirs["data"], json!([]));

    let upgrade_path = format!("/v1/installations/{installation_id}/upgrade");

    // Version 1.1.0 asks for one more scope: the upgrade waits for consent, 1.0.0 keeps running.
    let more = manifest("project-stats").replace(
        "[pricing]",
        "[[scopes]]\nname = \"projects:read\"\npurpose = \"Show the project's name next to its counts.\"\n\n[pricing]",
    );
    let (_, v2) = server
        .publish_draft(&dev.key, &more, "1.1.0", &stats, Some(&app_id))
        .await;
    let v2_id = v2["id"].as_str().unwrap();
    approve(&reviewer, v2_id).await;
    let (status, pending) = server.post(&tenant.key, &upgrade_path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    assert_eq!(pending["version"], "1.0.0");
    assert_eq!(pending["pending_upgrade"]["new_scopes"], json!(["projects:read"]));
    let scopes = json!({ "scopes": ["storage", "tasks:read", "projects:read"] });
    let (status, upgraded) = server.post(&tenant.key, &upgrade_path, scopes).await;
    assert_eq!(status, StatusCode::OK, "{upgraded}");
    assert_eq!(
        (upgraded["version"].as_str(), &upgraded["pending_upgrade"]),
        (Some("1.1.0"), &Value::Null)
    );
    assert_eq!(
        upgraded["granted_scopes"],
        json!(["projects:read", "tasks:read", "storage"])
    );

    // 1.2.0 asks for nothing new: the upgrade applies in one step.
    let (_, v3) = server
        .publish_draft(&dev.key, &more, "1.2.0", &stats, Some(&app_id))
        .await;
    let v3_id = v3["id"].as_str().unwrap();
    approve(&reviewer, v3_id).await;
    let (status, upgraded) = server.post(&tenant.key, &upgrade_path, json!({})).await;
    assert_eq!(
        (status, upgraded["version"].as_str()),
        (StatusCode::OK, Some("1.2.0")),
        "{upgraded}"
    );
    let (_, page) = server.get(&tenant.key, "/v1/catalog/project-stats").await;
    let versions: Vec<&str> = page["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.2.0", "1.1.0", "1.0.0"]);

    // Rating, pausing, then uninstalling: the data is gone and the events say what happened.
    let (status, _) = server
        .post(
            &tenant.key,
            "/v1/catalog/project-stats/ratings",
            json!({ "stars": 4, "review": "Handy" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server
        .post(
            &other.key,
            "/v1/catalog/project-stats/ratings",
            json!({ "stars": 1 }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "only installers rate");
    let (_, card) = server.get(&tenant.key, "/v1/catalog/project-stats").await;
    assert_eq!(
        (card["rating"].as_f64(), card["rating_count"].as_i64()),
        (Some(4.0), Some(1))
    );
    server
        .post(
            &tenant.key,
            &format!("/v1/installations/{installation_id}/pause"),
            json!({}),
        )
        .await;
    assert!(
        installs::load_for_run(&server.store, &secrets, &installation_id)
            .await
            .is_err(),
        "a paused installation does not run"
    );
    let (status, _) = server
        .call(
            &tenant.key,
            Method::DELETE,
            &format!("/v1/installations/{installation_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        kv_rows(server.store.clone(), installation_id.clone()).await,
        0,
        "the plugin's data is gone"
    );
    let (status, _) = server
        .get(&tenant.key, &format!("/v1/installations/{installation_id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let kinds: Vec<String> = server
        .event_kinds(&tenant.key)
        .await
        .into_iter()
        .filter(|k| k.starts_with("app."))
        .collect();
    assert_eq!(
        kinds,
        [
            "app.installed",
            "app.upgraded",
            "app.upgraded",
            "app.paused",
            "app.uninstalled"
        ]
    );
    let (_, card) = server.get(&tenant.key, "/v1/catalog/project-stats").await;
    assert_eq!(card["install_count"], 0);
}

async fn the_review_and_the_catalog_refuse_what_they_must(backend: Backend) {
    let server = TestServer::start(backend).await;
    let dev = server.org("Sneaky Apps").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;

    // A manifest with problems is refused field by field.
    let bad = manifest("project-stats").replace("category = \"analytics\"", "category = \"chat\"");
    let (status, body) = server
        .post(&dev.key, "/v1/apps", json!({ "kind": "plugin", "manifest": bad }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("category"),
        "{body}"
    );

    // A component that imports a capability its manifest does not declare is rejected, with why.
    let without_storage = manifest("project-stats")
        .replace("[[scopes]]\nname = \"storage\"\npurpose = \"Keep the counts of each project in the app's own storage.\"\n", "");
    assert!(
        !without_storage.contains("\"storage\""),
        "the test manifest drops storage"
    );
    let (_, rejected) = server
        .publish_draft(
            &dev.key,
            &without_storage,
            "1.0.0",
            &component("project-stats"),
            None,
        )
        .await;
    assert_eq!(rejected["state"], "rejected", "{rejected}");
    let reasons = rejected["findings"].to_string();
    assert!(
        reasons.contains("bazaar:platform/kv") && reasons.contains("`storage`"),
        "{reasons}"
    );
    let (_, queue) = reviewer.send(Method::GET, "/v1/review/queue", None, false).await;
    assert_eq!(
        queue["data"],
        json!([]),
        "a rejected version never reaches the queue"
    );

    // A hostile component (sockets) is rejected too.
    let hostile = manifest("due-date-policy").replace("due-date-policy", "socket-app");
    let (_, rejected) = server
        .publish_draft(
            &dev.key,
            &hostile,
            "1.0.0",
            &component("test-plugin-sockets"),
            None,
        )
        .await;
    assert_eq!(rejected["state"], "rejected");
    assert!(rejected["findings"].to_string().contains("wasi:sockets"));

    // A reviewer may mint a key that reviews (for tooling); a tenant admin may not.
    let body = json!({ "name": "review bot", "scopes": ["apps:review"] });
    let (status, bot) = reviewer
        .send(Method::POST, "/v1/api-keys", Some(body.clone()), true)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bot}");
    let bot = bot["secret"].as_str().unwrap().to_owned();
    let (status, _) = server.post(&tenant.key, "/v1/api-keys", body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "tenants never hold apps:review");

    // Published, then suspended: it leaves the catalog and cannot be installed, and what is
    // installed stops running.
    let (_, ok) = server
        .publish_draft(
            &dev.key,
            &manifest("due-date-policy"),
            "1.0.0",
            &component("due-date-policy"),
            None,
        )
        .await;
    let version_id = ok["id"].as_str().unwrap();
    let (status, _) = reviewer
        .send(
            Method::POST,
            &format!("/v1/review/versions/{version_id}/reject"),
            Some(json!({ "note": "" })),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a rejection says why");
    let (status, approved) = server
        .post(
            &bot,
            &format!("/v1/review/versions/{version_id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, approved["state"].as_str()),
        (StatusCode::OK, Some("published")),
        "{approved}"
    );
    let (status, installation) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "due-date-policy", "scopes": [] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installation}");
    let app_id = ok["app_id"].as_str().unwrap();
    let (status, app) = reviewer
        .send(
            Method::POST,
            &format!("/v1/review/apps/{app_id}/suspend"),
            Some(json!({ "reason": "Misbehaves in production" })),
            true,
        )
        .await;
    assert_eq!(
        (status, app["status"].as_str()),
        (StatusCode::OK, Some("suspended"))
    );
    let (_, cards) = server.get(&tenant.key, "/v1/catalog").await;
    assert!(
        !cards.to_string().contains("due-date-policy"),
        "suspended apps leave the catalog"
    );
    let (status, body) = server
        .post(
            &dev.key,
            "/v1/installations",
            json!({ "app": "due-date-policy", "scopes": [] }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let secrets = Secrets::load(None, &server.data_dir()).unwrap();
    let refused = installs::load_for_run(&server.store, &secrets, installation["id"].as_str().unwrap())
        .await
        .err()
        .unwrap();
    assert!(refused.to_string().contains("suspended"), "{refused}");
    let (_, versions) = server.get(&dev.key, &format!("/v1/apps/{app_id}/versions")).await;
    assert_eq!(versions["data"][0]["state"], "suspended");
    reviewer
        .send(
            Method::POST,
            &format!("/v1/review/apps/{app_id}/reinstate"),
            None,
            true,
        )
        .await;
    assert!(
        installs::load_for_run(&server.store, &secrets, installation["id"].as_str().unwrap())
            .await
            .is_ok()
    );

    // An external app has no component: its review checks the manifest, redirect URIs included.
    let external = r#"{"name": "Zap Bridge", "slug": "zap-bridge", "description": "Connects your tasks to other tools.",
        "category": "automation", "pricing": {"plan": "free"}, "redirect_uris": ["https://zap.example.com/callback"],
        "scopes": [{"name": "tasks:read", "purpose": "Send new tasks to your other tools."}], "events": ["task.created"]}"#;
    let (status, app) = server
        .post(
            &dev.key,
            "/v1/apps",
            json!({ "kind": "external", "manifest": external }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    let app_id = app["id"].as_str().unwrap();
    let body = json!({ "version": "1.0.0", "manifest": serde_json::from_str::<Value>(external).unwrap() });
    let (_, draft) = server
        .post(&dev.key, &format!("/v1/apps/{app_id}/versions"), body)
        .await;
    let draft_id = draft["id"].as_str().unwrap();
    let res = server
        .http
        .put(format!(
            "{}/v1/apps/{app_id}/versions/{draft_id}/component",
            server.base
        ))
        .bearer_auth(&dev.key)
        .body(component("project-stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "an external app has no component"
    );
    let (_, submitted) = server
        .post(
            &dev.key,
            &format!("/v1/apps/{app_id}/versions/{draft_id}/submit"),
            json!({}),
        )
        .await;
    assert_eq!(submitted["state"], "in_review", "{submitted}");
    let insecure = external
        .replace("https://zap.example.com", "http://zap.example.com")
        .replace("zap-bridge", "zap-insecure");
    let (status, body) = server
        .post(
            &dev.key,
            "/v1/apps",
            json!({ "kind": "external", "manifest": insecure }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("redirect_uris[0]"),
        "{body}"
    );
    // Each problem also comes with its field, for editors to show beside it.
    assert_eq!(body["error"]["fields"][0]["field"], "redirect_uris[0]", "{body}");
}

async fn secret_settings_are_sealed_and_never_returned(backend: Backend) {
    let server = TestServer::start(backend).await;
    let dev = server.org("Chat Apps").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let (_, submitted) = server
        .publish_draft(
            &dev.key,
            &manifest("slack-notifier"),
            "1.0.0",
            &component("slack-notifier"),
            None,
        )
        .await;
    assert_eq!(submitted["state"], "in_review", "{submitted}");
    let version_id = submitted["id"].as_str().unwrap();
    approve(&reviewer, version_id).await;

    let secret = "https://hooks.slack.com/services/T000/B000/very-secret-token";
    let install = |config: Value| json!({ "app": "slack-notifier", "scopes": ["tasks:read", "network"], "config": config });
    let (status, body) = server
        .post(&tenant.key, "/v1/installations", install(json!({})))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a required field is required"
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("webhook_url"));
    let (status, body) = server
        .post(
            &tenant.key,
            "/v1/installations",
            install(json!({ "webhook_url": secret, "colour": "red" })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown settings are refused: {body}"
    );
    let (status, installation) = server
        .post(
            &tenant.key,
            "/v1/installations",
            install(json!({ "webhook_url": secret })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installation}");
    assert_eq!(
        installation["config"]["webhook_url"],
        json!({ "secret": true, "set": true })
    );
    let id = installation["id"].as_str().unwrap();

    // Not in any response, not in the database in clear, and the plugin gets the real value.
    let (_, listed) = server.get(&tenant.key, "/v1/installations").await;
    let (_, events) = server.get(&tenant.key, "/v1/events").await;
    assert!(
        !listed.to_string().contains("very-secret-token")
            && !events.to_string().contains("very-secret-token")
    );
    let (stored,): (String,) = bazaar::store::query_as("SELECT config FROM installations WHERE id = $1")
        .bind(id)
        .fetch_one(server.store.reader())
        .await
        .unwrap();
    assert!(
        !stored.contains("very-secret-token") && stored.contains("sealed:v1:"),
        "{stored}"
    );
    let secrets = Secrets::load(None, &server.data_dir()).unwrap();
    let runnable = installs::load_for_run(&server.store, &secrets, id).await.unwrap();
    assert_eq!(runnable.installation.config["webhook_url"], secret);
    assert_eq!(runnable.installation.allowed_hosts, ["hooks.slack.com"]);

    // Updating other settings keeps the secret; a new value replaces it.
    let (status, _) = server
        .call(
            &tenant.key,
            Method::PATCH,
            &format!("/v1/installations/{id}/config"),
            Some(json!({ "config": {} })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let runnable = installs::load_for_run(&server.store, &secrets, id).await.unwrap();
    assert_eq!(runnable.installation.config["webhook_url"], secret);
}

async fn the_catalog_sorts_by_installs_rating_and_newest(backend: Backend) {
    let server = TestServer::start(backend).await;
    let dev = server.org("Maker").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    for example in ["project-stats", "due-date-policy"] {
        let (_, submitted) = server
            .publish_draft(&dev.key, &manifest(example), "1.0.0", &component(example), None)
            .await;
        let id = submitted["id"].as_str().unwrap();
        approve(&reviewer, id).await;
    }
    let order = |cards: Value| -> Vec<String> {
        cards["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, newest) = server.get(&tenant.key, "/v1/catalog?sort=newest").await;
    assert_eq!(order(newest), ["due-date-policy", "project-stats"]);
    server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "project-stats", "scopes": ["storage", "tasks:read"] }),
        )
        .await;
    let (_, popular) = server.get(&tenant.key, "/v1/catalog?sort=installs").await;
    assert_eq!(order(popular), ["project-stats", "due-date-policy"]);
    server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "due-date-policy", "scopes": [] }),
        )
        .await;
    server
        .post(
            &tenant.key,
            "/v1/catalog/due-date-policy/ratings",
            json!({ "stars": 5 }),
        )
        .await;
    server
        .post(
            &tenant.key,
            "/v1/catalog/project-stats/ratings",
            json!({ "stars": 2 }),
        )
        .await;
    let (_, rated) = server.get(&tenant.key, "/v1/catalog?sort=rating").await;
    assert_eq!(order(rated), ["due-date-policy", "project-stats"]);
    let (_, plugins) = server.get(&tenant.key, "/v1/catalog?kind=external").await;
    assert_eq!(plugins["data"], json!([]));
    let (status, _) = server.get(&tenant.key, "/v1/catalog?sort=random").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn installed_hooks_guard_task_changes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let dev = server.org("Policy Apps").await;
    let tenant = server.org("Acme").await;
    let other = server.org("Elsewhere").await;
    let reviewer = server.reviewer().await;
    let policy = component("due-date-policy");
    let (_, submitted) = server
        .publish_draft(&dev.key, &manifest("due-date-policy"), "1.0.0", &policy, None)
        .await;
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let (_, installation) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "due-date-policy", "scopes": [] }),
        )
        .await;
    let installation_id = installation["id"].as_str().unwrap();

    let project = server.project(&tenant.key, "Launch").await;
    let urgent = json!({ "project_id": project, "title": "Fix prod", "labels": ["urgent"] });
    let (status, body) = server.post(&tenant.key, "/v1/tasks", urgent.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        "{body}"
    );
    assert_eq!(
        body["error"]["message"],
        "Due-date policy: urgent tasks need a due date"
    );
    let (_, tasks) = server.get(&tenant.key, "/v1/tasks").await;
    assert_eq!(tasks["data"], json!([]), "the refused task was not saved");

    let mut dated = urgent.clone();
    dated["due_date"] = json!("2026-12-31");
    let (status, task) = server.post(&tenant.key, "/v1/tasks", dated).await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let path = format!("/v1/tasks/{}", task["id"].as_str().unwrap());
    let (status, body) = server
        .call(
            &tenant.key,
            Method::PATCH,
            &path,
            Some(json!({ "due_date": null })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the hook sees the task after the change: {body}"
    );

    // Only the installing organization is guarded, and only while the installation is active.
    let theirs = server.project(&other.key, "Theirs").await;
    let (status, _) = server
        .post(
            &other.key,
            "/v1/tasks",
            json!({ "project_id": theirs, "title": "x", "labels": ["urgent"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    server
        .post(
            &tenant.key,
            &format!("/v1/installations/{installation_id}/pause"),
            json!({}),
        )
        .await;
    let (status, _) = server.post(&tenant.key, "/v1/tasks", urgent).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a paused installation's hook does not run"
    );
}

async fn the_catalog_search_is_full_text(backend: Backend) {
    let server = TestServer::start(backend).await;
    let dev = server.org("Plugins Inc").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    for name in ["project-stats", "slack-notifier", "auto-labeller"] {
        let (_, submitted) = server
            .publish_draft(&dev.key, &manifest(name), "1.0.0", &component(name), None)
            .await;
        approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    }
    let slugs = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    // Stemming: "counting" finds "Counts"; a prefix finds the word.
    let (_, found) = server.get(&tenant.key, "/v1/catalog?q=counting").await;
    assert_eq!(slugs(&found), vec!["project-stats"]);
    let (_, found) = server.get(&tenant.key, "/v1/catalog?q=slac").await;
    assert_eq!(slugs(&found), vec!["slack-notifier"]);
    // Every word must match.
    let (_, found) = server.get(&tenant.key, "/v1/catalog?q=tasks%20slack").await;
    assert_eq!(slugs(&found), vec!["slack-notifier"]);
    // Relevance: a word in the name outranks one deep in a description.
    let (_, found) = server.get(&tenant.key, "/v1/catalog?q=tasks").await;
    assert_eq!(found["data"].as_array().unwrap().len(), 3, "{found}");
    let (_, found) = server.get(&tenant.key, "/v1/catalog?q=labeller").await;
    assert_eq!(slugs(&found)[0], "auto-labeller");
    // Search syntax in the input is just text.
    for hostile in [
        "%22%29%20OR%201%3D1",
        "NEAR(a%20b)",
        "*",
        "%27%3B%20DROP%20TABLE%20apps",
    ] {
        let (status, found) = server.get(&tenant.key, &format!("/v1/catalog?q={hostile}")).await;
        assert_eq!(status, StatusCode::OK, "{hostile}: {found}");
    }
    let (status, _) = server
        .get(&tenant.key, "/v1/catalog?sort=relevance&q=project")
        .await;
    assert_eq!(status, StatusCode::OK);
}
