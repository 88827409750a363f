//! Typed wrappers over the host's capabilities, one module per WIT interface. Each names the
//! scope the installation must hold; using a module makes the component import its interface.

use crate::wit::bazaar::platform as wit;
use crate::{Error, Project, Task};

/// The plugin's log (no scope). Lines past the per-call cap are dropped.
pub mod log {
    use super::wit::log::{Level, write};

    /// Logs a debugging detail.
    pub fn debug(message: &str) {
        write(Level::Debug, message);
    }
    /// Logs what the plugin did.
    pub fn info(message: &str) {
        write(Level::Info, message);
    }
    /// Logs something the tenant admin should look at.
    pub fn warn(message: &str) {
        write(Level::Warn, message);
    }
    /// Logs a failure.
    pub fn error(message: &str) {
        write(Level::Error, message);
    }
}

/// The plugin's own steps in the call's trace (no scope), nested inside the call's span and
/// inside each other; a team exporting traces sees them beside the host's. At most 100 spans and
/// 20 attributes each; past that, calls are ignored.
///
/// ```ignore
/// let span = trace::span("fetch items", &[("vendor", "acme")]);
/// span.set("items", &items.len().to_string());
/// // ... the span ends when `span` is dropped
/// ```
pub mod trace {
    /// An open span of the call's trace; it ends when dropped.
    pub struct Span(u32);

    /// Starts a span named `name` inside the innermost open one.
    pub fn span(name: &str, attributes: &[(&str, &str)]) -> Span {
        let attributes: Vec<(String, String)> = attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Span(super::wit::trace::enter(name, &attributes))
    }

    impl Span {
        /// Adds an attribute.
        pub fn set(&self, key: &str, value: &str) {
            super::wit::trace::set_attribute(self.0, key, value);
        }
    }

    impl Drop for Span {
        fn drop(&mut self) {
            super::wit::trace::exit(self.0);
        }
    }
}

/// This installation's configuration (no scope).
pub mod config {
    /// The value of a configuration field, if the admin set it.
    pub fn get(key: &str) -> Option<String> {
        super::wit::config::get(key)
    }

    /// The value of a required field, or an `invalid` error naming it.
    pub fn require(key: &str) -> Result<String, crate::Error> {
        get(key).ok_or_else(|| crate::Error::Invalid(format!("configuration field `{key}` is not set")))
    }
}

/// A key-value store private to this installation (scope `storage`).
pub mod kv {
    use super::Error;
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    /// The bytes stored under `key`.
    pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(super::wit::kv::get(key)?)
    }
    /// Stores bytes under `key`.
    pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
        Ok(super::wit::kv::set(key, value)?)
    }
    /// Removes `key`.
    pub fn delete(key: &str) -> Result<(), Error> {
        Ok(super::wit::kv::delete(key)?)
    }
    /// Keys starting with `prefix`, in order, at most `limit`.
    pub fn list_keys(prefix: &str, limit: u32) -> Result<Vec<String>, Error> {
        Ok(super::wit::kv::list_keys(prefix, limit)?)
    }
    /// The JSON value stored under `key`, decoded.
    pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
        get(key)?
            .map(|bytes| serde_json::from_slice(&bytes).map_err(Error::from))
            .transpose()
    }
    /// Stores `value` as JSON under `key`.
    pub fn set_json<T: Serialize>(key: &str, value: &T) -> Result<(), Error> {
        set(key, &serde_json::to_vec(value)?)
    }
}

/// The organization's projects (scope `projects:read`; [`projects::create`] needs `projects:write`).
pub mod projects {
    use super::{Error, Project};

    /// One project by id.
    pub fn get(id: &str) -> Result<Project, Error> {
        Ok(super::wit::projects::get(id)?.into())
    }
    /// Active projects, newest first.
    pub fn list(limit: u32) -> Result<Vec<Project>, Error> {
        Ok(super::wit::projects::list_active(limit)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
    /// Creates a project (scope `projects:write`).
    pub fn create(name: &str, description: &str) -> Result<Project, Error> {
        Ok(super::wit::projects_write::create(name, description)?.into())
    }
}

/// The organization's tasks (scope `tasks:read`; changes need `tasks:write`).
pub mod tasks {
    use super::{Error, Task};

    /// One task by id.
    pub fn get(id: &str) -> Result<Task, Error> {
        Ok(super::wit::tasks::get(id)?.into())
    }
    /// Tasks of a project, newest first.
    pub fn list_by_project(project_id: &str, limit: u32) -> Result<Vec<Task>, Error> {
        Ok(super::wit::tasks::list_by_project(project_id, limit)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
    /// Creates an open task (scope `tasks:write`).
    pub fn create(
        project_id: &str,
        title: &str,
        description: &str,
        labels: &[String],
    ) -> Result<Task, Error> {
        Ok(super::wit::tasks_write::create(project_id, title, description, labels)?.into())
    }
    /// Replaces a task's labels (scope `tasks:write`).
    pub fn set_labels(id: &str, labels: &[String]) -> Result<Task, Error> {
        Ok(super::wit::tasks_write::set_labels(id, labels)?.into())
    }
    /// Completes a task (scope `tasks:write`).
    pub fn complete(id: &str) -> Result<Task, Error> {
        Ok(super::wit::tasks_write::complete(id)?.into())
    }
}

/// Outbound HTTP to the hosts the manifest declares (scope `network`).
pub mod http {
    use super::Error;
    use super::wit::http::Request;

    /// The request's method (`Method::Post`, ...).
    pub use super::wit::http::Method;
    /// A response: status, headers and the whole body.
    pub use super::wit::http::Response;

    /// Sends a GET request.
    pub fn get(url: &str) -> Result<Response, Error> {
        send(Method::Get, url, &[], None)
    }

    /// POSTs `value` as JSON.
    pub fn post_json<T: serde::Serialize>(url: &str, value: &T) -> Result<Response, Error> {
        let body = serde_json::to_vec(value)?;
        send(
            Method::Post,
            url,
            &[("content-type", "application/json")],
            Some(body),
        )
    }

    /// Sends any request.
    pub fn send(
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Response, Error> {
        Ok(super::wit::http::send(&request(method, url, headers, body))?)
    }

    /// The WIT request for these parts (shared with [`super::connections`]).
    pub(super) fn request(
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Request {
        Request {
            method,
            url: url.to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body,
        }
    }
}

/// Requests that carry an account or key the tenant connected (scope `network`), as the
/// manifest declares under `[[connections]]`. The host adds the credential, for the connection's
/// hosts only; the plugin never sees it.
///
/// ```ignore
/// let issue = connections::post_json("github", "https://api.github.com/repos/acme/web/issues",
///     &serde_json::json!({ "title": task.title }))?;
/// ```
pub mod connections {
    use super::Error;
    use super::wit::http::{Method, Response};

    /// Whether the tenant has connected a connection, and the account, when the vendor said.
    pub use super::wit::connections::ConnectionStatus;

    /// Sends a GET request through the connection `name`.
    pub fn get(name: &str, url: &str) -> Result<Response, Error> {
        send(name, Method::Get, url, &[], None)
    }

    /// POSTs `value` as JSON through the connection `name`.
    pub fn post_json<T: serde::Serialize>(name: &str, url: &str, value: &T) -> Result<Response, Error> {
        let body = serde_json::to_vec(value)?;
        send(
            name,
            Method::Post,
            url,
            &[("content-type", "application/json")],
            Some(body),
        )
    }

    /// Sends any request through the connection `name`. A header of the credential's name that
    /// the plugin sets is replaced by the host's.
    pub fn send(
        name: &str,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Response, Error> {
        let request = super::http::request(method, url, headers, body);
        Ok(super::wit::connections::send(name, &request)?)
    }

    /// Whether the tenant has connected `name` (never its credential).
    pub fn status(name: &str) -> Result<ConnectionStatus, Error> {
        Ok(super::wit::connections::status(name)?)
    }
}

/// Files in this installation's own folder (scope `files:read`, or `files:write` to change
/// them), through WASI: the folder is the guest's `/`, and nothing else exists.
pub mod files {
    use super::Error;

    fn path(name: &str) -> String {
        format!("/{}", name.trim_start_matches('/'))
    }

    fn io(e: std::io::Error, name: &str) -> Error {
        match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(format!("file {name}")),
            std::io::ErrorKind::PermissionDenied => Error::Forbidden(format!("file {name}: {e}")),
            _ => Error::Internal(format!("file {name}: {e}")),
        }
    }

    /// Reads a whole file.
    pub fn read(name: &str) -> Result<Vec<u8>, Error> {
        std::fs::read(path(name)).map_err(|e| io(e, name))
    }

    /// Writes a whole file, creating its folders (scope `files:write`).
    pub fn write(name: &str, contents: &[u8]) -> Result<(), Error> {
        let full = path(name);
        if let Some((dir, _)) = full.rsplit_once('/').filter(|(dir, _)| !dir.is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io(e, name))?;
        }
        std::fs::write(full, contents).map_err(|e| io(e, name))
    }
}
