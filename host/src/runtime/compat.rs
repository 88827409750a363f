//! `bazaar:platform@0.1.0` on the newest host: each 0.1.0 host function forwards to its 0.2.0
//! implementation in `capabilities`, so both versions keep one behaviour (grants, limits,
//! errors). Records shared by both versions (`types`) need no conversion; the few declared
//! inside an interface (`log.level`, `http.request`) are converted field by field.

use super::bindings::{Error, Project, Task, platform as new, v0_1::bazaar::platform as old};
use super::state::PluginState;

type HostResult<T> = wasmtime::Result<Result<T, Error>>;

impl old::log::Host for PluginState {
    async fn write(&mut self, level: old::log::Level, message: String) -> wasmtime::Result<()> {
        use new::log::Level as L;
        let level = match level {
            old::log::Level::Debug => L::Debug,
            old::log::Level::Info => L::Info,
            old::log::Level::Warn => L::Warn,
            old::log::Level::Error => L::Error,
        };
        new::log::Host::write(self, level, message).await
    }
}

impl old::config::Host for PluginState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        new::config::Host::get(self, key).await
    }
}

impl old::kv::Host for PluginState {
    async fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        new::kv::Host::get(self, key).await
    }
    async fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<()> {
        new::kv::Host::set(self, key, value).await
    }
    async fn delete(&mut self, key: String) -> HostResult<()> {
        new::kv::Host::delete(self, key).await
    }
    async fn list_keys(&mut self, prefix: String, limit: u32) -> HostResult<Vec<String>> {
        new::kv::Host::list_keys(self, prefix, limit).await
    }
}

impl old::projects::Host for PluginState {
    async fn get(&mut self, id: String) -> HostResult<Project> {
        new::projects::Host::get(self, id).await
    }
    async fn list_active(&mut self, limit: u32) -> HostResult<Vec<Project>> {
        new::projects::Host::list_active(self, limit).await
    }
}

impl old::projects_write::Host for PluginState {
    async fn create(&mut self, name: String, description: String) -> HostResult<Project> {
        new::projects_write::Host::create(self, name, description).await
    }
}

impl old::tasks::Host for PluginState {
    async fn get(&mut self, id: String) -> HostResult<Task> {
        new::tasks::Host::get(self, id).await
    }
    async fn list_by_project(&mut self, project_id: String, limit: u32) -> HostResult<Vec<Task>> {
        new::tasks::Host::list_by_project(self, project_id, limit).await
    }
}

impl old::tasks_write::Host for PluginState {
    async fn create(
        &mut self,
        project_id: String,
        title: String,
        description: String,
        labels: Vec<String>,
    ) -> HostResult<Task> {
        new::tasks_write::Host::create(self, project_id, title, description, labels).await
    }
    async fn set_labels(&mut self, id: String, labels: Vec<String>) -> HostResult<Task> {
        new::tasks_write::Host::set_labels(self, id, labels).await
    }
    async fn complete(&mut self, id: String) -> HostResult<Task> {
        new::tasks_write::Host::complete(self, id).await
    }
}

impl old::http::Host for PluginState {
    async fn send(&mut self, request: old::http::Request) -> HostResult<old::http::Response> {
        use new::http::Method as M;
        let method = match request.method {
            old::http::Method::Get => M::Get,
            old::http::Method::Post => M::Post,
            old::http::Method::Put => M::Put,
            old::http::Method::Patch => M::Patch,
            old::http::Method::Delete => M::Delete,
        };
        let request = new::http::Request {
            method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        Ok(new::http::Host::send(self, request)
            .await?
            .map(|r| old::http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }))
    }
}

/// The UI records have no functions: nothing to implement.
impl new::ui::Host for PluginState {}
