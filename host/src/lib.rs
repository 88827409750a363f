//! Bazaar: turns a SaaS product into a platform. See `DESIGN.md` for the map.
//!
//! The crate root composes the application: [`AppState`], what every handler reaches, and
//! [`router`], which merges the API's routes (`/v1`, OAuth) with the pages'. Both `api` and
//! `web` depend on this composition; neither depends on the other's router.

pub mod api;
pub mod billing;
pub mod capabilities;
pub mod catalog;
pub mod config;
pub mod contract;
pub mod events;
pub mod html;
pub mod installs;
pub mod oauth;
pub mod platform;
pub mod policy;
pub mod runtime;
pub mod sandbox;
pub mod secrets;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware;
use axum::response::Response;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::store::Store;

/// The issuer of this server: `public_url` when configured; otherwise the listening address
/// (loopback for an unspecified one), with a warning, since clients elsewhere cannot use it.
fn issuer(config: &Config, addr: std::net::SocketAddr) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let issuer = format!("http://{addr}");
    tracing::warn!(
        %issuer,
        "BAZAAR_PUBLIC_URL is not set: the OAuth issuer and links use the listening address; \
         set public_url to the address clients reach this server at"
    );
    issuer
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// Seals secret configuration values.
    pub secrets: Arc<crate::secrets::Secrets>,
    /// Where installations keep their files (`files:*` scopes).
    pub files_root: std::path::PathBuf,
    /// Where the automated review runs plugins; started on the first submission.
    pub review_sandbox: Arc<tokio::sync::OnceCell<crate::sandbox::Sandbox>>,
    /// This node's request rate limits.
    pub limiter: Arc<api::ratelimit::RateLimiter>,
    /// Where every plugin call on this server is journaled (flushed at shutdown).
    pub journal: Arc<crate::runtime::journal::Journal>,
    /// Paid apps' ledger and the provider money moves through.
    pub billing: Arc<crate::billing::Billing>,
    /// The plugin host for installed plugins (hooks, deliveries); started on first use.
    pub runtime: crate::runtime::SharedRuntime,
    /// The OAuth issuer and this server's public origin, fixed when the server starts: the
    /// configured `public_url`, or the address it listens on. Never a request's `Host` header,
    /// which a client chooses.
    pub issuer: Arc<str>,
}

impl AppState {
    /// The state of a server on `store` with `config`, listening on `addr`.
    pub fn new(
        store: Store,
        config: Arc<Config>,
        addr: std::net::SocketAddr,
    ) -> Result<Self, crate::secrets::SecretsError> {
        let secrets = Arc::new(crate::secrets::Secrets::load(
            config.secret_key.as_deref(),
            &config.data_dir,
        )?);
        let files_root = config.data_dir.join("plugin-files");
        let issuer: Arc<str> = issuer(&config, addr).into();
        let journal = Arc::new(crate::runtime::journal::Journal::new(
            store.clone(),
            i64::try_from(config.delivery.retention_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX),
        ));
        let runtime = crate::runtime::SharedRuntime::new(
            crate::runtime::HostServices {
                store: store.clone(),
                files_root: files_root.clone(),
                allow_private_network: config.allow_private_network,
                secrets: secrets.clone(),
                issuer: issuer.clone(),
                journal: Some(journal.clone()),
            },
            config.data_dir.join("component-cache"),
        );
        Ok(AppState {
            issuer,
            limiter: Arc::new(api::ratelimit::RateLimiter::new(config.rate_limits.clone())),
            files_root,
            secrets,
            review_sandbox: Arc::default(),
            journal,
            billing: Arc::new(crate::billing::Billing {
                provider: Box::new(crate::billing::RecordingProvider::default()),
                platform_share_percent: config.billing.platform_share_percent,
            }),
            runtime,
            store,
            config,
        })
    }

    /// The plugin host of this server, on its own database and files.
    pub async fn runtime(&self) -> Result<&crate::runtime::Runtime, api::error::ApiError> {
        self.runtime
            .get()
            .await
            .map_err(|e| api::error::ApiError::Internal(format!("plugin host: {e}")))
    }

    /// Runs the organization's installed `validate-task` hooks on a task about to be saved.
    pub async fn validate_task(
        &self,
        org_id: &str,
        task: &crate::runtime::Task,
    ) -> Result<(), api::error::ApiError> {
        use crate::installs::checks;
        let hooked = checks::installations_with(&self.store, org_id, "validate-task").await?;
        if hooked.is_empty() {
            return Ok(());
        }
        let runtime = self.runtime().await?;
        checks::validate_task(&self.store, &self.secrets, runtime, hooked, task).await?;
        Ok(())
    }

    /// The sandbox of the automated review, compiling components into the data folder's cache.
    pub async fn review_sandbox(&self) -> Result<&crate::sandbox::Sandbox, api::error::ApiError> {
        let cache = self.config.data_dir.join("component-cache");
        self.review_sandbox
            .get_or_try_init(|| crate::sandbox::Sandbox::new(false, Some(cache)))
            .await
            .map_err(|e| api::error::ApiError::Internal(format!("review sandbox: {e}")))
    }
}

/// The whole HTTP application: the API and the pages on one state, with the layers every
/// request passes (request id, tracing, body limit).
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let request_id = HeaderName::from_static("x-request-id");
    api::routes(&state)
        .merge(web::router())
        .fallback(api::no_route)
        .with_state(state)
        .layer(middleware::from_fn(move |req, next| {
            api::tag_body_limit(limit, req, next)
        }))
        .layer(DefaultBodyLimit::max(limit))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_else(|| req.uri().path().to_owned());
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!("request", method = %req.method(), %route, request_id = %id,
                        org = tracing::field::Empty)
                })
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _span: &tracing::Span| {
                    tracing::debug!(status = res.status().as_u16(), ?latency, "response");
                }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
