//! `/v1/review`: the platform reviewers' queue and decisions (scope `apps:review`, held only by
//! platform reviewers).

use super::json::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::AppState;
use crate::catalog::apps::{self, App, Version};
use crate::catalog::review;

/// A version waiting for review, with its app.
#[derive(Serialize, ToSchema)]
pub struct QueueItem {
    pub app: App,
    pub version: Version,
    /// What it changes since the app's last approved version.
    pub changes: crate::catalog::review::Changes,
    /// The screenshots and icon the developer uploaded.
    pub gallery: crate::catalog::media::Gallery,
}

#[derive(Serialize, ToSchema)]
pub struct Queue {
    pub data: Vec<QueueItem>,
}

/// Versions waiting for a reviewer, oldest first, with their automated findings.
#[utoipa::path(get, path = "/v1/review/queue", tag = "review",
    security(("bearer" = ["apps:review"]), ("session" = ["apps:review"])),
    responses((status = 200, body = Queue), (status = "4XX", body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    _: Authorized<need::AppsReview>,
) -> Result<Json<Queue>, ApiError> {
    let mut data = Vec::new();
    for version in apps::review_queue(&state.store).await? {
        let app = apps::get(&state.store, &version.app_id).await?;
        data.push(QueueItem {
            changes: crate::catalog::review::changes(&state.store, &app, &version).await?,
            gallery: crate::catalog::media::gallery(&state.store, &app.id).await?,
            app,
            version,
        });
    }
    Ok(Json(Queue { data }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// What the developer reads.
    #[serde(default)]
    note: String,
}

/// Approve a version: it is published in the catalog.
#[utoipa::path(post, path = "/v1/review/versions/{id}/approve", tag = "review", request_body = Decision,
    params(("id" = String, Path, description = "Version id")),
    security(("bearer" = ["apps:review"]), ("session" = ["apps:review"])),
    responses((status = 200, body = Version), (status = "4XX", body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsReview>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Decision>,
) -> Result<Json<Version>, ApiError> {
    Ok(Json(
        review::approve(&state.store, &id, who.user_id(), &body.note).await?,
    ))
}

/// Reject a version with a note saying why.
#[utoipa::path(post, path = "/v1/review/versions/{id}/reject", tag = "review", request_body = Decision,
    params(("id" = String, Path, description = "Version id")),
    security(("bearer" = ["apps:review"]), ("session" = ["apps:review"])),
    responses((status = 200, body = Version), (status = "4XX", body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsReview>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Decision>,
) -> Result<Json<Version>, ApiError> {
    Ok(Json(
        review::reject(&state.store, &id, who.user_id(), &body.note).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Suspension {
    /// Why; shown to the developer and to the organizations that installed the app.
    reason: String,
}

/// Suspend an app: it leaves the catalog and none of its installations run.
#[utoipa::path(post, path = "/v1/review/apps/{id}/suspend", tag = "review", request_body = Suspension,
    params(("id" = String, Path, description = "App id")),
    security(("bearer" = ["apps:review"]), ("session" = ["apps:review"])),
    responses((status = 200, body = App), (status = "4XX", body = ErrorBody)))]
pub async fn suspend(
    State(state): State<AppState>,
    _: Authorized<need::AppsReview>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Suspension>,
) -> Result<Json<App>, ApiError> {
    Ok(Json(
        review::set_suspended(&state.store, &id, Some(&body.reason)).await?,
    ))
}

/// Lift an app's suspension.
#[utoipa::path(post, path = "/v1/review/apps/{id}/reinstate", tag = "review",
    params(("id" = String, Path, description = "App id")),
    security(("bearer" = ["apps:review"]), ("session" = ["apps:review"])),
    responses((status = 200, body = App), (status = "4XX", body = ErrorBody)))]
pub async fn reinstate(
    State(state): State<AppState>,
    _: Authorized<need::AppsReview>,
    Path(id): Path<String>,
) -> Result<Json<App>, ApiError> {
    Ok(Json(review::set_suspended(&state.store, &id, None).await?))
}
