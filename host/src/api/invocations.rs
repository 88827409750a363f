//! `/v1/invocations`: the invocation journal, every plugin call with its outcome class, fuel,
//! peak memory, duration and log lines. The tenant reads their organization's whole; the app's
//! developer reads every installation's ids, classes and timings, and the log lines (and
//! recordings) only of installations whose tenant shares them.

use super::json::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use crate::AppState;
use crate::catalog::apps;
use crate::installs;
use crate::runtime::journal::{self, Filter, Invocation, Outcome};

#[derive(Serialize, ToSchema)]
pub struct InvocationList {
    pub data: Vec<Invocation>,
}

#[derive(Deserialize, IntoParams)]
pub struct InvocationQuery {
    installation_id: Option<String>,
    /// `ok`, `failed` (every other class), or one class (`trap`, `deadline`, `plugin_error`, ...).
    outcome: Option<String>,
    /// The event a delivery carried.
    event_id: Option<String>,
    /// 1 to 200 [default: 50].
    limit: Option<i64>,
}

/// The organization's plugin calls, newest first.
#[utoipa::path(get, path = "/v1/invocations", tag = "installations", params(InvocationQuery),
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = InvocationList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
    Query(query): Query<InvocationQuery>,
) -> Result<Json<InvocationList>, ApiError> {
    let filter = Filter {
        org_id: Some(&who.org_id),
        installation_id: query.installation_id.as_deref(),
        outcome: query.outcome.as_deref().and_then(Outcome::parse),
        event_id: query.event_id.as_deref(),
        ..Filter::default()
    };
    Ok(Json(InvocationList {
        data: journal::list(&state.store, &filter, query.limit.unwrap_or(50)).await?,
    }))
}

/// The calls of one of the organization's apps across its installations, newest first: log
/// lines and recordings only where the tenant shares them.
#[utoipa::path(get, path = "/v1/apps/{id}/invocations", tag = "apps", params(("id" = String, Path, description = "App id"), InvocationQuery),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 200, body = InvocationList), (status = "4XX", body = ErrorBody)))]
pub async fn of_app(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path(id): Path<String>,
    Query(query): Query<InvocationQuery>,
) -> Result<Json<InvocationList>, ApiError> {
    let app = apps::get(&state.store, &id).await?;
    if app.owner_org_id != who.org_id {
        return Err(ApiError::NotFound("app".into()));
    }
    let sharing = installs::sharing_recordings(&state.store, &app.id).await?;
    let filter = Filter {
        app_id: Some(&app.id),
        installation_id: query.installation_id.as_deref(),
        outcome: query.outcome.as_deref().and_then(Outcome::parse),
        event_id: query.event_id.as_deref(),
        logs_of: Some(&sharing),
        ..Filter::default()
    };
    Ok(Json(InvocationList {
        data: journal::list(&state.store, &filter, query.limit.unwrap_or(50)).await?,
    }))
}
