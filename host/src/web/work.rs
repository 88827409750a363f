//! The organization's work: projects and tasks, with the UI installed apps show beside them
//! (project cards, task panels), rendered by the host from the apps' blocks.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visitor, blocks, esc, page, refusal};
use crate::AppState;
use crate::catalog::manifest::ExtensionPoint;
use crate::installs::extensions;
use crate::platform::page::PageRequest;
use crate::platform::projects::{self, StatusFilter};
use crate::platform::tasks::{self, TaskFilter};
use crate::platform::{PlatformError, Scope};

/// `/projects`: the active projects, and a form to start one.
pub async fn projects(State(state): State<AppState>, visitor: Visitor) -> Response {
    if !visitor.can(Scope::ProjectsRead) {
        return refusal(StatusCode::FORBIDDEN, Some(&visitor), "you cannot see projects");
    }
    let list = match projects::list(
        &state.store,
        &visitor.session.org_id,
        StatusFilter::Active,
        &first(100),
    )
    .await
    {
        Ok(list) => list.items,
        Err(e) => return failed(&visitor, e),
    };
    let rows: String = list
        .iter()
        .map(|p| {
            format!(
                "<li><a href=\"/projects/{}\">{}</a> <span class=\"meta\">{}</span></li>",
                esc(&p.id),
                esc(&p.name),
                esc(&p.description)
            )
        })
        .collect();
    let list = if rows.is_empty() {
        "<p>No project yet.</p>".to_owned()
    } else {
        format!("<ul>{rows}</ul>")
    };
    let create = if visitor.can(Scope::ProjectsWrite) {
        "<form data-api=\"POST /v1/projects\" data-then=\"/projects/{id}\"><h2>New project</h2>\
         <label>Name <input name=\"name\" required></label>\
         <label>Description <input name=\"description\"></label>\
         <button type=\"submit\">Create</button><p role=\"alert\"></p></form>"
    } else {
        ""
    };
    page(
        "Projects",
        Some(&visitor),
        &format!("<h1>Projects</h1>{list}{create}"),
    )
}

/// `/projects/{id}`: one project, its tasks, and the installed apps' cards.
pub async fn project(State(state): State<AppState>, visitor: Visitor, Path(id): Path<String>) -> Response {
    if !visitor.can(Scope::ProjectsRead) {
        return refusal(StatusCode::FORBIDDEN, Some(&visitor), "you cannot see projects");
    }
    let org = &visitor.session.org_id;
    let project = match projects::get(&state.store, org, &id).await {
        Ok(p) => p,
        Err(e) => return failed(&visitor, e),
    };
    let filter = TaskFilter {
        project_id: Some(project.id.clone()),
        status: None,
    };
    let list = if visitor.can(Scope::TasksRead) {
        match tasks::list(&state.store, org, &filter, &first(100)).await {
            Ok(page) => page.items,
            Err(e) => return failed(&visitor, e),
        }
    } else {
        Vec::new()
    };
    let rows: String = list
        .iter()
        .map(|t| {
            format!(
                "<tr><td><a href=\"/tasks/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                esc(&t.id),
                esc(&t.title),
                esc(&t.status),
                esc(&t.labels.join(", "))
            )
        })
        .collect();
    let table = if rows.is_empty() {
        "<p>No task yet.</p>".to_owned()
    } else {
        format!(
            "<table><thead><tr><th>Task</th><th>Status</th><th>Labels</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let create = if visitor.can(Scope::TasksWrite) && project.status == "active" {
        format!(
            "<form data-api=\"POST /v1/tasks\" data-then=\"/tasks/{{id}}\"><h2>New task</h2>\
             <input type=\"hidden\" name=\"project_id\" value=\"{}\">\
             <label>Title <input name=\"title\" required></label>\
             <button type=\"submit\">Add</button><p role=\"alert\"></p></form>",
            esc(&project.id)
        )
    } else {
        String::new()
    };
    let cards = regions(&state, org, ExtensionPoint::ProjectCard, &project.id).await;
    let body = format!(
        "<p><a href=\"/projects\">Projects</a></p><h1>{name}</h1><p class=\"meta\">{status} · {description}</p>\
         <div class=\"work\"><div>{table}{create}</div><aside aria-label=\"Apps\">{cards}</aside></div>",
        name = esc(&project.name),
        status = esc(&project.status),
        description = esc(&project.description),
    );
    page(&project.name, Some(&visitor), &body)
}

/// `/tasks/{id}`: one task and the installed apps' panels.
pub async fn task(State(state): State<AppState>, visitor: Visitor, Path(id): Path<String>) -> Response {
    if !visitor.can(Scope::TasksRead) {
        return refusal(StatusCode::FORBIDDEN, Some(&visitor), "you cannot see tasks");
    }
    let org = &visitor.session.org_id;
    let task = match tasks::get(&state.store, org, &id).await {
        Ok(t) => t,
        Err(e) => return failed(&visitor, e),
    };
    let labels = if task.labels.is_empty() {
        "none".to_owned()
    } else {
        task.labels
            .iter()
            .map(|l| format!("<span class=\"badge\">{}</span>", esc(l)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let toggle = if visitor.can(Scope::TasksWrite) {
        let (verb, label) = if task.status == "completed" {
            ("reopen", "Reopen")
        } else {
            ("complete", "Complete")
        };
        format!(
            "<form class=\"inline\" data-api=\"POST /v1/tasks/{id}/{verb}\"><button type=\"submit\">{label}</button><p role=\"alert\"></p></form>",
            id = esc(&task.id)
        )
    } else {
        String::new()
    };
    let panels = regions(&state, org, ExtensionPoint::TaskPanel, &task.id).await;
    let body = format!(
        "<p><a href=\"/projects/{project}\">Back to the project</a></p><h1>{title}</h1>\
         <div class=\"work\"><div><dl><dt>Status</dt><dd id=\"task-status\">{status}</dd><dt>Labels</dt><dd id=\"task-labels\">{labels}</dd>\
         <dt>Due</dt><dd>{due}</dd></dl><p>{description}</p>{toggle}</div><aside aria-label=\"Apps\">{panels}</aside></div>",
        project = esc(&task.project_id),
        title = esc(&task.title),
        status = esc(&task.status),
        due = esc(task.due_date.as_deref().unwrap_or("no date")),
        description = esc(&task.description),
    );
    page(&task.title, Some(&visitor), &body)
}

/// The regions of every installation showing UI at `point` about `subject_id`, rendered side by
/// side (each in its own sandbox and budget, all at once), in a stable order.
pub async fn regions(state: &AppState, org_id: &str, point: ExtensionPoint, subject_id: &str) -> String {
    match extensions::installations_at(&state.store, org_id, point).await {
        Ok(placed) => render_regions(state, placed, point, subject_id).await,
        Err(e) => {
            tracing::warn!(error = %e, "the apps' UI could not be listed");
            String::new()
        }
    }
}

/// The regions of `placed`, rendered all at once.
pub async fn render_regions(
    state: &AppState,
    placed: Vec<extensions::Placed>,
    point: ExtensionPoint,
    subject_id: &str,
) -> String {
    let mut running = tokio::task::JoinSet::new();
    for (i, placed) in placed.into_iter().enumerate() {
        let state = state.clone();
        let subject = subject_id.to_owned();
        running.spawn(async move {
            let rendered = match state.runtime().await {
                Ok(runtime) => {
                    extensions::render(&state.store, &state.secrets, runtime, placed, point, &subject).await
                }
                Err(e) => extensions::Rendered {
                    placed,
                    allowed_hosts: Vec::new(),
                    shown: Err(e.to_string()),
                },
            };
            (i, blocks::region(&rendered, point, &subject, None))
        });
    }
    let mut shown: Vec<(usize, String)> = running.join_all().await;
    shown.sort_by_key(|(i, _)| *i);
    shown.into_iter().map(|(_, html)| html).collect()
}

fn first(limit: u32) -> PageRequest {
    PageRequest {
        before_id: None,
        limit,
        created_after: None,
    }
}

fn failed(visitor: &Visitor, e: PlatformError) -> Response {
    let status = match e {
        PlatformError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    refusal(status, Some(visitor), &e.to_string())
}
