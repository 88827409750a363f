//! Inbound web triggers: `POST /hooks/in/{installation}/{trigger}` (the tool's side, proven by
//! the trigger's signature or shared secret, never by a Bazaar credential), and
//! `/v1/installations/{id}/triggers` (the tenant's: URLs, secrets, what arrived).

use super::json::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use crate::AppState;
use crate::catalog::apps;
use crate::installs::{self, triggers};

#[derive(Serialize, ToSchema)]
pub struct TriggerList {
    pub data: Vec<triggers::TriggerInfo>,
}

async fn specs_of(
    state: &AppState,
    org_id: &str,
    id: &str,
) -> Result<(installs::Installation, Vec<crate::catalog::manifest::TriggerSpec>), ApiError> {
    let installation = installs::get(&state.store, org_id, id).await?;
    let version = apps::version(&state.store, &installation.version_id).await?;
    Ok((installation, version.manifest.triggers))
}

/// The installation's inbound web triggers: the URL to give each tool, how it must prove
/// itself, and how many requests were accepted and refused.
#[utoipa::path(get, path = "/v1/installations/{id}/triggers", tag = "installations",
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = TriggerList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
    Path(id): Path<String>,
) -> Result<Json<TriggerList>, ApiError> {
    let (installation, specs) = specs_of(&state, &who.org_id, &id).await?;
    Ok(Json(TriggerList {
        data: triggers::list(&state.store, &state.issuer, &installation.id, &specs).await?,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct TriggerSecret {
    /// Paste it into the tool's webhook settings (GitHub: "Secret").
    pub secret: String,
}

fn named(specs: &[crate::catalog::manifest::TriggerSpec], name: &str) -> Result<(), ApiError> {
    specs
        .iter()
        .any(|t| t.name == name)
        .then_some(())
        .ok_or_else(|| ApiError::NotFound(format!("trigger {name}")))
}

/// The secret the tool signs this trigger's requests with.
#[utoipa::path(get, path = "/v1/installations/{id}/triggers/{name}/secret", tag = "installations",
    params(("id" = String, Path, description = "Installation id"), ("name" = String, Path, description = "Trigger name")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 200, body = TriggerSecret), (status = "4XX", body = ErrorBody)))]
pub async fn secret(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<TriggerSecret>, ApiError> {
    let (installation, specs) = specs_of(&state, &who.org_id, &id).await?;
    named(&specs, &name)?;
    let secret = triggers::secret(&state.store, &state.secrets, &installation.id, &name).await?;
    Ok(Json(TriggerSecret { secret }))
}

/// Replace the trigger's secret: requests signed with the old one are refused from now on.
#[utoipa::path(post, path = "/v1/installations/{id}/triggers/{name}/secret/rotate", tag = "installations",
    params(("id" = String, Path, description = "Installation id"), ("name" = String, Path, description = "Trigger name")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 200, body = TriggerSecret), (status = "4XX", body = ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<TriggerSecret>, ApiError> {
    let (installation, specs) = specs_of(&state, &who.org_id, &id).await?;
    named(&specs, &name)?;
    let secret = triggers::rotate(&state.store, &state.secrets, &installation.id, &name).await?;
    Ok(Json(TriggerSecret { secret }))
}

fn refusal(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// `/hooks/in/{installation}/{trigger}`: a tool calling the plugin back. The caller proves
/// itself with the trigger's secret; the plugin answers.
pub async fn inbound(
    State(state): State<AppState>,
    Path((installation, name)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let runtime = match state.runtime().await {
        Ok(runtime) => runtime,
        Err(e) => return e.into_response(),
    };
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let request = crate::runtime::bindings::triggers::Inbound {
        trigger: name,
        method: method.as_str().to_owned(),
        headers,
        body: body.to_vec(),
    };
    let limiter = state.limiter.clone();
    let admit = |trigger: &str| match limiter.take_trigger(&installation, trigger) {
        Some(wait) => Err(wait),
        None => Ok(()),
    };
    let handled = triggers::handle(
        &state.store,
        &state.secrets,
        runtime,
        &installation,
        request,
        admit,
    )
    .await;
    match handled {
        Err(e) => ApiError::from(e).into_response(),
        Ok(triggers::Handled::Unknown) => refusal(StatusCode::NOT_FOUND, "no such trigger"),
        Ok(triggers::Handled::Refused(reason)) => refusal(StatusCode::UNAUTHORIZED, &reason),
        Ok(triggers::Handled::Throttled { retry_after }) => {
            let mut response = refusal(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("too many requests to this trigger; retry in {retry_after} s"),
            );
            if let Ok(value) = HeaderValue::try_from(retry_after.to_string()) {
                response.headers_mut().insert("retry-after", value);
            }
            response
        }
        Ok(triggers::Handled::Failed(_)) => refusal(
            StatusCode::BAD_GATEWAY,
            "the app could not handle the request; its log on the installed app's page says why",
        ),
        Ok(triggers::Handled::Answered(answer)) => {
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            let mut response = (status, answer.body).into_response();
            // Only inert headers: no cookies, no redirects, no caching or security policy of
            // Bazaar's origin changed by an app.
            for (name, value) in answer.headers {
                let name = name.to_ascii_lowercase();
                if name != "content-type" && !name.starts_with("x-") {
                    continue;
                }
                if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
    }
}
