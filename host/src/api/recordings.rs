//! `/v1/recordings`: recordings of failed plugin calls, to replay them with `bazaar plugin
//! replay`. The tenant reads their organization's; platform reviewers read any; the app's
//! developer reads an installation's only while the tenant shares them
//! (`PUT /v1/installations/{id}/recordings-sharing`).

use super::json::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::AppState;
use crate::catalog::apps;
use crate::installs;
use crate::platform::Scope;
use crate::runtime::recordings::{self, Filter, Summary};

#[derive(Serialize, ToSchema)]
pub struct RecordingList {
    pub data: Vec<Summary>,
}

#[derive(Deserialize, IntoParams)]
pub struct RecordingQuery {
    installation_id: Option<String>,
    /// An outcome class (`trap`, `fuel_exhausted`, `plugin_error`, ...).
    outcome: Option<String>,
    /// The event a delivery carried.
    event_id: Option<String>,
    /// 1 to 200 [default: 50].
    limit: Option<i64>,
}

/// The organization's recordings of failed plugin calls, newest first.
#[utoipa::path(get, path = "/v1/recordings", tag = "installations", params(RecordingQuery),
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = RecordingList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
    Query(query): Query<RecordingQuery>,
) -> Result<Json<RecordingList>, ApiError> {
    let filter = Filter {
        org_id: Some(&who.org_id),
        installation_id: query.installation_id.as_deref(),
        outcome: query.outcome.as_deref(),
        event_id: query.event_id.as_deref(),
        ..Filter::default()
    };
    Ok(Json(RecordingList {
        data: recordings::list(&state.store, &filter, query.limit.unwrap_or(50)).await?,
    }))
}

/// Recordings of one of the organization's apps, from the installations that share them.
#[utoipa::path(get, path = "/v1/apps/{id}/recordings", tag = "apps", params(("id" = String, Path, description = "App id"), RecordingQuery),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 200, body = RecordingList), (status = "4XX", body = ErrorBody)))]
pub async fn of_app(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path(id): Path<String>,
    Query(query): Query<RecordingQuery>,
) -> Result<Json<RecordingList>, ApiError> {
    let app = apps::get(&state.store, &id).await?;
    if app.owner_org_id != who.org_id {
        return Err(ApiError::NotFound("app".into()));
    }
    let sharing = installs::sharing_recordings(&state.store, &app.id).await?;
    let filter = Filter {
        app_id: Some(&app.id),
        installations_in: Some(&sharing),
        outcome: query.outcome.as_deref(),
        event_id: query.event_id.as_deref(),
        ..Filter::default()
    };
    Ok(Json(RecordingList {
        data: recordings::list(&state.store, &filter, query.limit.unwrap_or(50)).await?,
    }))
}

/// One recording, whole: what `bazaar plugin replay FILE --component NEW.wasm` reads. For the
/// tenant, for platform reviewers, and for the app's developer while the tenant shares.
#[utoipa::path(get, path = "/v1/recordings/{id}", tag = "installations",
    params(("id" = String, Path, description = "Recording id")),
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = Object), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
    Path(id): Path<String>,
) -> Result<Json<crate::runtime::recording::Recording>, ApiError> {
    let (summary, org_id, recording) = recordings::get(&state.store, &id).await?;
    let tenant = org_id == who.org_id;
    let reviewer = who.scopes.contains(Scope::AppsReview);
    let developer = !tenant
        && apps::get(&state.store, &summary.app_id).await?.owner_org_id == who.org_id
        && installs::shares_recordings(&state.store, &summary.installation_id).await?;
    if !(tenant || reviewer || developer) {
        return Err(ApiError::NotFound("recording".into()));
    }
    Ok(Json(recording))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sharing {
    /// Whether the app's developer may fetch this installation's recordings.
    pub share: bool,
}

/// Share (or stop sharing) this installation's recordings with the app's developer.
#[utoipa::path(put, path = "/v1/installations/{id}/recordings-sharing", tag = "installations", request_body = Sharing,
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn share(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Sharing>,
) -> Result<StatusCode, ApiError> {
    installs::share_recordings(&state.store, &who.org_id, &id, body.share).await?;
    Ok(StatusCode::NO_CONTENT)
}
