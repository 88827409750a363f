//! Connections, over real HTTP and real delivery: the tenant signs in at a stand-in vendor
//! (state and PKCE checked, the state used once and only by who started it), Bazaar attaches the
//! token to the plugin's requests for the connection's host only, refreshes it, marks it for
//! reconnecting when the vendor refuses it, and the plugin never gets hold of it however it tries.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::catalog::approve;
use crate::delivery::{all_in, fast_config, wait_deliveries};
use crate::guests::component;
use crate::standin::{Reply, Standin};
use crate::support::{Backend, Browser, TestServer};
use crate::vendor::{CLIENT_ID, CLIENT_SECRET, Vendor};

fn probe_manifest(vendor: &str) -> String {
    format!(
        r#"
name = "Connections probe"
slug = "connections-probe"
description = "Opens an issue through a connected account, and tries to steal its token."
category = "developer-tools"
events = ["project.created"]
allowed_hosts = ["127.0.0.1", "127.0.0.2"]

[[scopes]]
name = "projects:read"
purpose = "Hear about new projects."

[[scopes]]
name = "network"
purpose = "Open issues at the vendor."

[[connections]]
name = "github"
title = "Your GitHub account"
kind = "oauth2"
hosts = ["127.0.0.1"]
authorize_url = "{vendor}/login/oauth/authorize"
token_url = "{vendor}/login/oauth/access_token"
scopes = ["repo"]

[[config]]
key = "vendor"
label = "Vendor"
type = "text"
required = true

[[config]]
key = "elsewhere"
label = "Elsewhere"
type = "text"
required = true

[pricing]
plan = "free"
"#
    )
}

/// Signs `admin` in at the vendor for the connection `name` and comes back: the callback's page.
pub(crate) async fn connect(admin: &Browser, installation: &str, name: &str) -> (StatusCode, String, String) {
    let (status, started) = admin
        .send(
            Method::POST,
            &format!("/v1/installations/{installation}/connections/{name}/sign-in"),
            Some(json!({})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let at_vendor = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(started["location"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(at_vendor.status().is_redirection(), "{}", at_vendor.status());
    let back = at_vendor.headers()["location"].to_str().unwrap().to_owned();
    let path = back
        .split_once("/connections/")
        .map(|(_, p)| format!("/connections/{p}"))
        .unwrap();
    let (status, page) = admin.page(&path).await;
    (status, page, path)
}

/// A request as text: its path, headers and body, to look for a token anywhere in it.
fn whole(request: &crate::standin::Request) -> String {
    format!("{}\n{:?}\n{}", request.path, request.headers, request.body)
}

pub(crate) async fn connection(server: &TestServer, key: &str, installation: &str) -> Value {
    let (status, list) = server
        .get(key, &format!("/v1/installations/{installation}/connections"))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["data"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_is_attached_for_its_host_refreshed_revoked_and_never_reaches_the_plugin() {
    // Tokens that live 30 s are within the refresh margin: each use refreshes first.
    let vendor = Vendor::start(30).await;
    // Where a compromised plugin might send what it learnt: another loopback address, a host
    // the connection does not cover.
    let elsewhere = Standin::start_on("127.0.0.2", Reply::status(200)).await;
    let server = TestServer::start_with(Backend::Sqlite, fast_config(&[0.2, 0.2])).await;
    let dev = server.org("Probe Makers").await;
    let tenant = server.org("Acme").await;
    let stranger = server.org("Globex").await;
    let reviewer = server.reviewer().await;
    let (status, submitted) = server
        .publish_draft(
            &dev.key,
            &probe_manifest(&vendor.base),
            "1.0.0",
            &component("test-plugin-connections-probe"),
            None,
        )
        .await;
    assert_eq!(submitted["state"], "in_review", "{status} {submitted}");
    let app_id = submitted["app_id"].as_str().unwrap().to_owned();
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();

    // The consent page names the account and the one host it is for.
    let (_, consent) = admin.page("/marketplace/connections-probe/install").await;
    assert!(
        consent.contains("Accounts it connects")
            && consent.contains("Your GitHub account")
            && consent.contains("used only for 127.0.0.1"),
        "{consent}"
    );

    let (status, installed) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "connections-probe", "scopes": ["projects:read", "network"],
                    "config": { "vendor": vendor.base, "elsewhere": elsewhere.base } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    let id = installed["id"].as_str().unwrap().to_owned();
    let health = connection(&server, &tenant.key, &id).await;
    assert_eq!(
        (health["state"].as_str(), health["ready"].as_bool()),
        (Some("not-connected"), Some(false))
    );

    // Until the developer gives Bazaar their client at the vendor, nobody can connect; only the
    // app's own developer can give it.
    let sign_in = format!("/v1/installations/{id}/connections/github/sign-in");
    let (status, refused) = admin.send(Method::POST, &sign_in, Some(json!({})), true).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let client = json!({ "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET });
    let path = format!("/v1/apps/{app_id}/connections/github/client");
    let (status, _) = server
        .call(&stranger.key, Method::PUT, &path, Some(client.clone()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, set) = server.call(&dev.key, Method::PUT, &path, Some(client)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{set}");
    let (status, _) = server
        .call(&tenant.key, Method::POST, &sign_in, Some(json!({})))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an API key is not a person signing in"
    );

    // Someone else cannot finish the tenant's sign-in, nor use it up; the tenant can, once.
    let (status, started) = admin.send(Method::POST, &sign_in, Some(json!({})), true).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let location = started["location"].as_str().unwrap();
    assert!(
        location.contains("code_challenge_method=S256") && location.contains("scope=repo"),
        "{location}"
    );
    let at_vendor = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(location)
        .send()
        .await
        .unwrap();
    let back = at_vendor.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("{}/connections/callback?", server.base)),
        "{back}"
    );
    let callback = back.trim_start_matches(&server.base).to_owned();
    let intruder = Browser::sign_in(&server, &stranger.owner_email, &stranger.password)
        .await
        .unwrap();
    let (status, _) = intruder.page(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, page) = admin.page(&callback).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("id=\"connection-github\"") && page.contains(">connected<"),
        "{page}"
    );
    let (status, _) = admin.page(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a sign-in is used once");
    let forged = callback.replace("state=", "state=x");
    assert_eq!(admin.page(&forged).await.0, StatusCode::BAD_REQUEST);
    let health = connection(&server, &tenant.key, &id).await;
    assert_eq!(health["state"], "connected", "{health}");

    // The plugin runs through real delivery; the vendor gets a refreshed token.
    server.project(&tenant.key, "Launch").await;
    wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={id}"),
        all_in("succeeded", 1),
    )
    .await;
    assert_eq!(vendor.grants(), ["authorization_code", "refresh_token"]);
    let seen = vendor.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].path, "/repos/acme/web/issues");
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer gho_2"));
    assert!(seen[0].body.contains("Opened by the probe"));

    // Everything the plugin could learn went elsewhere: the token is in none of it.
    let got = elsewhere.got();
    assert_eq!(
        got.len(),
        1,
        "only the loot arrived, not the request through the connection: {got:?}"
    );
    let loot = &whole(&got[0]);
    for token in vendor.issued_tokens() {
        assert!(!loot.contains(&token), "{token} leaked: {loot}");
    }
    assert!(got[0].header("authorization").is_none(), "{loot}");
    for learnt in [
        "config github=None",
        "config token=None",
        "status Ok(ConnectionStatus { connected: true",
        "vendor 201",
        "elsewhere via connection Err(Forbidden(",
        "undeclared Err(NotFound(",
    ] {
        assert!(loot.contains(learnt), "expected {learnt:?} in {loot}");
    }
    let (_, listed) = server
        .get(&tenant.key, &format!("/v1/installations/{id}/connections"))
        .await;
    assert!(
        !listed.to_string().contains("gho_") && !listed.to_string().contains("ghr_"),
        "{listed}"
    );

    // The tenant revokes Bazaar at the vendor: the refresh is refused, the connection is marked
    // for reconnecting, and the plugin's call fails for good with a clear message.
    vendor.revoke();
    server.project(&tenant.key, "Second").await;
    wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={id}"),
        all_in("succeeded", 2),
    )
    .await;
    let loot = whole(&elsewhere.got().pop().unwrap());
    assert!(
        loot.contains("vendor error Forbidden(") && loot.contains("must be connected again"),
        "{loot}"
    );
    let health = connection(&server, &tenant.key, &id).await;
    assert_eq!(health["state"], "rejected", "{health}");
    assert!(
        health["problem"].as_str().unwrap().contains("invalid_grant"),
        "{health}"
    );
    let (_, page) = admin.page(&format!("/installed/{id}")).await;
    assert!(
        page.contains("connect again") && page.contains("Connect again"),
        "{page}"
    );

    // Connected again, with a long-lived token that the vendor then stops accepting: its 401
    // reaches the plugin as an answer and marks the connection again.
    vendor.set_lifetime(3600);
    let (status, page, _) = connect(&admin, &id, "github").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(connection(&server, &tenant.key, &id).await["state"], "connected");
    vendor.revoke();
    server.project(&tenant.key, "Third").await;
    wait_deliveries(
        &server,
        &tenant.key,
        &format!("subscriber_id={id}"),
        all_in("succeeded", 3),
    )
    .await;
    assert!(whole(&elsewhere.got().pop().unwrap()).contains("vendor 401"));
    let health = connection(&server, &tenant.key, &id).await;
    assert_eq!(health["state"], "rejected", "{health}");
    assert!(health["problem"].as_str().unwrap().contains("401"), "{health}");

    // Uninstalling forgets the tokens.
    let (status, _) = server
        .call(
            &tenant.key,
            Method::DELETE,
            &format!("/v1/installations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (left,): (i64,) = bazaar::store::query_as("SELECT COUNT(*) FROM installation_connections")
        .fetch_one(server.store.reader())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn an_api_key_connection_is_kept_sealed_and_shown_only_as_its_state() {
    api_key_connection(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_api_key_connection_is_kept_sealed_on_postgres() {
    api_key_connection(Backend::Postgres).await;
}

async fn api_key_connection(backend: Backend) {
    let server = TestServer::start(backend).await;
    let dev = server.org("Key Makers").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let manifest = probe_manifest("https://vendor.example.com")
        .replace("kind = \"oauth2\"", "kind = \"api-key\"\nheader = \"X-Api-Key\"")
        .replace(
            "authorize_url = \"https://vendor.example.com/login/oauth/authorize\"\n",
            "",
        )
        .replace(
            "token_url = \"https://vendor.example.com/login/oauth/access_token\"\n",
            "",
        )
        .replace("scopes = [\"repo\"]\n", "");
    let (status, submitted) = server
        .publish_draft(
            &dev.key,
            &manifest,
            "1.0.0",
            &component("test-plugin-connections-probe"),
            None,
        )
        .await;
    assert_eq!(submitted["state"], "in_review", "{status} {submitted}");
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let (status, installed) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "connections-probe", "scopes": ["projects:read", "network"],
                    "config": { "vendor": "x", "elsewhere": "y" } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    let id = installed["id"].as_str().unwrap();
    let path = format!("/v1/installations/{id}/connections/github");
    let (status, refused) = server
        .call(
            &tenant.key,
            Method::PUT,
            &path,
            Some(json!({ "key": "line\nbreak" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, _) = server
        .call(
            &tenant.key,
            Method::PUT,
            &path,
            Some(json!({ "key": "pk_live_secret_1234" })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let health = connection(&server, &tenant.key, id).await;
    assert_eq!(
        (health["state"].as_str(), health["kind"].as_str()),
        (Some("connected"), Some("api-key"))
    );
    let (stored,): (String,) = bazaar::store::query_as("SELECT secret FROM installation_connections")
        .fetch_one(server.store.reader())
        .await
        .unwrap();
    assert!(
        stored.starts_with("sealed:v1:") && !stored.contains("pk_live"),
        "sealed at rest"
    );
    let (_, shown) = server
        .get(&tenant.key, &format!("/v1/installations/{id}/connections"))
        .await;
    assert!(!shown.to_string().contains("pk_live"), "{shown}");
    let (status, _) = server
        .call(
            &tenant.key,
            Method::POST,
            &format!("{path}/sign-in"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server.call(&tenant.key, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        connection(&server, &tenant.key, id).await["state"],
        "not-connected"
    );
}
