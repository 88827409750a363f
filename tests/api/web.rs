//! The web pages in a real browser (Debian's Chromium, driven by playwright-core from npm):
//! tests/web/e2e.mjs walks a plugin from the developer portal through review to a tenant's
//! install, deliveries, charts and uninstall; tests/web/marketplace.mjs browses the public
//! marketplace signed out, signs in from a paid app's install button, pays and installs, with
//! axe-core checking each main page. Screenshots land in `out/screenshots/`.

use std::process::Command;

use bazaar::config::{Config, DeliveryConfig};
use reqwest::StatusCode;

use crate::guests::{component_path, workspace};
use crate::support::{Backend, TestServer};

fn chromium() -> Option<String> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_goes_from_the_portal_to_a_tenant_in_a_real_browser() {
    if !browser_ready() {
        return;
    }
    let config = Config {
        delivery: DeliveryConfig {
            poll_ms: 20,
            ..DeliveryConfig::default()
        },
        ..Config::default()
    };
    let server = TestServer::start_with(Backend::Sqlite, config).await;
    let developer = server.org("Stats Inc").await;
    let tenant = server.org("Acme").await;
    let staff = server.org("Bazaar staff").await;
    bazaar::platform::orgs::make_reviewer(&server.store, &staff.owner_email)
        .await
        .unwrap();

    // The pages answer without JavaScript too: a visitor is sent to sign in.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/installed", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/signin?next=%2Finstalled");

    // The Auto-labeller is published and installed through /v1: the browser meets its task panel.
    let reviewer = server.reviewer().await;
    let (_, submitted) = server
        .publish_draft(
            &developer.key,
            &crate::catalog::manifest("auto-labeller"),
            "1.0.0",
            &crate::guests::component("auto-labeller"),
            None,
        )
        .await;
    crate::catalog::approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    crate::delivery::install(&server, &tenant, "auto-labeller", &["tasks:read", "tasks:write"]).await;

    let who = |org: &crate::support::TestOrg| serde_json::json!({ "email": org.owner_email, "password": org.password });
    let run = serde_json::json!({
        "base": server.base,
        "chromium": chromium(),
        "developer": who(&developer),
        "tenant": who(&tenant),
        "reviewer": who(&staff),
        "wasm": component_path("project-stats"),
        "manifest": workspace().join("example-plugins/project-stats/bazaar.toml"),
        "shots": workspace().join("out/screenshots"),
    });
    run_script("e2e.mjs", run).await;
}

/// Whether Chromium and the npm packages are here (on CI they must be).
fn browser_ready() -> bool {
    let web = workspace().join("tests/web");
    let ready = chromium().is_some()
        && web.join("node_modules/playwright-core").exists()
        && web.join("node_modules/axe-core").exists();
    if !ready {
        assert!(
            std::env::var("CI").is_err(),
            "Chromium, playwright-core or axe-core is missing on CI; run the tests with scripts/test"
        );
        eprintln!("skipping the browser test: run scripts/setup --browser first");
    }
    ready
}

/// Runs a browser script of tests/web with `run` as its input; it must end with all steps passed.
async fn run_script(script: &'static str, run: serde_json::Value) {
    let web = workspace().join("tests/web");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .current_dir(&web)
            .env("BAZAAR_E2E", run.to_string())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser test {script} failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all steps passed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_browses_signed_out_signs_in_to_install_and_pays_in_a_real_browser() {
    if !browser_ready() {
        return;
    }
    let server = TestServer::start(Backend::Sqlite).await;
    let developer = server.org("Stats Inc").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let manifest = crate::billing::priced(
        "monthly-stats",
        "Monthly stats",
        "[pricing]\nplan = \"monthly\"\nprice_cents = 900\ncurrency = \"EUR\"",
    );
    let (app_id, submitted) = server
        .publish_draft(
            &developer.key,
            &manifest,
            "1.0.0",
            &crate::guests::component("project-stats"),
            None,
        )
        .await;
    crate::catalog::approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    // A script named .png, to be refused by the upload form.
    let fake = tempfile::tempdir().unwrap();
    let script_as_png = fake.path().join("screenshot.png");
    std::fs::write(&script_as_png, "#!/bin/sh\necho pwned\n").unwrap();
    let who = |org: &crate::support::TestOrg| serde_json::json!({ "email": org.owner_email, "password": org.password });
    let run = serde_json::json!({
        "base": server.base,
        "chromium": chromium(),
        "developer": who(&developer),
        "tenant": who(&tenant),
        "shots": workspace().join("out/screenshots"),
        "app_path": format!("/developer/apps/{app_id}"),
        "icon": workspace().join("tests/fixtures/icon.png"),
        "screenshot": workspace().join("tests/fixtures/screenshot.png"),
        "script_as_png": script_as_png,
    });
    run_script("marketplace.mjs", run).await;
}
