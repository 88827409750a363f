//! `/v1/billing`: what the organization pays for paid apps (its subscriptions and monthly
//! statement), and what a developer organization earns from its apps (its payout statement,
//! after the platform's revenue share).

use super::json::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiQuery;
use crate::AppState;
use crate::billing::{self, Of, Statement, Subscription};

#[derive(Serialize, ToSchema)]
pub struct SubscriptionList {
    pub data: Vec<Subscription>,
}

/// The organization's paid apps: subscriptions and one-time purchases, newest first.
#[utoipa::path(get, path = "/v1/billing/subscriptions", tag = "billing",
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = SubscriptionList), (status = "4XX", body = ErrorBody)))]
pub async fn subscriptions(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
) -> Result<Json<SubscriptionList>, ApiError> {
    Ok(Json(SubscriptionList {
        data: billing::subscriptions(&state.store, &who.org_id).await?,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Month {
    /// `2026-12` [default: this month, UTC].
    month: Option<String>,
}

/// What the organization paid in a month, line by line.
#[utoipa::path(get, path = "/v1/billing/statement", tag = "billing", params(Month),
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = Statement), (status = "4XX", body = ErrorBody)))]
pub async fn statement(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
    ApiQuery(q): ApiQuery<Month>,
) -> Result<Json<Statement>, ApiError> {
    let month = q.month.unwrap_or_else(billing::this_month);
    Ok(Json(
        billing::statement(&state.store, Of::Payer(&who.org_id), &month).await?,
    ))
}

/// What the organization's apps earned in a month: each charge, the platform's fee and the
/// developer's share.
#[utoipa::path(get, path = "/v1/billing/payouts", tag = "billing", params(Month),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 200, body = Statement), (status = "4XX", body = ErrorBody)))]
pub async fn payouts(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    ApiQuery(q): ApiQuery<Month>,
) -> Result<Json<Statement>, ApiError> {
    let month = q.month.unwrap_or_else(billing::this_month);
    Ok(Json(
        billing::statement(&state.store, Of::Developer(&who.org_id), &month).await?,
    ))
}
