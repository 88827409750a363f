//! The delivery workers of one node: fan-out, claim, run or send, record.
//!
//! Four tasks cooperate. The fan-out task turns new events into deliveries. The claimer claims
//! due deliveries while it has free slots (bounded concurrency) and starts one task per
//! delivery. Each delivery task runs the plugin or sends the webhook and hands its result to the
//! recorder, which stores results in batches (one transaction for many deliveries) and flushes
//! analytics. The sweeper puts back claims whose lease expired. On shutdown the claimer stops,
//! deliveries in flight get the grace period to finish, results are stored, and whatever is
//! still claimed is released for the next node.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::analytics::{Sample, Tally};
use super::queue::{self, Claimed, Completion, Next};
use super::schedule::RetrySchedule;
use crate::config::DeliveryConfig;
use crate::installs::{self, Runnable};
use crate::platform::outbox::StoredEvent;
use crate::platform::{PlatformError, format_time};
use crate::runtime::{Event, Limits, Outcome, SharedRuntime};
use crate::secrets::Secrets;
use crate::store::{Backend, Store, now_ms};
use crate::webhooks::keys::{self, Owner};
use crate::webhooks::sender::{self, Outgoing, WebhookOutcome};

/// How long a paused installation's deliveries wait before they are looked at again (resuming
/// wakes them at once).
const DEFER_MS: i64 = 60_000;

/// What the workers need.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    pub secrets: Arc<Secrets>,
    pub runtime: SharedRuntime,
    pub config: DeliveryConfig,
    pub node_id: String,
    pub allow_private_network: bool,
}

/// The running workers; [`Dispatcher::stop`] shuts them down gracefully.
pub struct Dispatcher {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    grace: Duration,
}

struct Shared {
    services: Services,
    schedule: RetrySchedule,
    /// Fan-out found work: look for due deliveries now.
    work: Notify,
}

impl Dispatcher {
    /// Starts the workers. Claims left by a crashed run are released first: on SQLite (one
    /// node) all of them, on PostgreSQL those of this node's id (others wait for their lease).
    pub async fn start(services: Services, grace: Duration) -> Dispatcher {
        let released = match services.store.backend() {
            Backend::Sqlite => queue::release(&services.store, None).await,
            Backend::Postgres => queue::release(&services.store, Some(&services.node_id)).await,
        };
        match released {
            Ok(0) => {}
            Ok(n) => tracing::info!(claims = n, "took back the claims of an earlier run"),
            Err(e) => tracing::warn!(error = %e, "could not release earlier claims"),
        }
        let shared = Arc::new(Shared {
            schedule: RetrySchedule::new(&services.config.retry_schedule_secs),
            services,
            work: Notify::new(),
        });
        let (stop, stopped) = watch::channel(false);
        let (done_tx, done_rx) = mpsc::channel(shared.services.config.concurrency * 4);
        let mut tasks = JoinSet::new();
        tasks.spawn(fan_out_loop(shared.clone(), stopped.clone()));
        tasks.spawn(sweep_loop(shared.clone(), stopped.clone()));
        tasks.spawn(claim_loop(shared.clone(), stopped, done_tx, grace));
        tasks.spawn(record_loop(shared, done_rx));
        Dispatcher { stop, tasks, grace }
    }

    /// Stops claiming, lets deliveries in flight finish (up to the grace period), stores their
    /// results and releases what is left.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let deadline = self.grace + Duration::from_secs(5);
        if tokio::time::timeout(deadline, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tracing::warn!("delivery workers did not stop in time");
            self.tasks.abort_all();
        }
    }
}

async fn sleep_or_stop(stopped: &mut watch::Receiver<bool>, wait: Duration) -> bool {
    tokio::select! {
        _ = stopped.wait_for(|s| *s) => return true,
        () = tokio::time::sleep(wait) => {}
    }
    *stopped.borrow()
}

async fn fan_out_loop(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let poll = Duration::from_millis(shared.services.config.poll_ms);
    loop {
        match super::fanout::fan_out(&shared.services.store, 500).await {
            Ok((0, _)) => {
                if sleep_or_stop(&mut stopped, poll).await {
                    return;
                }
            }
            Ok((_, deliveries)) => {
                if deliveries > 0 {
                    shared.work.notify_one();
                }
                if *stopped.borrow() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "fan-out failed; retrying");
                if sleep_or_stop(&mut stopped, poll * 10).await {
                    return;
                }
            }
        }
    }
}

async fn sweep_loop(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let every = Duration::from_secs(shared.services.config.lease_secs.div_ceil(4).max(1));
    let retention_ms =
        i64::try_from(shared.services.config.retention_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
    loop {
        // Retention: finished deliveries go after the configured time, a thousand at a time.
        match queue::prune(
            &shared.services.store,
            now_ms().saturating_sub(retention_ms),
            1000,
        )
        .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(deliveries = n, "deleted finished deliveries past retention"),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
        match queue::requeue_expired(&shared.services.store).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(deliveries = n, "requeued deliveries whose lease expired");
                shared.work.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "lease sweep failed"),
        }
        if sleep_or_stop(&mut stopped, every).await {
            return;
        }
    }
}

async fn claim_loop(
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
    done: mpsc::Sender<Completion>,
    grace: Duration,
) {
    let config = &shared.services.config;
    let slots = Arc::new(Semaphore::new(config.concurrency));
    let poll = Duration::from_millis(config.poll_ms);
    let lease_ms = i64::try_from(config.lease_secs * 1000).unwrap_or(i64::MAX);
    let mut running = JoinSet::new();
    loop {
        if *stopped.borrow() {
            break;
        }
        // Reap finished delivery tasks so the set does not grow.
        while running.try_join_next().is_some() {}
        if slots.available_permits() == 0 {
            tokio::select! {
                _ = stopped.wait_for(|s| *s) => break,
                permit = slots.clone().acquire_owned() => drop(permit),
            }
            continue;
        }
        let claimed = match queue::claim(
            &shared.services.store,
            &shared.services.node_id,
            slots.available_permits(),
            config.batch,
            lease_ms,
        )
        .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "claiming deliveries failed; retrying");
                if sleep_or_stop(&mut stopped, poll * 10).await {
                    break;
                }
                continue;
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                _ = stopped.wait_for(|s| *s) => break,
                () = shared.work.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
            continue;
        }
        let batch = match Batch::load(&shared, &claimed).await {
            Ok(batch) => Arc::new(batch),
            Err(e) => {
                tracing::warn!(error = %e, "loading claimed deliveries failed; they will be retried");
                let _ = queue::release(&shared.services.store, Some(&shared.services.node_id)).await;
                if sleep_or_stop(&mut stopped, poll * 10).await {
                    break;
                }
                continue;
            }
        };
        // One task per subscriber, running its deliveries in event order (ids are time-ordered).
        // Subscribers beyond the free slots go back at once, for another node or the next claim.
        let mut groups: HashMap<String, Vec<Claimed>> = HashMap::new();
        for claim in claimed {
            groups.entry(claim.subscriber_id.clone()).or_default().push(claim);
        }
        let mut groups: Vec<Vec<Claimed>> = groups.into_values().collect();
        for group in &mut groups {
            group.sort_by(|a, b| a.id.cmp(&b.id));
        }
        groups.sort_by(|a, b| a[0].id.cmp(&b[0].id));
        let free = slots.available_permits();
        if groups.len() > free {
            let extra: Vec<&str> = groups[free..].iter().flatten().map(|c| c.id.as_str()).collect();
            if let Err(e) = queue::unclaim(&shared.services.store, &shared.services.node_id, &extra).await {
                tracing::warn!(error = %e, "giving back extra claims failed; their leases will expire");
            }
            groups.truncate(free);
        }
        for group in groups {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let (shared, batch, done) = (shared.clone(), batch.clone(), done.clone());
            running.spawn(async move {
                for claim in group {
                    let completion = deliver(&shared, &batch, claim).await;
                    let _ = done.send(completion).await;
                }
                drop(permit);
            });
        }
    }
    // Shutting down: deliveries in flight get the grace period.
    if tokio::time::timeout(grace, async { while running.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        tracing::warn!(
            left = running.len(),
            "deliveries still in flight at the end of the grace period; releasing them"
        );
        running.abort_all();
    }
    drop(done);
}

async fn record_loop(shared: Arc<Shared>, mut done: mpsc::Receiver<Completion>) {
    let services = &shared.services;
    let pause_after_ms = i64::try_from(services.config.pause_after_secs * 1000).unwrap_or(i64::MAX);
    let mut tally = Tally::default();
    let mut last_flush = Instant::now();
    let mut batch = Vec::with_capacity(256);
    loop {
        let open = tokio::select! {
            n = done.recv_many(&mut batch, 256) => n > 0,
            () = tokio::time::sleep(Duration::from_secs(1)) => true,
        };
        if !batch.is_empty() {
            for c in batch.iter().filter(|c| !matches!(c.next, Next::Defer(_))) {
                tally.add(&Sample {
                    subscriber_id: &c.claim.subscriber_id,
                    org_id: &c.claim.org_id,
                    app_id: c.claim.app_id.as_deref(),
                    target: &c.claim.target,
                    at_ms: c.started_at,
                    outcome: &c.outcome,
                    fuel_used: c.fuel_used.unwrap_or(0) as u64,
                    duration_us: c.duration_us as u64,
                });
            }
            store_results(services, &batch, pause_after_ms).await;
            batch.clear();
            // Their subscribers are free again: the claimer may take their next deliveries.
            shared.work.notify_one();
        }
        if !open || last_flush.elapsed() >= Duration::from_secs(1) {
            if let Err(e) = tally.flush(&services.store).await {
                tracing::warn!(error = %e, "analytics flush failed; keeping the counts for the next one");
            }
            last_flush = Instant::now();
        }
        if !open {
            break;
        }
    }
    match queue::release(&services.store, Some(&services.node_id)).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(claims = n, "released unfinished claims"),
        Err(e) => tracing::warn!(error = %e, "releasing claims failed; their leases will expire"),
    }
}

/// Stores results, retrying a few times: losing them would only cause a duplicate delivery
/// after the lease expires, but retrying is cheap.
async fn store_results(services: &Services, batch: &[Completion], pause_after_ms: i64) {
    for attempt in 0..3 {
        match queue::complete(&services.store, &services.node_id, batch, pause_after_ms).await {
            Ok(paused) => {
                for p in paused {
                    tracing::warn!(subscriber = %p.subscriber_id, "paused: its deliveries failed for too long");
                }
                return;
            }
            Err(e) if attempt < 2 => {
                tracing::warn!(error = %e, "storing delivery results failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "storing delivery results failed; they will be redelivered")
            }
        }
    }
}

/// What a subscriber needs to be delivered to, loaded once per claimed batch.
enum Target {
    Plugin(Arc<Runnable>),
    Webhook {
        url: String,
        secrets: Vec<String>,
    },
    /// Not now (paused installation, suspended app): defer without counting an attempt.
    Wait(String),
    /// Never (uninstalled, disabled webhook): dead letter.
    Gone(String),
}

struct Batch {
    events: HashMap<String, StoredEvent>,
    targets: HashMap<String, Target>,
}

impl Batch {
    async fn load(shared: &Shared, claimed: &[Claimed]) -> Result<Batch, PlatformError> {
        let services = &shared.services;
        let ids: Vec<&str> = claimed.iter().map(|c| c.event_id.as_str()).collect();
        let events = queue::events(&services.store, &ids).await?;
        let mut targets = HashMap::new();
        for claim in claimed {
            let key = format!("{}/{}", claim.subscriber_id, claim.target);
            if targets.contains_key(&key) {
                continue;
            }
            // A subscriber that cannot be loaded (a secret sealed with another node's key, a
            // database hiccup) waits; the others in the batch go on.
            let target = load_target(services, claim).await.unwrap_or_else(|e| {
                tracing::warn!(subscriber = %claim.subscriber_id, error = %e, "cannot load the delivery target");
                Target::Wait(format!("Bazaar could not prepare the delivery: {e}"))
            });
            targets.insert(key, target);
        }
        Ok(Batch { events, targets })
    }
}

async fn load_target(services: &Services, claim: &Claimed) -> Result<Target, PlatformError> {
    let now = now_ms();
    if let Some(hook_id) = &claim.hook_id {
        return Ok(
            match crate::webhooks::rest_hooks::target(&services.store, hook_id).await? {
                None => Target::Gone("the REST hook was deleted".into()),
                Some((_, status)) if status != "active" => Target::Gone("the REST hook is disabled".into()),
                Some((url, _)) => {
                    let keys = keys::load(&services.store, &services.secrets, Owner::Hook(hook_id)).await?;
                    Target::Webhook {
                        url,
                        secrets: keys.active(now),
                    }
                }
            },
        );
    }
    let Some(installation_id) = &claim.installation_id else {
        return Ok(Target::Gone("the subscriber no longer exists".into()));
    };
    if claim.target == "plugin" {
        return Ok(
            match installs::load_for_run(&services.store, &services.secrets, installation_id).await {
                Ok(runnable) => Target::Plugin(Arc::new(runnable)),
                Err(PlatformError::Conflict(why)) => Target::Wait(why),
                Err(PlatformError::NotFound(_)) => Target::Gone("the app was uninstalled".into()),
                Err(e) => return Err(e),
            },
        );
    }
    match installs::webhook_target(&services.store, installation_id).await {
        Ok(installs::WebhookTarget::Active { url }) => {
            let keys = keys::load(
                &services.store,
                &services.secrets,
                Owner::Installation(installation_id),
            )
            .await?;
            Ok(Target::Webhook {
                url,
                secrets: keys.active(now),
            })
        }
        Ok(installs::WebhookTarget::Waiting(why)) => Ok(Target::Wait(why)),
        Ok(installs::WebhookTarget::Disabled(why)) => Ok(Target::Gone(why)),
        Err(PlatformError::NotFound(_)) => Ok(Target::Gone("the app was uninstalled".into())),
        Err(e) => Err(e),
    }
}

fn completion(claim: Claimed, next: Next, outcome: &str, message: String) -> Completion {
    Completion {
        claim,
        next,
        started_at: now_ms(),
        duration_us: 0,
        outcome: outcome.into(),
        message,
        fuel_used: None,
        status_code: None,
        excerpt: None,
        gone: false,
    }
}

/// Makes one attempt of one delivery.
#[tracing::instrument(skip_all, fields(delivery = %claim.id, target = %claim.target))]
async fn deliver(shared: &Shared, batch: &Batch, claim: Claimed) -> Completion {
    let Some(event) = batch.events.get(&claim.event_id) else {
        return completion(claim, Next::Dead, "refused", "the event no longer exists".into());
    };
    let key = format!("{}/{}", claim.subscriber_id, claim.target);
    match batch.targets.get(&key) {
        Some(Target::Plugin(runnable)) => run_plugin(shared, claim, event, runnable).await,
        Some(Target::Webhook { url, secrets }) => send_webhook(shared, claim, event, url, secrets).await,
        Some(Target::Wait(why)) => {
            let next = Next::Defer(now_ms() + DEFER_MS);
            completion(claim, next, "waiting", why.clone())
        }
        Some(Target::Gone(why)) => completion(claim, Next::Dead, "refused", why.clone()),
        None => completion(claim, Next::Dead, "refused", "no target".into()),
    }
}

fn retry_or_dead(shared: &Shared, claim: &Claimed, retry_after: Option<Duration>) -> Next {
    let step = usize::try_from(claim.retry_step).unwrap_or(usize::MAX);
    match shared.schedule.next_wait(step, retry_after) {
        Some(wait) => Next::Retry(now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
        None => Next::Dead,
    }
}

async fn run_plugin(shared: &Shared, claim: Claimed, event: &StoredEvent, runnable: &Runnable) -> Completion {
    let started_at = now_ms();
    let services = &shared.services;
    let prepared = match services.runtime.get().await {
        Err(e) => Err(e.to_string()),
        Ok(runtime) => match runtime.prepared(&runnable.component_sha256) {
            Some(prepared) => Ok((runtime, prepared)),
            None => {
                match crate::catalog::apps::component(&services.store, &runnable.component_sha256).await {
                    Ok(bytes) => runtime
                        .prepare(&bytes)
                        .map(|p| (runtime, p))
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
        },
    };
    let (runtime, prepared) = match prepared {
        Ok(found) => found,
        Err(message) => {
            let next = retry_or_dead(shared, &claim, None);
            return completion(claim, next, "host_failure", message);
        }
    };
    let limits: Limits = runnable.limits;
    let report = runtime
        .on_event(
            &prepared,
            Arc::new(runnable.installation.clone()),
            limits,
            Event {
                id: event.id.clone(),
                kind: event.kind.clone(),
                org_id: event.org_id.clone(),
                subject_id: event.subject_id.clone(),
                occurred_at: format_time(event.occurred_at),
                payload: event.payload.clone(),
            },
        )
        .await;
    let next = match &report.outcome {
        Outcome::Ok => Next::Succeeded,
        // A vendor's `Retry-After` (on the 429 or 503 the plugin received) lengthens the wait.
        outcome if outcome.retryable() => retry_or_dead(shared, &claim, report.retry_after),
        _ => Next::Dead,
    };
    Completion {
        next,
        started_at,
        duration_us: i64::try_from(report.duration_us).unwrap_or(i64::MAX),
        outcome: report.outcome.class().into(),
        message: report.message,
        fuel_used: Some(i64::try_from(report.fuel_used).unwrap_or(i64::MAX)),
        status_code: None,
        excerpt: None,
        gone: false,
        claim,
    }
}

/// The JSON body of a webhook: the event in the Standard Webhooks envelope.
fn webhook_body(claim: &Claimed, event: &StoredEvent) -> Vec<u8> {
    let data: serde_json::Value = serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null);
    let body = serde_json::json!({
        "id": event.id,
        "type": event.kind,
        "timestamp": format_time(event.occurred_at),
        "organization_id": event.org_id,
        "subject_id": event.subject_id,
        "installation_id": claim.installation_id,
        "hook_id": claim.hook_id,
        "data": data,
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

async fn send_webhook(
    shared: &Shared,
    claim: Claimed,
    event: &StoredEvent,
    url: &str,
    secrets: &[String],
) -> Completion {
    let started_at = now_ms();
    let services = &shared.services;
    let body = webhook_body(&claim, event);
    let outgoing = Outgoing {
        url,
        id: &event.id,
        body: &body,
        secrets,
    };
    let timeout = Duration::from_millis(services.config.webhook_timeout_ms);
    let sent = sender::send(&outgoing, timeout, services.allow_private_network).await;
    let next = match sent.outcome {
        WebhookOutcome::Ok => Next::Succeeded,
        outcome if outcome.retryable() => retry_or_dead(shared, &claim, sent.retry_after),
        _ => Next::Dead,
    };
    Completion {
        next,
        started_at,
        duration_us: i64::try_from(sent.duration.as_micros()).unwrap_or(i64::MAX),
        outcome: sent.outcome.class().into(),
        message: sent.message,
        fuel_used: None,
        status_code: sent.status.map(i64::from),
        excerpt: Some(sent.excerpt).filter(|e| !e.is_empty()),
        gone: sent.outcome == WebhookOutcome::Gone,
        claim,
    }
}
