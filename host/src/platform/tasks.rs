//! Tasks: work items inside a project.

use serde::Serialize;

use super::outbox::{self, kinds};
use super::page::{Keyset, Page, PageRequest};
use super::projects::require_active;
use super::{PlatformError, Result, format_time, limit_text, require_text};
use crate::store::{Store, new_id, now_ms};

/// A task as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: String,
    pub org_id: String,
    pub project_id: String,
    pub title: String,
    pub description: String,
    /// `open` or `completed`.
    pub status: String,
    pub labels: Vec<String>,
    /// A calendar date, `YYYY-MM-DD`.
    pub due_date: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
}

#[derive(serde::Deserialize)]
struct TaskRow {
    id: String,
    org_id: String,
    project_id: String,
    title: String,
    description: String,
    status: String,
    labels: String,
    due_date: Option<String>,
    created_at: i64,
    updated_at: i64,
    completed_at: Option<i64>,
}

impl From<TaskRow> for Task {
    fn from(r: TaskRow) -> Self {
        Task {
            id: r.id,
            org_id: r.org_id,
            project_id: r.project_id,
            title: r.title,
            description: r.description,
            status: r.status,
            labels: serde_json::from_str(&r.labels).unwrap_or_default(),
            due_date: r.due_date,
            created_at: format_time(r.created_at),
            updated_at: format_time(r.updated_at),
            completed_at: r.completed_at.map(format_time),
        }
    }
}

const COLUMNS: &str = "id, org_id, project_id, title, description, status, labels, due_date, \
                       created_at, updated_at, completed_at";

/// What a new task holds.
#[derive(Debug, Clone, Default)]
pub struct NewTask {
    pub project_id: String,
    pub title: String,
    pub description: String,
    pub labels: Vec<String>,
    pub due_date: Option<String>,
}

/// A partial change; `due_date: Some(None)` clears the date.
#[derive(Debug, Clone, Default)]
pub struct TaskChange {
    pub title: Option<String>,
    pub description: Option<String>,
    pub labels: Option<Vec<String>>,
    pub due_date: Option<Option<String>>,
}

/// Which tasks a list returns.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub project_id: Option<String>,
    pub status: Option<String>,
}

fn check_labels(labels: &[String]) -> Result<String> {
    if labels.len() > 20 {
        return Err(PlatformError::Invalid("a task may have at most 20 labels".into()));
    }
    let mut clean = Vec::with_capacity(labels.len());
    for label in labels {
        let label = require_text("labels[]", label, 50)?;
        if !clean.contains(&label) {
            clean.push(label);
        }
    }
    serde_json::to_string(&clean).map_err(|e| PlatformError::Internal(e.to_string()))
}

fn check_due_date(date: &str) -> Result<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(date, &format)
        .map(|_| date.to_owned())
        .map_err(|_| PlatformError::Invalid(format!("`due_date` `{date}` is not a date like 2026-12-31")))
}

pub async fn create(store: &Store, org_id: &str, new: NewTask) -> Result<Task> {
    let now = now_ms();
    let row = TaskRow {
        id: new_id("tsk"),
        org_id: org_id.to_owned(),
        project_id: new.project_id,
        title: require_text("title", &new.title, 500)?,
        description: limit_text("description", &new.description, 20_000)?,
        status: "open".into(),
        labels: check_labels(&new.labels)?,
        due_date: new.due_date.as_deref().map(check_due_date).transpose()?,
        created_at: now,
        updated_at: now,
        completed_at: None,
    };
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    require_active(&mut tx, org_id, &row.project_id).await?;
    crate::store::query(&format!(
        "INSERT INTO tasks ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)"
    ))
    .bind(&row.id)
    .bind(&row.org_id)
    .bind(&row.project_id)
    .bind(&row.title)
    .bind(&row.description)
    .bind(&row.status)
    .bind(&row.labels)
    .bind(&row.due_date)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(&mut *tx)
    .await?;
    let task = Task::from(row);
    outbox::record(&mut tx, org_id, kinds::TASK_CREATED, &task.id, &task).await?;
    tx.commit().await?;
    Ok(task)
}

pub async fn get(store: &Store, org_id: &str, id: &str) -> Result<Task> {
    fetch(store.reader(), org_id, id).await
}

async fn fetch<'c, E: crate::store::IntoExecutor<'c>>(executor: E, org_id: &str, id: &str) -> Result<Task> {
    let row: Option<TaskRow> = crate::store::query_as(&format!(
        "SELECT {COLUMNS} FROM tasks WHERE id = $1 AND org_id = $2"
    ))
    .bind(id)
    .bind(org_id)
    .fetch_optional(executor)
    .await?;
    row.map(Task::from).ok_or(PlatformError::NotFound("task"))
}

pub async fn list(
    store: &Store,
    org_id: &str,
    filter: &TaskFilter,
    page: &PageRequest,
) -> Result<Page<Task>> {
    let mut select = format!("SELECT {COLUMNS} FROM tasks WHERE org_id = $1");
    let mut next = 2;
    if filter.project_id.is_some() {
        select.push_str(&format!(" AND project_id = ${next}"));
        next += 1;
    }
    if let Some(status) = &filter.status {
        if status != "open" && status != "completed" {
            return Err(PlatformError::Invalid(
                "`status` must be `open` or `completed`".into(),
            ));
        }
        select.push_str(&format!(" AND status = ${next}"));
        next += 1;
    }
    let keyset = Keyset::new(page, next, "id", "created_at");
    select.push_str(&keyset.sql);
    let mut query = crate::store::query_as(&select).bind(org_id);
    if let Some(project_id) = &filter.project_id {
        query = query.bind(project_id);
    }
    if let Some(status) = &filter.status {
        query = query.bind(status);
    }
    let query = keyset.bind(query, page.limit);
    let rows: Vec<TaskRow> = query.fetch_all(store.reader()).await?;
    Ok(Page::from_rows(rows, page.limit, |r| &r.id).map(Task::from))
}

pub async fn update(store: &Store, org_id: &str, id: &str, change: TaskChange) -> Result<Task> {
    let title = change
        .title
        .as_deref()
        .map(|t| require_text("title", t, 500))
        .transpose()?;
    let description = change
        .description
        .as_deref()
        .map(|d| limit_text("description", d, 20_000))
        .transpose()?;
    let labels = change.labels.as_deref().map(check_labels).transpose()?;
    let due_date = change
        .due_date
        .map(|d| d.as_deref().map(check_due_date).transpose())
        .transpose()?;
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    let current = fetch(&mut *tx, org_id, id).await?;
    require_active(&mut tx, org_id, &current.project_id).await?;
    if title.is_none() && description.is_none() && labels.is_none() && due_date.is_none() {
        return Ok(current);
    }
    let current_labels =
        serde_json::to_string(&current.labels).map_err(|e| PlatformError::Internal(e.to_string()))?;
    crate::store::query(
        "UPDATE tasks SET title = $1, description = $2, labels = $3, due_date = $4, updated_at = $5 \
         WHERE id = $6 AND org_id = $7",
    )
    .bind(title.unwrap_or(current.title))
    .bind(description.unwrap_or(current.description))
    .bind(labels.unwrap_or(current_labels))
    .bind(due_date.unwrap_or(current.due_date))
    .bind(now_ms())
    .bind(id)
    .bind(org_id)
    .execute(&mut *tx)
    .await?;
    let task = fetch(&mut *tx, org_id, id).await?;
    outbox::record(&mut tx, org_id, kinds::TASK_UPDATED, id, &task).await?;
    tx.commit().await?;
    Ok(task)
}

/// Completes (`completed = true`) or reopens a task; asking for its current state is a conflict.
pub async fn set_completed(store: &Store, org_id: &str, id: &str, completed: bool) -> Result<Task> {
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    let current = fetch(&mut *tx, org_id, id).await?;
    require_active(&mut tx, org_id, &current.project_id).await?;
    let (wanted, kind) = if completed {
        ("completed", kinds::TASK_COMPLETED)
    } else {
        ("open", kinds::TASK_REOPENED)
    };
    if current.status == wanted {
        return Err(PlatformError::Conflict(format!("the task is already {wanted}")));
    }
    let now = now_ms();
    crate::store::query(
        "UPDATE tasks SET status = $1, completed_at = $2, updated_at = $3 WHERE id = $4 AND org_id = $5",
    )
    .bind(wanted)
    .bind(completed.then_some(now))
    .bind(now)
    .bind(id)
    .bind(org_id)
    .execute(&mut *tx)
    .await?;
    let task = fetch(&mut *tx, org_id, id).await?;
    outbox::record(&mut tx, org_id, kind, id, &task).await?;
    tx.commit().await?;
    Ok(task)
}
