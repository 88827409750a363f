//! Logs to standard error, and traces to a team's own OpenTelemetry collector over OTLP/HTTP
//! when `otlp_endpoint` is configured; nothing is sent anywhere by default.
//!
//! Every plugin call is a span (`on_event`, `validate_task`, `render`, `on_action`,
//! `on_request`) with its installation, outcome class, fuel, peak memory and duration, and one
//! child span `host_call` per call into the host (interface, function, result kind): names and
//! classes, never the data that crossed.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Why traces cannot be exported.
#[derive(Debug, thiserror::Error)]
#[error("the OTLP exporter for {endpoint} could not start: {message}")]
pub struct TelemetryError {
    endpoint: String,
    message: String,
}

/// Keeps the exporter running; dropping it (or [`Telemetry::shutdown`]) sends what is left.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered and stops the exporter.
    pub fn shutdown(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("traces: the last spans could not be sent: {e}");
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A tracer provider exporting to the collector at `endpoint` (`http://collector:4318`; the
/// spans go to `{endpoint}/v1/traces` as OTLP protobuf), in batches.
pub fn otlp_provider(endpoint: &str) -> Result<SdkTracerProvider, TelemetryError> {
    let traces = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(traces)
        .build()
        .map_err(|e| TelemetryError {
            endpoint: endpoint.to_owned(),
            message: e.to_string(),
        })?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name("bazaar")
                .with_attribute(opentelemetry::KeyValue::new(
                    "service.version",
                    env!("CARGO_PKG_VERSION"),
                ))
                .build(),
        )
        .build())
}

/// The `tracing` layer that turns spans into OpenTelemetry spans of `provider`.
pub fn otlp_layer<S>(provider: &SdkTracerProvider) -> impl Layer<S> + use<S>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer("bazaar"))
}

/// Logs to standard error, filtered by `BAZAAR_LOG`/`RUST_LOG` or `filter`, and exports traces
/// to `otlp_endpoint` when given.
pub fn init(filter: &str, otlp_endpoint: Option<&str>) -> Result<Telemetry, TelemetryError> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let provider = otlp_endpoint.map(otlp_provider).transpose()?;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);
    // The collector gets every span at INFO and above (plugin calls, host calls, requests),
    // whatever the log filter keeps on standard error.
    let otlp = provider
        .as_ref()
        .map(|provider| otlp_layer(provider).with_filter(tracing_subscriber::filter::LevelFilter::INFO));
    // A second initialisation (tests, `serve --demo`) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(fmt).with(otlp).try_init();
    Ok(Telemetry { provider })
}
