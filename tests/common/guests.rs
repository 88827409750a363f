//! Building the guest components (example and test plugins) once per test binary.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Every guest crate the tests use.
const GUESTS: [&str; 10] = [
    "slack-notifier",
    "auto-labeller",
    "project-stats",
    "due-date-policy",
    "project-export",
    "test-plugin-hostile",
    "test-plugin-greedy",
    "test-plugin-sockets",
    "test-plugin-files-snoop",
    "test-plugin-parse-event",
];

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// The component built from the guest crate `name` (compiled for wasm32-wasip2 on first use).
pub fn component_path(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(workspace()).args([
            "build",
            "--quiet",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "plugin",
        ]);
        for guest in GUESTS {
            cmd.args(["-p", guest]);
        }
        let status = cmd.status().expect("run cargo to build the guest components");
        assert!(
            status.success(),
            "building the guest components failed (is the wasm32-wasip2 target installed?)"
        );
    });
    target_dir()
        .join("wasm32-wasip2/plugin")
        .join(format!("{}.wasm", name.replace('-', "_")))
}

pub fn component(name: &str) -> Vec<u8> {
    std::fs::read(component_path(name)).unwrap()
}
