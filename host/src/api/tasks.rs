//! `/v1/tasks`.

use super::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};

use super::TaskList;
use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use crate::AppState;
use crate::platform::page::PageRequest;
use crate::platform::tasks::{self, NewTask, Task, TaskChange, TaskFilter};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTasks {
    /// Only tasks of this project.
    project_id: Option<String>,
    /// `open` or `completed`.
    status: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only tasks created after this RFC 3339 time.
    created_after: Option<String>,
}

/// List tasks, newest first.
#[utoipa::path(get, path = "/v1/tasks", tag = "tasks", params(ListTasks),
    security(("bearer" = ["tasks:read"]), ("session" = ["tasks:read"])),
    responses((status = 200, body = TaskList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::TasksRead>,
    ApiQuery(q): ApiQuery<ListTasks>,
) -> Result<Json<TaskList>, ApiError> {
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), q.created_after.as_deref())?;
    let filter = TaskFilter {
        project_id: q.project_id,
        status: q.status,
    };
    Ok(Json(
        tasks::list(&state.store, &who.org_id, &filter, &page)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    project_id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    labels: Vec<String>,
    /// `YYYY-MM-DD`.
    due_date: Option<String>,
}

/// Create a task in an active project. Emits `task.created`. Installed apps' `validate-task`
/// hooks see it first; one of them may refuse it (422, with the app's reason).
#[utoipa::path(post, path = "/v1/tasks", tag = "tasks", request_body = CreateTask,
    security(("bearer" = ["tasks:write"]), ("session" = ["tasks:write"])),
    responses((status = 201, body = Task), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::TasksWrite>,
    ApiJson(body): ApiJson<CreateTask>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let new = NewTask {
        project_id: body.project_id,
        title: body.title,
        description: body.description,
        labels: body.labels,
        due_date: body.due_date,
    };
    let proposed = crate::runtime::Task {
        id: String::new(),
        project_id: new.project_id.clone(),
        title: new.title.clone(),
        description: new.description.clone(),
        status: "open".into(),
        labels: new.labels.clone(),
        due_date: new.due_date.clone(),
        created_at: String::new(),
    };
    state.validate_task(&who.org_id, &proposed).await?;
    let task = tasks::create(&state.store, &who.org_id, new).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// Get one task.
#[utoipa::path(get, path = "/v1/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "Task id")),
    security(("bearer" = ["tasks:read"]), ("session" = ["tasks:read"])),
    responses((status = 200, body = Task), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::TasksRead>,
    Path(id): Path<String>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(tasks::get(&state.store, &who.org_id, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    title: Option<String>,
    description: Option<String>,
    labels: Option<Vec<String>>,
    /// `YYYY-MM-DD`, or `null` to clear.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    due_date: Option<Option<String>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Edit a task. Emits `task.updated`. Installed `validate-task` hooks see the task as it would
/// be after the change and may refuse it (422).
#[utoipa::path(patch, path = "/v1/tasks/{id}", tag = "tasks", request_body = UpdateTask,
    params(("id" = String, Path, description = "Task id")),
    security(("bearer" = ["tasks:write"]), ("session" = ["tasks:write"])),
    responses((status = 200, body = Task), (status = "4XX", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::TasksWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateTask>,
) -> Result<Json<Task>, ApiError> {
    let change = TaskChange {
        title: body.title,
        description: body.description,
        labels: body.labels,
        due_date: body.due_date,
    };
    // Hooks see the task as it would be after the change.
    let mut proposed = crate::capabilities::tasks::to_wit(tasks::get(&state.store, &who.org_id, &id).await?);
    if let Some(title) = &change.title {
        proposed.title = title.clone();
    }
    if let Some(description) = &change.description {
        proposed.description = description.clone();
    }
    if let Some(labels) = &change.labels {
        proposed.labels = labels.clone();
    }
    if let Some(due_date) = &change.due_date {
        proposed.due_date = due_date.clone();
    }
    state.validate_task(&who.org_id, &proposed).await?;
    Ok(Json(tasks::update(&state.store, &who.org_id, &id, change).await?))
}

/// Complete a task. Emits `task.completed`.
#[utoipa::path(post, path = "/v1/tasks/{id}/complete", tag = "tasks",
    params(("id" = String, Path, description = "Task id")),
    security(("bearer" = ["tasks:write"]), ("session" = ["tasks:write"])),
    responses((status = 200, body = Task), (status = "4XX", body = ErrorBody)))]
pub async fn complete(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::TasksWrite>,
    Path(id): Path<String>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(
        tasks::set_completed(&state.store, &who.org_id, &id, true).await?,
    ))
}

/// Reopen a completed task. Emits `task.reopened`.
#[utoipa::path(post, path = "/v1/tasks/{id}/reopen", tag = "tasks",
    params(("id" = String, Path, description = "Task id")),
    security(("bearer" = ["tasks:write"]), ("session" = ["tasks:write"])),
    responses((status = 200, body = Task), (status = "4XX", body = ErrorBody)))]
pub async fn reopen(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::TasksWrite>,
    Path(id): Path<String>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(
        tasks::set_completed(&state.store, &who.org_id, &id, false).await?,
    ))
}
