//! `bazaar:platform/tasks` (scope `tasks:read`) and `tasks-write` (`tasks:write`): the
//! organization's tasks, through the same rules (and events) as the API.

use super::{HostResult, answer};
use crate::platform::page::PageRequest;
use crate::platform::tasks::{self, NewTask, TaskChange, TaskFilter};
use crate::policy::Interface;
use crate::runtime::bindings::Task;
use crate::runtime::bindings::platform::{tasks as read, tasks_write as write};
use crate::runtime::state::PluginState;

pub(crate) fn to_wit(t: tasks::Task) -> Task {
    Task {
        id: t.id,
        project_id: t.project_id,
        title: t.title,
        description: t.description,
        status: t.status,
        labels: t.labels,
        due_date: t.due_date,
        created_at: t.created_at,
    }
}

impl read::Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "tasks", function = "get", outcome = tracing::field::Empty))]
    async fn get(&mut self, id: String) -> HostResult<Task> {
        answer(
            self.call(Interface::Tasks, "get", async |s| {
                Ok(to_wit(tasks::get(s.store(), s.org_id(), &id).await?))
            })
            .await,
        )
    }

    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "tasks", function = "list_by_project", outcome = tracing::field::Empty))]
    async fn list_by_project(&mut self, project_id: String, limit: u32) -> HostResult<Vec<Task>> {
        answer(
            self.call(Interface::Tasks, "list_by_project", async |s| {
                let filter = TaskFilter {
                    project_id: Some(project_id),
                    status: None,
                };
                let page = PageRequest::new(Some(limit.clamp(1, 100)), None, None)?;
                let list = tasks::list(s.store(), s.org_id(), &filter, &page).await?;
                Ok(list.items.into_iter().map(to_wit).collect())
            })
            .await,
        )
    }
}

impl write::Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "tasks-write", function = "create", outcome = tracing::field::Empty))]
    async fn create(
        &mut self,
        project_id: String,
        title: String,
        description: String,
        labels: Vec<String>,
    ) -> HostResult<Task> {
        answer(
            self.call(Interface::TasksWrite, "create", async |s| {
                let new = NewTask {
                    project_id,
                    title,
                    description,
                    labels,
                    due_date: None,
                };
                Ok(to_wit(tasks::create(s.store(), s.org_id(), new).await?))
            })
            .await,
        )
    }

    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "tasks-write", function = "set_labels", outcome = tracing::field::Empty))]
    async fn set_labels(&mut self, id: String, labels: Vec<String>) -> HostResult<Task> {
        answer(
            self.call(Interface::TasksWrite, "set_labels", async |s| {
                let change = TaskChange {
                    labels: Some(labels),
                    ..Default::default()
                };
                Ok(to_wit(tasks::update(s.store(), s.org_id(), &id, change).await?))
            })
            .await,
        )
    }

    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "tasks-write", function = "complete", outcome = tracing::field::Empty))]
    async fn complete(&mut self, id: String) -> HostResult<Task> {
        answer(
            self.call(Interface::TasksWrite, "complete", async |s| {
                Ok(to_wit(
                    tasks::set_completed(s.store(), s.org_id(), &id, true).await?,
                ))
            })
            .await,
        )
    }
}
