//! Capabilities by construction: imports need grants, and granted ones stay within bounds.

use bazaar::platform::ScopeSet;
use bazaar::runtime::{HostServices, Limits, Outcome, Runtime};
use serde_json::json;

use crate::support::{component, error_kind, on_event, run, sandbox};

fn refused_for(outcome: &Outcome, needle: &str) -> bool {
    matches!(outcome, Outcome::Refused { message } if message.contains(needle))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_is_refused_before_it_runs_without_the_scopes_its_imports_need() {
    let sandbox = sandbox().await;
    let payload = json!({ "project_id": "prj_1" });
    let report = on_event(
        &sandbox,
        "project-stats",
        &run("tasks:read projects:read"),
        "task.created",
        "tsk_1",
        payload.clone(),
    )
    .await;
    assert!(refused_for(&report.outcome, "`storage`"), "{:?}", report.outcome);
    assert_eq!(report.fuel_used, 0, "nothing ran");
    let report = on_event(
        &sandbox,
        "project-stats",
        &run("storage"),
        "task.created",
        "tsk_1",
        payload,
    )
    .await;
    assert_eq!(report.outcome, Outcome::Ok, "{}", report.message);

    let report = on_event(
        &sandbox,
        "test-plugin-files-snoop",
        &run("storage network"),
        "test.write",
        "",
        json!({}),
    )
    .await;
    assert!(refused_for(&report.outcome, "files:read"), "{:?}", report.outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_are_refused_whatever_the_grants() {
    let sandbox = sandbox().await;
    let all = ScopeSet::all().to_text();
    let report = on_event(
        &sandbox,
        "test-plugin-sockets",
        &run(&all),
        "test.connect",
        "",
        json!({}),
    )
    .await;
    assert!(
        refused_for(&report.outcome, "wasi:sockets"),
        "{:?}",
        report.outcome
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_stay_inside_the_installations_folder_and_read_only_means_read_only() {
    let sandbox = sandbox().await;
    let snoop = async |grants: &str, kind: &str| {
        on_event(
            &sandbox,
            "test-plugin-files-snoop",
            &run(grants),
            kind,
            "",
            json!({}),
        )
        .await
        .outcome
    };
    assert_eq!(snoop("files:write", "test.write").await, Outcome::Ok);
    assert!(
        sandbox.files_root().join("ins_sandbox/note.txt").exists(),
        "the file is in the installation's folder"
    );

    assert_eq!(
        error_kind(&snoop("files:write", "test.escape").await),
        Some("forbidden")
    );
    assert!(!sandbox.files_root().join("escaped.txt").exists());
    assert_eq!(
        error_kind(&snoop("files:write", "test.read-passwd").await),
        Some("not_found")
    );
    assert_eq!(
        error_kind(&snoop("files:read", "test.write").await),
        Some("forbidden"),
        "read-only means read-only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kv_quota_holds() {
    let sandbox = sandbox().await;
    let mut tight = run("storage");
    tight.limits = Limits {
        kv_quota_bytes: 300,
        ..Limits::EVENT
    };
    // project-stats keeps up to 50 event ids per project: its record outgrows 300 bytes.
    let mut outcomes = Vec::new();
    for _ in 0..10 {
        let report = on_event(
            &sandbox,
            "project-stats",
            &tight,
            "task.created",
            "tsk",
            json!({ "project_id": "prj_q" }),
        )
        .await;
        outcomes.push(report.outcome);
    }
    assert_eq!(outcomes[0], Outcome::Ok);
    assert!(
        outcomes.iter().any(|o| matches!(o, Outcome::PluginError { kind, message } if kind == "limit_exceeded" && message.contains("quota"))),
        "{outcomes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_components_are_cached_on_disk_and_a_corrupt_cache_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox().await;
    let services = HostServices {
        store: sandbox.store.clone(),
        files_root: dir.path().join("files"),
        allow_private_network: false,
        secrets: std::sync::Arc::new(bazaar::secrets::Secrets::load(None, dir.path()).unwrap()),
        issuer: "http://127.0.0.1".into(),
        journal: None,
    };
    let cache = dir.path().join("cache");
    let bytes = component("due-date-policy");
    let runtime = Runtime::new(services.clone(), Some(cache.clone())).unwrap();
    runtime.prepare(&bytes).unwrap();
    let artifacts: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let artifact = artifacts
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("artifact written")
        .clone();
    assert!(
        artifact
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(&sha256_hex(&bytes)),
        "named by content hash"
    );

    // Corrupt it: a fresh runtime must not load it, and must still work.
    let mut garbage = std::fs::read(&artifact).unwrap();
    let middle = garbage.len() / 2;
    garbage[middle] ^= 0xff;
    std::fs::write(&artifact, &garbage).unwrap();
    let runtime = Runtime::new(services, Some(cache)).unwrap();
    let prepared = runtime.prepare(&bytes).unwrap();
    assert_ne!(
        std::fs::read(&artifact).unwrap(),
        garbage,
        "the corrupt artifact was replaced"
    );
    let task = crate::support::task(&["urgent"], Some("2026-12-31"));
    let installation = sandbox.installation(&run(""));
    let report = runtime
        .validate_task(&prepared, installation, Limits::HOOK, task)
        .await;
    assert_eq!(report.outcome, Outcome::Ok, "{}", report.message);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
