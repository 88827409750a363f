//! The delivery queue in the database: claims with leases, results with their attempt rows,
//! subscriber health, replay, and the delivery log the API shows.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::platform::outbox::{self, StoredEvent};
use crate::platform::page::{Keyset, Page, PageRequest};
use crate::platform::{PlatformError, Result, format_time};
use crate::store::{Backend, Store, now_ms, placeholders};

/// A delivery a worker holds a lease on.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Claimed {
    pub id: String,
    pub event_id: String,
    pub org_id: String,
    pub subscriber_id: String,
    pub installation_id: Option<String>,
    pub hook_id: Option<String>,
    pub app_id: Option<String>,
    pub target: String,
    pub attempts: i64,
    pub retry_step: i64,
}

/// Claims due deliveries for `node` until `lease_ms` from now: those of at most
/// `subscribers` subscribers (the worker slots the node has free), up to `limit` in all,
/// skipping subscribers that already have a delivery in flight. A subscriber handles one event
/// at a time (a plugin's read-modify-write of its storage stays consistent, a slow receiver
/// holds one worker slot, not all of them); the worker runs one subscriber's claims in order.
///
/// A claim first locks the lanes of the subscribers whose deliveries have waited longest,
/// skipping (on PostgreSQL) lanes another node's claim holds; then, in a statement whose
/// snapshot is taken after those locks, it leases their due deliveries if nothing of theirs is
/// in flight. A lane's previous holder has committed its claims by then, so two nodes never
/// hold one subscriber, and claims of different subscribers never wait for each other. On
/// SQLite the single writer runs one claim at a time.
pub async fn claim(
    store: &Store,
    node: &str,
    subscribers: usize,
    limit: usize,
    lease_ms: i64,
) -> Result<Vec<Claimed>> {
    let lock = match store.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE OF l SKIP LOCKED",
    };
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    let lanes: Vec<(String,)> = crate::store::query_as(&format!(
        "SELECT l.subscriber_id FROM delivery_lanes l JOIN (\
         SELECT w.subscriber_id, MIN(w.next_attempt_at) AS due FROM (\
         SELECT d.subscriber_id, d.next_attempt_at FROM deliveries d WHERE d.state = 'pending' AND d.next_attempt_at <= $1 \
         AND NOT EXISTS (SELECT 1 FROM deliveries f WHERE f.subscriber_id = d.subscriber_id AND f.state = 'in_flight') \
         ORDER BY d.next_attempt_at, d.id LIMIT $2) w GROUP BY w.subscriber_id) c ON c.subscriber_id = l.subscriber_id \
         ORDER BY c.due, l.subscriber_id LIMIT $3{lock}"
    ))
    .bind(now_ms())
    .bind(limit as i64)
    .bind(subscribers as i64)
    .fetch_all(&mut *tx)
    .await?;
    if lanes.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    // The in-flight check again, now with a snapshot taken after the lanes were locked.
    let now = now_ms();
    let sql = format!(
        "UPDATE deliveries SET state = 'in_flight', lease_owner = $1, lease_until = $2, updated_at = $3 \
         WHERE id IN (SELECT d.id FROM deliveries d WHERE d.subscriber_id IN ({}) AND d.state = 'pending' \
         AND d.next_attempt_at <= $3 \
         AND NOT EXISTS (SELECT 1 FROM deliveries f WHERE f.subscriber_id = d.subscriber_id AND f.state = 'in_flight') \
         ORDER BY d.next_attempt_at, d.id LIMIT $4) \
         RETURNING id, event_id, org_id, subscriber_id, installation_id, hook_id, app_id, target, attempts, retry_step",
        placeholders(5, lanes.len())
    );
    let mut query = crate::store::query_as(&sql)
        .bind(node)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit as i64);
    for (lane,) in &lanes {
        query = query.bind(lane.as_str());
    }
    let claimed = query.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// Opens a lane for each of `subscribers` that has none (fan-out calls it with the
/// subscribers of the deliveries it writes, in the same transaction, sorted).
pub async fn open_lanes(conn: &mut crate::store::Conn, subscribers: &[&str]) -> Result<()> {
    for chunk in subscribers.chunks(500) {
        let values: Vec<String> = (1..=chunk.len()).map(|i| format!("(${i})")).collect();
        let sql = format!(
            "INSERT INTO delivery_lanes (subscriber_id) VALUES {} ON CONFLICT (subscriber_id) DO NOTHING",
            values.join(", ")
        );
        let mut query = crate::store::query(&sql);
        for subscriber in chunk {
            query = query.bind(*subscriber);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Puts deliveries whose lease expired (their worker crashed or hung) back in the queue.
///
/// A claim taken back keeps its `next_attempt_at` (it was due already): claims are ordered by
/// it, so the taken-back delivery goes before the subscriber's newer ones, in event order.
pub async fn requeue_expired(store: &Store) -> Result<u64> {
    let now = now_ms();
    let done = crate::store::query(
        "UPDATE deliveries SET state = 'pending', lease_owner = NULL, lease_until = NULL, updated_at = $1 \
         WHERE state = 'in_flight' AND lease_until < $1",
    )
    .bind(now)
    .execute(store.writer())
    .await?;
    Ok(done.rows_affected())
}

/// Deletes up to `limit` finished deliveries (succeeded or dead) last touched before `before`
/// (ms), with their attempts; returns how many.
pub async fn prune(store: &Store, before: i64, limit: usize) -> Result<u64> {
    let done = crate::store::query(
        "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries \
         WHERE state IN ('succeeded', 'dead') AND updated_at < $1 LIMIT $2)",
    )
    .bind(before)
    .bind(limit as i64)
    .execute(store.writer())
    .await?;
    Ok(done.rows_affected())
}

/// Gives back some of `node`'s claims untouched (claimed beyond what it can serve now).
pub async fn unclaim(store: &Store, node: &str, ids: &[&str]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE deliveries SET state = 'pending', lease_owner = NULL, lease_until = NULL \
         WHERE lease_owner = $1 AND state = 'in_flight' AND id IN ({})",
        placeholders(2, ids.len())
    );
    let mut query = crate::store::query(&sql).bind(node);
    for id in ids {
        query = query.bind(*id);
    }
    query.execute(store.writer()).await?;
    Ok(())
}

/// Gives back claims: every claim of `node`, or on SQLite (one node by design) every claim.
/// Like [`requeue_expired`], it keeps each claim's place in the order.
pub async fn release(store: &Store, node: Option<&str>) -> Result<u64> {
    let now = now_ms();
    let done = match node {
        Some(node) => crate::store::query(
            "UPDATE deliveries SET state = 'pending', lease_owner = NULL, lease_until = NULL, updated_at = $1 \
             WHERE state = 'in_flight' AND lease_owner = $2",
        )
        .bind(now)
        .bind(node)
        .execute(store.writer())
        .await?,
        None => crate::store::query(
            "UPDATE deliveries SET state = 'pending', lease_owner = NULL, lease_until = NULL, updated_at = $1 \
             WHERE state = 'in_flight'",
        )
        .bind(now)
        .execute(store.writer())
        .await?,
    };
    Ok(done.rows_affected())
}

/// The events behind a batch of claims, by id.
pub async fn events(store: &Store, ids: &[&str]) -> Result<HashMap<String, StoredEvent>> {
    let rows = outbox::by_ids(store, ids).await?;
    Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Succeeded,
    /// Try again at this time (ms).
    Retry(i64),
    /// The schedule is spent or the failure is permanent: dead letter.
    Dead,
    /// Not attempted (the installation is paused): wait until this time, no attempt counted.
    Defer(i64),
}

/// One attempt's result, ready to store.
#[derive(Debug, Clone)]
pub struct Completion {
    pub claim: Claimed,
    pub next: Next,
    pub started_at: i64,
    pub duration_us: i64,
    /// The outcome class (`ok`, `fuel_exhausted`, `http_error`, ...).
    pub outcome: String,
    pub message: String,
    pub fuel_used: Option<i64>,
    pub status_code: Option<i64>,
    pub excerpt: Option<String>,
    /// The receiver answered 410: stop sending to this subscriber.
    pub gone: bool,
}

impl Completion {
    fn attempted(&self) -> bool {
        !matches!(self.next, Next::Defer(_))
    }
}

/// A subscriber that was paused or disabled because it only failed for too long.
#[derive(Debug, Clone)]
pub struct Paused {
    pub subscriber_id: String,
}

/// Stores a batch of results in one transaction: attempt rows, delivery states, subscriber
/// health (a success clears the failing clock; only failures start it, and past `pause_after_ms`
/// the installation is paused with an `app.delivery_paused` event, or the hook disabled).
pub async fn complete(
    store: &Store,
    node: &str,
    done: &[Completion],
    pause_after_ms: i64,
) -> Result<Vec<Paused>> {
    let now = now_ms();
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    for c in done {
        let (state, next_at, step) = match c.next {
            Next::Succeeded => ("succeeded", None, c.claim.retry_step),
            Next::Retry(at) => ("pending", Some(at), c.claim.retry_step + 1),
            Next::Dead => ("dead", None, c.claim.retry_step),
            Next::Defer(at) => ("pending", Some(at), c.claim.retry_step),
        };
        let attempts = c.claim.attempts + i64::from(c.attempted());
        if c.attempted() {
            crate::store::query(
                "INSERT INTO delivery_attempts (delivery_id, number, node_id, started_at, duration_us, outcome, message, \
                 fuel_used, status_code, response_excerpt, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&c.claim.id)
            .bind(attempts)
            .bind(node)
            .bind(c.started_at)
            .bind(c.duration_us)
            .bind(&c.outcome)
            .bind(&c.message)
            .bind(c.fuel_used)
            .bind(c.status_code)
            .bind(c.excerpt.as_deref())
            .bind(next_at)
            .execute(&mut *tx)
            .await?;
        }
        crate::store::query(
            "UPDATE deliveries SET state = $1, attempts = $2, retry_step = $3, next_attempt_at = COALESCE($4, next_attempt_at), \
             lease_owner = NULL, lease_until = NULL, last_outcome = $5, last_message = $6, updated_at = $7 \
             WHERE id = $8 AND lease_owner = $9",
        )
        .bind(state)
        .bind(attempts)
        .bind(step)
        .bind(next_at)
        .bind(&c.outcome)
        .bind(&c.message)
        .bind(now)
        .bind(&c.claim.id)
        .bind(node)
        .execute(&mut *tx)
        .await?;
    }
    // Health per subscriber: did anything succeed in this batch?
    let mut health: HashMap<&str, (&Claimed, bool, bool)> = HashMap::new();
    for c in done.iter().filter(|c| c.attempted()) {
        let entry = health
            .entry(c.claim.subscriber_id.as_str())
            .or_insert((&c.claim, false, false));
        entry.1 |= c.next == Next::Succeeded;
        entry.2 |= c.gone;
    }
    let mut paused = Vec::new();
    for (_, (claim, any_success, gone)) in health {
        if gone {
            disable_gone(&mut tx, claim, now).await?;
        }
        if any_success {
            crate::store::query("DELETE FROM subscriber_health WHERE subscriber_id = $1")
                .bind(&claim.subscriber_id)
                .execute(&mut *tx)
                .await?;
            continue;
        }
        crate::store::query(
            "INSERT INTO subscriber_health (subscriber_id, failing_since) VALUES ($1, $2) \
             ON CONFLICT (subscriber_id) DO NOTHING",
        )
        .bind(&claim.subscriber_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let since: Option<(i64,)> =
            crate::store::query_as("SELECT failing_since FROM subscriber_health WHERE subscriber_id = $1")
                .bind(&claim.subscriber_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((since,)) = since else { continue };
        if now - since >= pause_after_ms && pause_failing(&mut tx, claim, since, now).await? {
            paused.push(Paused {
                subscriber_id: claim.subscriber_id.clone(),
            });
        }
    }
    tx.commit().await?;
    Ok(paused)
}

async fn disable_gone(conn: &mut crate::store::Conn, claim: &Claimed, now: i64) -> Result<()> {
    const REASON: &str = "the receiver answered 410 Gone";
    match &claim.hook_id {
        Some(hook) => {
            crate::webhooks::rest_hooks::disable(conn, hook, REASON).await?;
        }
        None => {
            crate::installs::disable_webhook(conn, &claim.subscriber_id, REASON).await?;
        }
    }
    // What is still queued for it would only meet the same answer.
    crate::store::query(
        "UPDATE deliveries SET state = 'dead', last_outcome = 'gone', last_message = $1, updated_at = $2 \
         WHERE subscriber_id = $3 AND target = 'webhook' AND state = 'pending'",
    )
    .bind(REASON)
    .bind(now)
    .bind(&claim.subscriber_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Pauses the installation (or disables the hook); true if it was active until now.
async fn pause_failing(conn: &mut crate::store::Conn, claim: &Claimed, since: i64, now: i64) -> Result<bool> {
    let reason = format!("deliveries failed without a success since {}", format_time(since));
    match &claim.hook_id {
        Some(hook) => crate::webhooks::rest_hooks::disable(conn, hook, &reason).await,
        None => {
            let why = crate::installs::FailingDeliveries {
                app_id: claim.app_id.as_deref(),
                since,
                reason: &reason,
            };
            crate::installs::pause_for_failures(conn, &claim.org_id, &claim.subscriber_id, why, now).await
        }
    }
}

/// Restarts a subscriber's failing clock (it was resumed) and wakes what it has waiting.
pub async fn wake(store: &Store, installation_id: &str) -> Result<()> {
    crate::store::query("DELETE FROM subscriber_health WHERE subscriber_id = $1")
        .bind(installation_id)
        .execute(store.writer())
        .await?;
    crate::store::query(
        "UPDATE deliveries SET next_attempt_at = $1 WHERE installation_id = $2 AND state = 'pending' AND next_attempt_at > $1",
    )
    .bind(now_ms())
    .bind(installation_id)
    .execute(store.writer())
    .await?;
    Ok(())
}

/// Sends again what an installation's webhook did not get while it was disabled (410 Gone):
/// the deliveries dead with outcome `gone` or `webhook_disabled`. Returns how many.
pub async fn replay_held_webhooks(store: &Store, installation_id: &str) -> Result<u64> {
    let now = now_ms();
    let done = crate::store::query(
        "UPDATE deliveries SET state = 'pending', retry_step = 0, next_attempt_at = $1, updated_at = $1 \
         WHERE installation_id = $2 AND target = 'webhook' AND state = 'dead' \
         AND last_outcome IN ('gone', 'webhook_disabled')",
    )
    .bind(now)
    .bind(installation_id)
    .execute(store.writer())
    .await?;
    Ok(done.rows_affected())
}

type AttemptRow = (
    i64,
    String,
    i64,
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

/// One attempt in the delivery log.
#[derive(Debug, Serialize, ToSchema, serde::Deserialize)]
pub struct Attempt {
    pub number: i64,
    /// The node that made it.
    pub node_id: String,
    pub started_at: String,
    pub duration_us: i64,
    /// `ok`, a plugin outcome (`plugin_error`, `fuel_exhausted`, `memory_limit`, `deadline`,
    /// `trap`, ...) or a webhook outcome (`http_error`, `gone`, `timeout`, `connect_error`,
    /// `address_refused`).
    pub outcome: String,
    pub message: String,
    pub fuel_used: Option<i64>,
    pub status_code: Option<i64>,
    /// The first KB of the receiver's answer.
    pub response_excerpt: Option<String>,
    /// When the next attempt was scheduled, if one was.
    pub next_attempt_at: Option<String>,
}

/// A delivery of one event to one subscriber.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event_kind: String,
    /// The installation or REST hook receiving it.
    pub subscriber_id: String,
    pub installation_id: Option<String>,
    pub hook_id: Option<String>,
    /// `plugin` or `webhook`.
    pub target: String,
    /// `pending`, `in_flight`, `succeeded` or `dead` (dead letter: replay it).
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_outcome: Option<String>,
    pub last_message: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Every attempt, oldest first (only when one delivery is fetched).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_log: Option<Vec<Attempt>>,
}

#[derive(serde::Deserialize)]
struct DeliveryRow {
    id: String,
    event_id: String,
    kind: String,
    subscriber_id: String,
    installation_id: Option<String>,
    hook_id: Option<String>,
    target: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_outcome: Option<String>,
    last_message: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Delivery {
            next_attempt_at: (r.state == "pending").then(|| format_time(r.next_attempt_at)),
            id: r.id,
            event_id: r.event_id,
            event_kind: r.kind,
            subscriber_id: r.subscriber_id,
            installation_id: r.installation_id,
            hook_id: r.hook_id,
            target: r.target,
            state: r.state,
            attempts: r.attempts,
            last_outcome: r.last_outcome,
            last_message: r.last_message,
            created_at: format_time(r.created_at),
            updated_at: format_time(r.updated_at),
            attempt_log: None,
        }
    }
}

const DELIVERY_COLUMNS: &str = "d.id, d.event_id, d.event_kind AS kind, d.subscriber_id, d.installation_id, d.hook_id, d.target, \
     d.state, d.attempts, d.next_attempt_at, d.last_outcome, d.last_message, d.created_at, d.updated_at";

/// Which deliveries to list.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub subscriber_id: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// How far the deliveries of some organizations got (for `bazaar bench delivery`).
pub struct Progress {
    pub succeeded: u64,
    /// Dead, or tried more than once.
    pub failed: u64,
}

/// Counts the succeeded and failed deliveries of `org_ids`.
pub async fn progress(store: &Store, org_ids: &[&str]) -> Result<Progress> {
    let sql = format!(
        "SELECT COALESCE(SUM(CASE WHEN state = 'succeeded' THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN state = 'dead' OR attempts > 1 THEN 1 ELSE 0 END), 0) \
         FROM deliveries WHERE org_id IN ({})",
        placeholders(1, org_ids.len().max(1))
    );
    let mut query = crate::store::query_as::<(i64, i64)>(&sql);
    for id in org_ids {
        query = query.bind(*id);
    }
    if org_ids.is_empty() {
        query = query.bind("");
    }
    let (succeeded, failed) = query.fetch_one(store.reader()).await?;
    Ok(Progress {
        succeeded: succeeded as u64,
        failed: failed as u64,
    })
}

/// The organization's deliveries, newest first.
pub async fn list(
    store: &Store,
    org_id: &str,
    filter: &Filter<'_>,
    page: &PageRequest,
) -> Result<Page<Delivery>> {
    let mut select = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.org_id = $1");
    let mut next = 2;
    if filter.subscriber_id.is_some() {
        select.push_str(&format!(" AND d.subscriber_id = ${next}"));
        next += 1;
    }
    if filter.state.is_some() {
        select.push_str(&format!(" AND d.state = ${next}"));
        next += 1;
    }
    let keyset = Keyset::new(page, next, "d.id", "d.created_at");
    select.push_str(&keyset.sql);
    let mut query = crate::store::query_as(&select).bind(org_id);
    if let Some(subscriber) = filter.subscriber_id {
        query = query.bind(subscriber);
    }
    if let Some(state) = filter.state {
        query = query.bind(state);
    }
    let query = keyset.bind(query, page.limit);
    let rows: Vec<DeliveryRow> = query.fetch_all(store.reader()).await?;
    Ok(Page::from_rows(rows, page.limit, |r| &r.id).map(Delivery::from))
}

/// One delivery with its attempts.
pub async fn get(store: &Store, org_id: &str, id: &str) -> Result<Delivery> {
    let row: DeliveryRow = crate::store::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.id = $1 AND d.org_id = $2"
    ))
    .bind(id)
    .bind(org_id)
    .fetch_optional(store.reader())
    .await?
    .ok_or(PlatformError::NotFound("delivery"))?;
    let attempts: Vec<AttemptRow> =
        crate::store::query_as(
            "SELECT number, node_id, started_at, duration_us, outcome, message, fuel_used, status_code, response_excerpt, \
             next_attempt_at FROM delivery_attempts WHERE delivery_id = $1 ORDER BY number, id",
        )
        .bind(id)
        .fetch_all(store.reader())
        .await?;
    let mut delivery = Delivery::from(row);
    delivery.attempt_log = Some(
        attempts
            .into_iter()
            .map(
                |(
                    number,
                    node_id,
                    started,
                    duration_us,
                    outcome,
                    message,
                    fuel_used,
                    status_code,
                    excerpt,
                    next,
                )| {
                    Attempt {
                        number,
                        node_id,
                        started_at: format_time(started),
                        duration_us,
                        outcome,
                        message,
                        fuel_used,
                        status_code,
                        response_excerpt: excerpt,
                        next_attempt_at: next.map(format_time),
                    }
                },
            )
            .collect(),
    );
    Ok(delivery)
}

/// Sends one delivery again now, with a fresh retry schedule. Refused while it is queued or in
/// flight.
pub async fn replay(store: &Store, org_id: &str, id: &str) -> Result<Delivery> {
    let now = now_ms();
    let done = crate::store::query(
        "UPDATE deliveries SET state = 'pending', retry_step = 0, next_attempt_at = $1, updated_at = $1 \
         WHERE id = $2 AND org_id = $3 AND state IN ('succeeded', 'dead')",
    )
    .bind(now)
    .bind(id)
    .bind(org_id)
    .execute(store.writer())
    .await?;
    if done.rows_affected() == 0 {
        let current = get(store, org_id, id).await?;
        return Err(PlatformError::Conflict(format!(
            "the delivery is {}; only succeeded or dead deliveries can be replayed",
            current.state
        )));
    }
    get(store, org_id, id).await
}

/// Replays every dead delivery of a subscriber created since `since` (ms); returns how many.
pub async fn replay_failed(store: &Store, org_id: &str, subscriber_id: &str, since: i64) -> Result<u64> {
    let now = now_ms();
    let done = crate::store::query(
        "UPDATE deliveries SET state = 'pending', retry_step = 0, next_attempt_at = $1, updated_at = $1 \
         WHERE org_id = $2 AND subscriber_id = $3 AND state = 'dead' AND created_at >= $4",
    )
    .bind(now)
    .bind(org_id)
    .bind(subscriber_id)
    .bind(since)
    .execute(store.writer())
    .await?;
    Ok(done.rows_affected())
}
