//! Traces: a plugin call is one span (outcome, fuel, peak memory, duration) with a child span
//! per host call (interface, function, result kind), exported over OTLP/HTTP to a receiver
//! started here and decoded with the OpenTelemetry protocol's own types. No data crosses into
//! a span.
//!
//! A test binary of its own: `tracing` caches, per process, which subscribers want each span,
//! and the other tests' threads (which run plugins with no subscriber) would race with this
//! one's.

#![allow(clippy::unwrap_used)]

#[path = "../common/guests.rs"]
mod guests;
#[path = "../common/otlp.rs"]
mod otlp;

use std::sync::Arc;

use bazaar::runtime::{Installation, Limits, Outcome};
use bazaar::sandbox::EventFile;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

use bazaar::platform::ScopeSet;
use bazaar::sandbox::{Sandbox, SandboxRun};
use guests::{component, target_dir};
use otlp::{Span, number, receiver, spans, text};

const TOKEN: &str = "s3cret-never-in-a-span";

#[test]
fn a_plugin_call_is_one_trace_with_a_span_per_host_call_exported_over_otlp() {
    let (collector, got) = receiver();
    let provider = bazaar::telemetry::otlp_provider(&collector).unwrap();
    let subscriber = tracing_subscriber::registry().with(
        bazaar::telemetry::otlp_layer(&provider).with_filter(tracing_subscriber::filter::LevelFilter::INFO),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let vendor = format!("http://{}", listener.local_addr().unwrap());
            let app = axum::Router::new().route(
                "/items",
                axum::routing::get(|| async {
                    axum::Json(serde_json::json!({ "items": [{ "name": "a" }] }))
                }),
            );
            tokio::spawn(async move { axum::serve(listener, app).await });
            let cache = target_dir().join("test-component-cache");
            let sandbox = Sandbox::new(true, Some(cache)).await.unwrap();
            let base = sandbox.installation(&SandboxRun {
                grants: ScopeSet::parse_text("storage network").unwrap(),
                config: Default::default(),
                allowed_hosts: Vec::new(),
                allow_private_network: true,
                limits: Limits::EVENT,
                connections: Vec::new(),
            });
            let installation = Arc::new(Installation {
                config: [
                    ("api_token".to_owned(), TOKEN.to_owned()),
                    ("vendor".to_owned(), vendor),
                ]
                .into(),
                secret_config: vec!["api_token".into()],
                allowed_hosts: vec!["127.0.0.1".into()],
                ..(*base).clone()
            });
            let prepared = sandbox
                .runtime
                .prepare(&component("test-plugin-replay-fixed"))
                .unwrap();
            let event = sandbox.event(EventFile {
                kind: "task.created".into(),
                payload: serde_json::json!({ "id": "tsk_1" }),
                id: Some("evt_traced".into()),
                subject_id: Some("tsk_1".into()),
            });
            sandbox
                .runtime
                .on_event(&prepared, installation, Limits::EVENT, event)
                .await
        })
    });
    assert_eq!(report.outcome, Outcome::Ok, "{}", report.message);
    // Tasks the call left on the runtime (an HTTP connection) go with it; the batch exporter
    // may have sent part of the trace before the flush, so read until the call's span is in.
    drop(runtime);
    let started = std::time::Instant::now();
    let spans: Vec<Span> = loop {
        provider.force_flush().unwrap();
        let spans = spans(&got);
        if spans.iter().any(|s| s.name == "on_event") || started.elapsed().as_secs() >= 5 {
            break spans;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let call = spans
        .iter()
        .find(|s| s.name == "on_event" && text(s, "event") == Some("evt_traced"))
        .unwrap_or_else(|| {
            panic!(
                "no span of the call among {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    assert_eq!(text(call, "kind"), Some("task.created"));
    assert_eq!(text(call, "outcome"), Some("ok"));
    assert_eq!(
        number(call, "fuel"),
        Some(report.fuel_used as i64),
        "{:?}",
        call.attributes
    );
    assert!(
        number(call, "memory_peak_bytes").is_some_and(|m| m > 0),
        "{:?}",
        call.attributes
    );
    assert!(number(call, "duration_us").is_some());

    // The guest's own span, inside the call's, with its name and attributes.
    let fetch = spans.iter().find(|s| s.name == "fetch items").unwrap_or_else(|| {
        panic!(
            "no guest span among {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    });
    assert_eq!(fetch.parent_span_id, call.span_id);
    assert_eq!(text(fetch, "run"), Some("1"));
    assert_eq!(text(fetch, "items"), Some("1"));
    // Host calls are children of the call, or of the guest span open when they were made.
    let host_calls: Vec<String> = spans
        .iter()
        .filter(|s| s.name == "host_call" && [&call.span_id, &fetch.span_id].contains(&&s.parent_span_id))
        .map(|s| {
            assert_eq!(s.trace_id, call.trace_id, "one trace per call");
            format!(
                "{}.{} {}",
                text(s, "interface").unwrap_or("?"),
                text(s, "function").unwrap_or("?"),
                text(s, "outcome").unwrap_or("-")
            )
        })
        .collect();
    for expected in ["kv.get ok", "kv.set ok", "http.send ok"] {
        assert!(
            host_calls.iter().any(|c| c == expected),
            "{expected} in {host_calls:?}"
        );
    }
    assert!(
        host_calls.iter().any(|c| c.starts_with("config.get")),
        "{host_calls:?}"
    );
    let inside_fetch: Vec<&str> = spans
        .iter()
        .filter(|s| s.name == "host_call" && s.parent_span_id == fetch.span_id)
        .filter_map(|s| text(s, "interface"))
        .collect();
    assert_eq!(
        inside_fetch,
        ["http"],
        "the request made inside the guest's span is its child"
    );
    let everything = format!("{spans:?}");
    assert!(!everything.contains(TOKEN), "no data in a span");
}

/// The real server process: `bazaar serve` with `BAZAAR_OTLP_ENDPOINT` sends its spans to that
/// collector (a request's span here, with the service's name), and what is buffered is sent
/// when it stops.
#[test]
fn bazaar_serve_sends_its_spans_to_the_configured_collector() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};

    const BIN: &str = env!("CARGO_BIN_EXE_bazaar");
    let (collector, got) = receiver();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let created = Command::new(BIN)
        .args([
            "org",
            "create",
            "Acme",
            "--admin-email",
            "ada@acme.test",
            "--admin-password",
            "a-long-password",
            "--json",
            "--data-dir",
            data,
        ])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let secret = created["api_key"]["secret"].as_str().unwrap().to_owned();

    let mut child = Command::new(BIN)
        .args(["serve", "--data-dir", data, "--listen", "127.0.0.1:0"])
        .env("BAZAAR_OTLP_ENDPOINT", &collector)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the server printed its address").unwrap();
        if let Some(addr) = line.strip_prefix("Bazaar is listening on http://") {
            break addr.to_owned();
        }
    };
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /v1/organization HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(child.wait().unwrap().success());

    let exports = otlp::requests(&got);
    let service = exports
        .iter()
        .flat_map(|r| &r.resource_spans)
        .filter_map(|r| r.resource.as_ref())
        .flat_map(|r| &r.attributes)
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.clone());
    assert_eq!(
        service,
        Some(otlp::Value::StringValue("bazaar".into())),
        "the resource names the service"
    );
    let spans = spans(&got);
    let request = spans
        .iter()
        .find(|s| s.name == "request" && text(s, "route").is_some_and(|r| r.ends_with("/organization")))
        .unwrap_or_else(|| {
            panic!(
                "no span of the request among {:?}",
                spans
                    .iter()
                    .map(|s| (&s.name, text(s, "route")))
                    .collect::<Vec<_>>()
            )
        });
    assert_eq!(text(request, "method"), Some("GET"));
    assert!(!format!("{spans:?}").contains(&secret), "no credential in a span");
}
