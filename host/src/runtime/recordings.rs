//! Where recordings of calls are kept (the table `recordings`): written by the invocation
//! journal (every failed call's, and the newest successful ones), read by the tenant, by
//! platform reviewers, and by the app's developer when the tenant shares them. At most
//! [`KEPT`] failures and [`KEPT_OK`] successes per installation, none older than the delivery
//! retention.

use serde::Serialize;
use utoipa::ToSchema;

use super::recording::{Input, Recording};
use crate::platform::{PlatformError, Result, format_time};
use crate::store::{Store, new_id};

/// Recordings of failed calls kept per installation, newest first.
pub const KEPT: i64 = 100;
/// Recordings of successful calls kept per installation: the most recent ones, to replay a
/// call that ended well but did the wrong thing.
pub const KEPT_OK: i64 = 20;

/// A kept recording, without its body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    pub id: String,
    pub installation_id: String,
    pub app_id: String,
    pub created_at: String,
    /// The export called, in words (`on-event task.created`).
    pub input: String,
    /// The event's id, for a delivery.
    pub event_id: Option<String>,
    pub outcome: String,
    pub fuel_used: i64,
}

type Row = (String, String, String, i64, String, Option<String>, String, i64);
/// A [`Row`] followed by the organization and the body.
type Whole = (
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    String,
    i64,
    String,
    String,
);

fn summary((id, installation_id, app_id, created_at, input, event_id, outcome, fuel_used): Row) -> Summary {
    Summary {
        id,
        installation_id,
        app_id,
        created_at: format_time(created_at),
        input,
        event_id,
        outcome,
        fuel_used,
    }
}

const COLUMNS: &str = "id, installation_id, app_id, created_at, input, event_id, outcome, fuel_used";

/// Writes a recording in `conn` (the journal's batch); returns its id.
pub(crate) async fn insert(
    conn: &mut crate::store::Conn,
    recording: &Recording,
    now: i64,
) -> std::result::Result<String, crate::store::Error> {
    let id = new_id("rec");
    let event_id = match &recording.input {
        Input::OnEvent { event } => Some(event.id.clone()),
        _ => None,
    };
    let body = serde_json::to_string(recording).unwrap_or_default();
    crate::store::query(
        "INSERT INTO recordings (id, org_id, installation_id, app_id, created_at, input, event_id, outcome, fuel_used, body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&recording.org_id)
    .bind(&recording.installation_id)
    .bind(&recording.app_id)
    .bind(now)
    .bind(recording.input.describe())
    .bind(event_id)
    .bind(&recording.outcome)
    .bind(i64::try_from(recording.fuel_used).unwrap_or(i64::MAX))
    .bind(body)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Drops an installation's recordings older than `oldest` (ms), and those beyond the newest
/// [`KEPT`] failures and [`KEPT_OK`] successes.
pub(crate) async fn prune(
    conn: &mut crate::store::Conn,
    installation_id: &str,
    oldest: i64,
) -> std::result::Result<(), crate::store::Error> {
    for (condition, kept) in [("outcome <> 'ok'", KEPT), ("outcome = 'ok'", KEPT_OK)] {
        crate::store::query(&format!(
            "DELETE FROM recordings WHERE installation_id = $1 AND {condition} AND (created_at < $2 OR id NOT IN \
             (SELECT id FROM recordings WHERE installation_id = $1 AND {condition} ORDER BY created_at DESC, id DESC LIMIT $3))"
        ))
        .bind(installation_id)
        .bind(oldest)
        .bind(kept)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// What to list.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub org_id: Option<&'a str>,
    pub app_id: Option<&'a str>,
    pub installation_id: Option<&'a str>,
    /// Only these installations (those that share recordings with their app's developer).
    pub installations_in: Option<&'a [String]>,
    pub outcome: Option<&'a str>,
    pub event_id: Option<&'a str>,
}

/// Recordings matching `filter`, newest first, at most `limit`.
pub async fn list(store: &Store, filter: &Filter<'_>, limit: i64) -> Result<Vec<Summary>> {
    let mut conditions = Vec::new();
    let mut values: Vec<&str> = Vec::new();
    for (column, value) in [
        ("org_id", filter.org_id),
        ("app_id", filter.app_id),
        ("installation_id", filter.installation_id),
        ("outcome", filter.outcome),
        ("event_id", filter.event_id),
    ] {
        if let Some(value) = value {
            values.push(value);
            conditions.push(format!("{column} = ${}", values.len()));
        }
    }
    if let Some(ids) = filter.installations_in {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let start = values.len() + 1;
        values.extend(ids.iter().map(String::as_str));
        conditions.push(format!(
            "installation_id IN ({})",
            crate::store::placeholders(start, ids.len())
        ));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM recordings {} ORDER BY created_at DESC, id DESC LIMIT {}",
        if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        },
        limit.clamp(1, 200)
    );
    let mut query = crate::store::query_as::<Row>(&sql);
    for value in values {
        query = query.bind(value);
    }
    Ok(query
        .fetch_all(store.reader())
        .await?
        .into_iter()
        .map(summary)
        .collect())
}

/// One recording: its summary, organization and whole body.
pub async fn get(store: &Store, id: &str) -> Result<(Summary, String, Recording)> {
    let found: Option<(Row, String, String)> = crate::store::query_as::<Whole>(&format!(
        "SELECT {COLUMNS}, org_id, body FROM recordings WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store.reader())
    .await?
    .map(
        |(id, installation_id, app_id, created_at, input, event_id, outcome, fuel_used, org_id, body)| {
            (
                (
                    id,
                    installation_id,
                    app_id,
                    created_at,
                    input,
                    event_id,
                    outcome,
                    fuel_used,
                ),
                org_id,
                body,
            )
        },
    );
    let (row, org_id, body) = found.ok_or(PlatformError::NotFound("recording"))?;
    let recording: Recording =
        serde_json::from_str(&body).map_err(|e| PlatformError::Internal(e.to_string()))?;
    Ok((summary(row), org_id, recording))
}

/// Deletes the recordings of an uninstalled installation.
pub async fn forget(
    conn: &mut crate::store::Conn,
    installation_id: &str,
) -> std::result::Result<(), crate::store::Error> {
    crate::store::query("DELETE FROM recordings WHERE installation_id = $1")
        .bind(installation_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
