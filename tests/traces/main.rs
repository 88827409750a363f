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

use std::sync::{Arc, Mutex};

use bazaar::runtime::{Installation, Limits, Outcome};
use bazaar::sandbox::EventFile;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

use bazaar::platform::ScopeSet;
use bazaar::sandbox::{Sandbox, SandboxRun};
use guests::{component, target_dir};

const TOKEN: &str = "s3cret-never-in-a-span";

/// An OTLP/HTTP receiver on its own thread (the exporter sends from a thread of its own).
fn receiver() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let kept = got.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}", listener.local_addr().unwrap()))
                .unwrap();
            let app = axum::Router::new().route(
                "/v1/traces",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let kept = kept.clone();
                    async move {
                        kept.lock().unwrap().push(body.to_vec());
                        axum::http::StatusCode::OK
                    }
                }),
            );
            axum::serve(listener, app).await.unwrap();
        });
    });
    (rx.recv().unwrap(), got)
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn text<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match attribute(span, key) {
        Some(Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn number(span: &Span, key: &str) -> Option<i64> {
    match attribute(span, key) {
        Some(Value::IntValue(n)) => Some(*n),
        _ => None,
    }
}

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
    provider.force_flush().unwrap();

    let spans: Vec<Span> = got
        .lock()
        .unwrap()
        .iter()
        .map(|body| ExportTraceServiceRequest::decode(&body[..]).unwrap())
        .flat_map(|request| request.resource_spans)
        .flat_map(|resource| resource.scope_spans)
        .flat_map(|scope| scope.spans)
        .collect();
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

    let host_calls: Vec<String> = spans
        .iter()
        .filter(|s| s.name == "host_call" && s.parent_span_id == call.span_id)
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
    let everything = format!("{spans:?}");
    assert!(!everything.contains(TOKEN), "no data in a span");
}
