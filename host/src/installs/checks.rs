//! Plugin checks (the WIT `hooks` interface, `validate-task`): installed plugins' synchronous
//! checks, run inside the API request they guard. ("REST hooks" are something else: Zapier-style
//! subscriptions, in `webhooks::rest_hooks`.)
//!
//! A hook runs under `Limits::HOOK` (20 M fuel, 16 MiB, 100 ms). Its `invalid` verdict rejects
//! the request with the plugin's message. A hook that crashes, runs out of budget or fails in
//! another way does not block the person's work: the request goes on, and the failure goes to the
//! installation's journal the tenant reads.

use std::sync::Arc;

use super::{Runnable, load_for_run};
use crate::platform::{PlatformError, Result};
use crate::runtime::{Limits, Outcome, Runtime, Task};
use crate::secrets::Secrets;
use crate::store::Store;

/// Active installations of the organization whose pinned version implements `hook`, with their
/// app's name.
pub async fn installations_with(store: &Store, org_id: &str, hook: &str) -> Result<Vec<(String, String)>> {
    let rows: Vec<(String, String, String)> = crate::store::query_as(
        "SELECT i.id, v.manifest, a.name FROM installations i \
         JOIN app_versions v ON v.id = i.version_id JOIN apps a ON a.id = i.app_id \
         WHERE i.org_id = $1 AND i.status = 'active' AND a.status = 'active' AND v.manifest LIKE $2 ORDER BY i.id",
    )
    .bind(org_id)
    // Every task write asks this: let the database skip manifests that cannot name the hook,
    // and parse only the few that might.
    .bind(format!("%\"{hook}\"%"))
    .fetch_all(store.reader())
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, manifest, _)| {
            serde_json::from_str::<crate::catalog::manifest::Manifest>(manifest)
                .is_ok_and(|m| m.hooks.iter().any(|h| h == hook))
        })
        .map(|(id, _, name)| (id, name))
        .collect())
}

/// Runs the `validate-task` hook of each of `hooked` (from [`installations_with`]) on `task`;
/// the first `invalid` verdict rejects it.
pub async fn validate_task(
    store: &Store,
    secrets: &Secrets,
    runtime: &Runtime,
    hooked: Vec<(String, String)>,
    task: &Task,
) -> Result<()> {
    for (installation_id, app_name) in hooked {
        let Runnable {
            installation,
            component_sha256,
            ..
        } = match load_for_run(store, secrets, &installation_id).await {
            Ok(runnable) => runnable,
            Err(e) => {
                tracing::warn!(installation = %installation_id, error = %e, "hook skipped");
                continue;
            }
        };
        let prepared = super::extensions::prepared(store, runtime, &component_sha256).await?;
        let report = runtime
            .validate_task(&prepared, Arc::new(installation), Limits::HOOK, task.clone())
            .await;
        match &report.outcome {
            Outcome::Ok => {}
            Outcome::PluginError { kind, message } if kind == "invalid" => {
                return Err(PlatformError::Invalid(format!("{app_name}: {message}")));
            }
            other => {
                // The tenant learns it from the installation's journal, since the request went on.
                tracing::warn!(installation = %installation_id, outcome = other.class(), message = %report.message, "hook failed; the request goes on");
            }
        }
    }
    Ok(())
}
