//! A web trigger's rate limit: verified requests past it are answered `429` with
//! `Retry-After` before the plugin runs, and counted where the tenant reads the trigger's
//! refusals; unverified ones stay `401` and take nothing from the bucket.

use reqwest::StatusCode;
use serde_json::json;

use crate::catalog::approve;
use crate::guests::{component, workspace};
use crate::support::{Backend, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_past_its_rate_limit_is_refused_before_the_plugin_runs() {
    let mut config = bazaar::config::Config::default();
    config.rate_limits.triggers = bazaar::config::PlanLimits {
        per_minute: 1,
        burst: 2,
    };
    let server = TestServer::start_with(Backend::Sqlite, config).await;
    let dev = server.org("Echo Labs").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let manifest = std::fs::read_to_string(workspace().join("tests/plugins/hostile-ts/bazaar.toml")).unwrap();
    let (_, submitted) = server
        .publish_draft(
            &dev.key,
            &manifest,
            "1.0.0",
            &component("test-plugin-hostile-ts"),
            None,
        )
        .await;
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let (status, installed) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "test-plugin-hostile-ts", "scopes": ["storage"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    let id = installed["id"].as_str().unwrap();
    let (_, secret) = server
        .get(
            &tenant.key,
            &format!("/v1/installations/{id}/triggers/echo/secret"),
        )
        .await;
    let secret = secret["secret"].as_str().unwrap().to_owned();
    let url = format!("{}/hooks/in/{id}/echo", server.base);
    let send = |secret: String| {
        let (http, url) = (server.http.clone(), url.clone());
        async move {
            http.post(&url)
                .header("x-bazaar-secret", secret)
                .header("x-event", "closed")
                .body("{}")
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(send("wrong".into()).await.status(), StatusCode::UNAUTHORIZED);
    for _ in 0..2 {
        assert_eq!(send(secret.clone()).await.status(), StatusCode::CREATED);
    }
    let throttled = send(secret.clone()).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let (_, triggers) = server
        .get(&tenant.key, &format!("/v1/installations/{id}/triggers"))
        .await;
    let echo = &triggers["data"][0];
    assert_eq!(
        (echo["accepted"].as_i64(), echo["refused"].as_i64()),
        (Some(2), Some(2)),
        "{echo}"
    );
    assert!(
        echo["last_refusal"]
            .as_str()
            .unwrap()
            .contains("too many requests"),
        "{echo}"
    );
    // Only two calls ran in the sandbox.
    let (_, calls) = server
        .get(&tenant.key, &format!("/v1/invocations?installation_id={id}"))
        .await;
    let started = std::time::Instant::now();
    let mut ran = calls["data"].as_array().unwrap().len();
    while ran < 2 && started.elapsed().as_secs() < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (_, calls) = server
            .get(&tenant.key, &format!("/v1/invocations?installation_id={id}"))
            .await;
        ran = calls["data"].as_array().unwrap().len();
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, calls) = server
        .get(&tenant.key, &format!("/v1/invocations?installation_id={id}"))
        .await;
    assert_eq!(calls["data"].as_array().unwrap().len(), 2, "{calls}");
}
