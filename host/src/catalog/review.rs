//! Review: the automated checks run on submission, and the platform reviewer's decision.
//!
//! Submitting a version runs every check and stores the findings. An `error` finding rejects the
//! version at once (the developer sees why); otherwise it waits in the review queue, where a
//! reviewer reads the findings and approves or rejects it with a note.

use serde::Serialize;
use utoipa::ToSchema;

use super::apps::{self, App, AppKind, Finding, Version, states};
use super::manifest::Manifest;
use crate::platform::{PlatformError, Result, Scope, ScopeSet};
use crate::runtime::audit;
use crate::sandbox::{EventFile, Sandbox, SandboxRun};
use crate::store::{Store, now_ms};

fn finding(severity: &str, check: &str, message: impl Into<String>) -> Finding {
    Finding {
        severity: severity.into(),
        check: check.into(),
        message: message.into(),
    }
}

/// Compares what the component imports with what the manifest asks for.
fn check_imports(manifest: &Manifest, bytes: &[u8], findings: &mut Vec<Finding>) -> bool {
    let audit = match audit::audit(bytes) {
        Ok(audit) => audit,
        Err(e) => {
            findings.push(finding("error", "imports", e.to_string()));
            return false;
        }
    };
    for problem in &audit.findings {
        findings.push(finding("error", "imports", problem.clone()));
    }
    if let Some(version) = &audit.contract {
        let ui = if audit.ui { ", with UI" } else { "" };
        findings.push(finding(
            "info",
            "contract",
            format!("built against bazaar:platform@{version}{ui}"),
        ));
    }
    if !manifest.ui.is_empty() && !audit.ui {
        findings.push(finding(
            "error",
            "contract",
            "the manifest names places for UI (`ui`), but the component does not export \
             bazaar:platform/extension: build it against contract 0.2.0 or later (world `plugin-with-ui`)",
        ));
    }
    let uses_connections = audit
        .imports
        .iter()
        .any(|i| i.name.starts_with("bazaar:platform/connections@"));
    for connection in &manifest.connections {
        findings.push(finding(
            "info",
            "connections",
            format!("connection `{}`: {}", connection.name, connection.describe()),
        ));
    }
    match (uses_connections, manifest.connections.is_empty()) {
        (true, true) => findings.push(finding(
            "error",
            "connections",
            "the component imports bazaar:platform/connections, but the manifest declares no `connections`",
        )),
        (false, false) => findings.push(finding(
            "warning",
            "connections",
            "the manifest declares connections the component never uses (it does not import bazaar:platform/connections)",
        )),
        _ => {}
    }
    let answers_triggers = audit
        .exports
        .iter()
        .any(|e| e.starts_with("bazaar:platform/triggers@"));
    for trigger in &manifest.triggers {
        findings.push(finding(
            "info",
            "triggers",
            format!(
                "web trigger `{}` ({}): {}",
                trigger.name,
                trigger.title,
                trigger.describe_auth()
            ),
        ));
    }
    if !manifest.triggers.is_empty() && !answers_triggers {
        findings.push(finding(
            "error",
            "triggers",
            "the manifest declares `triggers`, but the component does not export bazaar:platform/triggers:              build it against contract 0.2.0 (world `full-plugin`, which the SDKs use)",
        ));
    }
    let declared = manifest.scope_set();
    for import in &audit.imports {
        let Some(scope) = import.scope.as_deref().and_then(|s| s.parse::<Scope>().ok()) else {
            continue;
        };
        let covered =
            declared.contains(scope) || (scope == Scope::FilesRead && declared.contains(Scope::FilesWrite));
        if !covered {
            findings.push(finding(
                "error",
                "imports",
                format!("the component imports {} ({}), which needs the `{scope}` scope; the manifest does not ask for it", import.name, import.meaning),
            ));
        }
    }
    let needed: ScopeSet = audit
        .required_scopes
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    for scope in declared.iter().filter(|s| !needed.contains(*s)) {
        let justified = matches!(scope, Scope::TasksRead | Scope::ProjectsRead)
            || (scope == Scope::FilesWrite && needed.contains(Scope::FilesRead));
        if !justified {
            findings.push(finding(
                "warning",
                "imports",
                format!("the manifest asks for `{scope}` but the component never uses it"),
            ));
        }
    }
    findings.push(finding(
        "info",
        "imports",
        format!(
            "{} imports; needs {}",
            audit.imports.len(),
            if audit.required_scopes.is_empty() {
                "no scope".into()
            } else {
                audit.required_scopes.join(", ")
            }
        ),
    ));
    findings.iter().all(|f| f.severity != "error")
}

/// How a version runs in a sandbox: its declared scopes granted, placeholder configuration,
/// its declared hosts, and the limits it asked for (as in production).
pub fn sandbox_run(manifest: &Manifest) -> SandboxRun {
    SandboxRun {
        grants: manifest.scope_set(),
        config: manifest
            .config
            .iter()
            .map(|f| (f.key.clone(), f.placeholder.clone().unwrap_or_default()))
            .collect(),
        allowed_hosts: manifest.allowed_hosts.clone(),
        allow_private_network: false,
        limits: manifest.limits(),
        // Reviewers hold no tenant's credentials: declared but not connected, so a
        // connection's calls fail `forbidden` here.
        connections: manifest
            .connections
            .iter()
            .map(|c| (c.clone(), String::new()))
            .collect(),
    }
}

/// A task- and project-shaped sample payload.
pub fn sample_payload() -> serde_json::Value {
    serde_json::json!({
        "id": "tsk_sample", "project_id": "prj_sample", "title": "Sample task", "name": "Sample project",
        "description": "", "status": "open", "labels": [], "due_date": null,
    })
}

/// Runs the plugin once on a sample event under the limits it asked for.
async fn smoke_run(sandbox: &Sandbox, manifest: &Manifest, bytes: &[u8], findings: &mut Vec<Finding>) {
    let run = sandbox_run(manifest);
    let kind = manifest
        .events
        .first()
        .cloned()
        .unwrap_or_else(|| "task.created".into());
    let sample = serde_json::json!({
        "id": "tsk_smoke", "project_id": "prj_smoke", "title": "Smoke test", "name": "Smoke test",
        "description": "", "status": "open", "labels": [], "due_date": null,
    });
    let event = sandbox.event(EventFile {
        kind: kind.clone(),
        id: None,
        subject_id: Some("tsk_smoke".into()),
        payload: sample,
    });
    match sandbox.run_event(bytes, &run, event).await {
        Err(e) => findings.push(finding("error", "smoke-run", e.to_string())),
        Ok(report) => {
            use crate::runtime::Outcome;
            let severity = match report.outcome {
                Outcome::Ok | Outcome::PluginError { .. } => "info",
                _ => "error",
            };
            findings.push(finding(
                severity,
                "smoke-run",
                format!(
                    "on a sample `{kind}` event: {} ({} fuel, {} µs)",
                    report.message, report.fuel_used, report.duration_us
                ),
            ));
        }
    }
}

/// Submits a draft: runs the automated review, stores its findings, and moves the version to
/// `in_review`, or to `rejected` when a check failed. `allow_private_network` is the server's
/// setting: without it an external app's webhook URL must resolve to public addresses only.
pub async fn submit(
    store: &Store,
    sandbox: &Sandbox,
    app: &App,
    version_id: &str,
    allow_private_network: bool,
) -> Result<Version> {
    let version = apps::version_of(store, &app.id, version_id).await?;
    if version.state != states::DRAFT {
        return Err(PlatformError::Conflict(format!(
            "version {} was already submitted ({})",
            version.version, version.state
        )));
    }
    let mut findings = Vec::new();
    for error in version.manifest.validate(app.kind == AppKind::Plugin) {
        findings.push(finding("error", "manifest", error.to_string()));
    }
    // The same check a delivery makes before each attempt, made now so that a webhook aimed
    // at a private or metadata address is refused at review, not at the first event.
    if let Some(url) = &version.manifest.webhook_url {
        use crate::webhooks::address::{TargetRefusal, check_target};
        match check_target(url, allow_private_network).await {
            Ok(_) => {}
            // A name that does not resolve yet may later; every attempt checks it again.
            Err(e @ TargetRefusal::Unresolved(_)) => {
                findings.push(finding("warning", "webhook", format!("webhook_url: {e}")))
            }
            Err(e) => findings.push(finding("error", "webhook", format!("webhook_url: {e}"))),
        }
    }
    if app.kind == AppKind::Plugin {
        match &version.component_sha256 {
            None => findings.push(finding(
                "error",
                "component",
                "upload the component (.wasm) before submitting",
            )),
            Some(sha) => {
                let bytes = apps::component(store, sha).await?;
                findings.push(finding(
                    "info",
                    "size",
                    format!("{} bytes (limit {})", bytes.len(), apps::MAX_COMPONENT_BYTES),
                ));
                if check_imports(&version.manifest, &bytes, &mut findings) {
                    smoke_run(sandbox, &version.manifest, &bytes, &mut findings).await;
                }
            }
        }
    }
    let to = if findings.iter().any(|f| f.severity == "error") {
        states::REJECTED
    } else {
        states::IN_REVIEW
    };
    apps::set_state(store, version_id, &[states::DRAFT], to, Some(&findings), None).await?;
    apps::version_of(store, &app.id, version_id).await
}

/// A reviewer approves a version: it is published and becomes what new installations get.
/// `reviewer` is the approving user, if a person (not an API key) acts.
pub async fn approve(store: &Store, version_id: &str, reviewer: Option<&str>, note: &str) -> Result<Version> {
    let version = apps::version(store, version_id).await?;
    apps::set_state(
        store,
        version_id,
        &[states::IN_REVIEW],
        states::PUBLISHED,
        None,
        Some((note, reviewer)),
    )
    .await?;
    let m = &version.manifest;
    let category = serde_json::to_value(m.category)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    crate::store::query(
        "UPDATE apps SET published_version_id = $1, name = $2, description = $3, long_description = $4, category = $5, \
         published_at = COALESCE(published_at, $6) WHERE id = $7",
    )
    .bind(version_id)
    .bind(&m.name)
    .bind(&m.description)
    .bind(&m.long_description)
    .bind(category)
    .bind(now_ms())
    .bind(&version.app_id)
    .execute(store.writer())
    .await?;
    apps::version(store, version_id).await
}

/// A reviewer rejects a version with a note the developer sees.
pub async fn reject(store: &Store, version_id: &str, reviewer: Option<&str>, note: &str) -> Result<Version> {
    if note.trim().len() < 5 {
        return Err(PlatformError::Invalid(
            "tell the developer why in the `note`".into(),
        ));
    }
    apps::set_state(
        store,
        version_id,
        &[states::IN_REVIEW],
        states::REJECTED,
        None,
        Some((note, reviewer)),
    )
    .await?;
    apps::version(store, version_id).await
}

/// Suspends (or, with `None`, reinstates) an app: a suspended app leaves the catalog and none of
/// its installations run.
pub async fn set_suspended(store: &Store, app_id: &str, reason: Option<&str>) -> Result<App> {
    if let Some(reason) = reason
        && reason.trim().len() < 5
    {
        return Err(PlatformError::Invalid(
            "say why the app is suspended in the `reason`".into(),
        ));
    }
    let (status, from, to) = match reason {
        Some(_) => ("suspended", states::PUBLISHED, states::SUSPENDED),
        None => ("active", states::SUSPENDED, states::PUBLISHED),
    };
    let mut tx = store.writer().begin().await?;
    crate::store::query("UPDATE apps SET status = $1, suspended_reason = $2 WHERE id = $3")
        .bind(status)
        .bind(reason)
        .bind(app_id)
        .execute(&mut *tx)
        .await?;
    crate::store::query("UPDATE app_versions SET state = $1 WHERE app_id = $2 AND state = $3")
        .bind(to)
        .bind(app_id)
        .bind(from)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    apps::get(store, app_id).await
}

/// What a version changes against the app's last approved one, for the reviewer: scopes, WIT
/// imports, hosts and connections added or removed.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Changes {
    /// The approved version compared against; `None` for a first version (all is new).
    pub since: Option<String>,
    pub scopes: Diff,
    pub imports: Diff,
    pub hosts: Diff,
    pub connections: Diff,
}

/// Names added and removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Diff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl Diff {
    fn between(before: &[String], after: &[String]) -> Diff {
        let mut added: Vec<String> = after.iter().filter(|a| !before.contains(a)).cloned().collect();
        let mut removed: Vec<String> = before.iter().filter(|b| !after.contains(b)).cloned().collect();
        added.sort();
        added.dedup();
        removed.sort();
        removed.dedup();
        Diff { added, removed }
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// The import names of a version's component (none for an external app).
async fn imports_of(store: &Store, version: &Version) -> Vec<String> {
    let Some(sha) = &version.component_sha256 else {
        return Vec::new();
    };
    apps::component(store, sha)
        .await
        .ok()
        .and_then(|bytes| audit::audit(&bytes).ok())
        .map(|a| a.imports.into_iter().map(|i| i.name).collect())
        .unwrap_or_default()
}

/// What `version` changes since the app's published version.
pub async fn changes(store: &Store, app: &App, version: &Version) -> Result<Changes> {
    let before = match app.published_version_id.as_deref() {
        Some(id) if id != version.id => Some(apps::version(store, id).await?),
        _ => None,
    };
    let names = |v: Option<&Version>, pick: fn(&Manifest) -> Vec<String>| {
        v.map(|v| pick(&v.manifest)).unwrap_or_default()
    };
    let scopes = |m: &Manifest| m.scopes.iter().map(|s| s.name.clone()).collect();
    let hosts = |m: &Manifest| m.allowed_hosts.clone();
    let connections = |m: &Manifest| m.connections.iter().map(|c| c.describe()).collect();
    let imports_before = match &before {
        Some(v) => imports_of(store, v).await,
        None => Vec::new(),
    };
    Ok(Changes {
        since: before.as_ref().map(|v| v.version.clone()),
        scopes: Diff::between(&names(before.as_ref(), scopes), &scopes(&version.manifest)),
        imports: Diff::between(&imports_before, &imports_of(store, version).await),
        hosts: Diff::between(&names(before.as_ref(), hosts), &hosts(&version.manifest)),
        connections: Diff::between(
            &names(before.as_ref(), connections),
            &connections(&version.manifest),
        ),
    })
}
