//! `/v1`: the public REST API. The web pages and external apps use it alike.

pub mod apps;
pub mod auth;
pub mod catalog;
pub mod deliveries;
pub mod error;
pub mod events;
pub mod extract;
pub mod hooks;
pub mod installations;
pub mod keys;
pub mod oauth;
pub mod org;
pub mod projects;
pub mod ratelimit;
pub mod review;
pub mod sessions;
pub mod tasks;
pub mod zapier;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Serialize;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::config::Config;
use crate::platform::credentials::ApiKey as ApiKeyItem;
use crate::platform::outbox::Event;
use crate::platform::page::Page;
use crate::platform::projects::Project;
use crate::platform::tasks::Task;
use crate::store::Store;
use error::ApiError;
use extract::BodyLimit;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// Seals secret configuration values.
    pub secrets: Arc<crate::installs::secrets::Secrets>,
    /// Where installations keep their files (`files:*` scopes).
    pub files_root: std::path::PathBuf,
    /// Where the automated review runs plugins; started on the first submission.
    pub review_sandbox: Arc<tokio::sync::OnceCell<crate::sandbox::Sandbox>>,
    /// This node's request rate limits.
    pub limiter: Arc<ratelimit::RateLimiter>,
    /// The plugin host for installed plugins (hooks, deliveries); started on first use.
    pub runtime: crate::runtime::SharedRuntime,
}

impl AppState {
    /// The state of a server on `store` with `config`.
    pub fn new(store: Store, config: Arc<Config>) -> Result<Self, crate::installs::secrets::SecretsError> {
        let secrets =
            crate::installs::secrets::Secrets::load(config.secret_key.as_deref(), &config.data_dir)?;
        let files_root = config.data_dir.join("plugin-files");
        let runtime = crate::runtime::SharedRuntime::new(
            crate::runtime::HostServices {
                store: store.clone(),
                files_root: files_root.clone(),
                allow_private_network: config.allow_private_network,
            },
            config.data_dir.join("component-cache"),
        );
        Ok(AppState {
            limiter: Arc::new(ratelimit::RateLimiter::new(config.rate_limits.clone())),
            files_root,
            secrets: Arc::new(secrets),
            review_sandbox: Arc::default(),
            runtime,
            store,
            config,
        })
    }

    /// The plugin host of this server, on its own database and files.
    pub async fn runtime(&self) -> Result<&crate::runtime::Runtime, error::ApiError> {
        self.runtime
            .get()
            .await
            .map_err(|e| error::ApiError::Internal(format!("plugin host: {e}")))
    }

    /// Runs the organization's installed `validate-task` hooks on a task about to be saved.
    pub async fn validate_task(
        &self,
        org_id: &str,
        task: &crate::runtime::Task,
    ) -> Result<(), error::ApiError> {
        use crate::installs::hooks;
        let hooked = hooks::installations_with(&self.store, org_id, "validate-task").await?;
        if hooked.is_empty() {
            return Ok(());
        }
        let runtime = self.runtime().await?;
        hooks::validate_task(&self.store, &self.secrets, runtime, hooked, task).await?;
        Ok(())
    }

    /// The sandbox of the automated review, compiling components into the data folder's cache.
    pub async fn review_sandbox(&self) -> Result<&crate::sandbox::Sandbox, error::ApiError> {
        let cache = self.config.data_dir.join("component-cache");
        self.review_sandbox
            .get_or_try_init(|| crate::sandbox::Sandbox::new(false, Some(cache)))
            .await
            .map_err(|e| error::ApiError::Internal(format!("review sandbox: {e}")))
    }
}

macro_rules! list_type {
    ($name:ident, $item:ty) => {
        /// One page of a list, newest first.
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            pub data: Vec<$item>,
            /// Pass as `cursor` to get the next page; `null` on the last page.
            pub next_cursor: Option<String>,
        }

        impl From<Page<$item>> for $name {
            fn from(page: Page<$item>) -> Self {
                $name {
                    data: page.items,
                    next_cursor: page.next_cursor,
                }
            }
        }
    };
}

list_type!(ProjectList, Project);
list_type!(TaskList, Task);
list_type!(EventList, Event);
list_type!(ApiKeyList, ApiKeyItem);
list_type!(DeliveryList, crate::events::queue::Delivery);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Bazaar API",
        description = "The public API of Bazaar. Every route names the scope it needs; \
                       authenticate with `Authorization: Bearer <API key>`.",
    ),
    paths(
        org::current, org::members, org::add, org::change_role, org::remove,
        keys::list, keys::create, keys::revoke,
        projects::list, projects::create, projects::get, projects::update,
        projects::archive, projects::restore,
        tasks::list, tasks::create, tasks::get, tasks::update, tasks::complete, tasks::reopen,
        events::list,
        sessions::sign_in, sessions::sign_out, sessions::sign_up, sessions::switch,
        apps::create, apps::list, apps::get, apps::add_version, apps::versions, apps::upload, apps::submit,
        review::queue, review::approve, review::reject, review::suspend, review::reinstate,
        catalog::browse, catalog::listing, catalog::rate,
        installations::list, installations::get, installations::install, installations::configure,
        installations::pause, installations::resume, installations::upgrade, installations::uninstall,
        deliveries::list, deliveries::get, deliveries::replay, deliveries::replay_failed,
        deliveries::installation_analytics, deliveries::app_analytics,
        deliveries::webhook_secret, deliveries::rotate_webhook_secret,
        hooks::subscribe, hooks::list, hooks::unsubscribe,
        oauth::client_secret, apps::sandbox,
        zapier::me, zapier::new_project, zapier::new_task,
    ),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An organization API key (`bzk_...`)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                auth::SESSION_COOKIE,
                "Web session; changes also need the `x-csrf-token` header",
            ))),
        );
    }
}

/// The OpenAPI document as pretty JSON, the form kept in the repository.
pub fn openapi_json() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut text = doc.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

async fn openapi_document() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NoRoute(format!("{method} {}", uri.path()))
}

async fn wrong_method(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// Puts the body limit on each request so a 413 can say what the limit is, and closes the
/// connection after any 413 (from `/v1`, the OAuth forms or the pages): the rest of the body was
/// never read, so the connection cannot carry another request, and a keep-alive client must not
/// send its next one into it.
async fn tag_body_limit(limit: usize, mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(BodyLimit(limit));
    let mut response = next.run(req).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let request_id = HeaderName::from_static("x-request-id");
    let v1 = Router::new()
        .route("/organization", get(org::current))
        .route("/members", get(org::members).post(org::add))
        .route("/members/{user_id}", delete(org::remove).patch(org::change_role))
        .route("/api-keys", get(keys::list).post(keys::create))
        .route("/api-keys/{id}", delete(keys::revoke))
        .route("/projects", get(projects::list).post(projects::create))
        .route("/projects/{id}", get(projects::get).patch(projects::update))
        .route("/projects/{id}/archive", post(projects::archive))
        .route("/projects/{id}/restore", post(projects::restore))
        .route("/tasks", get(tasks::list).post(tasks::create))
        .route("/tasks/{id}", get(tasks::get).patch(tasks::update))
        .route("/tasks/{id}/complete", post(tasks::complete))
        .route("/tasks/{id}/reopen", post(tasks::reopen))
        .route("/events", get(events::list))
        .route("/sessions", post(sessions::sign_in))
        .route("/sessions/current", delete(sessions::sign_out))
        .route("/sessions/switch", post(sessions::switch))
        .route("/signup", post(sessions::sign_up))
        .route("/apps", get(apps::list).post(apps::create))
        .route("/apps/{id}", get(apps::get))
        .route("/apps/{id}/versions", get(apps::versions).post(apps::add_version))
        .route(
            "/apps/{id}/versions/{version_id}/component",
            axum::routing::put(apps::upload)
                .layer(DefaultBodyLimit::max(crate::catalog::apps::MAX_COMPONENT_BYTES)),
        )
        .route("/apps/{id}/versions/{version_id}/submit", post(apps::submit))
        .route("/apps/{id}/versions/{version_id}/sandbox", post(apps::sandbox))
        .route("/review/queue", get(review::queue))
        .route("/review/versions/{id}/approve", post(review::approve))
        .route("/review/versions/{id}/reject", post(review::reject))
        .route("/review/apps/{id}/suspend", post(review::suspend))
        .route("/review/apps/{id}/reinstate", post(review::reinstate))
        .route("/catalog", get(catalog::browse))
        .route("/catalog/{slug}", get(catalog::listing))
        .route("/catalog/{slug}/ratings", post(catalog::rate))
        .route(
            "/installations",
            get(installations::list).post(installations::install),
        )
        .route(
            "/installations/{id}",
            get(installations::get).delete(installations::uninstall),
        )
        .route(
            "/installations/{id}/config",
            axum::routing::patch(installations::configure),
        )
        .route("/installations/{id}/pause", post(installations::pause))
        .route("/installations/{id}/resume", post(installations::resume))
        .route("/installations/{id}/upgrade", post(installations::upgrade))
        .route(
            "/installations/{id}/analytics",
            get(deliveries::installation_analytics),
        )
        .route(
            "/installations/{id}/webhook-secret",
            get(deliveries::webhook_secret),
        )
        .route(
            "/installations/{id}/webhook-secret/rotate",
            post(deliveries::rotate_webhook_secret),
        )
        .route("/apps/{id}/analytics", get(deliveries::app_analytics))
        .route("/apps/{id}/client-secret", post(oauth::client_secret))
        .route("/deliveries", get(deliveries::list))
        .route("/deliveries/replay", post(deliveries::replay_failed))
        .route("/deliveries/{id}", get(deliveries::get))
        .route("/deliveries/{id}/replay", post(deliveries::replay))
        .route("/hooks", get(hooks::list).post(hooks::subscribe))
        .route("/hooks/{id}", delete(hooks::unsubscribe))
        .route("/me", get(zapier::me))
        .route("/triggers/new-project", get(zapier::new_project))
        .route("/triggers/new-task", get(zapier::new_task))
        .route("/openapi.json", get(openapi_document))
        .method_not_allowed_fallback(wrong_method)
        .layer(middleware::from_fn_with_state(state.clone(), ratelimit::limit));
    Router::new()
        .nest("/v1", v1)
        .route("/oauth/authorize", get(oauth::authorize).post(oauth::decide))
        .route("/oauth/sign-in", post(oauth::sign_in))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/oauth/introspect", post(oauth::introspect))
        .route("/.well-known/oauth-authorization-server", get(oauth::metadata))
        .merge(crate::web::router())
        .route("/healthz", get(healthz))
        .fallback(no_route)
        .with_state(state)
        .layer(middleware::from_fn(move |req, next| {
            tag_body_limit(limit, req, next)
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
