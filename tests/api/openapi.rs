//! The OpenAPI document: kept in the repository without drift, and true about scopes.

use bazaar::platform::{Scope, ScopeSet, credentials};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{Backend, TestServer, code};

on_both_databases!(every_route_enforces_the_scope_it_declares);

#[tokio::test]
async fn the_kept_document_matches_the_code_and_is_served() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    let kept = std::fs::read_to_string(path).expect("docs/openapi.json exists");
    assert!(
        kept == bazaar::api::openapi_json(),
        "docs/openapi.json is out of date: run `cargo run -- openapi --out docs/openapi.json`"
    );
    let server = TestServer::start(Backend::Sqlite).await;
    let served = server
        .http
        .get(format!("{}/v1/openapi.json", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.text().await.unwrap(), kept);
}

/// The one scope an operation declares, or None for a public one.
fn declared_scope(operation: &Value) -> Option<String> {
    let requirements = operation["security"].as_array()?;
    let mut scopes: Vec<String> = requirements
        .iter()
        .flat_map(|r| r.as_object().unwrap().values())
        .flat_map(|v| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
        })
        .collect();
    scopes.dedup();
    assert!(scopes.len() <= 1, "one scope per route: {scopes:?}");
    scopes.pop()
}

async fn every_route_enforces_the_scope_it_declares(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let project = server.project(&org.key, "P").await;
    let task = server.task(&org.key, &project, "T").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, keys) = server.get(&org.key, "/v1/api-keys").await;
    let key_id = keys["data"][0]["id"].as_str().unwrap().to_owned();

    let doc: Value = serde_json::from_str(&bazaar::api::openapi_json()).unwrap();
    // Any valid credential: signing in and out, and who am I.
    let public = [
        "POST /v1/sessions",
        "DELETE /v1/sessions/current",
        "POST /v1/sessions/switch",
        "POST /v1/signup",
        "GET /v1/me",
    ];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        // The OAuth endpoints authenticate the client, not a scope (tests/api/oauth.rs).
        if !path.starts_with("/v1/") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let route = format!("{} {path}", method.to_uppercase());
            let Some(scope) = declared_scope(operation) else {
                assert!(public.contains(&route.as_str()), "{route} declares no scope");
                continue;
            };
            let scope: Scope = scope.parse().unwrap();
            let without: ScopeSet = ScopeSet::all().iter().filter(|s| *s != scope).collect();
            let key = credentials::create_api_key(&server.store, &org.id, "probe", without, None)
                .await
                .unwrap();
            let concrete = path
                .replace("/projects/{id}", &format!("/projects/{project}"))
                .replace("/tasks/{id}", &format!("/tasks/{task}"))
                .replace("/api-keys/{id}", &format!("/api-keys/{key_id}"))
                .replace("{user_id}", &org.owner_id);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
            let (status, err) = server.call(&key.secret, method, &concrete, body).await;
            assert_eq!(
                (status, code(&err)),
                (StatusCode::FORBIDDEN, "insufficient_scope"),
                "{route}: {err}"
            );
            assert!(err["error"]["message"].as_str().unwrap().contains(scope.as_str()));
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} routes were checked");
    // Nothing changed along the way: the probes were all refused.
    let (_, project_now) = server.get(&org.key, &format!("/v1/projects/{project}")).await;
    assert_eq!(project_now["status"], "active");
}
