//! Hostile plugins are stopped and classified, and the host keeps serving healthy ones.

use bazaar::runtime::{Limits, Outcome};
use serde_json::json;

use crate::support::{component, on_event, run, sandbox};

/// What an outcome must look like.
type Expect = fn(&Outcome) -> bool;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_misbehaviour_is_stopped_and_classified_and_the_host_keeps_serving() {
    let sandbox = sandbox().await;
    let mut quick = run("");
    quick.limits = Limits {
        timeout_ms: 1_000,
        ..Limits::EVENT
    };
    let cases: [(&str, Expect); 8] = [
        ("test.loop", |o| *o == Outcome::FuelExhausted),
        ("test.alloc", |o| *o == Outcome::MemoryLimit),
        ("test.recurse", |o| {
            matches!(o, Outcome::Trap { .. } | Outcome::FuelExhausted)
        }),
        (
            "test.huge-error",
            |o| matches!(o, Outcome::LimitExceeded { message } if message.contains("65536")),
        ),
        // A flood of host calls runs out of fuel or of time, whichever the machine reaches first.
        ("test.log-flood", |o| {
            matches!(o, Outcome::Deadline | Outcome::FuelExhausted)
        }),
        ("test.stdout-flood", |o| {
            matches!(o, Outcome::Deadline | Outcome::FuelExhausted)
        }),
        (
            "test.panic",
            |o| matches!(o, Outcome::Trap { reason } if reason.contains("panic")),
        ),
        (
            "test.unavailable",
            |o| matches!(o, Outcome::PluginError { kind, .. } if kind == "unavailable"),
        ),
    ];
    for (kind, expected) in cases {
        let report = on_event(&sandbox, "test-plugin-hostile", &quick, kind, "", json!({})).await;
        assert!(
            expected(&report.outcome),
            "{kind}: {:?} ({})",
            report.outcome,
            report.message
        );
        assert!(!report.message.is_empty());
        // The healthy behaviour of the same component works right after each attack.
        let healthy = on_event(
            &sandbox,
            "test-plugin-hostile",
            &quick,
            "test.ok",
            "",
            json!({ "a": 1 }),
        )
        .await;
        assert_eq!(healthy.outcome, Outcome::Ok, "after {kind}: {}", healthy.message);
    }
}

/// Every call gets a fresh instance: a global the guest counts in never sees an earlier call,
/// however fast the host makes a call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_state_survives_from_one_call_to_the_next() {
    let sandbox = sandbox().await;
    for _ in 0..5 {
        let report = on_event(
            &sandbox,
            "test-plugin-hostile",
            &run(""),
            "test.count",
            "",
            json!({}),
        )
        .await;
        assert_eq!(report.outcome, Outcome::Ok, "{}", report.message);
        let lines: Vec<&str> = report.log.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(lines, ["call 1 of this instance"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_plugin_keeps_only_its_capped_log() {
    let sandbox = sandbox().await;
    let report = on_event(
        &sandbox,
        "test-plugin-hostile",
        &run(""),
        "test.log-flood",
        "",
        json!({}),
    )
    .await;
    let kept: usize = report.log.iter().map(|l| l.message.len()).sum();
    assert!(kept <= Limits::EVENT.max_log_bytes, "kept {kept} bytes");
    assert!(report.log_dropped_bytes > 0);
    assert_eq!(report.log[0].message, "flood line 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_and_fuel_limits_are_the_ones_asked_for() {
    let sandbox = sandbox().await;
    let mut small = run("");
    small.limits = Limits {
        memory_bytes: 8 << 20,
        ..Limits::EVENT
    };
    let report = on_event(
        &sandbox,
        "test-plugin-hostile",
        &small,
        "test.alloc",
        "",
        json!({}),
    )
    .await;
    assert_eq!(report.outcome, Outcome::MemoryLimit);
    assert!(report.message.contains("8 MiB"), "{}", report.message);
    small.limits = Limits {
        fuel: 1_000_000,
        ..Limits::EVENT
    };
    let report = on_event(
        &sandbox,
        "test-plugin-hostile",
        &small,
        "test.loop",
        "",
        json!({}),
    )
    .await;
    assert_eq!(report.outcome, Outcome::FuelExhausted);
    assert_eq!(report.fuel_used, 1_000_000);
    // An event larger than the limit is refused before anything runs.
    let big = json!({ "blob": "x".repeat(Limits::EVENT.max_event_bytes + 1) });
    let report = on_event(&sandbox, "test-plugin-hostile", &run(""), "test.ok", "", big).await;
    assert!(
        matches!(report.outcome, Outcome::Refused { .. }),
        "{:?}",
        report.outcome
    );
    assert_eq!(report.fuel_used, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_components_get_a_clear_error() {
    let sandbox = sandbox().await;
    for (bytes, says) in [
        (b"hello".to_vec(), "not a WebAssembly component"),
        (
            vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
            "core WebAssembly module",
        ),
        (
            component("project-stats")[..1000].to_vec(),
            "not a WebAssembly component",
        ),
    ] {
        let err = sandbox.runtime.prepare(&bytes).err().expect("refused");
        assert!(err.to_string().contains(says), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_clock_limit_holds_even_while_the_plugin_waits_in_the_host() {
    let sandbox = sandbox().await;
    let mut short = run("");
    short.limits = Limits {
        timeout_ms: 300,
        ..Limits::EVENT
    };
    let started = std::time::Instant::now();
    let report = on_event(
        &sandbox,
        "test-plugin-hostile",
        &short,
        "test.sleep",
        "",
        json!({}),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Deadline, "{}", report.message);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "stopped near the limit: {:?}",
        started.elapsed()
    );
    assert!(report.message.contains("300 ms"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_sees_no_environment_arguments_or_input() {
    // The host process has environment variables, so a leak would show.
    assert!(std::env::vars().next().is_some());
    let sandbox = sandbox().await;
    let report = on_event(
        &sandbox,
        "test-plugin-hostile",
        &run(""),
        "test.ambient",
        "",
        json!({}),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Ok, "{}", report.message);
}

/// A guest that ignores the host's refusals past its budget still broke its limits: the
/// invocation is `limit_exceeded`, whatever it returns. `config.get` counts like any call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_call_storm_is_limit_exceeded_even_when_the_guest_returns_ok() {
    let sandbox = sandbox().await;
    let mut run = run("storage network");
    run.allowed_hosts = vec!["localhost".into()];
    for kind in ["test.kv-storm", "test.config-storm"] {
        let report = on_event(&sandbox, "test-plugin-greedy", &run, kind, "", json!({})).await;
        assert!(
            matches!(&report.outcome, Outcome::LimitExceeded { message } if message.contains("1000 host calls")),
            "{kind}: {:?} ({})",
            report.outcome,
            report.message
        );
    }
}

/// Empty lines count against the log's line cap: a guest writing millions of them keeps at
/// most the cap, the rest is counted, and the call ends within its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_lines_are_capped_in_lines_and_counted() {
    let sandbox = sandbox().await;
    let mut run = run("storage network");
    run.limits = Limits {
        timeout_ms: 2_000,
        ..Limits::EVENT
    };
    let report = on_event(
        &sandbox,
        "test-plugin-greedy",
        &run,
        "test.empty-lines",
        "",
        json!({}),
    )
    .await;
    assert!(
        report.log.len() <= Limits::EVENT.max_log_lines,
        "kept {} lines",
        report.log.len()
    );
    assert!(report.log_dropped_lines > 0, "{:?}", report.outcome);
    assert!(
        report.duration_us < 3_000_000,
        "the deadline held while output was captured: {} µs",
        report.duration_us
    );
}

/// A declared host name that resolves to loopback is refused egress: `forbidden`, final, like
/// a literal private address, not `unavailable`, which deliveries would retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_name_resolving_to_loopback_is_forbidden() {
    let sandbox = sandbox().await;
    let mut run = run("storage network");
    run.allowed_hosts = vec!["localhost".into()];
    run.config.insert("url".into(), "http://localhost:9/hook".into());
    let report = on_event(
        &sandbox,
        "test-plugin-greedy",
        &run,
        "test.http-loopback",
        "",
        json!({}),
    )
    .await;
    assert!(
        matches!(&report.outcome, Outcome::PluginError { kind, message } if kind == "forbidden" && message.contains("public")),
        "{:?}",
        report.outcome
    );
    assert!(!report.outcome.retryable());
}

/// A Rust guest overflowing its small stack inside linear memory is told it is a stack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_overflow_in_linear_memory_says_stack() {
    let sandbox = sandbox().await;
    let report = on_event(
        &sandbox,
        "test-plugin-hostile",
        &run(""),
        "test.recurse",
        "",
        json!({}),
    )
    .await;
    match &report.outcome {
        Outcome::Trap { reason } => assert!(reason.contains("stack"), "{reason}"),
        other => panic!("{other:?}"),
    }
}
