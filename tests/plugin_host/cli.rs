//! `bazaar plugin audit | run | new`, as a partner or a reviewer runs them.

use std::process::Command;

use serde_json::Value;

use crate::support::{component_path, target_dir, workspace};

const BIN: &str = env!("CARGO_BIN_EXE_bazaar");

fn bazaar(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn audit_maps_imports_to_scopes_and_fails_what_would_be_rejected() {
    let stats = component_path("project-stats");
    let out = bazaar(&["plugin", "audit", stats.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let audit: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(audit["required_scopes"], serde_json::json!(["storage"]));
    let kv = audit["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "bazaar:platform/kv@0.1.0")
        .unwrap();
    assert_eq!(kv["scope"], "storage");
    assert!(audit["findings"].as_array().unwrap().is_empty());

    let sockets = component_path("test-plugin-sockets");
    let out = bazaar(&["plugin", "audit", sockets.to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "a component importing sockets would be rejected"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("would be rejected") && text.contains("wasi:sockets"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"definitely not wasm").unwrap();
    let out = bazaar(&["plugin", "audit", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a WebAssembly component"));
}

#[test]
fn run_prints_production_classification_and_exits_non_zero_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"kind": "test.loop", "payload": {}}"#).unwrap();
    let hostile = component_path("test-plugin-hostile");
    let out = bazaar(&[
        "plugin",
        "run",
        hostile.to_str().unwrap(),
        "--event",
        event.to_str().unwrap(),
        "--fuel",
        "2000000",
        "--json",
    ]);
    assert!(!out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"]["class"], "fuel_exhausted");
    assert_eq!(report["fuel_used"], 2_000_000);

    std::fs::write(
        &event,
        r#"{"kind": "task.created", "payload": {"project_id": "prj_1"}}"#,
    )
    .unwrap();
    let stats = component_path("project-stats");
    let out = bazaar(&[
        "plugin",
        "run",
        stats.to_str().unwrap(),
        "--event",
        event.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("needs the `storage` scope"));
    let out = bazaar(&[
        "plugin",
        "run",
        stats.to_str().unwrap(),
        "--event",
        event.to_str().unwrap(),
        "--grant",
        "storage",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("outcome:  ok"));

    std::fs::write(&event, r#"{"payload": {}}"#).unwrap();
    let out = bazaar(&[
        "plugin",
        "run",
        stats.to_str().unwrap(),
        "--event",
        event.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("kind"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_new_plugin_builds_passes_the_audit_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = bazaar(&[
        "plugin",
        "new",
        "hello-tasks",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root = dir.path().join("hello-tasks");
    // Share the workspace's target folder so the SDK's dependencies are not compiled again.
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", target_dir().join("scaffold"))
        .args(["build", "--quiet", "--target", "wasm32-wasip2", "--release"])
        .status()
        .unwrap();
    assert!(status.success(), "the scaffolded plugin builds");
    let wasm = target_dir().join("scaffold/wasm32-wasip2/release/hello_tasks.wasm");
    let out = bazaar(&["plugin", "audit", wasm.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let out = bazaar(&[
        "plugin",
        "run",
        wasm.to_str().unwrap(),
        "--event",
        root.join("event.json").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("a task was created: Try the plugin"));
    let _ = workspace();
}

/// `--config KEY=VALUE` reaches the plugin, and `--allow-host` with `--allow-private-network`
/// let it call a local receiver.
#[test]
fn run_passes_configuration_and_allowed_hosts() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let receiver = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        std::io::Read::read_exact(&mut reader, &mut body).unwrap();
        let mut stream = stream;
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .unwrap();
        (head, String::from_utf8(body).unwrap())
    });
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"kind": "task.completed", "payload": {"title": "Ship it", "status": "completed"}}"#,
    )
    .unwrap();
    let slack = component_path("slack-notifier");
    let config = format!("webhook_url={url}");
    let out = bazaar(&[
        "plugin",
        "run",
        slack.to_str().unwrap(),
        "--event",
        event.to_str().unwrap(),
        "--grant",
        "network,tasks:read",
        "--config",
        &config,
        "--allow-host",
        "127.0.0.1",
        "--allow-private-network",
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (head, body) = receiver.join().unwrap();
    assert!(head.starts_with("POST /hook"), "{head}");
    assert_eq!(body, r#"{"text":"Done: Ship it"}"#);
}

/// A failing command says what went wrong and stops there: no backtrace, even with
/// `RUST_BACKTRACE=1`, which a partner's shell may well have set.
#[test]
fn errors_are_one_clear_message_without_a_backtrace() {
    let out = Command::new(BIN)
        .args(["plugin", "audit", "/nonexistent/plugin.wasm"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: reading /nonexistent/plugin.wasm"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("backtrace") && !stderr.contains("Stack"),
        "{stderr}"
    );
    assert!(stderr.lines().count() <= 2, "{stderr}");
}
