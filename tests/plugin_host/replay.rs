//! Recording and replay: a call's host answers, clocks and randomness are recorded with its
//! input; fed back, the same component reaches the same outcome with the same fuel, a fixed
//! build reaches `ok`, a different one is told where it diverged, and nothing is read, written
//! or sent during a replay. Secrets never enter a recording.

use std::sync::Arc;

use bazaar::runtime::{Installation, Limits, Outcome};
use bazaar::sandbox::EventFile;

use crate::support::{component, run, sandbox_with};

const TOKEN: &str = "s3cret-vendor-token";

/// A vendor whose item list is empty: what makes the buggy build fail.
async fn vendor() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/items",
        axum::routing::get(|| async { axum::Json(serde_json::json!({ "items": [] })) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

async fn runs(sandbox: &bazaar::sandbox::Sandbox) -> Option<Vec<u8>> {
    bazaar::store::query_as::<(Vec<u8>,)>("SELECT value FROM plugin_kv WHERE key = 'runs'")
        .fetch_optional(sandbox.store.reader())
        .await
        .unwrap()
        .map(|(v,)| v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_failure_replays_to_the_same_outcome_and_fuel_and_a_fixed_build_to_ok() {
    let sandbox = sandbox_with(true).await;
    let vendor = vendor().await;
    let base = sandbox.installation(&run("storage network"));
    let installation = Arc::new(Installation {
        config: [
            ("api_token".to_owned(), TOKEN.to_owned()),
            ("vendor".to_owned(), vendor.clone()),
        ]
        .into(),
        secret_config: vec!["api_token".into()],
        allowed_hosts: vec!["127.0.0.1".into()],
        ..(*base).clone()
    });
    let buggy = sandbox
        .runtime
        .prepare(&component("test-plugin-replay-buggy"))
        .unwrap();
    let event = sandbox.event(EventFile {
        kind: "task.created".into(),
        payload: serde_json::json!({ "id": "tsk_1" }),
        id: None,
        subject_id: Some("tsk_1".into()),
    });
    let report = sandbox
        .runtime
        .on_event(&buggy, installation.clone(), Limits::EVENT, event)
        .await;
    assert_eq!(report.outcome.class(), "trap", "the bug: {}", report.message);
    let recording = report.recording.clone().expect("recorded");
    assert_eq!(recording.outcome, "trap");
    assert_eq!(recording.fuel_used, report.fuel_used);
    assert!(recording.fuel_used > 10_000, "it ran: {}", recording.fuel_used);
    let calls: Vec<String> = recording
        .tape
        .host_calls
        .iter()
        .map(|c| format!("{}.{}", c.interface, c.function))
        .collect();
    assert_eq!(
        calls,
        ["kv.get", "kv.set", "config.get", "config.get", "http.send"]
    );
    assert!(!recording.tape.random.is_empty() || recording.tape.insecure_seed != 0);
    assert!(!recording.tape.wall_clock.is_empty(), "the clock was read");

    // Secrets stay out: the token is a same-length placeholder, marked.
    let text = serde_json::to_string(&*recording).unwrap();
    assert!(!text.contains(TOKEN), "{text}");
    let token = &recording.tape.host_calls[2];
    assert!(token.redacted);
    assert_eq!(token.answer, serde_json::json!({ "Ok": "*".repeat(TOKEN.len()) }));

    // Through JSON and back, as `bazaar plugin replay` reads it.
    let recording: bazaar::runtime::recording::Recording = serde_json::from_str(&text).unwrap();
    let stored = runs(&sandbox).await;
    let again = sandbox.runtime.replay(&buggy, &recording).await;
    assert!(again.same_component);
    assert_eq!(again.divergence, None);
    assert_eq!(again.report.outcome.class(), "trap", "{}", again.report.message);
    assert_eq!(
        again.report.fuel_used, recording.fuel_used,
        "the same fuel, to the unit"
    );
    assert_eq!(runs(&sandbox).await, stored, "a replay writes nothing");

    // The fixed build makes the same calls and ends well.
    let fixed = sandbox
        .runtime
        .prepare(&component("test-plugin-replay-fixed"))
        .unwrap();
    let replayed = sandbox.runtime.replay(&fixed, &recording).await;
    assert!(!replayed.same_component);
    assert_eq!(
        replayed.report.outcome,
        Outcome::Ok,
        "{}",
        replayed.report.message
    );
    assert_eq!(replayed.divergence, None);
    assert!(
        replayed
            .report
            .log
            .iter()
            .any(|l| l.message.starts_with("run 1: nothing to sync at ")),
        "{:?}",
        replayed.report.log
    );

    // Another component makes other calls: the replay says where it left the recording.
    let other = sandbox
        .runtime
        .prepare(&component("test-plugin-parse-event"))
        .unwrap();
    let diverged = sandbox.runtime.replay(&other, &recording).await;
    assert!(
        diverged
            .divergence
            .as_deref()
            .unwrap_or_default()
            .contains("host call 1: the recording goes on with kv.get"),
        "{:?}",
        diverged.divergence
    );
}
