//! Plugins' UI in Bazaar's pages (the WIT `extension` interface, contract 0.2.0 on): which
//! installations show something at a place, their render, and their actions.
//!
//! A render runs under `Limits::HOOK` (the page waits for it) in a fresh sandbox with the
//! installation's scopes. One that fails, is slow or returns too much shows a placeholder: the
//! page still renders, and the failure goes to the journal the tenant reads.

use std::sync::Arc;

use super::{Runnable, load_for_run};
use crate::catalog::manifest::{ExtensionPoint, Manifest};
use crate::platform::{PlatformError, Result};
use crate::runtime::ui::{Block, Context, Reply, Surface};
use crate::runtime::{Limits, Outcome, Runtime};
use crate::secrets::Secrets;
use crate::store::Store;

/// An installation that shows UI at a place.
#[derive(Debug, Clone)]
pub struct Placed {
    pub installation_id: String,
    pub app_name: String,
}

/// What one installation shows at a place.
pub struct Rendered {
    pub placed: Placed,
    /// Hosts its images may come from (its manifest's).
    pub allowed_hosts: Vec<String>,
    /// Its blocks, or why there are none (shown as the placeholder).
    pub shown: std::result::Result<Vec<Block>, String>,
}

/// The surface of the WIT for a manifest's place.
pub fn surface(point: ExtensionPoint) -> Surface {
    match point {
        ExtensionPoint::TaskPanel => Surface::TaskPanel,
        ExtensionPoint::ProjectCard => Surface::ProjectCard,
        ExtensionPoint::SettingsPage => Surface::SettingsPage,
    }
}

/// Active installations of the organization whose pinned version shows UI at `point`, in a
/// stable order.
pub async fn installations_at(store: &Store, org_id: &str, point: ExtensionPoint) -> Result<Vec<Placed>> {
    let rows: Vec<(String, String, String)> = crate::store::query_as(
        "SELECT i.id, v.manifest, a.name FROM installations i \
         JOIN app_versions v ON v.id = i.version_id JOIN apps a ON a.id = i.app_id \
         WHERE i.org_id = $1 AND i.status = 'active' AND a.status = 'active' AND v.manifest LIKE $2 ORDER BY a.name, i.id",
    )
    .bind(org_id)
    // Every task and project page asks this: parse only the manifests that might name the place.
    .bind(format!("%\"{}\"%", point.name()))
    .fetch_all(store.reader())
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, manifest, _)| Manifest::from_json(manifest).is_ok_and(|m| m.ui.contains(&point)))
        .map(|(installation_id, _, app_name)| Placed {
            installation_id,
            app_name,
        })
        .collect())
}

/// The runtime's prepared component for `sha256`, compiled from the catalog's bytes on first use.
pub async fn prepared(
    store: &Store,
    runtime: &Runtime,
    sha256: &str,
) -> Result<Arc<crate::runtime::Prepared>> {
    if let Some(prepared) = runtime.prepared(sha256) {
        return Ok(prepared);
    }
    let bytes = crate::catalog::apps::component(store, sha256).await?;
    runtime
        .prepare(&bytes)
        .map_err(|e| PlatformError::Internal(e.to_string()))
}

/// Renders `placed`'s UI at `point` about `subject_id`.
#[tracing::instrument(skip_all, fields(installation = %placed.installation_id, point = point.name()))]
pub async fn render(
    store: &Store,
    secrets: &Secrets,
    runtime: &Runtime,
    placed: Placed,
    point: ExtensionPoint,
    subject_id: &str,
) -> Rendered {
    let (allowed_hosts, shown) = match load(store, secrets, runtime, &placed.installation_id).await {
        Err(e) => (Vec::new(), Err(e.to_string())),
        Ok((runnable, prepared)) => {
            let hosts = runnable.installation.allowed_hosts.clone();
            let context = Context {
                surface: surface(point),
                subject_id: subject_id.to_owned(),
            };
            let (report, blocks) = runtime
                .render(&prepared, Arc::new(runnable.installation), Limits::HOOK, context)
                .await;
            (hosts, blocks.ok_or(report.message))
        }
    };
    Rendered {
        placed,
        allowed_hosts,
        shown,
    }
}

/// What an action leads to: a message, and the blocks to show now.
pub struct Acted {
    pub notice: Option<String>,
    pub rendered: Rendered,
}

/// Runs `action` of an installation's UI at `point`, then what it asks to show: its blocks, or a
/// fresh render with its notice. A failing action is an error the person sees (and the journal
/// keeps).
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all, fields(installation = %placed.installation_id, point = point.name(), action = %action))]
pub async fn act(
    store: &Store,
    secrets: &Secrets,
    runtime: &Runtime,
    placed: Placed,
    point: ExtensionPoint,
    subject_id: &str,
    action: String,
    values: Vec<(String, String)>,
) -> Result<Acted> {
    let (runnable, prepared) = load(store, secrets, runtime, &placed.installation_id).await?;
    let allowed_hosts = runnable.installation.allowed_hosts.clone();
    let context = Context {
        surface: surface(point),
        subject_id: subject_id.to_owned(),
    };
    let (report, reply) = runtime
        .on_action(
            &prepared,
            Arc::new(runnable.installation),
            Limits::HOOK,
            context,
            action,
            values,
        )
        .await;
    match (reply, report.outcome) {
        (Some(Reply::Show(blocks)), _) => Ok(Acted {
            notice: None,
            rendered: Rendered {
                placed,
                allowed_hosts,
                shown: Ok(blocks),
            },
        }),
        (Some(Reply::Notice(notice)), _) => Ok(Acted {
            notice: Some(notice),
            rendered: render(store, secrets, runtime, placed, point, subject_id).await,
        }),
        (None, Outcome::PluginError { kind, message }) if kind == "invalid" || kind == "forbidden" => {
            Err(PlatformError::Invalid(format!("{}: {message}", placed.app_name)))
        }
        (None, _) => Err(PlatformError::Conflict(format!(
            "{} could not complete the action: {}",
            placed.app_name, report.message
        ))),
    }
}

async fn load(
    store: &Store,
    secrets: &Secrets,
    runtime: &Runtime,
    installation_id: &str,
) -> Result<(Runnable, Arc<crate::runtime::Prepared>)> {
    let runnable = load_for_run(store, secrets, installation_id).await?;
    let prepared = prepared(store, runtime, &runnable.component_sha256).await?;
    Ok((runnable, prepared))
}
