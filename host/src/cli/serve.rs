//! `bazaar serve` and `bazaar migrate`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::{StoreArgs, demo, init_logging, load_config};
use bazaar::server;

/// Where the demo finds the example plugins.
pub struct Demo {
    /// The example plugins' folder [default: the workspace's example-plugins].
    pub examples: Option<PathBuf>,
    /// Where the built plugins are [default: target/wasm32-wasip2/plugin].
    pub plugins: Option<PathBuf>,
}

/// `bazaar serve`.
pub async fn serve(
    file: Option<&Path>,
    listen: Option<SocketAddr>,
    store: &StoreArgs,
    demo: Option<Demo>,
) -> anyhow::Result<()> {
    let config = load_config(file, store, listen)?;
    let mut telemetry = bazaar::telemetry::init(&config.log, config.otlp_endpoint.as_deref())?;
    if let Some(endpoint) = &config.otlp_endpoint {
        tracing::info!(%endpoint, "exporting traces over OTLP");
    }
    let store = server::open_store(&config)
        .await
        .context("opening the database")?;
    if let Some(paths) = demo {
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let examples = paths
            .examples
            .unwrap_or_else(|| workspace.join("example-plugins"));
        let plugins = paths
            .plugins
            .unwrap_or_else(|| workspace.join("target/wasm32-wasip2/plugin"));
        let creds = demo::ensure(&store, &config.data_dir).await?;
        let published = demo::publish_examples(&store, &config.data_dir, &examples, &plugins).await?;
        if !published.is_empty() {
            println!(
                "Published {} example plugins in the catalog: {}",
                published.len(),
                published.join(", ")
            );
        }
        println!("Demo organization \"{}\" is ready.", creds.organization);
        println!("  open:     http://{}/ (the marketplace)", config.listen);
        println!("  sign in:  {} / {}", creds.email, creds.password);
        println!("  API key:  {}", creds.api_key);
        println!(
            "  try:      curl -H 'Authorization: Bearer {}' http://{}/v1/projects",
            creds.api_key, config.listen
        );
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another server using it? (set --listen)",
                config.listen
            )
        })?;
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let config = Arc::new(config);
    let running = server::spawn(listener, store.clone(), config.clone())?;
    tracing::info!(addr = %running.addr, "Bazaar is listening");
    println!("Bazaar is listening on http://{}", running.addr);
    server::serve_until_signal(running, grace).await?;
    store.close().await;
    tracing::info!("stopped");
    telemetry.shutdown();
    Ok(())
}

/// `bazaar migrate`.
pub async fn migrate(file: Option<&Path>, store: &StoreArgs) -> anyhow::Result<()> {
    let config = load_config(file, store, None)?;
    init_logging(&config.log);
    server::open_store(&config).await?;
    eprintln!("database is up to date");
    Ok(())
}
