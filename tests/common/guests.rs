//! Building the guest components (example and test plugins) once per test binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Every guest crate the tests use.
const GUESTS: [&str; 20] = [
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
    "test-plugin-contract-0-1",
    "test-plugin-connections-probe",
    "github-issues",
    "teams-notifier",
    "linear-issues",
    "pagerduty-incidents",
    "google-calendar",
    "gitlab-issues",
    "test-plugin-replay-buggy",
    "test-plugin-replay-fixed",
];

/// Guests written in TypeScript or Python: their slug and folder, built by `bazaar plugin build`
/// (as a partner builds them) into the folder's `target/bazaar/`.
const BUILT_BY_BAZAAR: [(&str, &str); 7] = [
    ("title-policy", "example-plugins/title-policy"),
    ("project-starter", "example-plugins/project-starter"),
    ("completion-digest", "example-plugins/completion-digest"),
    ("discord-notifier", "example-plugins/discord-notifier"),
    ("postmark-mailer", "example-plugins/postmark-mailer"),
    ("test-plugin-hostile-ts", "tests/plugins/hostile-ts"),
    ("test-plugin-hostile-py", "tests/plugins/hostile-py"),
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
    if let Some((_, folder)) = BUILT_BY_BAZAAR.iter().find(|(slug, _)| *slug == name) {
        return built_by_bazaar(name, &workspace().join(folder));
    }
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

/// Builds the TypeScript or Python guest in `folder` with `bazaar plugin build`, unless its
/// component is newer than every source it is made of (its folder and the SDKs).
fn built_by_bazaar(slug: &str, folder: &Path) -> PathBuf {
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let component = folder.join("target/bazaar").join(format!("{slug}.wasm"));
    let built_at = std::fs::metadata(&component).and_then(|m| m.modified()).ok();
    let sources = [
        folder.to_owned(),
        workspace().join("sdks"),
        workspace().join("wit"),
    ];
    let fresh = built_at.is_some_and(|built| sources.iter().all(|dir| newest(dir) <= built));
    // The bazaar binary is a source too: a new build step must rebuild.
    let binary = std::fs::metadata(env!("CARGO_BIN_EXE_bazaar"))
        .and_then(|m| m.modified())
        .ok();
    if !fresh || binary.zip(built_at).is_some_and(|(b, c)| b > c) {
        let output = Command::new(env!("CARGO_BIN_EXE_bazaar"))
            .args(["plugin", "build", "--dir"])
            .arg(folder)
            .output()
            .expect("run bazaar plugin build");
        assert!(
            output.status.success(),
            "bazaar plugin build --dir {} failed:\n{}",
            folder.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    component
}

/// The newest modification time of the files under `dir`, skipping build output.
fn newest(dir: &Path) -> std::time::SystemTime {
    let mut latest = std::time::SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "node_modules" || name == "__pycache__" {
            continue;
        }
        let time = if path.is_dir() {
            newest(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).unwrap_or(latest)
        };
        latest = latest.max(time);
    }
    latest
}
