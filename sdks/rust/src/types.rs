//! The records a plugin receives and returns.

use serde::de::DeserializeOwned;

use crate::wit::bazaar::platform::types as wit;

/// Something that happened in the organization that installed the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Stable identifier: a retried delivery carries the same id, so it can be used to skip
    /// work already done.
    pub id: String,
    /// `resource.action`, for example `task.completed`.
    pub kind: String,
    /// The organization the event belongs to.
    pub org_id: String,
    /// The id of the project or task the event is about.
    pub subject_id: String,
    /// When it happened (RFC 3339).
    pub occurred_at: String,
    /// The resource right after the change, as JSON text; see [`Event::payload`].
    pub payload_json: String,
}

impl Event {
    /// The payload decoded into your own type, for example a struct with the task fields you need.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.payload_json)
            .map_err(|e| Error::Invalid(format!("event {} payload: {e}", self.id)))
    }

    /// The part before the dot of [`Event::kind`]: `project` or `task`.
    pub fn resource(&self) -> &str {
        self.kind.split('.').next().unwrap_or_default()
    }
}

impl From<wit::Event> for Event {
    fn from(e: wit::Event) -> Self {
        Event {
            id: e.id,
            kind: e.kind,
            org_id: e.org_id,
            subject_id: e.subject_id,
            occurred_at: e.occurred_at,
            payload_json: e.payload,
        }
    }
}

/// Why a call failed: returned by capabilities, and returned by a plugin to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The installation was not granted the scope the call needs.
    Forbidden(String),
    /// The thing asked for does not exist.
    NotFound(String),
    /// The input was refused; the message says why.
    Invalid(String),
    /// A per-call limit was reached.
    LimitExceeded(String),
    /// A passing failure; from `on_event` it asks for a retry.
    Unavailable(String),
    /// Anything else.
    Internal(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, message) = match self {
            Error::Forbidden(m) => ("forbidden", m),
            Error::NotFound(m) => ("not found", m),
            Error::Invalid(m) => ("invalid", m),
            Error::LimitExceeded(m) => ("limit exceeded", m),
            Error::Unavailable(m) => ("unavailable", m),
            Error::Internal(m) => ("internal", m),
        };
        write!(f, "{kind}: {message}")
    }
}

impl std::error::Error for Error {}

impl From<wit::Error> for Error {
    fn from(e: wit::Error) -> Self {
        match e {
            wit::Error::Forbidden(m) => Error::Forbidden(m),
            wit::Error::NotFound(m) => Error::NotFound(m),
            wit::Error::Invalid(m) => Error::Invalid(m),
            wit::Error::LimitExceeded(m) => Error::LimitExceeded(m),
            wit::Error::Unavailable(m) => Error::Unavailable(m),
            wit::Error::Internal(m) => Error::Internal(m),
        }
    }
}

impl From<Error> for wit::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Forbidden(m) => wit::Error::Forbidden(m),
            Error::NotFound(m) => wit::Error::NotFound(m),
            Error::Invalid(m) => wit::Error::Invalid(m),
            Error::LimitExceeded(m) => wit::Error::LimitExceeded(m),
            Error::Unavailable(m) => wit::Error::Unavailable(m),
            Error::Internal(m) => wit::Error::Internal(m),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Invalid(format!("JSON: {e}"))
    }
}

/// A project of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Its id (`prj_...`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description, possibly empty.
    pub description: String,
    /// `active` or `archived`.
    pub status: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
}

impl From<wit::Project> for Project {
    fn from(p: wit::Project) -> Self {
        Project {
            id: p.id,
            name: p.name,
            description: p.description,
            status: p.status,
            created_at: p.created_at,
        }
    }
}

/// A task of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Its id (`tsk_...`).
    pub id: String,
    /// The project it belongs to.
    pub project_id: String,
    /// Its title.
    pub title: String,
    /// Its description, possibly empty.
    pub description: String,
    /// `open` or `completed`.
    pub status: String,
    /// Its labels.
    pub labels: Vec<String>,
    /// When it is due (`YYYY-MM-DD`), if ever.
    pub due_date: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: String,
}

impl From<wit::Task> for Task {
    fn from(t: wit::Task) -> Self {
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
}
