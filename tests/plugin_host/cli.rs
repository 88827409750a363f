//! `bazaar plugin audit | run | new`, as a partner or a reviewer runs them.

use std::process::Command;

use serde_json::Value;

use crate::support::{component_path, workspace};

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
        .find(|i| i["name"] == "bazaar:platform/kv@0.2.0")
        .unwrap();
    assert_eq!(kv["scope"], "storage");
    assert!(audit["findings"].as_array().unwrap().is_empty());
    assert_eq!(
        audit["contract"], "0.2.0",
        "the audit names the version the component targets"
    );

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

/// A partner with nothing but a copy of the `bazaar` binary and a Rust toolchain: an empty
/// folder outside the repository, a fresh `HOME` (so a fresh cargo registry), no checkout.
#[test]
fn a_partner_with_only_the_binary_scaffolds_builds_audits_and_runs_a_plugin() {
    let (place, bin, home, work) = partner_machine();
    // The toolchain's own folder (cargo, rustc, the wasm32-wasip2 standard library), as a
    // partner's PATH has it; nothing of the workspace's environment comes along.
    let toolchain = std::path::Path::new(env!("CARGO")).parent().unwrap();
    let path = format!("{}:{}:/usr/bin:/bin", bin.display(), toolchain.display());
    let partner = |program: &str, dir: &std::path::Path, args: &[&str]| {
        Command::new(program)
            .current_dir(dir)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", &home)
            .args(args)
            .output()
            .unwrap()
    };
    let text = |out: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };

    let out = partner("bazaar", &work, &["plugin", "new", "hello-tasks"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        said.contains("bazaar:platform@0.2.0"),
        "it names the contract: {said}"
    );
    assert!(
        said.contains("bazaar plugin build"),
        "it names the next command: {said}"
    );
    let root = work.join("hello-tasks");
    let lib = root.join("src/lib.rs");
    std::fs::write(
        &lib,
        std::fs::read_to_string(&lib).unwrap() + "// the partner's own line\n",
    )
    .unwrap();
    let again = partner("bazaar", &work, &["plugin", "new", "hello-tasks"]);
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));
    assert!(
        std::fs::read_to_string(&lib)
            .unwrap()
            .ends_with("// the partner's own line\n")
    );

    let build = partner(
        "cargo",
        &root,
        &["build", "--quiet", "--target", "wasm32-wasip2", "--release"],
    );
    assert!(
        build.status.success(),
        "the scaffolded plugin builds: {}",
        text(&build)
    );
    let wasm = "target/wasm32-wasip2/release/hello_tasks.wasm";
    let audit = partner("bazaar", &root, &["plugin", "audit", wasm]);
    assert!(audit.status.success(), "{}", text(&audit));
    assert!(text(&audit).contains("verdict: passes"), "{}", text(&audit));
    let run = partner("bazaar", &root, &["plugin", "run", wasm, "--event", "event.json"]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).starts_with("outcome:  ok"), "{}", text(&run));
    assert!(
        text(&run).contains("a task was created: Try the plugin"),
        "{}",
        text(&run)
    );

    let update = partner("bazaar", &root, &["plugin", "sdk", "update"]);
    assert!(update.status.success(), "{}", text(&update));
    assert!(text(&update).contains("up to date"), "{}", text(&update));

    // Nothing in the project names a folder of the machine it was made on.
    let machine_paths = [
        place.path().display().to_string(),
        workspace().canonicalize().unwrap().display().to_string(),
        place.path().canonicalize().unwrap().display().to_string(),
    ];
    let mut files = vec![root.clone()];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name == "target") {
                continue;
            }
            files.extend(
                std::fs::read_dir(&path)
                    .unwrap()
                    .map(|entry| entry.unwrap().path()),
            );
        } else {
            let content = std::fs::read_to_string(&path).unwrap();
            for machine_path in &machine_paths {
                assert!(
                    !content.contains(machine_path.as_str()),
                    "{} names {machine_path}",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} files in the project");

    let wit = partner("bazaar", &work, &["wit", "export", "wit"]);
    assert!(wit.status.success(), "{}", text(&wit));
    // Every version the binary serves, the frozen ones too.
    for (version, names) in [
        ("0.1.0", &["capabilities.wit", "plugin.wit", "types.wit"][..]),
        (
            "0.2.0",
            &["capabilities.wit", "plugin.wit", "types.wit", "ui.wit"][..],
        ),
    ] {
        for name in names {
            let path = format!("wit/{version}/{name}");
            assert_eq!(
                std::fs::read_to_string(work.join(&path)).unwrap(),
                std::fs::read_to_string(workspace().join(&path)).unwrap(),
            );
        }
    }
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

/// An empty machine of a partner: a folder holding a copy of the binary in `bin/`, a fresh
/// `home/`, and an empty `work/`.
fn partner_machine() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    let place = tempfile::tempdir().unwrap();
    let (bin, home, work) = (
        place.path().join("bin"),
        place.path().join("home"),
        place.path().join("work"),
    );
    for dir in [&bin, &home, &work] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::copy(BIN, bin.join("bazaar")).unwrap();
    (place, bin, home, work)
}

/// A partner who writes TypeScript, JavaScript or Python needs the `bazaar` binary and their
/// language's own runtime: `plugin new --lang`, `plugin build` (which installs the compiler
/// toolchain from npm or PyPI into its cache on first use, saying so), `plugin audit` and
/// `plugin run` work as they do for Rust.
#[test]
fn a_partner_writes_builds_and_runs_a_plugin_in_typescript_javascript_and_python() {
    let (place, bin, home, work) = partner_machine();
    // Node.js and Python as the partner has them installed; nothing of the workspace.
    let real = |program: &str, script: &str| {
        let out = Command::new(program).args(["-e", script]).output();
        let out = match out {
            Ok(out) if out.status.success() => out,
            _ => Command::new(program).args(["-c", script]).output().unwrap(),
        };
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let node = real("node", "console.log(require('path').dirname(process.execPath))");
    let python = real(
        "python3",
        "import os, sys; print(os.path.dirname(sys.executable))",
    );
    let path = format!("{}:{node}:{python}:/usr/bin:/bin", bin.display());
    // A fresh toolchain cache for JavaScript (the first build installs it); the run's shared
    // one for Python, whose install was proven by the build scripts.
    let fresh_cache = place.path().join("toolchains");
    let shared_cache = std::env::var_os("BAZAAR_TOOLCHAINS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/bazaar/toolchains")
        });
    for (lang, cache) in [
        ("ts", &fresh_cache),
        ("js", &fresh_cache),
        ("python", &shared_cache),
    ] {
        let partner = |dir: &std::path::Path, args: &[&str]| {
            let out = Command::new("bazaar")
                .current_dir(dir)
                .env_clear()
                .env("PATH", &path)
                .env("HOME", &home)
                .env("BAZAAR_TOOLCHAINS", cache)
                .args(args)
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "bazaar {args:?} ({lang}): {text}");
            text
        };
        let name = format!("hello-{lang}");
        let said = partner(&work, &["plugin", "new", &name, "--lang", lang]);
        assert!(said.contains("bazaar plugin build"), "{said}");
        let root = work.join(&name);
        let built = partner(&root, &["plugin", "build"]);
        if lang == "ts" {
            assert!(
                built.contains("installing the JavaScript toolchain (componentize-qjs"),
                "the first build says what it installs: {built}"
            );
        } else {
            assert!(!built.contains("installing"), "installed once: {built}");
        }
        let wasm = format!("target/bazaar/{name}.wasm");
        assert!(built.contains(&wasm), "{built}");
        let audit = partner(&root, &["plugin", "audit", &wasm]);
        assert!(audit.contains("verdict: passes"), "{audit}");
        assert!(
            audit.contains("scopes it needs: tasks:read"),
            "the manifest's scope: {audit}"
        );
        let run = partner(&root, &["plugin", "run", &wasm, "--event", "event.json"]);
        assert!(run.starts_with("outcome:  ok"), "{run}");
        assert!(run.contains("a task was created: Try the plugin"), "{run}");
        // The project records its language and SDK; `sdk update` finds nothing to do.
        let kit = std::fs::read_to_string(root.join("bazaar/kit.toml")).unwrap();
        let sdk = if lang == "python" {
            "sdks/python"
        } else {
            "sdks/typescript"
        };
        assert!(kit.contains(sdk), "{kit}");
        let update = partner(&root, &["plugin", "sdk", "update"]);
        assert!(update.contains("up to date"), "{update}");
    }
}
