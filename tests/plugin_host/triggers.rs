//! Inbound web triggers at the runtime: `on-request` answers in a fresh sandbox under the hook
//! budget, the same in Rust, TypeScript and Python; an endless handler is stopped, and a
//! component without the export is refused before anything runs.

use bazaar::runtime::bindings::triggers::Inbound;
use bazaar::runtime::{Limits, Outcome};

use crate::support::{component, run, sandbox};

fn request(trigger: &str) -> Inbound {
    Inbound {
        trigger: trigger.into(),
        method: "POST".into(),
        headers: vec![("x-event".into(), "closed".into())],
        body: br#"{"id":7}"#.to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_language_answers_its_triggers_under_the_hook_budget() {
    let sandbox = sandbox().await;
    let installation = sandbox.installation(&run("storage"));
    for guest in ["test-plugin-hostile-ts", "test-plugin-hostile-py"] {
        let prepared = sandbox.runtime.prepare(&component(guest)).unwrap();
        assert!(
            prepared.has_triggers(),
            "{guest}: its manifest declares a trigger"
        );
        let (report, answer) = sandbox
            .runtime
            .on_request(&prepared, installation.clone(), Limits::HOOK, request("echo"))
            .await;
        assert_eq!(report.outcome, Outcome::Ok, "{guest}: {}", report.message);
        let answer = answer.unwrap();
        assert_eq!(answer.status, 201, "{guest}");
        let echoed: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(
            echoed,
            serde_json::json!({ "trigger": "echo", "method": "POST", "event": "closed", "body": "{\"id\":7}" }),
            "{guest}"
        );
        let (report, answer) = sandbox
            .runtime
            .on_request(&prepared, installation.clone(), Limits::HOOK, request("loop"))
            .await;
        assert!(
            matches!(report.outcome, Outcome::FuelExhausted | Outcome::Deadline),
            "{guest}: {:?}",
            report.outcome
        );
        assert!(answer.is_none());
    }

    // A Rust plugin that implements no trigger says so, as a 404 the caller sees.
    let rust = sandbox
        .runtime
        .prepare(&component("test-plugin-hostile"))
        .unwrap();
    let (report, answer) = sandbox
        .runtime
        .on_request(&rust, installation.clone(), Limits::HOOK, request("echo"))
        .await;
    assert_eq!(report.outcome, Outcome::Ok, "{}", report.message);
    assert_eq!(answer.unwrap().status, 404);

    // A 0.1.0 component has no such export: refused before it runs.
    let classic = sandbox
        .runtime
        .prepare(&component("test-plugin-contract-0-1"))
        .unwrap();
    assert!(!classic.has_triggers());
    let (report, answer) = sandbox
        .runtime
        .on_request(
            &classic,
            sandbox.installation(&run("tasks:read tasks:write")),
            Limits::HOOK,
            request("echo"),
        )
        .await;
    assert!(answer.is_none());
    assert!(
        matches!(&report.outcome, Outcome::Refused { message } if message.contains("answers no web triggers")),
        "{:?}",
        report.outcome
    );
}
