//! `/v1/apps`: a developer's own apps, their versions, component uploads and submission.

use super::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiBytes, ApiJson};
use crate::AppState;
use crate::catalog::apps::{self, App, AppKind, Version};
use crate::catalog::review;

/// A manifest as TOML or JSON text, or as a JSON object.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ManifestInput {
    Text(String),
    #[schema(value_type = Object)]
    Object(serde_json::Value),
}

impl ManifestInput {
    fn text(&self) -> String {
        match self {
            ManifestInput::Text(text) => text.clone(),
            ManifestInput::Object(value) => value.to_string(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    kind: AppKind,
    manifest: ManifestInput,
}

/// Create an app from its manifest. The organization becomes its developer.
#[utoipa::path(post, path = "/v1/apps", tag = "apps", request_body = CreateApp,
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 201, body = App), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    ApiJson(body): ApiJson<CreateApp>,
) -> Result<(StatusCode, Json<App>), ApiError> {
    let app = apps::create(
        &state.store,
        &who.org_id,
        who.user_id(),
        body.kind,
        &body.manifest.text(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(app)))
}

#[derive(Serialize, ToSchema)]
pub struct AppList {
    pub data: Vec<App>,
}

/// The organization's own apps.
#[utoipa::path(get, path = "/v1/apps", tag = "apps",
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 200, body = AppList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
) -> Result<Json<AppList>, ApiError> {
    Ok(Json(AppList {
        data: apps::list_owned(&state.store, &who.org_id).await?,
    }))
}

/// One of the organization's apps.
#[utoipa::path(get, path = "/v1/apps/{id}", tag = "apps", params(("id" = String, Path, description = "App id")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 200, body = App), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path(id): Path<String>,
) -> Result<Json<App>, ApiError> {
    Ok(Json(apps::owned(&state.store, &who.org_id, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVersion {
    /// `major.minor.patch`.
    version: String,
    manifest: ManifestInput,
    #[serde(default)]
    changelog: String,
}

/// Add a draft version. Upload its component, then submit it for review.
#[utoipa::path(post, path = "/v1/apps/{id}/versions", tag = "apps", request_body = CreateVersion,
    params(("id" = String, Path, description = "App id")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 201, body = Version), (status = "4XX", body = ErrorBody)))]
pub async fn add_version(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateVersion>,
) -> Result<(StatusCode, Json<Version>), ApiError> {
    let app = apps::owned(&state.store, &who.org_id, &id).await?;
    let version = apps::add_version(
        &state.store,
        &app,
        &body.version,
        &body.manifest.text(),
        &body.changelog,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(version)))
}

#[derive(Serialize, ToSchema)]
pub struct VersionList {
    pub data: Vec<Version>,
}

/// Every version of the app, newest first, with review state and findings.
#[utoipa::path(get, path = "/v1/apps/{id}/versions", tag = "apps", params(("id" = String, Path, description = "App id")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 200, body = VersionList), (status = "4XX", body = ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path(id): Path<String>,
) -> Result<Json<VersionList>, ApiError> {
    let app = apps::owned(&state.store, &who.org_id, &id).await?;
    Ok(Json(VersionList {
        data: apps::versions(&state.store, &app.id, false).await?,
    }))
}

/// Upload the component (`.wasm`, up to 10 MiB) of a draft version.
#[utoipa::path(put, path = "/v1/apps/{id}/versions/{version_id}/component", tag = "apps",
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    params(("id" = String, Path, description = "App id"), ("version_id" = String, Path, description = "Version id")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 200, body = Version), (status = "4XX", body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path((id, version_id)): Path<(String, String)>,
    ApiBytes(bytes): ApiBytes,
) -> Result<Json<Version>, ApiError> {
    let app = apps::owned(&state.store, &who.org_id, &id).await?;
    Ok(Json(
        apps::upload_component(&state.store, &app, &version_id, &bytes).await?,
    ))
}

/// Submit a draft: the automated review runs now and its findings are stored. A failed check
/// rejects the version with the reason; otherwise it waits for a reviewer.
#[utoipa::path(post, path = "/v1/apps/{id}/versions/{version_id}/submit", tag = "apps",
    params(("id" = String, Path, description = "App id"), ("version_id" = String, Path, description = "Version id")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 200, body = Version), (status = "4XX", body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path((id, version_id)): Path<(String, String)>,
) -> Result<Json<Version>, ApiError> {
    let app = apps::owned(&state.store, &who.org_id, &id).await?;
    let sandbox = state.review_sandbox().await?;
    Ok(Json(
        review::submit(
            &state.store,
            sandbox,
            &app,
            &version_id,
            state.config.allow_private_network,
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxEvent {
    /// The event kind, e.g. `task.created`.
    kind: String,
    /// The resource as JSON; a sample task/project when absent.
    #[schema(value_type = Object)]
    payload: Option<serde_json::Value>,
}

/// What a sandbox run did.
#[derive(Serialize, ToSchema)]
pub struct SandboxResult {
    /// `ok`, `plugin_error`, `fuel_exhausted`, `memory_limit`, `deadline`, `trap`, ...
    pub outcome: String,
    pub message: String,
    pub fuel_used: u64,
    pub duration_us: u64,
    /// The plugin's log lines.
    #[schema(value_type = Vec<Object>)]
    pub log: Vec<crate::runtime::output::LogLine>,
}

/// Run a version's component on a sample or custom event in a sandbox organization, under the
/// limits it asked for (production's), with its declared scopes granted.
#[utoipa::path(post, path = "/v1/apps/{id}/versions/{version_id}/sandbox", tag = "apps", request_body = SandboxEvent,
    params(("id" = String, Path, description = "App id"), ("version_id" = String, Path, description = "Version id")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 200, body = SandboxResult), (status = "4XX", body = ErrorBody)))]
pub async fn sandbox(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path((id, version_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<SandboxEvent>,
) -> Result<Json<SandboxResult>, ApiError> {
    let app = apps::owned(&state.store, &who.org_id, &id).await?;
    let version = apps::version_of(&state.store, &app.id, &version_id).await?;
    let sha = version
        .component_sha256
        .as_deref()
        .ok_or_else(|| ApiError::Invalid("upload the version's component first".into()))?;
    let bytes = apps::component(&state.store, sha).await?;
    let sandbox = state.review_sandbox().await?;
    let run = crate::catalog::review::sandbox_run(&version.manifest);
    let event = sandbox.event(crate::sandbox::EventFile {
        kind: body.kind,
        id: None,
        subject_id: None,
        payload: body
            .payload
            .unwrap_or_else(crate::catalog::review::sample_payload),
    });
    let report = sandbox
        .run_event(&bytes, &run, event)
        .await
        .map_err(|e| ApiError::Invalid(e.to_string()))?;
    Ok(Json(SandboxResult {
        outcome: report.outcome.class().into(),
        message: report.message,
        fuel_used: report.fuel_used,
        duration_us: report.duration_us,
        log: report.log,
    }))
}
