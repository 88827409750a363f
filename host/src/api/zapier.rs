//! Zapier-compatible endpoints: the authentication test (`GET /v1/me`) and polling triggers
//! that answer bare arrays, newest first, each item with a stable `id` Zapier deduplicates on.
//! Zapier's actions are `POST /v1/projects` and `POST /v1/tasks`; its instant triggers are the
//! REST hooks of `/v1/hooks`.

use super::json::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Actor, Authorized, Principal, need};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiQuery;
use crate::AppState;
use crate::platform::orgs::{self, Organization};
use crate::platform::page::PageRequest;
use crate::platform::projects::{self, Project, StatusFilter};
use crate::platform::tasks::{self, Task, TaskFilter};

/// Who is calling, for a connection's label.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub organization: Organization,
    /// `api_key`, `oauth` or `session`.
    pub credential: &'static str,
    /// The scopes this credential holds.
    pub scopes: Vec<String>,
    /// The person, for sessions.
    pub user_id: Option<String>,
    /// The app and its installation, for OAuth tokens.
    pub app_id: Option<String>,
    pub installation_id: Option<String>,
}

/// Who the credential is and which organization it acts in (any valid credential).
#[utoipa::path(get, path = "/v1/me", tag = "zapier",
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Me), (status = "4XX", body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, who: Principal) -> Result<Json<Me>, ApiError> {
    let organization = orgs::get(&state.store, &who.org_id).await?;
    let (credential, user_id, app_id, installation_id) = match &who.actor {
        Actor::ApiKey { .. } => ("api_key", None, None, None),
        Actor::User { user_id, .. } => ("session", Some(user_id.clone()), None, None),
        Actor::App {
            app_id,
            installation_id,
            ..
        } => ("oauth", None, Some(app_id.clone()), Some(installation_id.clone())),
    };
    Ok(Json(Me {
        organization,
        credential,
        scopes: who.scopes.names(),
        user_id,
        app_id,
        installation_id,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Poll {
    /// Only items created after this RFC 3339 time.
    since: Option<String>,
    /// How many, 1 to 200 (default 50).
    limit: Option<u32>,
}

/// New projects, newest first (a polling trigger).
#[utoipa::path(get, path = "/v1/triggers/new-project", tag = "zapier", params(Poll),
    security(("bearer" = ["projects:read"]), ("session" = ["projects:read"])),
    responses((status = 200, body = Vec<Project>), (status = "4XX", body = ErrorBody)))]
pub async fn new_project(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::ProjectsRead>,
    ApiQuery(q): ApiQuery<Poll>,
) -> Result<Json<Vec<Project>>, ApiError> {
    let page = PageRequest::new(q.limit, None, q.since.as_deref())?;
    let page = projects::list(&state.store, &who.org_id, StatusFilter::Any, &page).await?;
    Ok(Json(page.items))
}

/// New tasks, newest first (a polling trigger).
#[utoipa::path(get, path = "/v1/triggers/new-task", tag = "zapier", params(Poll),
    security(("bearer" = ["tasks:read"]), ("session" = ["tasks:read"])),
    responses((status = 200, body = Vec<Task>), (status = "4XX", body = ErrorBody)))]
pub async fn new_task(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::TasksRead>,
    ApiQuery(q): ApiQuery<Poll>,
) -> Result<Json<Vec<Task>>, ApiError> {
    let page = PageRequest::new(q.limit, None, q.since.as_deref())?;
    let page = tasks::list(&state.store, &who.org_id, &TaskFilter::default(), &page).await?;
    Ok(Json(page.items))
}
