//! `/v1/deliveries`, delivery analytics and webhook secrets: what a tenant admin sees and does
//! about the events its installed apps and REST hooks receive.

use super::json::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::DeliveryList;
use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use crate::AppState;
use crate::events::analytics::{self, Analytics};
use crate::events::queue::{self, Delivery, Filter};
use crate::platform::page::PageRequest;
use crate::platform::parse_time;
use crate::store::now_ms;
use crate::webhooks::keys::{self, Owner, SecretView};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    /// Only deliveries to this installation or REST hook.
    subscriber_id: Option<String>,
    /// `pending`, `in_flight`, `succeeded` or `dead`.
    state: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only deliveries created after this RFC 3339 time.
    created_after: Option<String>,
}

const STATES: [&str; 4] = ["pending", "in_flight", "succeeded", "dead"];

/// The organization's deliveries (the delivery log), newest first.
#[utoipa::path(get, path = "/v1/deliveries", tag = "deliveries", params(ListDeliveries),
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = DeliveryList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
    ApiQuery(q): ApiQuery<ListDeliveries>,
) -> Result<Json<DeliveryList>, ApiError> {
    if let Some(s) = &q.state
        && !STATES.contains(&s.as_str())
    {
        return Err(ApiError::Invalid(format!(
            "unknown state `{s}`; states are: {}",
            STATES.join(", ")
        )));
    }
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), q.created_after.as_deref())?;
    let filter = Filter {
        subscriber_id: q.subscriber_id.as_deref(),
        state: q.state.as_deref(),
    };
    let page = queue::list(&state.store, &who.org_id, &filter, &page).await?;
    Ok(Json(page.into()))
}

/// One delivery with every attempt: outcome, duration, fuel, status code, response excerpt.
#[utoipa::path(get, path = "/v1/deliveries/{id}", tag = "deliveries",
    params(("id" = String, Path, description = "Delivery id")),
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = Delivery), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
    Path(id): Path<String>,
) -> Result<Json<Delivery>, ApiError> {
    Ok(Json(queue::get(&state.store, &who.org_id, &id).await?))
}

/// Send a succeeded or dead delivery again now, with a fresh retry schedule.
#[utoipa::path(post, path = "/v1/deliveries/{id}/replay", tag = "deliveries",
    params(("id" = String, Path, description = "Delivery id")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 200, body = Delivery), (status = "4XX", body = ErrorBody)))]
pub async fn replay(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path(id): Path<String>,
) -> Result<Json<Delivery>, ApiError> {
    Ok(Json(queue::replay(&state.store, &who.org_id, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkReplay {
    /// The installation or REST hook whose dead deliveries to replay.
    subscriber_id: String,
    /// Only deliveries created at or after this RFC 3339 time.
    since: String,
}

#[derive(Serialize, ToSchema)]
pub struct Replayed {
    /// How many dead deliveries were queued again.
    pub replayed: u64,
}

/// Replay every dead delivery of one subscriber since a time (after fixing a receiver).
#[utoipa::path(post, path = "/v1/deliveries/replay", tag = "deliveries", request_body = BulkReplay,
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 200, body = Replayed), (status = "4XX", body = ErrorBody)))]
pub async fn replay_failed(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    ApiJson(body): ApiJson<BulkReplay>,
) -> Result<Json<Replayed>, ApiError> {
    let since = parse_time(&body.since)?;
    let replayed = queue::replay_failed(&state.store, &who.org_id, &body.subscriber_id, since).await?;
    Ok(Json(Replayed { replayed }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// Start (RFC 3339); default 24 hours before `to`.
    from: Option<String>,
    /// End (RFC 3339); default now.
    to: Option<String>,
}

impl Period {
    fn bounds(&self) -> Result<(i64, i64), ApiError> {
        let to = self
            .to
            .as_deref()
            .map(parse_time)
            .transpose()?
            .unwrap_or_else(now_ms);
        let from = self
            .from
            .as_deref()
            .map(parse_time)
            .transpose()?
            .unwrap_or(to - 24 * 3_600_000);
        if from >= to {
            return Err(ApiError::Invalid("`from` must be before `to`".into()));
        }
        if to - from > 93 * 24 * 3_600_000 {
            return Err(ApiError::Invalid("a period is at most 93 days".into()));
        }
        Ok((from, to))
    }
}

/// Usage of one installation, hour by hour: invocations, failures by class, fuel, p50/p95.
#[utoipa::path(get, path = "/v1/installations/{id}/analytics", tag = "deliveries",
    params(("id" = String, Path, description = "Installation id"), Period),
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = Analytics), (status = "4XX", body = ErrorBody)))]
pub async fn installation_analytics(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
    Path(id): Path<String>,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<Json<Analytics>, ApiError> {
    crate::installs::get(&state.store, &who.org_id, &id).await?;
    let (from, to) = period.bounds()?;
    let scope = analytics::UsageOf::Subscriber(&id);
    Ok(Json(analytics::read(&state.store, scope, from, to).await?))
}

/// Usage of one of the organization's own apps across all its installations (no tenant data).
#[utoipa::path(get, path = "/v1/apps/{id}/analytics", tag = "apps",
    params(("id" = String, Path, description = "App id"), Period),
    security(("bearer" = ["apps:read"]), ("session" = ["apps:read"])),
    responses((status = 200, body = Analytics), (status = "4XX", body = ErrorBody)))]
pub async fn app_analytics(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsRead>,
    Path(id): Path<String>,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<Json<Analytics>, ApiError> {
    let app = crate::catalog::apps::get(&state.store, &id).await?;
    if app.owner_org_id != who.org_id {
        return Err(ApiError::NotFound("app".into()));
    }
    let (from, to) = period.bounds()?;
    let mut usage = analytics::read(&state.store, analytics::UsageOf::App(&id), from, to).await?;
    usage.webhooks_disabled = Some(crate::installs::webhooks_disabled(&state.store, &id).await?);
    Ok(Json(usage))
}

/// The secret that signs this installation's webhooks (`webhook-signature`).
#[utoipa::path(get, path = "/v1/installations/{id}/webhook-secret", tag = "deliveries",
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 200, body = SecretView), (status = "4XX", body = ErrorBody)))]
pub async fn webhook_secret(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path(id): Path<String>,
) -> Result<Json<SecretView>, ApiError> {
    crate::installs::get(&state.store, &who.org_id, &id).await?;
    let keys = keys::load(&state.store, &state.secrets, Owner::Installation(&id)).await?;
    Ok(Json(keys.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// How long the old secret keeps signing, in seconds (default 86,400; at most 7 days).
    grace_secs: Option<u64>,
}

/// Replace the signing secret; the old one keeps signing (both signatures are sent) for the
/// grace period.
#[utoipa::path(post, path = "/v1/installations/{id}/webhook-secret/rotate", tag = "deliveries",
    params(("id" = String, Path, description = "Installation id")), request_body = Rotate,
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 200, body = SecretView), (status = "4XX", body = ErrorBody)))]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Rotate>,
) -> Result<Json<SecretView>, ApiError> {
    crate::installs::get(&state.store, &who.org_id, &id).await?;
    let grace = body.grace_secs.unwrap_or(86_400);
    if grace > 7 * 86_400 {
        return Err(ApiError::Invalid("grace_secs is at most 604800 (7 days)".into()));
    }
    let keys = keys::rotate(&state.store, &state.secrets, Owner::Installation(&id), grace).await?;
    Ok(Json(keys.into()))
}

/// An installation whose webhook was turned back on.
#[derive(Serialize, ToSchema)]
pub struct WebhookEnabled {
    pub installation: crate::installs::Installation,
    /// Deliveries not sent while the webhook was disabled, now queued again in event order.
    pub replayed: u64,
}

/// Turn an external app's webhook back on after its receiver answered 410 Gone, and send
/// what it missed meanwhile (shown in the delivery log as `webhook_disabled`).
#[utoipa::path(post, path = "/v1/installations/{id}/webhook/enable", tag = "deliveries",
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 200, body = WebhookEnabled), (status = "4XX", body = ErrorBody)))]
pub async fn enable_webhook(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path(id): Path<String>,
) -> Result<Json<WebhookEnabled>, ApiError> {
    let installation = crate::installs::enable_webhook(&state.store, &who.org_id, &id).await?;
    let replayed = queue::replay_held_webhooks(&state.store, &id).await?;
    Ok(Json(WebhookEnabled {
        installation,
        replayed,
    }))
}
