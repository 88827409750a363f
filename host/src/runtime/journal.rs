//! The invocation journal (the table `invocations`): one row per plugin call on this server (an
//! event delivery, a hook, a UI render or action, a web trigger), successful or not, with its
//! outcome class, fuel, peak memory, duration and the plugin's own log lines; and the call's
//! recording when it failed, or the newest successful one of its installation.
//!
//! The runtime hands each finished call to [`Journal::record`]; a writer task writes them in
//! batches, one transaction each, so a successful call costs a channel send. A failed call
//! waits until its row is written: the page the tenant opens next shows it, and a failure is
//! never dropped. When the database falls behind and the queue is full, successful calls are
//! dropped from the journal (counted in the server's log), never the call itself.
//!
//! Who reads what: the tenant everything of their installations; the app's developer ids,
//! classes and timings of every installation, and the log lines only of installations that
//! share them ([`crate::installs::sharing_recordings`]).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use utoipa::ToSchema;

use super::output::LogLine;
use super::recording::Recording;
use crate::platform::{PlatformError, Result, format_time};
use crate::store::{Store, new_id, now_ms};

/// Invocations kept per installation, newest first.
pub const KEPT: i64 = 500;
/// Rows written in one transaction at most.
const BATCH: usize = 256;
/// How long the writer waits for more rows before it writes a batch of successes.
const LINGER: Duration = Duration::from_millis(100);
/// Calls waiting to be written, at most; past it successful ones are dropped.
const QUEUE: usize = 10_000;

/// One finished call, as the runtime hands it over.
#[derive(Debug)]
pub struct Finished {
    pub org_id: String,
    pub installation_id: String,
    pub app_id: String,
    /// When it ended (ms since the epoch).
    pub ended_at: i64,
    /// What ran, in words: `on-event task.created`, `render TaskPanel`, `on-request closed`.
    pub call: String,
    pub event_id: Option<String>,
    pub outcome: &'static str,
    pub message: String,
    pub fuel_used: u64,
    pub memory_peak_bytes: u64,
    pub duration_us: u64,
    pub log: Vec<LogLine>,
    pub recording: Option<Arc<Recording>>,
}

enum Job {
    Write(Box<Finished>, Option<oneshot::Sender<()>>),
    Flush(oneshot::Sender<()>),
}

impl Job {
    fn waited_for(&self) -> bool {
        matches!(self, Job::Flush(_) | Job::Write(_, Some(_)))
    }
}

/// The server's journal writer (one per server process, shared by its runtime).
#[derive(Debug)]
pub struct Journal {
    store: Store,
    retention_ms: i64,
    queue: OnceLock<mpsc::Sender<Job>>,
    dropped: AtomicU64,
}

impl Journal {
    /// A journal on `store`, keeping rows for `retention_ms`. Its writer starts with the first
    /// call recorded (inside the server's async runtime).
    pub fn new(store: Store, retention_ms: i64) -> Self {
        Journal {
            store,
            retention_ms,
            queue: OnceLock::new(),
            dropped: AtomicU64::new(0),
        }
    }

    fn queue(&self) -> &mpsc::Sender<Job> {
        self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(write(self.store.clone(), self.retention_ms, receiver));
            sender
        })
    }

    /// Journals a finished call: a failure is written before this returns, a success soon.
    pub async fn record(&self, finished: Finished) {
        if finished.outcome == "ok" {
            if self
                .queue()
                .try_send(Job::Write(Box::new(finished), None))
                .is_err()
            {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(
                        dropped,
                        "the invocation journal is behind: successful calls left out"
                    );
                }
            }
            return;
        }
        let (done, written) = oneshot::channel();
        if self
            .queue()
            .send(Job::Write(Box::new(finished), Some(done)))
            .await
            .is_ok()
        {
            let _ = written.await;
        }
    }

    /// Waits until every call journaled so far is written.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue().send(Job::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// The writer task: takes what is queued (lingering a little for more when nobody waits),
/// writes it in one transaction, tells the waiters.
async fn write(store: Store, retention_ms: i64, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut waited_for = first.waited_for();
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH {
            let next = match queue.try_recv() {
                Ok(job) => job,
                Err(_) if waited_for => break,
                Err(_) => match tokio::time::timeout_at(until, queue.recv()).await {
                    Ok(Some(job)) => job,
                    _ => break,
                },
            };
            waited_for |= next.waited_for();
            batch.push(next);
        }
        let mut rows = Vec::new();
        let mut waiters = Vec::new();
        for job in batch {
            match job {
                Job::Write(finished, done) => {
                    rows.push(*finished);
                    waiters.extend(done);
                }
                Job::Flush(done) => waiters.push(done),
            }
        }
        if let Err(e) = write_batch(&store, retention_ms, rows).await {
            tracing::warn!(error = %e, "invocations could not be journaled");
        }
        for done in waiters {
            let _ = done.send(());
        }
    }
}

async fn write_batch(store: &Store, retention_ms: i64, rows: Vec<Finished>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    // Every failure's recording; of the successes, the newest of each installation in this
    // batch (the recordings table keeps the newest few).
    let mut newest_ok: HashMap<&str, usize> = HashMap::new();
    for (at, row) in rows.iter().enumerate() {
        if row.outcome == "ok" && row.recording.is_some() {
            newest_ok.insert(&row.installation_id, at);
        }
    }
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    // A call that ended as its installation was uninstalled leaves nothing behind.
    let mut installed = BTreeSet::new();
    for id in rows
        .iter()
        .map(|r| r.installation_id.as_str())
        .collect::<BTreeSet<_>>()
    {
        let found: Option<(String,)> = crate::store::query_as("SELECT id FROM installations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_some() {
            installed.insert(id);
        }
    }
    for (at, row) in rows.iter().enumerate() {
        if !installed.contains(row.installation_id.as_str()) {
            continue;
        }
        let keep_recording = row.outcome != "ok" || newest_ok.get(row.installation_id.as_str()) == Some(&at);
        let recording_id = match &row.recording {
            Some(recording) if keep_recording => {
                Some(super::recordings::insert(&mut tx, recording, now).await?)
            }
            _ => None,
        };
        crate::store::query(
            "INSERT INTO invocations (id, org_id, installation_id, app_id, created_at, call, event_id, outcome, message, \
             fuel_used, memory_peak_bytes, duration_us, log, recording_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(new_id("inv"))
        .bind(&row.org_id)
        .bind(&row.installation_id)
        .bind(&row.app_id)
        .bind(row.ended_at)
        .bind(&row.call)
        .bind(row.event_id.as_deref())
        .bind(row.outcome)
        .bind(&row.message)
        .bind(signed(row.fuel_used))
        .bind(signed(row.memory_peak_bytes))
        .bind(signed(row.duration_us))
        .bind(serde_json::to_string(&row.log).unwrap_or_else(|_| "[]".into()))
        .bind(recording_id)
        .execute(&mut *tx)
        .await?;
    }
    let oldest = now - retention_ms;
    for installation_id in installed {
        crate::store::query(
            "DELETE FROM invocations WHERE installation_id = $1 AND (created_at < $2 OR id NOT IN \
             (SELECT id FROM invocations WHERE installation_id = $1 ORDER BY created_at DESC, id DESC LIMIT $3))",
        )
        .bind(installation_id)
        .bind(oldest)
        .bind(KEPT)
        .execute(&mut *tx)
        .await?;
        super::recordings::prune(&mut tx, installation_id, oldest).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// One journaled call, as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invocation {
    pub id: String,
    pub installation_id: String,
    pub at: String,
    /// What ran: `on-event task.created`, `render TaskPanel`, `on-request closed`, ...
    pub call: String,
    /// The event's id, for a delivery.
    pub event_id: Option<String>,
    /// `ok` or the failure's class (`trap`, `fuel_exhausted`, `deadline`, ...).
    pub outcome: String,
    /// What happened, in words.
    pub message: String,
    pub fuel_used: i64,
    pub memory_peak_bytes: i64,
    pub duration_us: i64,
    /// The plugin's own log lines (`[level] message`); left out (`null`) for the app's
    /// developer unless the tenant shares them.
    pub log: Option<Vec<String>>,
    /// The call's recording, while it is kept (`GET /v1/recordings/{id}`).
    pub recording_id: Option<String>,
}

/// Which journaled calls to list.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub org_id: Option<&'a str>,
    pub app_id: Option<&'a str>,
    pub installation_id: Option<&'a str>,
    pub outcome: Option<Outcome<'a>>,
    pub event_id: Option<&'a str>,
    /// The log lines only of these installations (`None`: of all).
    pub logs_of: Option<&'a [String]>,
}

/// An outcome filter: one class, or every failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    Failed,
    Class(&'a str),
}

impl<'a> Outcome<'a> {
    /// `failed` (every class but `ok`) or one class; empty is no filter.
    pub fn parse(text: &'a str) -> Option<Self> {
        match text.trim() {
            "" => None,
            "failed" => Some(Outcome::Failed),
            class => Some(Outcome::Class(class)),
        }
    }
}

type Row = (
    String,
    String,
    i64,
    String,
    Option<String>,
    String,
    String,
    i64,
    i64,
    i64,
    String,
    Option<String>,
);

/// Journaled calls matching `filter`, newest first, at most `limit` (1 to 200).
pub async fn list(store: &Store, filter: &Filter<'_>, limit: i64) -> Result<Vec<Invocation>> {
    let mut conditions = Vec::new();
    let mut values: Vec<&str> = Vec::new();
    for (column, value) in [
        ("i.org_id", filter.org_id),
        ("i.app_id", filter.app_id),
        ("i.installation_id", filter.installation_id),
        ("i.event_id", filter.event_id),
    ] {
        if let Some(value) = value {
            values.push(value);
            conditions.push(format!("{column} = ${}", values.len()));
        }
    }
    match filter.outcome {
        Some(Outcome::Failed) => conditions.push("i.outcome <> 'ok'".into()),
        Some(Outcome::Class(class)) => {
            values.push(class);
            conditions.push(format!("i.outcome = ${}", values.len()));
        }
        None => {}
    }
    let sql = format!(
        "SELECT i.id, i.installation_id, i.created_at, i.call, i.event_id, i.outcome, i.message, i.fuel_used, \
         i.memory_peak_bytes, i.duration_us, i.log, r.id FROM invocations i LEFT JOIN recordings r ON r.id = i.recording_id \
         {} ORDER BY i.created_at DESC, i.id DESC LIMIT {}",
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
    let rows = query.fetch_all(store.reader()).await?;
    rows.into_iter()
        .map(
            |(
                id,
                installation_id,
                at,
                call,
                event_id,
                outcome,
                message,
                fuel_used,
                memory_peak_bytes,
                duration_us,
                log,
                recording_id,
            )| {
                let shown = filter
                    .logs_of
                    .is_none_or(|shared| shared.contains(&installation_id));
                let log = if shown {
                    let lines: Vec<LogLine> =
                        serde_json::from_str(&log).map_err(|e| PlatformError::Internal(e.to_string()))?;
                    Some(
                        lines
                            .into_iter()
                            .map(|l| format!("[{}] {}", l.level, l.message))
                            .collect(),
                    )
                } else {
                    None
                };
                Ok(Invocation {
                    id,
                    installation_id,
                    at: format_time(at),
                    call,
                    event_id,
                    outcome,
                    message,
                    fuel_used,
                    memory_peak_bytes,
                    duration_us,
                    log,
                    // The developer reaches a recording only where the tenant shares.
                    recording_id: recording_id.filter(|_| shown),
                })
            },
        )
        .collect()
}

/// Deletes an installation's journal (on uninstall, in its transaction).
pub async fn forget(
    conn: &mut crate::store::Conn,
    installation_id: &str,
) -> std::result::Result<(), crate::store::Error> {
    crate::store::query("DELETE FROM invocations WHERE installation_id = $1")
        .bind(installation_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
