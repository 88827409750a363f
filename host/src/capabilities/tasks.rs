//! `bazaar:platform/tasks` (scope `tasks:read`) and `tasks-write` (`tasks:write`): the
//! organization's tasks, through the same rules (and events) as the API.

use crate::platform::page::PageRequest;
use crate::platform::tasks::{self, NewTask, TaskChange, TaskFilter};
use crate::platform::{PlatformError, Scope};
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
    Ok(result.map(to_wit).map_err(Error::from))
}

impl read::Host for PluginState {
    async fn get(&mut self, id: String) -> wasmtime::Result<Result<Task, Error>> {
        if let Err(e) = self.enter(Some(Scope::TasksRead)) {
            return Ok(Err(e));
        }
        done(tasks::get(self.store(), self.org_id(), &id).await)
    }

    async fn list_by_project(
        &mut self,
        project_id: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<Task>, Error>> {
        if let Err(e) = self.enter(Some(Scope::TasksRead)) {
            return Ok(Err(e));
        }
        let filter = TaskFilter {
            project_id: Some(project_id),
            status: None,
        };
        let result = match PageRequest::new(Some(limit.clamp(1, 100)), None, None) {
            Ok(page) => tasks::list(self.store(), self.org_id(), &filter, &page).await,
            Err(e) => Err(e),
        };
        Ok(result
            .map(|p| p.items.into_iter().map(to_wit).collect())
            .map_err(Error::from))
    }
}

impl write::Host for PluginState {
    async fn create(
        &mut self,
        project_id: String,
        title: String,
        description: String,
        labels: Vec<String>,
    ) -> wasmtime::Result<Result<Task, Error>> {
        if let Err(e) = self.enter(Some(Scope::TasksWrite)) {
            return Ok(Err(e));
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

    async fn set_labels(&mut self, id: String, labels: Vec<String>) -> wasmtime::Result<Result<Task, Error>> {
        if let Err(e) = self.enter(Some(Scope::TasksWrite)) {
            return Ok(Err(e));
        }
        let change = TaskChange {
            labels: Some(labels),
            ..Default::default()
        };
        done(tasks::update(self.store(), self.org_id(), &id, change).await)
    }

    async fn complete(&mut self, id: String) -> wasmtime::Result<Result<Task, Error>> {
        if let Err(e) = self.enter(Some(Scope::TasksWrite)) {
            return Ok(Err(e));
        }
        done(tasks::set_completed(self.store(), self.org_id(), &id, true).await)
    }
}
