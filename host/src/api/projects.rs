//! `/v1/projects`.

use super::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::ProjectList;
use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use crate::AppState;
use crate::platform::page::PageRequest;
use crate::platform::projects::{self, Project, ProjectChange, StatusFilter};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListProjects {
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only projects created after this RFC 3339 time.
    created_after: Option<String>,
    /// `active` (default), `archived` or `all`.
    status: Option<String>,
}

/// List projects, newest first.
#[utoipa::path(get, path = "/v1/projects", tag = "projects", params(ListProjects),
    security(("bearer" = ["projects:read"]), ("session" = ["projects:read"])),
    responses((status = 200, body = ProjectList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::ProjectsRead>,
    ApiQuery(q): ApiQuery<ListProjects>,
) -> Result<Json<ProjectList>, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("active") => StatusFilter::Active,
        Some("archived") => StatusFilter::Archived,
        Some("all") => StatusFilter::Any,
        Some(other) => {
            return Err(ApiError::Invalid(format!(
                "`status` must be active, archived or all, not `{other}`"
            )));
        }
    };
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), q.created_after.as_deref())?;
    let page = projects::list(&state.store, &who.org_id, status, &page).await?;
    Ok(Json(page.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    name: String,
    #[serde(default)]
    description: String,
}

/// Create a project. Emits `project.created`.
#[utoipa::path(post, path = "/v1/projects", tag = "projects", request_body = CreateProject,
    security(("bearer" = ["projects:write"]), ("session" = ["projects:write"])),
    responses((status = 201, body = Project), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::ProjectsWrite>,
    ApiJson(body): ApiJson<CreateProject>,
) -> Result<(StatusCode, Json<Project>), ApiError> {
    let project = projects::create(&state.store, &who.org_id, &body.name, &body.description).await?;
    Ok((StatusCode::CREATED, Json(project)))
}

/// Get one project.
#[utoipa::path(get, path = "/v1/projects/{id}", tag = "projects",
    params(("id" = String, Path, description = "Project id")),
    security(("bearer" = ["projects:read"]), ("session" = ["projects:read"])),
    responses((status = 200, body = Project), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::ProjectsRead>,
    Path(id): Path<String>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(projects::get(&state.store, &who.org_id, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    name: Option<String>,
    description: Option<String>,
}

/// Rename or describe a project. Emits `project.updated`.
#[utoipa::path(patch, path = "/v1/projects/{id}", tag = "projects", request_body = UpdateProject,
    params(("id" = String, Path, description = "Project id")),
    security(("bearer" = ["projects:write"]), ("session" = ["projects:write"])),
    responses((status = 200, body = Project), (status = "4XX", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::ProjectsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateProject>,
) -> Result<Json<Project>, ApiError> {
    let change = ProjectChange {
        name: body.name,
        description: body.description,
    };
    Ok(Json(
        projects::update(&state.store, &who.org_id, &id, change).await?,
    ))
}

/// Archive a project: its tasks can no longer change. Emits `project.archived`.
#[utoipa::path(post, path = "/v1/projects/{id}/archive", tag = "projects",
    params(("id" = String, Path, description = "Project id")),
    security(("bearer" = ["projects:write"]), ("session" = ["projects:write"])),
    responses((status = 200, body = Project), (status = "4XX", body = ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::ProjectsWrite>,
    Path(id): Path<String>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(
        projects::set_archived(&state.store, &who.org_id, &id, true).await?,
    ))
}

/// Restore an archived project. Emits `project.restored`.
#[utoipa::path(post, path = "/v1/projects/{id}/restore", tag = "projects",
    params(("id" = String, Path, description = "Project id")),
    security(("bearer" = ["projects:write"]), ("session" = ["projects:write"])),
    responses((status = 200, body = Project), (status = "4XX", body = ErrorBody)))]
pub async fn restore(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::ProjectsWrite>,
    Path(id): Path<String>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(
        projects::set_archived(&state.store, &who.org_id, &id, false).await?,
    ))
}
