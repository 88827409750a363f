//! `bazaar:platform/tasks` (scope `tasks:read`) and `tasks-write` (`tasks:write`): the
//! organization's tasks, through the same rules (and events) as the API.

use super::answer;
use crate::platform::PlatformError;
use crate::platform::page::PageRequest;
use crate::platform::tasks::{self, NewTask, TaskChange, TaskFilter};
use crate::policy::Interface;
use crate::runtime::bindings::bazaar::platform::{tasks as read, tasks_write as write};
use crate::runtime::bindings::{Error, Task};
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

fn done(result: Result<tasks::Task, PlatformError>) -> wasmtime::Result<Result<Task, Error>> {
    answer(result.map(to_wit).map_err(Error::from))
}

impl read::Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "tasks", function = "get", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn get(&mut self, id: String) -> wasmtime::Result<Result<Task, Error>> {
        if let Err(e) = self.enter(Interface::Tasks) {
            return answer(Err(e));
        }
        done(tasks::get(self.store(), self.org_id(), &id).await)
    }

    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "tasks", function = "list_by_project", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn list_by_project(
        &mut self,
        project_id: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<Task>, Error>> {
        if let Err(e) = self.enter(Interface::Tasks) {
            return answer(Err(e));
        }
        let filter = TaskFilter {
            project_id: Some(project_id),
            status: None,
        };
        let result = match PageRequest::new(Some(limit.clamp(1, 100)), None, None) {
            Ok(page) => tasks::list(self.store(), self.org_id(), &filter, &page).await,
            Err(e) => Err(e),
        };
        answer(
            result
                .map(|p| p.items.into_iter().map(to_wit).collect())
                .map_err(Error::from),
        )
    }
}

impl write::Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "tasks-write", function = "create", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn create(
        &mut self,
        project_id: String,
        title: String,
        description: String,
        labels: Vec<String>,
    ) -> wasmtime::Result<Result<Task, Error>> {
        if let Err(e) = self.enter(Interface::TasksWrite) {
            return answer(Err(e));
        }
        let new = NewTask {
            project_id,
            title,
            description,
            labels,
            due_date: None,
        };
        done(tasks::create(self.store(), self.org_id(), new).await)
    }

    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "tasks-write", function = "set_labels", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn set_labels(&mut self, id: String, labels: Vec<String>) -> wasmtime::Result<Result<Task, Error>> {
        if let Err(e) = self.enter(Interface::TasksWrite) {
            return answer(Err(e));
        }
        let change = TaskChange {
            labels: Some(labels),
            ..Default::default()
        };
        done(tasks::update(self.store(), self.org_id(), &id, change).await)
    }

    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "tasks-write", function = "complete", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn complete(&mut self, id: String) -> wasmtime::Result<Result<Task, Error>> {
        if let Err(e) = self.enter(Interface::TasksWrite) {
            return answer(Err(e));
        }
        done(tasks::set_completed(self.store(), self.org_id(), &id, true).await)
    }
}
