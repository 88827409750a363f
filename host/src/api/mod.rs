//! `/v1`: the public REST API. The web pages and external apps use it alike.

pub mod apps;
pub mod auth;
pub mod billing;
pub mod catalog;
pub mod connections;
pub mod deliveries;
pub mod error;
pub mod events;
pub mod extract;
pub mod installations;
pub mod invocations;
pub mod json;
pub mod keys;
pub mod marketplace;
pub mod oauth;
pub mod org;
pub mod projects;
pub mod ratelimit;
pub mod recordings;
pub mod rest_hooks;
pub mod review;
pub mod sessions;
pub mod tasks;
pub mod triggers;
pub mod zapier;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::Serialize;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, AuthorizationCode, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityRequirement, SecurityScheme,
};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::AppState;
use crate::platform::credentials::ApiKey as ApiKeyItem;
use crate::platform::outbox::Event;
use crate::platform::page::Page;
use crate::platform::projects::Project;
use crate::platform::tasks::Task;
use error::ApiError;
use extract::BodyLimit;

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
        installations::act,
        connections::list, connections::set_key, connections::disconnect, connections::set_client,
        connections::sign_in,
        triggers::list, triggers::secret, triggers::rotate,
        recordings::list, recordings::of_app, recordings::get, recordings::share,
        invocations::list, invocations::of_app,
        billing::subscriptions, billing::statement, billing::payouts,
        marketplace::set_icon, marketplace::add_screenshot, marketplace::remove_screenshot,
        marketplace::reply, marketplace::update_profile, marketplace::publisher, marketplace::verify,
        deliveries::list, deliveries::get, deliveries::replay, deliveries::replay_failed,
        deliveries::installation_analytics, deliveries::app_analytics,
        deliveries::webhook_secret, deliveries::rotate_webhook_secret, deliveries::enable_webhook,
        rest_hooks::subscribe, rest_hooks::list, rest_hooks::unsubscribe,
        oauth::client_secret, apps::sandbox,
        zapier::me, zapier::new_project, zapier::new_task,
        oauth::authorize, oauth::token, oauth::revoke, oauth::introspect, oauth::metadata,
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
        let scopes = crate::policy::app_scopes()
            .iter()
            .map(|s| (s.as_str(), s.describe()));
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::AuthorizationCode(AuthorizationCode::with_refresh_url(
                    "/oauth/authorize",
                    "/oauth/token",
                    Scopes::from_iter(scopes),
                    "/oauth/token",
                ))],
                "An external app's access token (`bzat_...`): authorization code with PKCE S256 \
                 (required), refresh tokens rotated on every use",
            )),
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

/// Adds the `oauth2` requirement beside `bearer` on every route whose scope an app may hold:
/// the routes an external app can call with its access token.
fn add_oauth2_requirements(openapi: &mut utoipa::openapi::OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let operations = [
            ("GET", &mut item.get),
            ("POST", &mut item.post),
            ("PUT", &mut item.put),
            ("PATCH", &mut item.patch),
            ("DELETE", &mut item.delete),
        ];
        for (method, operation) in operations {
            let (Some(operation), Some(scope)) = (operation, crate::policy::route_scope(method, path)) else {
                continue;
            };
            if crate::policy::app_may_hold(scope)
                && let Some(requirements) = operation.security.as_mut()
            {
                requirements.push(SecurityRequirement::new("oauth2", [scope.as_str()]));
            }
        }
    }
}

/// The OpenAPI document as pretty JSON, the form kept in the repository.
pub fn openapi_json() -> String {
    let mut doc = ApiDoc::openapi();
    add_oauth2_requirements(&mut doc);
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

/// The answer to a path nothing serves.
pub async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NoRoute(format!("{method} {}", uri.path()))
}

async fn wrong_method(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// Puts the body limit on each request so a 413 can say what the limit is, and closes the
/// connection after any 413 (from `/v1`, the OAuth forms or the pages): the rest of the body was
/// never read, so the connection cannot carry another request, and a keep-alive client must not
/// send its next one into it.
pub async fn tag_body_limit(limit: usize, mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(BodyLimit(limit));
    let mut response = next.run(req).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// `/v1` and the OAuth endpoints, for [`crate::router`] to merge with the pages.
pub fn routes(state: &AppState) -> Router<AppState> {
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
        .route(
            "/apps/{id}/icon",
            axum::routing::put(marketplace::set_icon)
                .layer(DefaultBodyLimit::max(crate::catalog::media::MAX_SCREENSHOT_BYTES)),
        )
        .route(
            "/apps/{id}/screenshots",
            post(marketplace::add_screenshot)
                .layer(DefaultBodyLimit::max(crate::catalog::media::MAX_SCREENSHOT_BYTES)),
        )
        .route(
            "/apps/{id}/screenshots/{sha256}",
            delete(marketplace::remove_screenshot),
        )
        .route(
            "/apps/{id}/reviews/{org}/reply",
            axum::routing::put(marketplace::reply),
        )
        .route("/publisher", axum::routing::put(marketplace::update_profile))
        .route("/publishers/{slug}", get(marketplace::publisher))
        .route(
            "/review/publishers/{org_id}/verification",
            axum::routing::put(marketplace::verify),
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
        .route("/installations/{id}/actions", post(installations::act))
        .route("/installations/{id}/connections", get(connections::list))
        .route(
            "/installations/{id}/connections/{name}",
            put(connections::set_key).delete(connections::disconnect),
        )
        .route(
            "/apps/{id}/connections/{name}/client",
            put(connections::set_client),
        )
        .route(
            "/installations/{id}/connections/{name}/sign-in",
            post(connections::sign_in),
        )
        .route("/installations/{id}/triggers", get(triggers::list))
        .route("/invocations", get(invocations::list))
        .route("/billing/subscriptions", get(billing::subscriptions))
        .route("/billing/statement", get(billing::statement))
        .route("/billing/payouts", get(billing::payouts))
        .route("/apps/{id}/invocations", get(invocations::of_app))
        .route("/recordings", get(recordings::list))
        .route("/recordings/{id}", get(recordings::get))
        .route("/apps/{id}/recordings", get(recordings::of_app))
        .route("/installations/{id}/recordings-sharing", put(recordings::share))
        .route(
            "/installations/{id}/triggers/{name}/secret",
            get(triggers::secret),
        )
        .route(
            "/installations/{id}/triggers/{name}/secret/rotate",
            post(triggers::rotate),
        )
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
        .route(
            "/installations/{id}/webhook/enable",
            post(deliveries::enable_webhook),
        )
        .route("/apps/{id}/analytics", get(deliveries::app_analytics))
        .route("/apps/{id}/client-secret", post(oauth::client_secret))
        .route("/deliveries", get(deliveries::list))
        .route("/deliveries/replay", post(deliveries::replay_failed))
        .route("/deliveries/{id}", get(deliveries::get))
        .route("/deliveries/{id}/replay", post(deliveries::replay))
        .route("/hooks", get(rest_hooks::list).post(rest_hooks::subscribe))
        .route("/hooks/{id}", delete(rest_hooks::unsubscribe))
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
        .route(
            "/hooks/in/{installation}/{name}",
            post(triggers::inbound).put(triggers::inbound),
        )
        .route("/healthz", get(healthz))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each `/v1` operation of the OpenAPI document names exactly the scope the policy's route
    /// table gives it, and every route of the table is documented.
    #[test]
    fn the_documented_scopes_are_the_policys() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            if !path.starts_with("/v1/") {
                continue;
            }
            for (method, operation) in item.as_object().unwrap() {
                let mut scopes: Vec<&str> = operation["security"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|r| r.as_object().unwrap().values())
                    .flat_map(|s| s.as_array().unwrap())
                    .map(|s| s.as_str().unwrap())
                    .collect();
                scopes.dedup();
                assert!(
                    scopes.len() <= 1,
                    "{method} {path} names several scopes: {scopes:?}"
                );
                let method = method.to_uppercase();
                assert_eq!(
                    scopes.first().copied(),
                    crate::policy::route_scope(&method, path).map(crate::platform::Scope::as_str),
                    "{method} {path}"
                );
                documented.push((method, path.clone()));
            }
        }
        for (method, path, _) in crate::policy::ROUTES {
            assert!(
                documented.iter().any(|(m, p)| m == method && p == path),
                "{method} {path} is in the policy but not documented"
            );
        }
    }

    #[test]
    fn the_oauth_flow_is_discoverable() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"];
        assert_eq!(flow["authorizationUrl"], "/oauth/authorize");
        assert_eq!(flow["tokenUrl"], "/oauth/token");
        assert!(flow["scopes"]["tasks:read"].is_string());
        assert!(
            flow["scopes"]["keys:write"].is_null(),
            "apps never hold keys:write"
        );
        for path in [
            "/oauth/authorize",
            "/oauth/token",
            "/oauth/revoke",
            "/oauth/introspect",
        ] {
            assert!(doc["paths"][path].is_object(), "{path}");
        }
        let tasks = &doc["paths"]["/v1/tasks"]["get"]["security"];
        assert!(
            tasks
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["oauth2"][0] == "tasks:read")
        );
        let keys = &doc["paths"]["/v1/api-keys"]["get"]["security"];
        assert!(keys.as_array().unwrap().iter().all(|r| r.get("oauth2").is_none()));
    }
}
