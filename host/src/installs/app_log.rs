//! The app log: what went wrong when an installed plugin ran inside a request (a UI render or
//! action, a hook). Those failures never block the page or the request, so this is where the
//! tenant (on the installed app's page) learns what happened. Only failures are written, and
//! only the newest [`KEPT`] per installation are kept.

use serde::Serialize;

use crate::platform::{Result, format_time};
use crate::runtime::Report;
use crate::store::{Store, new_id, now_ms};

/// Entries kept per installation.
pub const KEPT: i64 = 100;

/// One failed call.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// What ran: `render task-panel`, `action suggest`, `hook validate-task`.
    pub call: String,
    /// The outcome class (`deadline`, `trap`, `limit_exceeded`, ...).
    pub outcome: String,
    /// What happened, in words.
    pub message: String,
    /// The plugin's own log lines of that call.
    pub log: Vec<String>,
    pub at: String,
}

/// How long recordings of failed in-request calls are kept: 30 days, as deliveries.
const RECORDING_RETENTION_MS: i64 = 30 * 24 * 3_600_000;

/// Records a failed call of `installation_id`, and keeps its recording; a successful one is
/// not written.
pub async fn record_failure(store: &Store, installation_id: &str, call: &str, report: &Report) -> Result<()> {
    if report.outcome.class() == "ok" {
        return Ok(());
    }
    if let Some(recording) = &report.recording {
        crate::runtime::recordings::keep(store, recording, RECORDING_RETENTION_MS).await?;
    }
    let log: Vec<String> = report
        .log
        .iter()
        .map(|l| format!("[{}] {}", l.level, l.message))
        .collect();
    let mut conn = store.writer().acquire().await?;
    sqlx::query(
        "INSERT INTO app_log (id, installation_id, created_at, call, outcome, message, log) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id("alg"))
    .bind(installation_id)
    .bind(now_ms())
    .bind(call)
    .bind(report.outcome.class())
    .bind(&report.message)
    .bind(serde_json::to_string(&log).unwrap_or_default())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM app_log WHERE installation_id = $1 AND id NOT IN \
         (SELECT id FROM app_log WHERE installation_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)",
    )
    .bind(installation_id)
    .bind(KEPT)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The newest entries of an installation, newest first.
pub async fn recent(store: &Store, installation_id: &str, limit: i64) -> Result<Vec<Entry>> {
    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT call, outcome, message, log, created_at FROM app_log WHERE installation_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(installation_id)
    .bind(limit)
    .fetch_all(store.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(call, outcome, message, log, at)| Entry {
            call,
            outcome,
            message,
            log: serde_json::from_str(&log).unwrap_or_default(),
            at: format_time(at),
        })
        .collect())
}

/// Deletes an installation's entries (on uninstall, in its transaction).
pub async fn forget<'c, E>(conn: E, installation_id: &str) -> std::result::Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("DELETE FROM app_log WHERE installation_id = $1")
        .bind(installation_id)
        .execute(conn)
        .await?;
    Ok(())
}
