//! Zapier-style REST hooks: `POST /v1/hooks` subscribes a URL to one event kind for the calling
//! API key (or, with OAuth, the calling installation); deliveries go through the same engine,
//! retries and signing as app webhooks. Revoking the key or uninstalling the app ends them.

use serde::Serialize;
use utoipa::ToSchema;

use super::{address, keys};
use crate::platform::outbox::{self, kinds};
use crate::platform::{PlatformError, Result, ScopeSet, format_time};
use crate::policy;
use crate::secrets::Secrets;
use crate::store::{Store, new_id, now_ms};

/// Who subscribes.
#[derive(Debug, Clone)]
pub enum Subscriber {
    ApiKey(String),
    Installation(String),
}

/// A subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct Hook {
    pub id: String,
    /// The event kind it receives, e.g. `task.created`.
    pub event: String,
    pub target_url: String,
    /// `active`, or `disabled` (the receiver answered 410, or it failed for too long).
    pub status: String,
    pub disabled_reason: Option<String>,
    pub created_at: String,
}

/// A new subscription, with its signing secret (shown once; see `POST /v1/hooks`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedHook {
    #[serde(flatten)]
    pub hook: Hook,
    /// `whsec_...`: verify each delivery's `webhook-signature` with it.
    pub secret: String,
}

#[derive(serde::Deserialize)]
struct Row {
    id: String,
    event_kind: String,
    target_url: String,
    status: String,
    disabled_reason: Option<String>,
    created_at: i64,
}

impl From<Row> for Hook {
    fn from(r: Row) -> Self {
        Hook {
            id: r.id,
            event: r.event_kind,
            target_url: r.target_url,
            status: r.status,
            disabled_reason: r.disabled_reason,
            created_at: format_time(r.created_at),
        }
    }
}

const COLUMNS: &str = "id, event_kind, target_url, status, disabled_reason, created_at";

/// A subscription to make.
pub struct NewHook<'a> {
    pub subscriber: Subscriber,
    /// The scopes of the credential subscribing.
    pub held: ScopeSet,
    pub event: &'a str,
    pub target_url: &'a str,
}

/// Subscribes after checking the kind, the caller's read scope for it, and that the URL
/// reaches a public address (unless `allow_private`).
pub async fn create(
    store: &Store,
    secrets: &Secrets,
    org_id: &str,
    new: NewHook<'_>,
    allow_private: bool,
) -> Result<CreatedHook> {
    let NewHook {
        subscriber,
        held,
        event,
        target_url,
    } = new;
    if !kinds::ALL.contains(&event) {
        return Err(PlatformError::Invalid(format!(
            "unknown event kind `{event}`; known kinds are: {}",
            kinds::ALL.join(", ")
        )));
    }
    let rule = policy::event_rule(event)
        .ok_or_else(|| PlatformError::Invalid(format!("unknown event kind `{event}`")))?;
    match &subscriber {
        Subscriber::ApiKey(_) if !held.contains(rule.credential_needs()) => {
            return Err(PlatformError::Invalid(format!(
                "receiving `{event}` needs the `{}` scope, which this credential does not hold",
                rule.credential_needs()
            )));
        }
        Subscriber::Installation(_) => match rule.app_needs() {
            Some(scope) if !held.contains(scope) => {
                return Err(PlatformError::Invalid(format!(
                    "receiving `{event}` needs the `{scope}` scope, which this app was not granted"
                )));
            }
            // An app hears about its own installation: fan-out sends it only those.
            _ => {}
        },
        Subscriber::ApiKey(_) => {}
    }
    let url = address::check_target(target_url, allow_private)
        .await
        .map_err(|e| PlatformError::Invalid(format!("target_url: {e}")))?;
    let id = new_id("hook");
    let (key_id, installation_id) = match &subscriber {
        Subscriber::ApiKey(id) => (Some(id.as_str()), None),
        Subscriber::Installation(id) => (None, Some(id.as_str())),
    };
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    // It receives the events after the last one written before it.
    let since = outbox::last_seq(&mut tx).await?;
    crate::store::query(
        "INSERT INTO hooks (id, org_id, api_key_id, installation_id, event_kind, target_url, status, since_seq, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8)",
    )
    .bind(&id)
    .bind(org_id)
    .bind(key_id)
    .bind(installation_id)
    .bind(event)
    .bind(url.as_str())
    .bind(since)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let secret = keys::create(&mut *tx, secrets, &id)
        .await?
        .ok_or_else(|| PlatformError::Internal("a new hook already had a secret".into()))?;
    tx.commit().await?;
    Ok(CreatedHook {
        hook: get(store, org_id, &id).await?,
        secret,
    })
}

pub async fn get(store: &Store, org_id: &str, id: &str) -> Result<Hook> {
    let row: Option<Row> = crate::store::query_as(&format!(
        "SELECT {COLUMNS} FROM hooks WHERE id = $1 AND org_id = $2"
    ))
    .bind(id)
    .bind(org_id)
    .fetch_optional(store.reader())
    .await?;
    row.map(Hook::from).ok_or(PlatformError::NotFound("hook"))
}

/// The organization's subscriptions, newest first.
pub async fn list(store: &Store, org_id: &str) -> Result<Vec<Hook>> {
    let rows: Vec<Row> = crate::store::query_as(&format!(
        "SELECT {COLUMNS} FROM hooks WHERE org_id = $1 ORDER BY id DESC"
    ))
    .bind(org_id)
    .fetch_all(store.reader())
    .await?;
    Ok(rows.into_iter().map(Hook::from).collect())
}

/// A live hook as fan-out needs it: id, event kind, the scopes of its API key or of its
/// installation, the installation it acts for, and the sequence it starts after.
pub type LiveHook = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

/// The organization's active hooks whose key is not revoked and whose installation is active,
/// in the fan-out's transaction. (A read-only join with API keys and installations for their
/// liveness, one query per batch: see `tests/api/layout.rs`.)
pub async fn live_in(conn: &mut crate::store::Conn, org_id: &str) -> Result<Vec<LiveHook>> {
    Ok(crate::store::query_as(
        "SELECT h.id, h.event_kind, k.scopes, i.granted_scopes, h.installation_id, h.since_seq FROM hooks h \
         LEFT JOIN api_keys k ON k.id = h.api_key_id LEFT JOIN installations i ON i.id = h.installation_id \
         WHERE h.org_id = $1 AND h.status = 'active' \
         AND (h.api_key_id IS NULL OR k.revoked_at IS NULL) AND (h.installation_id IS NULL OR i.status = 'active')",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?)
}

/// Where a hook sends and whether it is active: `(target_url, status)`, `None` once deleted
/// (delivery workers act across organizations).
pub async fn target(store: &Store, id: &str) -> Result<Option<(String, String)>> {
    Ok(
        crate::store::query_as("SELECT target_url, status FROM hooks WHERE id = $1")
            .bind(id)
            .fetch_optional(store.reader())
            .await?,
    )
}

/// Disables a hook (its receiver answered 410, or it failed for too long); true if it was
/// active. Called in the delivery engine's transaction.
pub async fn disable(conn: &mut crate::store::Conn, id: &str, reason: &str) -> Result<bool> {
    let done = crate::store::query(
        "UPDATE hooks SET status = 'disabled', disabled_reason = $1 WHERE id = $2 AND status = 'active'",
    )
    .bind(reason)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Unsubscribes; its pending deliveries go with it.
pub async fn delete(store: &Store, org_id: &str, id: &str) -> Result<()> {
    let done = crate::store::query("DELETE FROM hooks WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org_id)
        .execute(store.writer())
        .await?;
    if done.rows_affected() == 0 {
        return Err(PlatformError::NotFound("hook"));
    }
    keys::forget(store.writer(), id).await
}
