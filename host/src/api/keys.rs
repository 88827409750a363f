//! `/v1/api-keys`: the organization's API keys.

use super::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::ApiKeyList;
use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use crate::AppState;
use crate::platform::ScopeSet;
use crate::platform::credentials::{self, ApiKey, CreatedApiKey};
use crate::platform::page::PageRequest;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListKeys {
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// List API keys, newest first; secrets are never shown again.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", params(ListKeys),
    security(("bearer" = ["keys:read"]), ("session" = ["keys:read"])),
    responses((status = 200, body = ApiKeyList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::KeysRead>,
    ApiQuery(q): ApiQuery<ListKeys>,
) -> Result<Json<ApiKeyList>, ApiError> {
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), None)?;
    Ok(Json(
        credentials::list_api_keys(&state.store, &who.org_id, &page)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// What the key is for, e.g. "CI deploys".
    name: String,
    /// Scopes to grant, e.g. `["projects:read"]`; never more than the caller holds.
    scopes: Vec<String>,
}

/// Create an API key. The response holds its secret, shown only this once.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", request_body = CreateKey,
    security(("bearer" = ["keys:write"]), ("session" = ["keys:write"])),
    responses((status = 201, body = CreatedApiKey), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::KeysWrite>,
    ApiJson(body): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    let scopes =
        ScopeSet::parse_text(&body.scopes.join(" ")).map_err(|e| ApiError::Invalid(e.to_string()))?;
    // A credential cannot mint one stronger than itself.
    if !who.scopes.covers(scopes) {
        let extra: Vec<_> = scopes.iter().filter(|s| !who.scopes.contains(*s)).collect();
        let extra = extra.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        return Err(ApiError::Forbidden(format!(
            "you cannot grant scopes you do not hold yourself: {extra}"
        )));
    }
    let key =
        credentials::create_api_key(&state.store, &who.org_id, &body.name, scopes, who.user_id()).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

/// Revoke an API key; it stops working at once.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys",
    params(("id" = String, Path, description = "API key id")),
    security(("bearer" = ["keys:write"]), ("session" = ["keys:write"])),
    responses((status = 200, body = ApiKey), (status = "4XX", body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::KeysWrite>,
    Path(id): Path<String>,
) -> Result<Json<ApiKey>, ApiError> {
    Ok(Json(
        credentials::revoke_api_key(&state.store, &who.org_id, &id).await?,
    ))
}
