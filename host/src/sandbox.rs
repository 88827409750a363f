//! The local sandbox behind `bazaar plugin run`: the production runtime, limits and outcome
//! classification, against a throw-away database with a sandbox organization.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use crate::platform::{ScopeSet, orgs};
use crate::policy::connections::ConnectionSpec;
use crate::runtime::{Event, HostServices, Installation, Limits, Report, Runtime, RuntimeError};
use crate::store::{Store, new_id, now_ms};

/// An event as a partner writes it in a file: only `kind` is required.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventFile {
    pub kind: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub subject_id: Option<String>,
    #[serde(default)]
    pub payload: serde_json::Value,
}

impl EventFile {
    /// Reads an event file, with an error that names the file and the expected shape.
    pub fn read(path: &std::path::Path) -> Result<Self, SandboxError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SandboxError::EventFile(format!("reading {}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| {
            SandboxError::EventFile(format!(
                "{} is not an event: expected {{\"kind\": ..., \"payload\": {{...}}}}: {e}",
                path.display()
            ))
        })
    }
}

/// The id a sandbox run's installation has.
const SANDBOX_INSTALLATION: &str = "ins_sandbox";

/// What to run and under which grants and limits.
#[derive(Debug, Clone)]
pub struct SandboxRun {
    pub grants: ScopeSet,
    pub config: BTreeMap<String, String>,
    pub allowed_hosts: Vec<String>,
    pub allow_private_network: bool,
    pub limits: Limits,
    /// Connections the plugin may use, each with the token or key the host attaches (a
    /// partner's own test account, given on the command line); empty: not connected.
    pub connections: Vec<(ConnectionSpec, String)>,
}

/// A sandbox: a temporary database and folder, a sandbox organization, and the runtime.
pub struct Sandbox {
    pub runtime: Runtime,
    pub org_id: String,
    pub store: Store,
    secrets: Arc<crate::secrets::Secrets>,
    _dir: tempfile::TempDir,
}

/// Why the sandbox could not run anything.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("could not set up the sandbox: {0}")]
    Setup(String),
    #[error("{0}")]
    EventFile(String),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

impl Sandbox {
    /// A sandbox whose compiled components are cached in `cache_dir` (a temporary folder when
    /// `None`).
    pub async fn new(allow_private_network: bool, cache_dir: Option<PathBuf>) -> Result<Self, SandboxError> {
        let setup = |e: &dyn std::fmt::Display| SandboxError::Setup(e.to_string());
        let dir = tempfile::tempdir().map_err(|e| setup(&e))?;
        let store = Store::open_data_dir(dir.path()).await.map_err(|e| setup(&e))?;
        store.migrate().await.map_err(|e| setup(&e))?;
        let (org, _) = orgs::create_with_owner(&store, "Sandbox", "sandbox@bazaar.test", "sandbox-password")
            .await
            .map_err(|e| setup(&e))?;
        let secrets = Arc::new(crate::secrets::Secrets::load(None, dir.path()).map_err(|e| setup(&e))?);
        let services = HostServices {
            store: store.clone(),
            files_root: dir.path().join("files"),
            allow_private_network,
            secrets: secrets.clone(),
            issuer: "http://127.0.0.1".into(),
            journal: None,
        };
        let cache_dir = cache_dir.unwrap_or_else(|| dir.path().join("component-cache"));
        let runtime = Runtime::new(services, Some(cache_dir))?;
        Ok(Sandbox {
            runtime,
            org_id: org.id,
            store,
            secrets,
            _dir: dir,
        })
    }

    /// The installation a sandbox run acts as.
    pub fn installation(&self, run: &SandboxRun) -> Arc<Installation> {
        Arc::new(Installation {
            id: SANDBOX_INSTALLATION.into(),
            app_id: "app_sandbox".into(),
            org_id: self.org_id.clone(),
            grants: run.grants,
            config: run.config.clone(),
            allowed_hosts: run.allowed_hosts.clone(),
            connections: run.connections.iter().map(|(spec, _)| spec.clone()).collect(),
            secret_config: Vec::new(),
        })
    }

    /// Turns an event file into the event the plugin receives.
    pub fn event(&self, file: EventFile) -> Event {
        Event {
            id: file.id.unwrap_or_else(|| new_id("evt")),
            kind: file.kind,
            org_id: self.org_id.clone(),
            subject_id: file.subject_id.unwrap_or_default(),
            occurred_at: crate::platform::format_time(now_ms()),
            payload: if file.payload.is_null() {
                "{}".into()
            } else {
                file.payload.to_string()
            },
        }
    }

    /// Runs `on-event` of the component at `bytes`.
    pub async fn run_event(
        &self,
        bytes: &[u8],
        run: &SandboxRun,
        event: Event,
    ) -> Result<Report, SandboxError> {
        let prepared = self.runtime.prepare(bytes)?;
        self.connect(run).await?;
        Ok(self
            .runtime
            .on_event(&prepared, self.installation(run), run.limits, event)
            .await)
    }

    /// Keeps the run's connection credentials, sealed, as a tenant's would be.
    async fn connect(&self, run: &SandboxRun) -> Result<(), SandboxError> {
        for (spec, secret) in run.connections.iter().filter(|(_, secret)| !secret.is_empty()) {
            crate::capabilities::credentials::keep(
                &self.store,
                &self.secrets,
                SANDBOX_INSTALLATION,
                &spec.name,
                secret,
            )
            .await
            .map_err(|e| SandboxError::Setup(e.to_string()))?;
        }
        Ok(())
    }
}

impl Sandbox {
    /// Where this sandbox keeps each installation's files.
    pub fn files_root(&self) -> PathBuf {
        self._dir.path().join("files")
    }
}
