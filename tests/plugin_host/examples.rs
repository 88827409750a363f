//! The native integrations, each run on real data in the sandbox.

use std::sync::{Arc, Mutex};

use bazaar::platform::{projects, tasks};
use bazaar::runtime::{Limits, Outcome};
use serde_json::{Value, json};

use crate::support::{component, error_kind, on_event, run, sandbox, sandbox_with};
use bazaar::sandbox::{Sandbox, SandboxRun};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_labeller_labels_new_tasks_through_the_api_rules() {
    let sandbox = sandbox().await;
    let project = projects::create(&sandbox.store, &sandbox.org_id, "Web", "")
        .await
        .unwrap();
    let new = tasks::NewTask {
        project_id: project.id.clone(),
        title: "Fix the login crash ASAP".into(),
        ..Default::default()
    };
    let task = tasks::create(&sandbox.store, &sandbox.org_id, new).await.unwrap();
    let mut grants = run("tasks:read tasks:write");
    grants
        .config
        .insert("rules".into(), r#"{"login": "auth"}"#.into());
    let report = on_event(
        &sandbox,
        "auto-labeller",
        &grants,
        "task.created",
        &task.id,
        json!({}),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Ok, "{}", report.message);
    let labelled = tasks::get(&sandbox.store, &sandbox.org_id, &task.id)
        .await
        .unwrap();
    assert_eq!(labelled.labels, ["bug", "urgent", "auth"]);
    assert!(report.log.iter().any(|l| l.message.contains("labelled")));

    // Without tasks:write the component is refused, and the task is untouched.
    let report = on_event(
        &sandbox,
        "auto-labeller",
        &run("tasks:read"),
        "task.created",
        &task.id,
        json!({}),
    )
    .await;
    assert!(matches!(report.outcome, Outcome::Refused { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_stats_counts_each_event_once() {
    let sandbox = sandbox().await;
    let grants = run("storage");
    let payload = json!({ "project_id": "prj_stats" });
    for kind in ["task.created", "task.created", "task.completed"] {
        let report = on_event(&sandbox, "project-stats", &grants, kind, "t", payload.clone()).await;
        assert_eq!(report.outcome, Outcome::Ok, "{}", report.message);
    }
    // A retried delivery carries the same event id and is not counted twice.
    let event = sandbox.event(bazaar::sandbox::EventFile {
        kind: "task.created".into(),
        id: Some("evt_retried".into()),
        subject_id: None,
        payload: payload.clone(),
    });
    for _ in 0..2 {
        sandbox
            .run_event(&component("project-stats"), &grants, event.clone())
            .await
            .unwrap();
    }
    let (value,): (Vec<u8>,) = bazaar::store::query_as(
        "SELECT value FROM plugin_kv WHERE installation_id = 'ins_sandbox' AND key = 'stats/prj_stats'",
    )
    .fetch_one(sandbox.store.reader())
    .await
    .unwrap();
    let stats: Value = serde_json::from_slice(&value).unwrap();
    assert_eq!(
        (stats["created"].as_u64(), stats["completed"].as_u64()),
        (Some(3), Some(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_date_policy_rejects_urgent_tasks_without_a_date() {
    let sandbox = sandbox().await;
    let prepared = sandbox.runtime.prepare(&component("due-date-policy")).unwrap();
    let installation = sandbox.installation(&run(""));
    let task = crate::support::task;
    let verdict = |t| {
        sandbox
            .runtime
            .validate_task(&prepared, installation.clone(), Limits::HOOK, t)
    };
    let report = verdict(task(&["urgent"], None)).await;
    assert_eq!(
        report.outcome,
        Outcome::PluginError {
            kind: "invalid".into(),
            message: "urgent tasks need a due date".into()
        }
    );
    assert_eq!(
        verdict(task(&["urgent"], Some("2026-12-31"))).await.outcome,
        Outcome::Ok
    );
    assert_eq!(verdict(task(&[], None)).await.outcome, Outcome::Ok);
    let report = verdict(task(&[], Some("2026-13-45"))).await;
    assert!(matches!(report.outcome, Outcome::PluginError { ref kind, .. } if kind == "invalid"));
    assert!(
        report.fuel_used < Limits::HOOK.fuel / 10,
        "a hook is cheap: {} fuel",
        report.fuel_used
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_export_writes_the_archived_project_to_its_folder() {
    let sandbox = sandbox().await;
    let project = projects::create(&sandbox.store, &sandbox.org_id, "Old site", "retired")
        .await
        .unwrap();
    for title in ["Move DNS", "Say goodbye"] {
        let new = tasks::NewTask {
            project_id: project.id.clone(),
            title: title.into(),
            ..Default::default()
        };
        tasks::create(&sandbox.store, &sandbox.org_id, new).await.unwrap();
    }
    let grants = run("projects:read tasks:read files:write");
    let report = on_event(
        &sandbox,
        "project-export",
        &grants,
        "project.archived",
        &project.id,
        json!({}),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Ok, "{}", report.message);
    let file = sandbox
        .files_root()
        .join("ins_sandbox/exports")
        .join(format!("{}.json", project.id));
    let export: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    assert_eq!(export["project"]["name"], "Old site");
    assert_eq!(export["tasks"].as_array().unwrap().len(), 2);
}

/// A Slack-style receiver on loopback that records what it is sent.
async fn receiver(status: u16) -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(body);
                (axum::http::StatusCode::from_u16(status).unwrap(), "ok")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_notifier_posts_to_the_configured_webhook_and_nowhere_else() {
    let (url, seen) = receiver(200).await;
    let dev = sandbox_with(true).await;
    let prod = sandbox().await;
    let mut grants = run("network");
    grants.allowed_hosts = vec!["127.0.0.1".into()];
    grants.allow_private_network = true;
    grants.config.insert("webhook_url".into(), url.clone());
    let post = async |sandbox: &Sandbox, grants: &SandboxRun| {
        let payload = json!({ "title": "Write the launch post", "status": "open" });
        on_event(
            sandbox,
            "slack-notifier",
            grants,
            "task.created",
            "tsk_1",
            payload,
        )
        .await
        .outcome
    };
    assert_eq!(post(&dev, &grants).await, Outcome::Ok);
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [json!({ "text": "New task: Write the launch post" })]
    );

    // Without the development switch, loopback is refused even when declared.
    let refused = post(&prod, &grants).await;
    assert!(
        matches!(&refused, Outcome::PluginError { kind, message } if kind == "forbidden" && message.contains("public")),
        "{refused:?}"
    );

    // A host the manifest does not declare is refused.
    let mut undeclared = grants.clone();
    undeclared.allowed_hosts = vec!["hooks.slack.com".into()];
    assert_eq!(error_kind(&post(&dev, &undeclared).await), Some("forbidden"));
    assert_eq!(seen.lock().unwrap().len(), 1, "nothing more was sent");

    // The per-call caps on HTTP requests and response size hold.
    let mut capped = grants.clone();
    capped.limits = Limits {
        max_http_requests: 0,
        ..Limits::EVENT
    };
    // The guest returns the refusal as its error; the invocation still broke a limit.
    assert!(matches!(
        post(&dev, &capped).await,
        Outcome::LimitExceeded { message } if message.contains("HTTP requests")
    ));
    capped.limits = Limits {
        max_http_response_bytes: 1,
        ..Limits::EVENT
    };
    let too_big = post(&dev, &capped).await;
    assert!(
        matches!(&too_big, Outcome::PluginError { kind, message } if kind == "limit_exceeded" && message.contains("1 bytes")),
        "{too_big:?}"
    );

    // A receiver that fails asks for a retry.
    let (failing_url, _) = receiver(503).await;
    grants.config.insert("webhook_url".into(), failing_url);
    assert!(post(&dev, &grants).await.retryable());
}

/// Each example's manifest is valid, and declares exactly what its component needs: every scope
/// its imports need, and beyond those only the read scopes its events require. What the admin
/// consents to is what the audit finds.
#[test]
fn every_example_manifest_is_valid_and_matches_its_components_imports() {
    use bazaar::catalog::manifest::Manifest;
    use bazaar::platform::Scope;
    for example in [
        "slack-notifier",
        "auto-labeller",
        "project-stats",
        "due-date-policy",
        "project-export",
    ] {
        let path = crate::support::workspace()
            .join("example-plugins")
            .join(example)
            .join("bazaar.toml");
        let manifest = Manifest::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(manifest.slug, example);
        assert_eq!(manifest.validate(true), [], "{example}");
        let declared = manifest.scope_set();
        let audit = bazaar::runtime::audit::audit(&component(example)).unwrap();
        assert!(audit.passes(), "{example}: {:?}", audit.findings);
        let needed: Vec<Scope> = audit.required_scopes.iter().map(|s| s.parse().unwrap()).collect();
        for scope in &needed {
            let covered = declared.contains(*scope)
                || (*scope == Scope::FilesRead && declared.contains(Scope::FilesWrite));
            assert!(
                covered,
                "{example}: its component needs `{scope}`, which the manifest does not ask for"
            );
        }
        for scope in declared.iter().filter(|s| !needed.contains(s)) {
            let for_events = matches!(scope, Scope::TasksRead | Scope::ProjectsRead);
            let writes_files = scope == Scope::FilesWrite && needed.contains(&Scope::FilesRead);
            assert!(
                for_events || writes_files,
                "{example}: asks for `{scope}` without using it"
            );
        }
    }
}
