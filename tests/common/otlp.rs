//! An OpenTelemetry collector for tests: an OTLP/HTTP receiver that keeps what it is sent,
//! decoded with the protocol's own types.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
pub use opentelemetry_proto::tonic::common::v1::any_value::Value;
pub use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// What the receiver was sent: one body per export.
pub type Received = Arc<Mutex<Vec<Vec<u8>>>>;

/// An OTLP/HTTP receiver on its own thread (the exporter sends from a thread of its own).
pub fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
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

pub fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

pub fn text<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match attribute(span, key) {
        Some(Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

pub fn number(span: &Span, key: &str) -> Option<i64> {
    match attribute(span, key) {
        Some(Value::IntValue(n)) => Some(*n),
        _ => None,
    }
}

/// Every span received so far.
pub fn spans(got: &Received) -> Vec<Span> {
    requests(got)
        .into_iter()
        .flat_map(|request| request.resource_spans)
        .flat_map(|resource| resource.scope_spans)
        .flat_map(|scope| scope.spans)
        .collect()
}

/// Every export received so far, decoded.
pub fn requests(got: &Received) -> Vec<ExportTraceServiceRequest> {
    got.lock()
        .unwrap()
        .iter()
        .map(|body| ExportTraceServiceRequest::decode(&body[..]).unwrap())
        .collect()
}
