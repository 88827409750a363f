//! Projects: an organization's containers of tasks.

use serde::Serialize;

use super::outbox::{self, kinds};
use super::page::{Keyset, Page, PageRequest};
use super::{PlatformError, Result, format_time, limit_text, require_text};
use crate::store::{Store, new_id, now_ms};

/// A project as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Project {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: String,
    /// `active` or `archived`.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub archived_at: Option<String>,
}

#[derive(serde::Deserialize)]
struct ProjectRow {
    id: String,
    org_id: String,
    name: String,
    description: String,
    status: String,
    created_at: i64,
    updated_at: i64,
    archived_at: Option<i64>,
}

impl From<ProjectRow> for Project {
    fn from(r: ProjectRow) -> Self {
        Project {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            description: r.description,
            status: r.status,
            created_at: format_time(r.created_at),
            updated_at: format_time(r.updated_at),
            archived_at: r.archived_at.map(format_time),
        }
    }
}

const COLUMNS: &str = "id, org_id, name, description, status, created_at, updated_at, archived_at";

/// Which projects a list returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Active,
    Archived,
    Any,
}

pub async fn create(store: &Store, org_id: &str, name: &str, description: &str) -> Result<Project> {
    let now = now_ms();
    let row = ProjectRow {
        id: new_id("prj"),
        org_id: org_id.to_owned(),
        name: require_text("name", name, 200)?,
        description: limit_text("description", description, 10_000)?,
        status: "active".into(),
        created_at: now,
        updated_at: now,
        archived_at: None,
    };
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    crate::store::query(&format!(
        "INSERT INTO projects ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)"
    ))
    .bind(&row.id)
    .bind(&row.org_id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(&row.status)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(&mut *tx)
    .await?;
    let project = Project::from(row);
    outbox::record(&mut tx, org_id, kinds::PROJECT_CREATED, &project.id, &project).await?;
    tx.commit().await?;
    Ok(project)
}

pub async fn get(store: &Store, org_id: &str, id: &str) -> Result<Project> {
    fetch(store.reader(), org_id, id).await
}

async fn fetch<'c, E: crate::store::IntoExecutor<'c>>(
    executor: E,
    org_id: &str,
    id: &str,
) -> Result<Project> {
    let row: Option<ProjectRow> = crate::store::query_as(&format!(
        "SELECT {COLUMNS} FROM projects WHERE id = $1 AND org_id = $2"
    ))
    .bind(id)
    .bind(org_id)
    .fetch_optional(executor)
    .await?;
    row.map(Project::from).ok_or(PlatformError::NotFound("project"))
}

pub async fn list(
    store: &Store,
    org_id: &str,
    status: StatusFilter,
    page: &PageRequest,
) -> Result<Page<Project>> {
    let status_sql = match status {
        StatusFilter::Active => " AND status = 'active'",
        StatusFilter::Archived => " AND status = 'archived'",
        StatusFilter::Any => "",
    };
    let keyset = Keyset::new(page, 2, "id", "created_at");
    let select = format!(
        "SELECT {COLUMNS} FROM projects WHERE org_id = $1{status_sql}{}",
        keyset.sql
    );
    let query = keyset.bind(crate::store::query_as(&select).bind(org_id), page.limit);
    let rows: Vec<ProjectRow> = query.fetch_all(store.reader()).await?;
    Ok(Page::from_rows(rows, page.limit, |r| &r.id).map(Project::from))
}

/// A partial change: fields left `None` keep their value.
#[derive(Debug, Default, Clone)]
pub struct ProjectChange {
    pub name: Option<String>,
    pub description: Option<String>,
}

pub async fn update(store: &Store, org_id: &str, id: &str, change: ProjectChange) -> Result<Project> {
    let name = change
        .name
        .as_deref()
        .map(|n| require_text("name", n, 200))
        .transpose()?;
    let description = change
        .description
        .as_deref()
        .map(|d| limit_text("description", d, 10_000))
        .transpose()?;
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    let current = fetch(&mut *tx, org_id, id).await?;
    if name.is_none() && description.is_none() {
        return Ok(current);
    }
    crate::store::query(
        "UPDATE projects SET name = $1, description = $2, updated_at = $3 WHERE id = $4 AND org_id = $5",
    )
    .bind(name.unwrap_or(current.name))
    .bind(description.unwrap_or(current.description))
    .bind(now_ms())
    .bind(id)
    .bind(org_id)
    .execute(&mut *tx)
    .await?;
    let project = fetch(&mut *tx, org_id, id).await?;
    outbox::record(&mut tx, org_id, kinds::PROJECT_UPDATED, id, &project).await?;
    tx.commit().await?;
    Ok(project)
}

/// Archives (`archived = true`) or restores a project. Asking for the state it is already in
/// is a conflict, so a caller learns that nothing happened.
pub async fn set_archived(store: &Store, org_id: &str, id: &str, archived: bool) -> Result<Project> {
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    let current = fetch(&mut *tx, org_id, id).await?;
    let (wanted, kind) = if archived {
        ("archived", kinds::PROJECT_ARCHIVED)
    } else {
        ("active", kinds::PROJECT_RESTORED)
    };
    if current.status == wanted {
        return Err(PlatformError::Conflict(format!(
            "the project is already {wanted}"
        )));
    }
    let now = now_ms();
    crate::store::query(
        "UPDATE projects SET status = $1, archived_at = $2, updated_at = $3 WHERE id = $4 AND org_id = $5",
    )
    .bind(wanted)
    .bind(archived.then_some(now))
    .bind(now)
    .bind(id)
    .bind(org_id)
    .execute(&mut *tx)
    .await?;
    let project = fetch(&mut *tx, org_id, id).await?;
    outbox::record(&mut tx, org_id, kind, id, &project).await?;
    tx.commit().await?;
    Ok(project)
}

/// Checks, inside a transaction, that a project exists in the organization and is active.
pub(crate) async fn require_active(conn: &mut crate::store::Conn, org_id: &str, id: &str) -> Result<()> {
    let project = fetch(conn, org_id, id).await?;
    if project.status != "active" {
        return Err(PlatformError::Conflict(
            "the project is archived; restore it before changing its tasks".into(),
        ));
    }
    Ok(())
}
