//! `/v1/catalog`: browsing published apps, their pages, and ratings.

use super::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Authorized, PublicOr, need};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use crate::AppState;
use crate::catalog::search::{self, Card, Listing, Query, Sort};
use crate::installs;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Browse {
    /// Words to find in the name and descriptions (full-text, stemmed; all must match).
    q: Option<String>,
    /// communication, storage, analytics, crm, automation, payment, productivity, developer-tools, other
    category: Option<String>,
    /// `plugin` or `external`.
    kind: Option<String>,
    /// `relevance` (default: best match first, or most installed without `q`), `installs`,
    /// `rating` or `newest`.
    sort: Option<String>,
    /// 1 to 100 (default 50).
    limit: Option<u32>,
    offset: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CardList {
    pub data: Vec<Card>,
}

/// Browse and search published apps. Public: without credentials it is the signed-out view
/// (nothing marked installed), rate limited per address.
#[utoipa::path(get, path = "/v1/catalog", tag = "catalog", params(Browse),
    security((), ("bearer" = ["apps:read"]), ("session" = ["apps:read"])),
    responses((status = 200, body = CardList), (status = "4XX", body = ErrorBody)))]
pub async fn browse(
    State(state): State<AppState>,
    PublicOr(who, ..): PublicOr<need::AppsRead>,
    ApiQuery(q): ApiQuery<Browse>,
) -> Result<Json<CardList>, ApiError> {
    let sort = match q.sort.as_deref() {
        None | Some("relevance") => Sort::Relevance,
        Some("installs") => Sort::Installs,
        Some("rating") => Sort::Rating,
        Some("newest") => Sort::Newest,
        Some(other) => {
            return Err(ApiError::Invalid(format!(
                "`sort` must be relevance, installs, rating or newest, not `{other}`"
            )));
        }
    };
    let query = Query {
        text: q.q,
        category: q.category,
        kind: q.kind,
        sort: Some(sort),
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    Ok(Json(CardList {
        data: search::search(
            &state.store,
            &installs::installed_apps_of(&state.store, who.as_ref().map(|w| w.org_id.as_str())).await?,
            &query,
        )
        .await?,
    }))
}

/// The page of a published app: description, permissions in plain words, versions, reviews.
/// Public, as `/v1/catalog`.
#[utoipa::path(get, path = "/v1/catalog/{slug}", tag = "catalog", params(("slug" = String, Path, description = "App slug")),
    security((), ("bearer" = ["apps:read"]), ("session" = ["apps:read"])),
    responses((status = 200, body = Listing), (status = "4XX", body = ErrorBody)))]
pub async fn listing(
    State(state): State<AppState>,
    PublicOr(who, ..): PublicOr<need::AppsRead>,
    Path(slug): Path<String>,
) -> Result<Json<Listing>, ApiError> {
    let installed =
        installs::installed_apps_of(&state.store, who.as_ref().map(|w| w.org_id.as_str())).await?;
    Ok(Json(search::listing(&state.store, &installed, &slug).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// 1 to 5.
    stars: i64,
    #[serde(default)]
    review: String,
}

/// Rate an installed app; a new rating replaces the organization's previous one.
#[utoipa::path(post, path = "/v1/catalog/{slug}/ratings", tag = "catalog", request_body = Rate,
    params(("slug" = String, Path, description = "App slug")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn rate(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<Rate>,
) -> Result<StatusCode, ApiError> {
    let app = crate::catalog::apps::by_slug(&state.store, &slug).await?;
    let installed = installs::installed_apps(&state.store, &who.org_id)
        .await?
        .contains(&app.id);
    search::rate(
        &state.store,
        &who.org_id,
        &app.id,
        installed,
        body.stars,
        &body.review,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
