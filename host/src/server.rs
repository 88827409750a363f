//! Running the HTTP server: bind, serve, and shut down gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::AppState;
use crate::config::Config;
use crate::events::{Dispatcher, Services};
use crate::store::{Store, StoreError};

/// Opens the configured database (PostgreSQL if `database_url` is set, otherwise SQLite in the
/// data folder) and brings its schema up to date.
pub async fn open_store(config: &Config) -> Result<Store, StoreError> {
    let store = match &config.database_url {
        Some(url) => Store::connect(url).await?,
        None => Store::open_data_dir(&config.data_dir).await?,
    };
    store.migrate().await?;
    Ok(store)
}

/// A server running in the background; dropping it does not stop it, [`RunningServer::stop`] does.
pub struct RunningServer {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting connections, lets in-flight requests finish, and waits for that.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Resolves when the server stopped by itself (it should not).
    pub async fn join(self) -> std::io::Result<()> {
        self.task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// A sender that asks the server to stop gracefully.
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }
}

/// Serves the application on an already bound listener.
pub fn spawn(listener: TcpListener, store: Store, config: Arc<Config>) -> std::io::Result<RunningServer> {
    let addr = listener.local_addr()?;
    let state =
        AppState::new(store, config.clone(), addr).map_err(|e| std::io::Error::other(e.to_string()))?;
    let delivery = config.delivery.enabled.then(|| Services {
        store: state.store.clone(),
        secrets: state.secrets.clone(),
        runtime: state.runtime.clone(),
        config: config.delivery.clone(),
        node_id: config
            .node_id
            .clone()
            .unwrap_or_else(|| crate::store::new_id("node")),
        allow_private_network: config.allow_private_network,
    });
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let billing = (state.billing.clone(), state.store.clone());
    let journal = state.journal.clone();
    let app = crate::router(state);
    let (stop, mut stopped) = watch::channel(false);
    // Monthly subscriptions renew (and uninstalled ones end) once their paid month is over.
    let mut renewals_stop = stop.subscribe();
    tokio::spawn(async move {
        let (billing, store) = billing;
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = every.tick() => collect_renewals(&billing, &store, crate::store::now_ms()).await,
                _ = renewals_stop.changed() => break,
            }
        }
    });
    let task = tokio::spawn(async move {
        let dispatcher = match delivery {
            Some(services) => Some(Dispatcher::start(services, grace).await),
            None => None,
        };
        // The peer's address: callers without credentials are rate limited by it.
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        })
        .await;
        if let Some(dispatcher) = dispatcher {
            dispatcher.stop().await;
        }
        // The last calls' rows: nothing journaled is left in the queue at a clean stop.
        journal.flush().await;
        served
    });
    Ok(RunningServer { addr, stop, task })
}

/// One round of renewals (each node runs one a minute): charges what is due, and pauses the
/// installations whose subscription ended unpaid.
pub async fn collect_renewals(billing: &crate::billing::Billing, store: &crate::store::Store, now: i64) {
    match billing.renew_due(store, now).await {
        Ok(renewals) => {
            for lapsed in renewals.lapsed {
                if let Err(e) =
                    crate::installs::set_paused(store, &lapsed.org_id, &lapsed.installation_id, true).await
                {
                    tracing::warn!(installation = %lapsed.installation_id, error = %e, "an unpaid installation could not be paused");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "subscriptions could not be renewed"),
    }
}

/// Runs until SIGTERM or Ctrl-C, then drains in-flight requests for up to the grace period.
pub async fn serve_until_signal(server: RunningServer, grace: Duration) -> std::io::Result<()> {
    let stopper = server.stopper();
    let mut task = tokio::spawn(server.join());
    tokio::select! {
        result = &mut task => return result.unwrap_or_else(|e| Err(std::io::Error::other(e))),
        () = shutdown_signal() => {}
    }
    tracing::info!("shutting down: finishing in-flight requests and deliveries");
    let _ = stopper.send(true);
    // Requests, then deliveries, each get the grace period.
    match tokio::time::timeout(grace * 2 + Duration::from_secs(5), task).await {
        Ok(result) => result.unwrap_or_else(|e| Err(std::io::Error::other(e))),
        Err(_) => {
            tracing::warn!(
                ?grace,
                "in-flight requests did not finish in time; exiting anyway"
            );
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
