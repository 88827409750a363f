//! Installations: an organization's consent to a published app version, with its granted
//! scopes and configuration (secret fields sealed at rest, never returned).

pub mod checks;
pub mod extensions;
pub mod triggers;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use utoipa::ToSchema;

use crate::catalog::apps::{self, App, Version, states};
use crate::catalog::manifest::{FieldType, Manifest};
use crate::platform::outbox::{self, kinds};
use crate::platform::{PlatformError, Result, ScopeSet, format_time};
use crate::secrets::Secrets;
use crate::store::{Store, new_id, now_ms};

/// A configuration value as the API shows it: secret values are never returned.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum ShownValue {
    Plain(String),
    Secret { secret: bool, set: bool },
}

/// An upgrade waiting for the admin's consent to new scopes, or to a new price.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingUpgrade {
    pub version_id: String,
    pub version: String,
    /// Scopes the new version asks for beyond those granted.
    pub new_scopes: Vec<String>,
    /// The new version's price, when it costs something it did not: to confirm with
    /// `accept_price`.
    pub new_price: Option<crate::billing::Price>,
}

/// The price `to` asks that `from` did not (free, or another price), if any. An app bought
/// once stays bought: a one-time price after a one-time price asks nothing.
fn new_price(from: &Manifest, to: &Manifest) -> Option<crate::billing::Price> {
    use crate::catalog::manifest::Pricing;
    let price = crate::billing::price_of(&to.pricing)?;
    let bought = matches!(
        (&from.pricing, &to.pricing),
        (Pricing::OneTime { .. }, Pricing::OneTime { .. })
    );
    (from.pricing != to.pricing && !bought).then_some(price)
}

/// An installation as the tenant admin sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Installation {
    pub id: String,
    pub org_id: String,
    pub app_id: String,
    pub app_slug: String,
    pub app_name: String,
    pub version_id: String,
    pub version: String,
    pub granted_scopes: Vec<String>,
    pub config: BTreeMap<String, ShownValue>,
    /// `active` or `paused`.
    pub status: String,
    pub pending_upgrade: Option<PendingUpgrade>,
    /// Set when the app's webhook receiver answered 410 Gone: events are still recorded in the
    /// delivery log (dead, outcome `webhook_disabled`) but not sent until the webhook is
    /// re-enabled (`POST /v1/installations/{id}/webhook/enable`, or resuming).
    pub webhook_disabled: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(serde::Deserialize)]
struct Row {
    id: String,
    org_id: String,
    app_id: String,
    version_id: String,
    pending_version_id: Option<String>,
    granted_scopes: String,
    config: String,
    status: String,
    created_at: i64,
    updated_at: i64,
    webhook_disabled_reason: Option<String>,
}

const COLUMNS: &str = "id, org_id, app_id, version_id, pending_version_id, granted_scopes, config, status, created_at, updated_at";

/// What the admin filled in, by field key.
pub type ConfigInput = BTreeMap<String, serde_json::Value>;

/// Checks values against the manifest's fields and seals the secret ones. `previous` keeps
/// secrets the admin left out of an update.
fn prepare_config(
    manifest: &Manifest,
    input: &ConfigInput,
    previous: Option<&BTreeMap<String, String>>,
    secrets: &Secrets,
) -> Result<BTreeMap<String, String>> {
    if let Some(unknown) = input
        .keys()
        .find(|k| !manifest.config.iter().any(|f| &f.key == *k))
    {
        return Err(PlatformError::Invalid(format!(
            "config.{unknown}: the app has no such setting"
        )));
    }
    let mut out = BTreeMap::new();
    for field in &manifest.config {
        let key = &field.key;
        let value = match input.get(key) {
            None | Some(serde_json::Value::Null) => {
                if let Some(kept) = previous.and_then(|p| p.get(key)) {
                    out.insert(key.clone(), kept.clone());
                } else if field.required {
                    return Err(PlatformError::Invalid(format!(
                        "config.{key}: \"{}\" is required",
                        field.label
                    )));
                }
                continue;
            }
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Bool(b)) if field.kind == FieldType::Toggle => b.to_string(),
            Some(other) => {
                return Err(PlatformError::Invalid(format!(
                    "config.{key}: expected text, got {other}"
                )));
            }
        };
        match field.kind {
            FieldType::Select if !field.options.contains(&value) => {
                return Err(PlatformError::Invalid(format!(
                    "config.{key}: choose one of {}",
                    field.options.join(", ")
                )));
            }
            FieldType::Toggle if value != "true" && value != "false" => {
                return Err(PlatformError::Invalid(format!(
                    "config.{key}: must be true or false"
                )));
            }
            _ if value.len() > 4096 => {
                return Err(PlatformError::Invalid(format!(
                    "config.{key}: longer than 4096 characters"
                )));
            }
            _ => {}
        }
        let stored = if field.kind == FieldType::Secret {
            secrets.seal(&value)
        } else {
            value
        };
        out.insert(key.clone(), stored);
    }
    Ok(out)
}

fn shown(manifest: &Manifest, stored: &BTreeMap<String, String>) -> BTreeMap<String, ShownValue> {
    manifest
        .config
        .iter()
        .filter_map(|field| {
            let value = stored.get(&field.key);
            let shown = match field.kind {
                FieldType::Secret => ShownValue::Secret {
                    secret: true,
                    set: value.is_some(),
                },
                _ => ShownValue::Plain(value?.clone()),
            };
            Some((field.key.clone(), shown))
        })
        .collect()
}

async fn view(store: &Store, row: Row) -> Result<Installation> {
    let app = apps::get(store, &row.app_id).await?;
    let version = apps::version(store, &row.version_id).await?;
    let stored: BTreeMap<String, String> = serde_json::from_str(&row.config).unwrap_or_default();
    let granted =
        ScopeSet::parse_text(&row.granted_scopes).map_err(|e| PlatformError::Internal(e.to_string()))?;
    let pending_upgrade = match &row.pending_version_id {
        Some(id) => {
            let pending = apps::version(store, id).await?;
            let new_scopes = pending
                .manifest
                .scope_set()
                .iter()
                .filter(|s| !granted.contains(*s))
                .map(|s| s.to_string())
                .collect();
            Some(PendingUpgrade {
                new_price: new_price(&version.manifest, &pending.manifest),
                version_id: pending.id,
                version: pending.version,
                new_scopes,
            })
        }
        None => None,
    };
    Ok(Installation {
        config: shown(&version.manifest, &stored),
        id: row.id,
        org_id: row.org_id,
        app_id: app.id,
        app_slug: app.slug,
        app_name: app.name,
        version_id: version.id,
        version: version.version,
        granted_scopes: granted.names(),
        status: row.status,
        pending_upgrade,
        webhook_disabled: row.webhook_disabled_reason,
        created_at: format_time(row.created_at),
        updated_at: format_time(row.updated_at),
    })
}

async fn row(store: &Store, org_id: &str, id: &str) -> Result<Row> {
    crate::store::query_as(&format!(
        "SELECT {COLUMNS}, webhook_disabled_reason FROM installations WHERE id = $1 AND org_id = $2"
    ))
    .bind(id)
    .bind(org_id)
    .fetch_optional(store.reader())
    .await?
    .ok_or(PlatformError::NotFound("installation"))
}

/// One installation of the organization.
pub async fn get(store: &Store, org_id: &str, id: &str) -> Result<Installation> {
    view(store, row(store, org_id, id).await?).await
}

/// The organization's installations, newest first.
pub async fn list(store: &Store, org_id: &str) -> Result<Vec<Installation>> {
    let rows: Vec<Row> = crate::store::query_as(&format!(
        "SELECT {COLUMNS}, webhook_disabled_reason FROM installations WHERE org_id = $1 ORDER BY id DESC"
    ))
    .bind(org_id)
    .fetch_all(store.reader())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(view(store, row).await?);
    }
    Ok(out)
}

/// An active installation of an active app, as fan-out needs it.
#[derive(serde::Deserialize)]
pub struct LiveInstallation {
    pub id: String,
    pub app_id: String,
    /// The app's kind: `plugin` or `external`.
    pub kind: String,
    pub version_id: String,
    /// The pinned version's manifest (JSON).
    pub manifest: String,
    /// The granted scopes, space-separated.
    pub scopes: String,
    pub webhook_disabled: Option<String>,
    /// When it was installed (ms): it receives events from then on.
    pub since: i64,
}

/// The organization's live installations, in the fan-out's transaction. (A read-only join
/// with the catalog's apps and versions, one query per batch: see `tests/api/layout.rs`.)
pub async fn live_in(conn: &mut crate::store::Conn, org_id: &str) -> Result<Vec<LiveInstallation>> {
    Ok(crate::store::query_as(
        "SELECT i.id, i.app_id, a.kind, i.version_id, v.manifest, i.granted_scopes AS scopes, \
         i.webhook_disabled_reason AS webhook_disabled, i.created_at AS since \
         FROM installations i JOIN apps a ON a.id = i.app_id JOIN app_versions v ON v.id = i.version_id \
         WHERE i.org_id = $1 AND i.status = 'active' AND a.status = 'active'",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?)
}

/// The ids of the apps the organization has installed (the catalog marks them).
/// The apps an organization has installed, or none for a signed-out visitor (`None`).
pub async fn installed_apps_of(
    store: &Store,
    org_id: Option<&str>,
) -> Result<std::collections::HashSet<String>> {
    match org_id {
        Some(org_id) => installed_apps(store, org_id).await,
        None => Ok(Default::default()),
    }
}

pub async fn installed_apps(store: &Store, org_id: &str) -> Result<std::collections::HashSet<String>> {
    let rows: Vec<(String,)> = crate::store::query_as("SELECT app_id FROM installations WHERE org_id = $1")
        .bind(org_id)
        .fetch_all(store.reader())
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Consent must name exactly the scopes the version asks for: no more, no fewer.
fn check_consent(version: &Version, consent: &[String]) -> Result<ScopeSet> {
    let asked = version.manifest.scope_set();
    let given =
        ScopeSet::parse_text(&consent.join(" ")).map_err(|e| PlatformError::Invalid(e.to_string()))?;
    if given != asked {
        let list = if asked.names().is_empty() {
            "none".to_owned()
        } else {
            asked.names().join(", ")
        };
        return Err(PlatformError::Invalid(format!(
            "consent to exactly the scopes the app asks for: {list}"
        )));
    }
    Ok(asked)
}

fn published(app: &App) -> Result<&str> {
    if app.status != "active" {
        return Err(PlatformError::Conflict(format!(
            "{} is suspended and cannot be installed or upgraded",
            app.name
        )));
    }
    app.published_version_id
        .as_deref()
        .ok_or(PlatformError::NotFound("app"))
}

/// Tells the catalog how many installations the app has now (its "installs" sort).
async fn recount(conn: &mut crate::store::Conn, app_id: &str) -> Result<()> {
    let (count,): (i64,) = crate::store::query_as("SELECT COUNT(*) FROM installations WHERE app_id = $1")
        .bind(app_id)
        .fetch_one(&mut *conn)
        .await?;
    apps::set_install_count(conn, app_id, count).await
}

/// Installs the published version of the app `slug` with the admin's consent, their
/// confirmation of a paid app's price, and the configuration.
#[allow(clippy::too_many_arguments)]
pub async fn install(
    store: &Store,
    secrets: &Secrets,
    org_id: &str,
    user_id: Option<&str>,
    slug: &str,
    consent: &[String],
    accepted_price: Option<&crate::billing::Price>,
    config: &ConfigInput,
) -> Result<Installation> {
    let app = apps::by_slug(store, slug).await?;
    let version = apps::version(store, published(&app)?).await?;
    let granted = check_consent(&version, consent)?;
    crate::billing::check_accepted(&app.name, &version.manifest.pricing, accepted_price)?;
    let stored = prepare_config(&version.manifest, config, None, secrets)?;
    let now = now_ms();
    let id = new_id("ins");
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    let existing: Option<(String,)> =
        crate::store::query_as("SELECT id FROM installations WHERE org_id = $1 AND app_id = $2")
            .bind(org_id)
            .bind(&app.id)
            .fetch_optional(&mut *tx)
            .await?;
    if existing.is_some() {
        return Err(PlatformError::Conflict(format!(
            "{} is already installed in this organization",
            app.name
        )));
    }
    crate::store::query(&format!(
        "INSERT INTO installations ({COLUMNS}, created_by) VALUES ($1, $2, $3, $4, NULL, $5, $6, 'active', $7, $7, $8)"
    ))
    .bind(&id)
    .bind(org_id)
    .bind(&app.id)
    .bind(&version.id)
    .bind(granted.to_text())
    .bind(serde_json::to_string(&stored).map_err(|e| PlatformError::Internal(e.to_string()))?)
    .bind(now)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    recount(&mut tx, &app.id).await?;
    let payload = serde_json::json!({ "installation_id": id, "app": app.slug, "version": version.version, "scopes": granted.names() });
    outbox::record(&mut tx, org_id, kinds::APP_INSTALLED, &id, &payload).await?;
    tx.commit().await?;
    get(store, org_id, &id).await
}

/// Installs an external app through OAuth consent, or adds the consented scopes to its existing
/// installation in the organization; returns the installation id. `version` is the app's
/// published version (or, in its developer's own organization, its latest one).
pub async fn authorize_external(
    store: &Store,
    org_id: &str,
    user_id: &str,
    app: &App,
    version: &Version,
    scopes: ScopeSet,
) -> Result<String> {
    let now = now_ms();
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    let existing: Option<(String, String, String)> = crate::store::query_as(
        "SELECT id, granted_scopes, status FROM installations WHERE org_id = $1 AND app_id = $2",
    )
    .bind(org_id)
    .bind(&app.id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((id, granted, status)) = existing {
        if status != "active" {
            return Err(PlatformError::Conflict(format!(
                "{} is paused in this organization; resume it first",
                app.name
            )));
        }
        let granted = ScopeSet::parse_text(&granted).map_err(|e| PlatformError::Internal(e.to_string()))?;
        let all: ScopeSet = granted.iter().chain(scopes.iter()).collect();
        if all != granted {
            crate::store::query(
                "UPDATE installations SET granted_scopes = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(all.to_text())
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        return Ok(id);
    }
    let id = new_id("ins");
    crate::store::query(&format!(
        "INSERT INTO installations ({COLUMNS}, created_by) VALUES ($1, $2, $3, $4, NULL, $5, '{{}}', 'active', $6, $6, $7)"
    ))
    .bind(&id)
    .bind(org_id)
    .bind(&app.id)
    .bind(&version.id)
    .bind(scopes.to_text())
    .bind(now)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    recount(&mut tx, &app.id).await?;
    let payload = serde_json::json!({ "installation_id": id, "app": app.slug, "version": version.version, "scopes": scopes.names() });
    outbox::record(&mut tx, org_id, kinds::APP_INSTALLED, &id, &payload).await?;
    tx.commit().await?;
    Ok(id)
}

/// Replaces configuration values; secret fields left out keep their value.
pub async fn configure(
    store: &Store,
    secrets: &Secrets,
    org_id: &str,
    id: &str,
    config: &ConfigInput,
) -> Result<Installation> {
    let row = row(store, org_id, id).await?;
    let version = apps::version(store, &row.version_id).await?;
    let previous: BTreeMap<String, String> = serde_json::from_str(&row.config).unwrap_or_default();
    let stored = prepare_config(&version.manifest, config, Some(&previous), secrets)?;
    crate::store::query(
        "UPDATE installations SET config = $1, updated_at = $2 WHERE id = $3 AND org_id = $4",
    )
    .bind(serde_json::to_string(&stored).map_err(|e| PlatformError::Internal(e.to_string()))?)
    .bind(now_ms())
    .bind(id)
    .bind(org_id)
    .execute(store.writer())
    .await?;
    get(store, org_id, id).await
}

/// How many installations of `app_id` have their webhook disabled by a 410 (the developer's
/// view: a count, no tenant data).
pub async fn webhooks_disabled(store: &Store, app_id: &str) -> Result<u64> {
    let (count,): (i64,) = crate::store::query_as(
        "SELECT COUNT(*) FROM installations WHERE app_id = $1 AND webhook_disabled_reason IS NOT NULL",
    )
    .bind(app_id)
    .fetch_one(store.reader())
    .await?;
    Ok(count as u64)
}

/// Turns an external app's webhook back on after its receiver answered 410 Gone. What it
/// missed meanwhile is the delivery engine's to send again (`events::queue::replay_held_webhooks`).
pub async fn enable_webhook(store: &Store, org_id: &str, id: &str) -> Result<Installation> {
    let current = row(store, org_id, id).await?;
    if current.webhook_disabled_reason.is_none() {
        return Err(PlatformError::Conflict(
            "the installation's webhook is not disabled".into(),
        ));
    }
    crate::store::query(
        "UPDATE installations SET webhook_disabled_reason = NULL, updated_at = $1 WHERE id = $2 AND org_id = $3",
    )
    .bind(now_ms())
    .bind(id)
    .bind(org_id)
    .execute(store.writer())
    .await?;
    get(store, org_id, id).await
}

/// Turns an installation's webhook off because its receiver answered 410 Gone (the delivery
/// engine calls this in the transaction that records the answer).
pub async fn disable_webhook(conn: &mut crate::store::Conn, id: &str, reason: &str) -> Result<()> {
    crate::store::query(
        "UPDATE installations SET webhook_disabled_reason = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(reason)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Why the delivery engine pauses an installation.
pub struct FailingDeliveries<'a> {
    pub app_id: Option<&'a str>,
    /// Since when its deliveries have only failed (ms).
    pub since: i64,
    pub reason: &'a str,
}

/// Pauses an installation whose deliveries kept failing and tells its organization
/// (`app.delivery_paused`), in the delivery engine's transaction; true if it was active.
pub async fn pause_for_failures(
    conn: &mut crate::store::Conn,
    org_id: &str,
    id: &str,
    why: FailingDeliveries<'_>,
    now: i64,
) -> Result<bool> {
    let done = crate::store::query(
        "UPDATE installations SET status = 'paused', updated_at = $1 WHERE id = $2 AND status = 'active'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let payload = serde_json::json!({
        "installation_id": id,
        "app_id": why.app_id,
        "failing_since": format_time(why.since),
        "reason": why.reason,
    });
    outbox::record(conn, org_id, kinds::APP_DELIVERY_PAUSED, id, &payload).await?;
    Ok(true)
}

/// What resuming changed besides the status.
pub struct Resumed {
    pub installation: Installation,
    /// The webhook, disabled by a 410, was turned back on.
    pub webhook_reenabled: bool,
}

/// Pauses (`paused = true`) or resumes an installation. Resuming also turns a webhook disabled
/// by a 410 back on. Waking the deliveries that waited is the delivery engine's
/// (`events::queue::wake`, `replay_held_webhooks`), which the API calls right after.
pub async fn set_paused(store: &Store, org_id: &str, id: &str, paused: bool) -> Result<Resumed> {
    let current = row(store, org_id, id).await?;
    let (wanted, kind) = if paused {
        ("paused", kinds::APP_PAUSED)
    } else {
        ("active", kinds::APP_RESUMED)
    };
    if current.status == wanted {
        return Err(PlatformError::Conflict(format!(
            "the installation is already {wanted}"
        )));
    }
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    // Resuming lifts a 410's disabling (the delivery engine restarts its failing clock).
    let webhook_reenabled = !paused && current.webhook_disabled_reason.is_some();
    crate::store::query(
        "UPDATE installations SET status = $1, updated_at = $2, \
         webhook_disabled_reason = CASE WHEN $1 = 'active' THEN NULL ELSE webhook_disabled_reason END \
         WHERE id = $3 AND org_id = $4",
    )
    .bind(wanted)
    .bind(now_ms())
    .bind(id)
    .bind(org_id)
    .execute(&mut *tx)
    .await?;
    outbox::record(
        &mut tx,
        org_id,
        kind,
        id,
        &serde_json::json!({ "installation_id": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(Resumed {
        installation: get(store, org_id, id).await?,
        webhook_reenabled,
    })
}

/// Moves the installation to the app's published version. If it asks for scopes not yet
/// granted, `consent` must name all of its scopes, and if it asks a new price,
/// `accepted_price` must be it; without them the upgrade waits as pending and the
/// installation keeps running its current version.
pub async fn upgrade(
    store: &Store,
    org_id: &str,
    id: &str,
    consent: Option<&[String]>,
    accepted_price: Option<&crate::billing::Price>,
) -> Result<Installation> {
    let current = row(store, org_id, id).await?;
    let app = apps::get(store, &current.app_id).await?;
    let target = apps::version(store, published(&app)?).await?;
    let before = apps::version(store, &current.version_id).await?;
    if target.id == current.version_id {
        return Err(PlatformError::Conflict(format!(
            "version {} is already installed",
            target.version
        )));
    }
    if target.state != states::PUBLISHED {
        return Err(PlatformError::Conflict(
            "the app has no newer published version".into(),
        ));
    }
    let granted =
        ScopeSet::parse_text(&current.granted_scopes).map_err(|e| PlatformError::Internal(e.to_string()))?;
    let asked = target.manifest.scope_set();
    // A new price is agreed to like new scopes: without it the upgrade waits.
    let repriced = new_price(&before.manifest, &target.manifest).is_some();
    if repriced && accepted_price.is_some() {
        crate::billing::check_accepted(&app.name, &target.manifest.pricing, accepted_price)?;
    }
    let price_agreed = !repriced || accepted_price.is_some();
    let new_granted = match consent {
        _ if price_agreed && granted.covers(asked) => asked,
        Some(consent) if price_agreed => check_consent(&target, consent)?,
        // The tenant has yet to agree (to the scopes or the price): the upgrade waits.
        _ => {
            crate::store::query(
                "UPDATE installations SET pending_version_id = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(&target.id)
            .bind(now_ms())
            .bind(id)
            .execute(store.writer())
            .await?;
            return get(store, org_id, id).await;
        }
    };
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    crate::store::query(
        "UPDATE installations SET version_id = $1, pending_version_id = NULL, granted_scopes = $2, updated_at = $3 \
         WHERE id = $4 AND org_id = $5",
    )
    .bind(&target.id)
    .bind(new_granted.to_text())
    .bind(now_ms())
    .bind(id)
    .bind(org_id)
    .execute(&mut *tx)
    .await?;
    let payload = serde_json::json!({ "installation_id": id, "app": app.slug, "version": target.version, "scopes": new_granted.names() });
    outbox::record(&mut tx, org_id, kinds::APP_UPGRADED, id, &payload).await?;
    tx.commit().await?;
    get(store, org_id, id).await
}

/// Lets the app's developer fetch this installation's recordings of failed calls, or stops it.
pub async fn share_recordings(store: &Store, org_id: &str, id: &str, share: bool) -> Result<()> {
    row(store, org_id, id).await?;
    crate::store::query("UPDATE installations SET share_recordings = $1 WHERE id = $2 AND org_id = $3")
        .bind(i64::from(share))
        .bind(id)
        .bind(org_id)
        .execute(store.writer())
        .await?;
    Ok(())
}

/// Whether the installation shares its recordings with its app's developer.
pub async fn shares_recordings(store: &Store, id: &str) -> Result<bool> {
    let found: Option<(i64,)> =
        crate::store::query_as("SELECT share_recordings FROM installations WHERE id = $1")
            .bind(id)
            .fetch_optional(store.reader())
            .await?;
    Ok(found.is_some_and(|(share,)| share == 1))
}

/// The installations of `app_id` that share their recordings with its developer.
pub async fn sharing_recordings(store: &Store, app_id: &str) -> Result<Vec<String>> {
    let rows: Vec<(String,)> =
        crate::store::query_as("SELECT id FROM installations WHERE app_id = $1 AND share_recordings = 1")
            .bind(app_id)
            .fetch_all(store.reader())
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Uninstalls: the installation and everything the app stored for it (KV data, files) are
/// deleted, and `app.uninstalled` is emitted.
pub async fn uninstall(store: &Store, files_root: &Path, org_id: &str, id: &str) -> Result<()> {
    let current = row(store, org_id, id).await?;
    let app = apps::get(store, &current.app_id).await?;
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    crate::capabilities::kv::delete_installation_data(&mut *tx, id).await?;
    crate::webhooks::keys::forget(&mut *tx, id).await?;
    crate::runtime::journal::forget(&mut tx, id).await?;
    crate::capabilities::credentials::forget(&mut tx, id).await?;
    triggers::forget(&mut tx, id).await?;
    crate::runtime::recordings::forget(&mut tx, id).await?;
    crate::billing::end(&mut tx, id).await?;
    crate::store::query("DELETE FROM installations WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
    recount(&mut tx, &app.id).await?;
    let payload = serde_json::json!({ "installation_id": id, "app": app.slug });
    outbox::record(&mut tx, org_id, kinds::APP_UNINSTALLED, id, &payload).await?;
    tx.commit().await?;
    // Files go after the commit: a crash in between leaves files no installation can reach.
    crate::runtime::files::delete_installation_files(files_root, id)
        .map_err(|e| PlatformError::Internal(format!("deleting the installation's files: {e}")))?;
    Ok(())
}

/// Where an external app's installation receives its webhooks, if it can now.
pub enum WebhookTarget {
    Active {
        url: String,
    },
    /// Paused installation or suspended app: deliveries wait.
    Waiting(String),
    /// No webhook URL, or the receiver asked to stop (410).
    Disabled(String),
}

/// The webhook target of an installation (`id` alone: delivery workers act across
/// organizations).
pub async fn webhook_target(store: &Store, id: &str) -> Result<WebhookTarget> {
    let row: Option<(String, Option<String>, String, String)> = crate::store::query_as(
        "SELECT i.status, i.webhook_disabled_reason, a.status, v.manifest FROM installations i \
         JOIN apps a ON a.id = i.app_id JOIN app_versions v ON v.id = i.version_id WHERE i.id = $1",
    )
    .bind(id)
    .fetch_optional(store.reader())
    .await?;
    let (status, disabled, app_status, manifest) = row.ok_or(PlatformError::NotFound("installation"))?;
    if let Some(reason) = disabled {
        return Ok(WebhookTarget::Disabled(format!(
            "webhooks are disabled: {reason}"
        )));
    }
    if app_status != "active" {
        return Ok(WebhookTarget::Waiting("the app is suspended".into()));
    }
    if status != "active" {
        return Ok(WebhookTarget::Waiting("the installation is paused".into()));
    }
    let manifest: crate::catalog::manifest::Manifest =
        serde_json::from_str(&manifest).map_err(|e| PlatformError::Internal(format!("manifest: {e}")))?;
    Ok(match manifest.webhook_url {
        Some(url) => WebhookTarget::Active { url },
        None => WebhookTarget::Disabled("the app's version has no webhook_url".into()),
    })
}

/// Everything needed to run an installation's plugin: the runtime's view (grants, configuration
/// with secrets opened, declared hosts), the component and the limits. Refuses a paused
/// installation or a suspended app: they do not run.
pub struct Runnable {
    pub installation: crate::runtime::Installation,
    pub component_sha256: String,
    pub limits: crate::runtime::Limits,
    /// The inbound web triggers its manifest declares.
    pub triggers: Vec<crate::catalog::manifest::TriggerSpec>,
}

/// Loads an installation for a run (`id` alone: delivery workers act across organizations).
pub async fn load_for_run(store: &Store, secrets: &Secrets, id: &str) -> Result<Runnable> {
    let row: Row = crate::store::query_as(&format!(
        "SELECT {COLUMNS}, webhook_disabled_reason FROM installations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store.reader())
    .await?
    .ok_or(PlatformError::NotFound("installation"))?;
    let app = apps::get(store, &row.app_id).await?;
    if app.status != "active" {
        return Err(PlatformError::Conflict(format!(
            "{} is suspended: {}",
            app.name,
            app.suspended_reason.unwrap_or_default()
        )));
    }
    if row.status != "active" {
        return Err(PlatformError::Conflict("the installation is paused".into()));
    }
    let version = apps::version(store, &row.version_id).await?;
    let component_sha256 = version
        .component_sha256
        .clone()
        .ok_or_else(|| PlatformError::Conflict(format!("{} is not a plugin", app.name)))?;
    let stored: BTreeMap<String, String> = serde_json::from_str(&row.config).unwrap_or_default();
    let mut config = BTreeMap::new();
    let mut secret_config = Vec::new();
    for (key, value) in stored {
        let value = if Secrets::is_sealed(&value) {
            secret_config.push(key.clone());
            secrets
                .open(&value)
                .map_err(|e| PlatformError::Internal(e.to_string()))?
        } else {
            value
        };
        config.insert(key, value);
    }
    Ok(Runnable {
        installation: crate::runtime::Installation {
            id: row.id,
            app_id: row.app_id,
            org_id: row.org_id,
            grants: ScopeSet::parse_text(&row.granted_scopes)
                .map_err(|e| PlatformError::Internal(e.to_string()))?,
            config,
            allowed_hosts: version.manifest.allowed_hosts.clone(),
            connections: version.manifest.connections.clone(),
            secret_config,
        },
        component_sha256,
        limits: version.manifest.limits(),
        triggers: version.manifest.triggers.clone(),
    })
}
