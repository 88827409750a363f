//! The `bazaar` command itself: scripts' admin path, configuration errors, graceful shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bazaar");

pub(crate) fn bazaar(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("RUST_LOG");
    for (key, _) in std::env::vars() {
        if key.starts_with("BAZAAR_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Starts `bazaar serve` on an ephemeral port and returns it with its address.
fn serve(data_dir: &str) -> (Child, String) {
    serve_with(&["serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0"])
}

pub(crate) fn serve_with(args: &[&str]) -> (Child, String) {
    let mut child = bazaar(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(addr) = line.strip_prefix("Bazaar is listening on http://") {
            break addr.to_owned();
        }
    };
    (child, addr)
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs `bazaar org create NAME ... --json` for ada@acme.test and returns what it printed.
fn org_create(data_dir: &str, name: &str) -> Value {
    let out = bazaar(&[
        "org",
        "create",
        name,
        "--admin-email",
        "ada@acme.test",
        "--admin-password",
        "a-long-password",
        "--json",
        "--data-dir",
        data_dir,
    ])
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is only JSON")
}

#[test]
fn org_create_prints_json_that_scripts_can_use() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let created = org_create(data, "Acme Corp");
    assert_eq!(created["organization"]["slug"], "acme-corp");
    assert_eq!(created["user"]["email"], "ada@acme.test");
    let secret = created["api_key"]["secret"].as_str().unwrap().to_owned();

    // The same email again is refused with a clear message.
    let again = bazaar(&[
        "org",
        "create",
        "Other",
        "--admin-email",
        "ada@acme.test",
        "--admin-password",
        "a-long-password",
        "--data-dir",
        data,
    ])
    .output()
    .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // The key works against a server on the same data folder.
    let (mut child, addr) = serve(data);
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(stream, "GET /v1/organization HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("Acme Corp"));
    terminate(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "the server stopped with {status}");
}

#[test]
fn bad_configuration_is_refused_before_start_with_the_reason() {
    let out = bazaar(&["serve", "--database-url", "mysql://localhost/x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgres://"));

    let out = bazaar(&["migrate"])
        .env("BAZAAR_MAX_BODY_BYTES", "12")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_body_bytes"));

    let out = bazaar(&["serve", "--config-file", "/nonexistent/bazaar.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

#[test]
fn sigterm_lets_an_in_flight_request_finish() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let created = org_create(data, "Acme");
    let secret = created["api_key"]["secret"].as_str().unwrap();
    let (mut child, addr) = serve(data);

    // Send the headers and half the body, then ask the server to stop.
    let body = r#"{"name":"Finished after SIGTERM"}"#;
    let (first, rest) = body.split_at(10);
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "POST /v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    terminate(&child);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server waits for the request in flight"
    );

    stream.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(child.wait().unwrap().success(), "then it exits cleanly");
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "and no longer listens"
    );
}

/// The README's demo: a fresh instance has the demo organization and every example plugin
/// published in its catalog, with its icon, from a verified publisher.
#[test]
fn the_demo_publishes_every_example_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    crate::guests::component_path("project-stats");
    for built_by_bazaar in ["title-policy", "project-starter", "completion-digest"] {
        crate::guests::component_path(built_by_bazaar);
    }
    let plugins = crate::guests::target_dir().join("wasm32-wasip2/plugin");
    let (mut child, addr) = serve_with(&[
        "serve",
        "--demo",
        "--data-dir",
        data,
        "--listen",
        "127.0.0.1:0",
        "--plugins",
        plugins.to_str().unwrap(),
    ]);
    let creds: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("demo-credentials.json")).unwrap())
            .unwrap();
    let key = creds["api_key"].as_str().unwrap();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /v1/catalog HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body: Value = serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let mut slugs: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    slugs.sort();
    // Every folder of example-plugins/, by the slug its manifest gives.
    let mut examples: Vec<String> = std::fs::read_dir(crate::guests::workspace().join("example-plugins"))
        .unwrap()
        .filter_map(|entry| std::fs::read_to_string(entry.unwrap().path().join("bazaar.toml")).ok())
        .map(|manifest| {
            let slug = manifest.lines().find_map(|l| l.strip_prefix("slug = ")).unwrap();
            slug.trim_matches('"').to_owned()
        })
        .collect();
    examples.sort();
    assert!(examples.len() >= 9, "{examples:?}");
    assert_eq!(slugs, examples);
    // Each shows its icon, from Bazaar's verified publisher profile.
    for card in body["data"].as_array().unwrap() {
        assert!(
            card["icon"].as_str().is_some_and(|i| i.starts_with("/media/")),
            "{card}"
        );
        assert_eq!(card["publisher"], "Bazaar");
        assert_eq!(card["publisher_verified"], true);
    }
    terminate(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "the server stopped with {status}");
}

#[test]
fn an_organization_moves_to_another_rate_limit_plan() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let created = org_create(data, "Acme Corp");
    let secret = created["api_key"]["secret"].as_str().unwrap().to_owned();
    let out = bazaar(&["org", "plan", "acme-corp", "platinum", "--data-dir", data])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("plans: pro, standard"));
    let out = bazaar(&["org", "plan", "acme-corp", "pro", "--data-dir", data])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The server applies it: the rate-limit headers name the plan.
    let (mut child, addr) = serve(data);
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response
            .to_lowercase()
            .contains("ratelimit-policy: \"pro\";q=5000;w=5"),
        "{response}"
    );
    terminate(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "the server stopped with {status}");
}
