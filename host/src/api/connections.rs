//! `/v1/installations/{id}/connections` (the tenant's side) and
//! `/v1/apps/{id}/connections/{name}/client` (the developer's OAuth client at the vendor).
//!
//! No route returns a credential: the tenant sees each connection's state, the developer's client
//! secret is write-only, and OAuth sign-ins run in the browser (`/installed/{id}/connect/{name}`).

use super::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::AppState;
use crate::capabilities::credentials as connections;
use crate::catalog::apps;
use crate::installs;
use crate::policy::connections::ConnectionSpec;

#[derive(Serialize, ToSchema)]
pub struct ConnectionList {
    pub data: Vec<connections::ConnectionHealth>,
}

/// The connections an installation's app declares, and what the tenant connected.
pub(crate) async fn of_installation(
    state: &AppState,
    org_id: &str,
    id: &str,
) -> Result<(installs::Installation, Vec<ConnectionSpec>), ApiError> {
    let installation = installs::get(&state.store, org_id, id).await?;
    let version = apps::version(&state.store, &installation.version_id).await?;
    Ok((installation, version.manifest.connections))
}

fn named(specs: Vec<ConnectionSpec>, name: &str) -> Result<ConnectionSpec, ApiError> {
    specs
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| ApiError::NotFound(format!("connection {name}")))
}

/// The installation's connections: their state, never their credentials.
#[utoipa::path(get, path = "/v1/installations/{id}/connections", tag = "installations",
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = ConnectionList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
    Path(id): Path<String>,
) -> Result<Json<ConnectionList>, ApiError> {
    let (installation, specs) = of_installation(&state, &who.org_id, &id).await?;
    Ok(Json(ConnectionList {
        data: connections::health(&state.store, &installation.id, &installation.app_id, &specs).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionKey {
    /// The key, kept sealed; the app never sees it.
    pub key: String,
}

/// Connect an `api-key` connection with the tenant's key (replacing the one kept).
#[utoipa::path(put, path = "/v1/installations/{id}/connections/{name}", tag = "installations",
    request_body = ConnectionKey,
    params(("id" = String, Path, description = "Installation id"), ("name" = String, Path, description = "Connection name")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn set_key(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path((id, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<ConnectionKey>,
) -> Result<StatusCode, ApiError> {
    let (installation, specs) = of_installation(&state, &who.org_id, &id).await?;
    let spec = named(specs, &name)?;
    connections::set_key(&state.store, &state.secrets, &installation.id, &spec, &body.key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disconnect: the kept key or tokens are deleted (revoke them at the vendor too).
#[utoipa::path(delete, path = "/v1/installations/{id}/connections/{name}", tag = "installations",
    params(("id" = String, Path, description = "Installation id"), ("name" = String, Path, description = "Connection name")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn disconnect(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path((id, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (installation, specs) = of_installation(&state, &who.org_id, &id).await?;
    let spec = named(specs, &name)?;
    connections::disconnect(&state.store, &installation.id, &spec.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionClient {
    /// The client id the vendor gave the developer.
    pub client_id: String,
    /// The client secret, kept sealed and never returned; omit it for a public client (PKCE only).
    #[serde(default)]
    pub client_secret: Option<String>,
}

/// Set the OAuth client the developer registered at the vendor for one of the app's `oauth2`
/// connections; its redirect URI at the vendor is `{this server}/connections/callback`.
#[utoipa::path(put, path = "/v1/apps/{id}/connections/{name}/client", tag = "apps",
    request_body = ConnectionClient,
    params(("id" = String, Path, description = "App id"), ("name" = String, Path, description = "Connection name")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn set_client(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path((id, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<ConnectionClient>,
) -> Result<StatusCode, ApiError> {
    let app = apps::get(&state.store, &id).await?;
    if app.owner_org_id != who.org_id {
        return Err(ApiError::NotFound("app".into()));
    }
    let declared = apps::versions(&state.store, &app.id, false)
        .await?
        .into_iter()
        .any(|v| {
            v.manifest
                .connections
                .iter()
                .any(|c| c.name == name && c.kind == crate::catalog::manifest::ConnectionKind::Oauth2)
        });
    if !declared {
        return Err(ApiError::NotFound(format!("oauth2 connection {name}")));
    }
    connections::set_client(
        &state.store,
        &state.secrets,
        &app.id,
        &name,
        &body.client_id,
        body.client_secret.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct SignInStart {
    /// Where to send the person's browser: the vendor's sign-in, which comes back to
    /// `/connections/callback`.
    pub location: String,
}

/// Start connecting an `oauth2` connection: the person signs in at the vendor in their browser
/// (state and PKCE S256, used once within ten minutes, bound to the person who started it).
#[utoipa::path(post, path = "/v1/installations/{id}/connections/{name}/sign-in", tag = "installations",
    params(("id" = String, Path, description = "Installation id"), ("name" = String, Path, description = "Connection name")),
    security(("session" = ["installations:write"])),
    responses((status = 200, body = SignInStart), (status = "4XX", body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<SignInStart>, ApiError> {
    let super::auth::Actor::User { user_id, .. } = &who.actor else {
        return Err(ApiError::Forbidden(
            "a person connects an account, signed in to Bazaar in their browser".into(),
        ));
    };
    let (installation, specs) = of_installation(&state, &who.org_id, &id).await?;
    let spec = named(specs, &name)?;
    let location = connections::begin_sign_in(
        &state.store,
        &state.secrets,
        &state.issuer,
        state.config.allow_private_network,
        &installation.id,
        &installation.app_id,
        &spec,
        user_id,
    )
    .await?;
    Ok(Json(SignInStart { location }))
}
