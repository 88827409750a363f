//! Building the guest components once, and a sandbox per test that shares one compile cache.

use bazaar::platform::ScopeSet;
use bazaar::runtime::{Limits, Report};
use bazaar::sandbox::{EventFile, Sandbox, SandboxRun};

pub use crate::guests::{component, component_path, target_dir, workspace};

/// A sandbox whose compiled components are shared by every test of this binary.
pub async fn sandbox() -> Sandbox {
    sandbox_with(false).await
}

pub async fn sandbox_with(allow_private_network: bool) -> Sandbox {
    let cache = target_dir().join("test-component-cache");
    Sandbox::new(allow_private_network, Some(cache)).await.unwrap()
}

pub fn run(grants: &str) -> SandboxRun {
    SandboxRun {
        grants: ScopeSet::parse_text(grants).unwrap(),
        config: Default::default(),
        allowed_hosts: Vec::new(),
        allow_private_network: false,
        limits: Limits::EVENT,
        connections: Vec::new(),
    }
}

/// Runs `on-event` of a guest with an event of `kind` and `payload`.
pub async fn on_event(
    sandbox: &Sandbox,
    guest: &str,
    run: &SandboxRun,
    kind: &str,
    subject: &str,
    payload: serde_json::Value,
) -> Report {
    let event = sandbox.event(EventFile {
        kind: kind.into(),
        id: None,
        subject_id: Some(subject.into()),
        payload,
    });
    sandbox.run_event(&component(guest), run, event).await.unwrap()
}

/// The kind of a plugin's error outcome (`forbidden`, `limit_exceeded`, ...), if it is one.
pub fn error_kind(outcome: &bazaar::runtime::Outcome) -> Option<&str> {
    match outcome {
        bazaar::runtime::Outcome::PluginError { kind, .. } => Some(kind),
        _ => None,
    }
}

/// A task as a hook receives it.
pub fn task(labels: &[&str], due_date: Option<&str>) -> bazaar::runtime::Task {
    bazaar::runtime::Task {
        id: "tsk_1".into(),
        project_id: "prj_1".into(),
        title: "Ship".into(),
        description: String::new(),
        status: "open".into(),
        labels: labels.iter().map(|l| l.to_string()).collect(),
        due_date: due_date.map(str::to_owned),
        created_at: String::new(),
    }
}
