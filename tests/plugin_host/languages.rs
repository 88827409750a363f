//! Plugins written in TypeScript and Python, built from source by `bazaar plugin build`, run by
//! the same runtime under the same limits as Rust ones: hostile guests in each language are
//! contained and classified, and the examples do their work.

use bazaar::runtime::{Limits, Outcome};
use serde_json::json;

use crate::support::{component, component_path, on_event, run, sandbox, task};

/// What an outcome must look like.
type Expect = fn(&Outcome) -> bool;

const GUESTS: [&str; 2] = ["test-plugin-hostile-ts", "test-plugin-hostile-py"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_typescript_and_python_guests_are_stopped_and_classified() {
    let sandbox = sandbox().await;
    let cases: [(&str, Expect); 7] = [
        ("test.loop", |o| *o == Outcome::FuelExhausted),
        ("test.alloc", |o| *o == Outcome::MemoryLimit),
        // QuickJS overflows the wasm stack; CPython raises RecursionError, reported as the
        // plugin's own bug. Either way the call ends and the host keeps serving.
        ("test.recurse", |o| {
            matches!(o, Outcome::Trap { reason } if reason.contains("stack"))
                || matches!(o, Outcome::PluginError { kind, message } if kind == "internal" && message.contains("RecursionError"))
        }),
        (
            "test.throw",
            |o| matches!(o, Outcome::PluginError { kind, message } if kind == "internal" && message.contains("TypeError: the plugin's own bug")),
        ),
        (
            "test.unavailable",
            |o| matches!(o, Outcome::PluginError { kind, message } if kind == "unavailable" && message.contains("try again later")),
        ),
        // An interface the manifest did not ask for is not linked: the call fails `forbidden`,
        // naming the scope to add.
        (
            "test.unscoped",
            |o| matches!(o, Outcome::PluginError { kind, message } if kind == "forbidden" && message.contains("`tasks:read`")),
        ),
        ("test.kv", |o| *o == Outcome::Ok),
    ];
    let quick = {
        let mut quick = run("storage");
        quick.limits = Limits {
            timeout_ms: 2_000,
            ..Limits::EVENT
        };
        quick
    };
    for guest in GUESTS {
        for (kind, expected) in cases {
            let report = on_event(&sandbox, guest, &quick, kind, "tsk_1", json!({})).await;
            assert!(
                expected(&report.outcome),
                "{guest} {kind}: {:?} ({})",
                report.outcome,
                report.message
            );
            let healthy = on_event(&sandbox, guest, &quick, "test.ok", "", json!({})).await;
            assert_eq!(
                healthy.outcome,
                Outcome::Ok,
                "{guest} after {kind}: {}",
                healthy.message
            );
            assert_eq!(healthy.log[0].message, "ok test.ok");
        }
        // The plugin's own bug leaves its stack in the log for the developer.
        let report = on_event(&sandbox, guest, &quick, "test.throw", "", json!({})).await;
        assert!(
            report
                .log
                .iter()
                .any(|l| l.message.contains("TypeError: the plugin's own bug")),
            "{guest}: {:?}",
            report.log
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_in_any_language_needs_its_scope_granted_and_keeps_no_state() {
    let sandbox = sandbox().await;
    for guest in GUESTS {
        // The component imports `kv` (its manifest asks for storage): without the grant it is
        // refused before it runs.
        let refused = on_event(&sandbox, guest, &run(""), "test.kv", "", json!({})).await;
        assert!(
            matches!(&refused.outcome, Outcome::Refused { message } if message.contains("storage")),
            "{guest}: {:?}",
            refused.outcome
        );
        assert_eq!(refused.fuel_used, 0);
        // A fresh instance per call: the global counter is 1 every time.
        for _ in 0..3 {
            let report = on_event(&sandbox, guest, &run("storage"), "test.count", "", json!({})).await;
            assert_eq!(report.outcome, Outcome::Ok, "{guest}: {}", report.message);
            assert_eq!(report.log[0].message, "calls=1", "{guest}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_shows_exactly_the_manifests_scopes_and_a_build_that_reaches_files_is_refused() {
    use bazaar::runtime::audit;
    for guest in GUESTS {
        let report = audit::audit(&component(guest)).unwrap();
        assert!(report.passes(), "{guest}: {:?}", report.findings);
        assert_eq!(report.required_scopes, ["storage"], "{guest}");
        let imports: Vec<&str> = report.imports.iter().map(|i| i.name.as_str()).collect();
        assert!(
            imports.iter().all(|i| i.starts_with("bazaar:platform/")),
            "{guest} imports only the contract: {imports:?}"
        );
        assert!(
            !imports.iter().any(|i| i.contains("/tasks")),
            "{guest}: {imports:?}"
        );
    }
    // The same JavaScript made a component without stubbing WASI imports the filesystem: the
    // audit says it needs `files:read`, and an installation without it does not run it.
    let folder = component_path("test-plugin-hostile-ts");
    let build = folder.parent().unwrap();
    let tools = bazaar_toolchains()
        .join("js-componentize-qjs-0.4.5-esbuild-0.28.2/node_modules/.bin/componentize-qjs");
    let unstubbed = build.join("unstubbed.wasm");
    let status = std::process::Command::new(tools)
        .arg("--wit")
        .arg(build.join("wit"))
        .args(["--world", "build", "--sync", "--js"])
        .arg(build.join("bundle.js"))
        .arg("-o")
        .arg(&unstubbed)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let bytes = std::fs::read(&unstubbed).unwrap();
    let report = audit::audit(&bytes).unwrap();
    assert!(
        report.required_scopes.contains(&"files:read".to_owned()),
        "{:?}",
        report.imports
    );
    let sandbox = sandbox().await;
    let event = sandbox.event(bazaar::sandbox::EventFile {
        kind: "test.ok".into(),
        id: None,
        subject_id: None,
        payload: json!({}),
    });
    let refused = sandbox.run_event(&bytes, &run("storage"), event).await.unwrap();
    assert!(
        matches!(&refused.outcome, Outcome::Refused { message } if message.contains("wasi:filesystem") && message.contains("files:read")),
        "{:?}",
        refused.outcome
    );
}

/// Where `bazaar plugin build` keeps its toolchains, as it decides.
fn bazaar_toolchains() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("BAZAAR_TOOLCHAINS") {
        return dir.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
    cache.join("bazaar/toolchains")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_title_policy_judges_titles_within_a_hooks_budget() {
    let sandbox = sandbox().await;
    let prepared = sandbox.runtime.prepare(&component("title-policy")).unwrap();
    let installation = sandbox.installation(&run(""));
    let titled = |title: &str| {
        let mut t = task(&[], None);
        t.title = title.into();
        t
    };
    for (title, refusal) in [
        ("Fix", Some("at least 5 characters")),
        ("SHIP IT NOW", Some("capitals")),
        ("TODO write the brief", Some("not \"TODO\"")),
        ("Écrire le résumé", None),
        ("Ship the release notes", None),
    ] {
        let report = sandbox
            .runtime
            .validate_task(&prepared, installation.clone(), Limits::HOOK, titled(title))
            .await;
        match refusal {
            Some(words) => assert!(
                matches!(&report.outcome, Outcome::PluginError { kind, message } if kind == "invalid" && message.contains(words)),
                "{title}: {:?}",
                report.outcome
            ),
            None => assert_eq!(report.outcome, Outcome::Ok, "{title}: {}", report.message),
        }
        assert!(
            report.fuel_used < Limits::HOOK.fuel / 4,
            "{title}: {} fuel",
            report.fuel_used
        );
    }
}
