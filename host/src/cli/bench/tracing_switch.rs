//! Tracing on and off within one benchmark run: the benchmarks' subscriber logs warnings to
//! standard error and, while the switch is on, exports every span at INFO and above over
//! OTLP/HTTP to a collector in this process that counts what it receives and drops it, as
//! `bazaar serve` does with `otlp_endpoint` set. Off, plugin and host-call spans are not
//! created at all, as on a server without an endpoint.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The switch, with the collector's counters.
pub struct TracingSwitch {
    switch: Box<dyn Fn(bool) + Send + Sync>,
    provider: SdkTracerProvider,
    exports: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
}

impl TracingSwitch {
    /// Installs the benchmarks' subscriber (off) and starts the collector.
    pub async fn install() -> anyhow::Result<Self> {
        let exports = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let (counted, sized) = (exports.clone(), bytes.clone());
        let collector = axum::Router::new()
            .route(
                "/v1/traces",
                axum::routing::post(move |body: axum::body::Bytes| {
                    counted.fetch_add(1, Ordering::Relaxed);
                    sized.fetch_add(body.len() as u64, Ordering::Relaxed);
                    async { axum::http::StatusCode::OK }
                }),
            )
            .layer(axum::extract::DefaultBodyLimit::disable());
        tokio::spawn(async move { axum::serve(listener, collector).await });
        let provider = bazaar::telemetry::otlp_provider(&endpoint)?;
        // The exporting layer is swapped in and out (a reload rebuilds every callsite's
        // interest); a filter that said no once would be cached by the callsites.
        let make = {
            let provider = provider.clone();
            move || bazaar::telemetry::otlp_layer::<tracing_subscriber::Registry>(&provider)
        };
        let (otlp, handle) = tracing_subscriber::reload::Layer::new(None.or_else(|| false.then(&make)));
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let log = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter);
        // Spans at INFO and above, as `bazaar serve` exports.
        let otlp = otlp.with_filter(tracing_subscriber::filter::LevelFilter::INFO);
        tracing_subscriber::registry().with(otlp).with(log).try_init()?;
        let switch = move |on: bool| {
            let _ = handle.modify(|layer| *layer = on.then(&make));
        };
        Ok(TracingSwitch {
            switch: Box::new(switch),
            provider,
            exports,
            bytes,
        })
    }

    /// Turns exporting on or off. Off, what is still buffered is sent first: the exporter's
    /// thread would otherwise serialise and post it during the untraced calls that follow, on a
    /// two-core machine a share of their time.
    pub fn set(&self, on: bool) {
        (self.switch)(on);
        if !on {
            let _ = self.provider.force_flush();
        }
    }

    /// Sends what is buffered; returns the exports and bytes the collector received so far.
    pub fn received(&self) -> (u64, u64) {
        let _ = self.provider.force_flush();
        (
            self.exports.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}
