//! The product's own core: organizations, people, credentials, projects and tasks.
//!
//! Every change to a project or a task writes its event to the outbox ([`outbox`]) in the same
//! transaction, so a change and the news of it are never separated.

pub mod credentials;
pub mod orgs;
pub mod outbox;
pub mod page;
pub mod passwords;
pub mod projects;
pub mod scope;
pub mod tasks;

pub use scope::{Scope, ScopeSet};

/// What can go wrong in the core, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// Invalid input with one problem per named field (`scopes[1].purpose`).
    #[error("{0}")]
    InvalidFields(String, Vec<(String, String)>),
    #[error("database error: {0}")]
    Database(#[from] crate::store::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = PlatformError> = std::result::Result<T, E>;

/// Formats a stored millisecond time as RFC 3339 (UTC), the form the API shows.
pub fn format_time(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Parses an RFC 3339 time into stored milliseconds.
pub fn parse_time(text: &str) -> Result<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|_| {
            PlatformError::Invalid(format!(
                "`{text}` is not an RFC 3339 time; use a form like 2026-01-31T12:00:00Z"
            ))
        })?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Checks a required human-entered text field: trimmed, not empty, not too long.
pub fn require_text(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(PlatformError::Invalid(format!("`{field}` must not be empty")));
    }
    if value.chars().count() > max {
        return Err(PlatformError::Invalid(format!(
            "`{field}` is longer than {max} characters"
        )));
    }
    Ok(value.to_owned())
}

/// Checks an optional free-text field's length.
pub fn limit_text(field: &str, value: &str, max: usize) -> Result<String> {
    if value.chars().count() > max {
        return Err(PlatformError::Invalid(format!(
            "`{field}` is longer than {max} characters"
        )));
    }
    Ok(value.to_owned())
}
