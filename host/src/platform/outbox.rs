//! The outbox: one row per domain event, written in the transaction of the change itself.
//!
//! Later, delivery workers read it to fan events out to installations; here it is also the
//! organization's event log (`GET /v1/events`).

use crate::store::Conn;
use serde::Serialize;

use super::page::{Keyset, Page, PageRequest};
use super::{Result, format_time};
use crate::store::{Store, new_id, now_ms};

/// Every kind of event the core emits, as `resource.action`.
pub mod kinds {
    pub const PROJECT_CREATED: &str = "project.created";
    pub const PROJECT_UPDATED: &str = "project.updated";
    pub const PROJECT_ARCHIVED: &str = "project.archived";
    pub const PROJECT_RESTORED: &str = "project.restored";
    pub const TASK_CREATED: &str = "task.created";
    pub const TASK_UPDATED: &str = "task.updated";
    pub const TASK_COMPLETED: &str = "task.completed";
    pub const TASK_REOPENED: &str = "task.reopened";
    pub const APP_INSTALLED: &str = "app.installed";
    pub const APP_UPGRADED: &str = "app.upgraded";
    pub const APP_PAUSED: &str = "app.paused";
    pub const APP_RESUMED: &str = "app.resumed";
    pub const APP_UNINSTALLED: &str = "app.uninstalled";
    /// An installation was paused because its deliveries kept failing.
    pub const APP_DELIVERY_PAUSED: &str = "app.delivery_paused";

    pub const ALL: [&str; 14] = [
        PROJECT_CREATED,
        PROJECT_UPDATED,
        PROJECT_ARCHIVED,
        PROJECT_RESTORED,
        TASK_CREATED,
        TASK_UPDATED,
        TASK_COMPLETED,
        TASK_REOPENED,
        APP_INSTALLED,
        APP_UPGRADED,
        APP_PAUSED,
        APP_RESUMED,
        APP_UNINSTALLED,
        APP_DELIVERY_PAUSED,
    ];
}

/// The sequence number of the newest event (0 when there is none): a subscription made now
/// receives the events after it.
pub async fn last_seq(conn: &mut Conn) -> Result<i64> {
    let (seq,): (i64,) = crate::store::query_as("SELECT COALESCE(MAX(seq), 0) FROM events")
        .fetch_one(conn)
        .await?;
    Ok(seq)
}

/// An event not yet fanned out to its subscribers.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Undispatched {
    pub seq: i64,
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub subject_id: String,
    pub occurred_at: i64,
}

/// Takes up to `limit` events not yet dispatched, oldest first, locking them for the caller's
/// transaction (`lock` is the store's `FOR UPDATE`, empty on SQLite).
pub async fn undispatched(conn: &mut Conn, limit: usize, lock: &str) -> Result<Vec<Undispatched>> {
    Ok(crate::store::query_as(&format!(
        "SELECT seq, id, org_id, kind, subject_id, occurred_at FROM events WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1{lock}"
    ))
    .bind(limit as i64)
    .fetch_all(conn)
    .await?)
}

/// Marks events dispatched at `now`, in the transaction that wrote their deliveries.
pub async fn mark_dispatched(conn: &mut Conn, seqs: &[i64], now: i64) -> Result<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE events SET dispatched_at = $1 WHERE seq IN ({})",
        crate::store::placeholders(2, seqs.len())
    );
    let mut query = crate::store::query(&sql).bind(now);
    for seq in seqs {
        query = query.bind(*seq);
    }
    query.execute(conn).await?;
    Ok(())
}

/// The stored events with these ids.
pub async fn by_ids(store: &Store, ids: &[&str]) -> Result<Vec<StoredEvent>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, kind, org_id, subject_id, occurred_at, payload FROM events WHERE id IN ({})",
        crate::store::placeholders(1, ids.len())
    );
    let mut query = crate::store::query_as::<StoredEvent>(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(store.reader()).await?)
}

/// Something that happened in an organization.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Event {
    /// Stable identifier; deliveries of this event carry it unchanged.
    pub id: String,
    /// `resource.action`, for example `task.completed`.
    pub kind: String,
    pub org_id: String,
    /// The id of the project or task the event is about.
    pub subject_id: String,
    /// When it happened (RFC 3339).
    pub occurred_at: String,
    /// The resource as it was right after the change.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// An event as stored: its payload still JSON text, its time in ms (what delivery sends on).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct StoredEvent {
    pub id: String,
    pub kind: String,
    pub org_id: String,
    pub subject_id: String,
    pub occurred_at: i64,
    pub payload: String,
}

impl From<StoredEvent> for Event {
    fn from(row: StoredEvent) -> Self {
        Event {
            id: row.id,
            kind: row.kind,
            org_id: row.org_id,
            subject_id: row.subject_id,
            occurred_at: format_time(row.occurred_at),
            payload: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Writes one event inside the caller's transaction; it commits or rolls back with the change.
pub async fn record<T: Serialize>(
    conn: &mut Conn,
    org_id: &str,
    kind: &'static str,
    subject_id: &str,
    payload: &T,
) -> Result<String> {
    let id = new_id("evt");
    let payload = serde_json::to_string(payload)
        .map_err(|e| super::PlatformError::Internal(format!("event payload: {e}")))?;
    crate::store::query(
        "INSERT INTO events (id, org_id, kind, subject_id, payload, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(org_id)
    .bind(kind)
    .bind(subject_id)
    .bind(payload)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(id)
}

/// Lists an organization's events, newest first, optionally of one kind.
pub async fn list(
    store: &Store,
    org_id: &str,
    kind: Option<&str>,
    page: &PageRequest,
) -> Result<Page<Event>> {
    const COLUMNS: &str = "id, kind, org_id, subject_id, occurred_at, payload";
    let mut select = format!("SELECT {COLUMNS} FROM events WHERE org_id = $1");
    let mut next = 2;
    if kind.is_some() {
        select.push_str(" AND kind = $2");
        next = 3;
    }
    let keyset = Keyset::new(page, next, "id", "occurred_at");
    select.push_str(&keyset.sql);
    let mut query = crate::store::query_as(&select).bind(org_id);
    if let Some(kind) = kind {
        query = query.bind(kind);
    }
    let query = keyset.bind(query, page.limit);
    let rows: Vec<StoredEvent> = query.fetch_all(store.reader()).await?;
    Ok(Page::from_rows(rows, page.limit, |r| &r.id).map(Event::from))
}
