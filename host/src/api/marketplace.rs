//! What a developer puts on their app's marketplace page and their publisher profile: the icon
//! and screenshots (raw PNG, JPEG or WebP bodies, checked from their bytes), replies to reviews;
//! the verified mark reviewers give a publisher; and the public publisher profile.

use super::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Authorized, PublicOr, need};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiBytes, ApiJson};
use crate::AppState;
use crate::catalog::media::{self, Image, MAX_SCREENSHOT_BYTES};
use crate::catalog::publishers::{self, Publisher};
use crate::catalog::{apps, search};

/// An image upload's body: at most the largest screenshot (each role checks its own limit).
pub type ImageBody = ApiBytes<MAX_SCREENSHOT_BYTES>;

/// Set the app's icon (PNG, JPEG or WebP, at most 512 KiB, 32 to 1024 pixels a side).
#[utoipa::path(put, path = "/v1/apps/{id}/icon", tag = "apps",
    request_body(content = Vec<u8>, content_type = "image/png"),
    params(("id" = String, Path, description = "App id")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 200, body = Image), (status = "4XX", body = ErrorBody)))]
pub async fn set_icon(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path(id): Path<String>,
    ApiBytes(bytes): ImageBody,
) -> Result<Json<Image>, ApiError> {
    let app = apps::owned(&state.store, &who.org_id, &id).await?;
    Ok(Json(media::set_icon(&state.store, &app.id, &bytes).await?))
}

/// Add a screenshot (PNG, JPEG or WebP, at most 4 MiB, 200 to 4096 pixels a side; 8 at most).
#[utoipa::path(post, path = "/v1/apps/{id}/screenshots", tag = "apps",
    request_body(content = Vec<u8>, content_type = "image/png"),
    params(("id" = String, Path, description = "App id")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 201, body = Image), (status = "4XX", body = ErrorBody)))]
pub async fn add_screenshot(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path(id): Path<String>,
    ApiBytes(bytes): ImageBody,
) -> Result<(StatusCode, Json<Image>), ApiError> {
    let app = apps::owned(&state.store, &who.org_id, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(media::add_screenshot(&state.store, &app.id, &bytes).await?),
    ))
}

/// Remove a screenshot.
#[utoipa::path(delete, path = "/v1/apps/{id}/screenshots/{sha256}", tag = "apps",
    params(("id" = String, Path, description = "App id"), ("sha256" = String, Path, description = "The image's hash")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn remove_screenshot(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path((id, sha256)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let app = apps::owned(&state.store, &who.org_id, &id).await?;
    media::remove_screenshot(&state.store, &app.id, &sha256).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// What the developer answers, shown under the review.
    reply: String,
}

/// Answer an organization's review of your app (`org` is the reviewing organization's slug).
#[utoipa::path(put, path = "/v1/apps/{id}/reviews/{org}/reply", tag = "apps", request_body = Reply,
    params(("id" = String, Path, description = "App id"), ("org" = String, Path, description = "Reviewing organization's slug")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn reply(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path((id, org)): Path<(String, String)>,
    ApiJson(body): ApiJson<Reply>,
) -> Result<StatusCode, ApiError> {
    let app = apps::owned(&state.store, &who.org_id, &id).await?;
    search::reply(&state.store, &app.id, &org, &body.reply).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default)]
    about: String,
    /// An https:// URL.
    website: Option<String>,
}

/// Write your organization's publisher profile (shown on its apps' pages).
#[utoipa::path(put, path = "/v1/publisher", tag = "apps", request_body = Profile,
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 200, body = Publisher), (status = "4XX", body = ErrorBody)))]
pub async fn update_profile(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    ApiJson(body): ApiJson<Profile>,
) -> Result<Json<Publisher>, ApiError> {
    Ok(Json(
        publishers::update(&state.store, &who.org_id, &body.about, body.website.as_deref()).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct PublisherPage {
    #[serde(flatten)]
    pub publisher: Publisher,
    /// Its published apps.
    pub apps: Vec<search::Card>,
}

/// A publisher's profile and apps. Public, as `/v1/catalog`.
#[utoipa::path(get, path = "/v1/publishers/{slug}", tag = "catalog",
    params(("slug" = String, Path, description = "The organization's slug")),
    security((), ("bearer" = ["apps:read"]), ("session" = ["apps:read"])),
    responses((status = 200, body = PublisherPage), (status = "4XX", body = ErrorBody)))]
pub async fn publisher(
    State(state): State<AppState>,
    _: PublicOr<need::AppsRead>,
    Path(slug): Path<String>,
) -> Result<Json<PublisherPage>, ApiError> {
    let publisher = publishers::by_slug(&state.store, &slug).await?;
    let apps = search::by_publisher(&state.store, &publisher.org_id).await?;
    Ok(Json(PublisherPage { publisher, apps }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// Give (`true`) or take back (`false`) the verified mark.
    verified: bool,
}

/// Mark a publisher verified, once you have checked who they are (platform reviewers).
#[utoipa::path(put, path = "/v1/review/publishers/{org_id}/verification", tag = "review", request_body = Verification,
    params(("org_id" = String, Path, description = "The publisher's organization id")),
    security(("bearer" = ["apps:review"]), ("session" = ["apps:review"])),
    responses((status = 200, body = Publisher), (status = "4XX", body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsReview>,
    Path(org_id): Path<String>,
    ApiJson(body): ApiJson<Verification>,
) -> Result<Json<Publisher>, ApiError> {
    Ok(Json(
        publishers::verify(&state.store, &org_id, who.user_id(), body.verified).await?,
    ))
}
