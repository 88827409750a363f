//! Fan-out: turns new outbox events into deliveries, one per subscriber that should get them.
//!
//! A subscriber is an active installation of an active app whose pinned version subscribes to
//! the event's kind and whose grants hold the read scope of the event's resource (target
//! `plugin` for plugins, `webhook` for external apps with a `webhook_url`), or an active REST
//! hook on the kind whose API key is not revoked. Each batch of events is claimed (row locks
//! skipped by other nodes on PostgreSQL), fanned out and marked dispatched in one transaction;
//! deliveries are unique per (event, subscriber, target), so a batch retried after a crash
//! creates nothing twice.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use super::queue;
use crate::catalog::manifest::Manifest;
use crate::platform::outbox;
use crate::platform::{Result, ScopeSet};
use crate::policy::{self, Receiver};
use crate::store::{Store, new_id, now_ms, placeholders};

/// Rows per multi-row insert (12 parameters each).
const INSERT_CHUNK: usize = 200;

/// One party that may receive an organization's events.
#[derive(Debug)]
struct Subscriber {
    id: String,
    installation_id: Option<String>,
    hook_id: Option<String>,
    app_id: Option<String>,
    target: &'static str,
    kinds: Arc<Vec<String>>,
    scopes: ScopeSet,
    /// The installation it receives for (a plugin, an external app, or a REST hook made with
    /// an app's OAuth token); `None` for a REST hook of an organization's API key.
    acting_for: Option<String>,
    /// When it subscribed: earlier events are not its to receive.
    since: Since,
    /// Why its deliveries are not sent (its receiver answered 410 Gone): they are written
    /// dead with this reason, so the log shows what it missed and a replay after
    /// re-enabling sends them.
    held: Option<String>,
}

/// The outcome class of a delivery fan-out writes dead because its webhook is disabled.
pub const WEBHOOK_DISABLED: &str = "webhook_disabled";

/// Where a subscriber's events start.
#[derive(Debug, Clone, Copy)]
enum Since {
    /// An installation: events from its creation time on (its own `app.installed` included).
    Time(i64),
    /// A REST hook: events after the last one written before it.
    Seq(i64),
}

impl Subscriber {
    fn wants(&self, kind: &str, subject_id: &str, seq: i64, occurred_at: i64) -> bool {
        let after = match self.since {
            Since::Time(t) => occurred_at >= t,
            Since::Seq(s) => seq > s,
        };
        let receiver = match &self.acting_for {
            Some(installation) => Receiver::Installation(installation),
            None => Receiver::Credential,
        };
        after
            && self.kinds.iter().any(|k| k == kind)
            && policy::may_receive(receiver, self.scopes, kind, subject_id).is_ok()
    }
}

/// Event kinds per app version: versions are immutable, so manifests are parsed once.
static SUBSCRIPTIONS: LazyLock<Mutex<HashMap<String, VersionEvents>>> = LazyLock::new(Mutex::default);

/// The event kinds an app version subscribes to, and whether it has a webhook URL.
type VersionEvents = (Arc<Vec<String>>, bool);

fn subscriptions(version_id: &str, manifest: &str) -> VersionEvents {
    if let Some(found) = SUBSCRIPTIONS.lock().ok().and_then(|m| m.get(version_id).cloned()) {
        return found;
    }
    let parsed = serde_json::from_str::<Manifest>(manifest).ok();
    let found = (
        Arc::new(parsed.as_ref().map(|m| m.events.clone()).unwrap_or_default()),
        parsed.is_some_and(|m| m.webhook_url.is_some()),
    );
    if let Ok(mut map) = SUBSCRIPTIONS.lock() {
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(version_id.to_owned(), found.clone());
    }
    found
}

async fn subscribers(conn: &mut crate::store::Conn, org_id: &str) -> Result<Vec<Subscriber>> {
    let mut found = Vec::new();
    for live in crate::installs::live_in(conn, org_id).await? {
        let crate::installs::LiveInstallation {
            id,
            app_id,
            kind,
            version_id,
            manifest,
            scopes,
            webhook_disabled,
            since,
        } = live;
        let (events, has_webhook) = subscriptions(&version_id, &manifest);
        let target = match kind.as_str() {
            "plugin" => "plugin",
            _ if has_webhook => "webhook",
            _ => continue,
        };
        let held = webhook_disabled
            .filter(|_| target == "webhook")
            .map(|reason| format!("not sent: webhooks are disabled ({reason}); re-enable them to replay"));
        found.push(Subscriber {
            id: id.clone(),
            acting_for: Some(id.clone()),
            installation_id: Some(id),
            hook_id: None,
            app_id: Some(app_id),
            target,
            kinds: events,
            scopes: ScopeSet::parse_text(&scopes).unwrap_or_default(),
            since: Since::Time(since),
            held,
        });
    }
    let hooks = crate::webhooks::rest_hooks::live_in(conn, org_id).await?;
    for (id, kind, key_scopes, installation_scopes, acting_for, since) in hooks {
        let scopes = key_scopes.or(installation_scopes).unwrap_or_default();
        found.push(Subscriber {
            id: id.clone(),
            installation_id: None,
            acting_for,
            hook_id: Some(id),
            app_id: None,
            target: "webhook",
            kinds: Arc::new(vec![kind]),
            scopes: ScopeSet::parse_text(&scopes).unwrap_or_default(),
            since: Since::Seq(since),
            held: None,
        });
    }
    Ok(found)
}

/// Fans out up to `limit` undispatched events; returns how many events it handled and how many
/// deliveries it created.
#[tracing::instrument(skip(store))]
pub async fn fan_out(store: &Store, limit: usize) -> Result<(usize, usize)> {
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    // Nodes fan out one batch at a time, oldest events first: a node that skipped a batch
    // another node holds could commit later events' deliveries first, and a subscriber would
    // get them out of order. Fan-out is one short transaction per batch of events; the claims,
    // which run per delivery, are what nodes do side by side.
    let events = outbox::undispatched(&mut tx, limit, store.for_update()).await?;
    if events.is_empty() {
        return Ok((0, 0));
    }
    let now = now_ms();
    let mut by_org: HashMap<&str, Vec<Subscriber>> = HashMap::new();
    let mut rows: Vec<(String, &outbox::Undispatched, &Subscriber)> = Vec::new();
    for event in &events {
        if !by_org.contains_key(event.org_id.as_str()) {
            let found = subscribers(&mut tx, &event.org_id).await?;
            by_org.insert(&event.org_id, found);
        }
    }
    for event in &events {
        for subscriber in &by_org[event.org_id.as_str()] {
            if subscriber.wants(&event.kind, &event.subject_id, event.seq, event.occurred_at) {
                rows.push((new_id("dlv"), event, subscriber));
            }
        }
    }
    for chunk in rows.chunks(INSERT_CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, 0, 0, $1, $1, $1)", placeholders(2 + i * 12, 12)))
            .collect();
        let sql = format!(
            "INSERT INTO deliveries (id, event_id, event_kind, org_id, subscriber_id, installation_id, hook_id, app_id, \
             target, state, last_outcome, last_message, attempts, retry_step, next_attempt_at, created_at, updated_at) \
             VALUES {} ON CONFLICT (event_id, subscriber_id, target) DO NOTHING",
            values.join(", ")
        );
        let mut query = crate::store::query(&sql).bind(now);
        for (id, event, s) in chunk {
            query = query
                .bind(id.as_str())
                .bind(event.id.as_str())
                .bind(event.kind.as_str())
                .bind(event.org_id.as_str())
                .bind(s.id.as_str())
                .bind(s.installation_id.as_deref())
                .bind(s.hook_id.as_deref())
                .bind(s.app_id.as_deref())
                .bind(s.target)
                .bind(if s.held.is_some() { "dead" } else { "pending" })
                .bind(s.held.as_ref().map(|_| WEBHOOK_DISABLED))
                .bind(s.held.as_deref());
        }
        query.execute(&mut *tx).await?;
    }
    let subscribers: std::collections::BTreeSet<&str> = rows.iter().map(|(_, _, s)| s.id.as_str()).collect();
    let subscribers: Vec<&str> = subscribers.into_iter().collect();
    queue::open_lanes(&mut tx, &subscribers).await?;
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    outbox::mark_dispatched(&mut tx, &seqs, now).await?;
    tx.commit().await?;
    Ok((events.len(), rows.len()))
}
