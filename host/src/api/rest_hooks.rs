//! `/v1/hooks`: Zapier-style REST hooks. A subscription belongs to the API key that made it and
//! ends when that key is revoked.

use super::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Actor, Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::AppState;
use crate::webhooks::rest_hooks::{self, CreatedHook, Hook, Subscriber};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    /// Where to POST each event (http or https, a public address).
    target_url: String,
    /// The event kind, e.g. `task.created`; the caller needs its resource's read scope.
    event: String,
}

#[derive(Serialize, ToSchema)]
pub struct HookList {
    pub data: Vec<Hook>,
}

/// Subscribe a URL to an event kind. The answer carries the signing secret, shown once.
#[utoipa::path(post, path = "/v1/hooks", tag = "hooks", request_body = Subscribe,
    security(("bearer" = ["hooks:write"]), ("session" = ["hooks:write"])),
    responses((status = 201, body = CreatedHook), (status = "4XX", body = ErrorBody)))]
pub async fn subscribe(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::HooksWrite>,
    ApiJson(body): ApiJson<Subscribe>,
) -> Result<(StatusCode, Json<CreatedHook>), ApiError> {
    let subscriber = match &who.actor {
        Actor::ApiKey { key_id } => Subscriber::ApiKey(key_id.clone()),
        Actor::App { installation_id, .. } => Subscriber::Installation(installation_id.clone()),
        Actor::User { .. } => {
            return Err(ApiError::Invalid(
                "REST hooks belong to an API key or an app: call with one, not a web session".into(),
            ));
        }
    };
    let new = rest_hooks::NewHook {
        subscriber,
        held: who.scopes,
        event: &body.event,
        target_url: &body.target_url,
    };
    let created = rest_hooks::create(
        &state.store,
        &state.secrets,
        &who.org_id,
        new,
        state.config.allow_private_network,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The organization's REST hooks.
#[utoipa::path(get, path = "/v1/hooks", tag = "hooks",
    security(("bearer" = ["hooks:read"]), ("session" = ["hooks:read"])),
    responses((status = 200, body = HookList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::HooksRead>,
) -> Result<Json<HookList>, ApiError> {
    Ok(Json(HookList {
        data: rest_hooks::list(&state.store, &who.org_id).await?,
    }))
}

/// Unsubscribe; deliveries not yet made are dropped.
#[utoipa::path(delete, path = "/v1/hooks/{id}", tag = "hooks",
    params(("id" = String, Path, description = "Hook id")),
    security(("bearer" = ["hooks:write"]), ("session" = ["hooks:write"])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::HooksWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    rest_hooks::delete(&state.store, &who.org_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
