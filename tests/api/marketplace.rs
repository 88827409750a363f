//! The public marketplace: browsing signed out (pages and `/v1/catalog`, rate limited per
//! address), an app page with what a tenant decides on (publisher and verified mark, icon and
//! screenshots uploaded and checked, safe Markdown, hosts, limits, links, reviews and replies),
//! and uploads that are not real images refused with the reason.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::catalog::approve;
use crate::guests::component;
use crate::support::{Backend, Browser, TestServer};

fn manifest() -> String {
    r#"
name = "Item sync"
slug = "item-sync"
description = "Syncs items from a vendor for each new task."
long_description = """
## How it works

Each new task is sent to **your vendor**. See the [setup guide](https://example.com/guide).

<script>alert("long description")</script>

[Click me](javascript:alert(1))
"""
category = "automation"
events = ["task.created"]
allowed_hosts = ["api.vendor.example"]
support_url = "mailto:help@vendor.example"
privacy_url = "https://vendor.example/privacy"

[[scopes]]
name = "tasks:read"
purpose = "Hear about new tasks."

[[scopes]]
name = "storage"
purpose = "Count its runs."

[[scopes]]
name = "network"
purpose = "Send tasks to the vendor."

[[config]]
key = "api_token"
label = "Vendor token"
type = "secret"
required = true

[[config]]
key = "vendor"
label = "Vendor URL"
type = "text"
required = true

[pricing]
plan = "free"
"#
    .into()
}

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(name),
    )
    .unwrap()
}

pub(crate) async fn upload(
    server: &TestServer,
    key: &str,
    method: Method,
    path: &str,
    bytes: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let res = server
        .http
        .request(method, format!("{}{path}", server.base))
        .bearer_auth(key)
        .header("content-type", "image/png")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_out_visitor_browses_and_reads_what_an_app_may_do() {
    let server = TestServer::start(Backend::Sqlite).await;
    let dev = server.org("Vendor Labs").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let (app_id, submitted) = server
        .publish_draft(
            &dev.key,
            &manifest(),
            "1.0.0",
            &component("test-plugin-replay-fixed"),
            None,
        )
        .await;
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;

    // The developer uploads an icon and a screenshot; fakes are refused with the reason.
    let (status, icon) = upload(
        &server,
        &dev.key,
        Method::PUT,
        &format!("/v1/apps/{app_id}/icon"),
        fixture("icon.png"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{icon}");
    assert_eq!(
        (icon["content_type"].as_str(), icon["width"].as_i64()),
        (Some("image/png"), Some(64))
    );
    let shots = format!("/v1/apps/{app_id}/screenshots");
    let (status, shot) = upload(&server, &dev.key, Method::POST, &shots, fixture("screenshot.png")).await;
    assert_eq!(status, StatusCode::CREATED, "{shot}");
    let (status, refused) = upload(
        &server,
        &dev.key,
        Method::POST,
        &shots,
        b"#!/bin/sh\nrm -rf /\n".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PNG, JPEG or WebP"),
        "{refused}"
    );
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>"#;
    let (status, refused) = upload(
        &server,
        &dev.key,
        Method::PUT,
        &format!("/v1/apps/{app_id}/icon"),
        svg.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SVG is not accepted"),
        "{refused}"
    );
    // 50 MB is refused from its announced length, before the body is read.
    let answer = announce_upload(&server, &dev.key, &shots, 50 << 20).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than the limit"), "{answer}");
    let (status, _) = upload(
        &server,
        &tenant.key,
        Method::POST,
        &shots,
        fixture("screenshot.png"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only the app's developer changes its page"
    );

    // The image is served as what it is, and nothing in it can run.
    let media = server
        .http
        .get(format!(
            "{}/media/{}",
            server.base,
            icon["sha256"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(media.status(), StatusCode::OK);
    assert_eq!(media.headers()["content-type"], "image/png");
    assert_eq!(media.headers()["x-content-type-options"], "nosniff");
    assert!(
        media.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(media.bytes().await.unwrap().to_vec(), fixture("icon.png"));

    // Signed out: the catalog and the pages, with titles and descriptions for search engines.
    let anonymous = reqwest::Client::new();
    let cards: serde_json::Value = anonymous
        .get(format!("{}/v1/catalog?q=sync", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cards["data"][0]["slug"], "item-sync", "{cards}");
    assert_eq!(cards["data"][0]["installed"], false);
    assert_eq!(cards["data"][0]["icon"], icon["url"]);
    assert_eq!(cards["data"][0]["publisher"], "Vendor Labs");
    let bad = anonymous
        .get(format!("{}/v1/catalog", server.base))
        .bearer_auth("bzr_nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(
        bad.status(),
        StatusCode::UNAUTHORIZED,
        "a bad credential is not quietly the public view"
    );
    let listing: serde_json::Value = anonymous
        .get(format!("{}/v1/catalog/item-sync", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listing["allowed_hosts"], json!(["api.vendor.example"]));
    assert_eq!(listing["screenshots"][0], shot["url"]);
    let market = anonymous
        .get(format!("{}/marketplace", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(market.status(), StatusCode::OK);
    let market = market.text().await.unwrap();
    assert!(
        market.contains("<meta name=\"description\"") && market.contains("Item sync"),
        "{market}"
    );
    assert!(market.contains("href=\"/signin\""), "{market}");
    let page = anonymous
        .get(format!("{}/marketplace/item-sync", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<title>Item sync · Bazaar</title>"), "{page}");
    assert!(
        page.contains("content=\"Syncs items from a vendor for each new task.\""),
        "{page}"
    );
    assert!(
        page.contains("href=\"/signin?next=/marketplace/item-sync/install\""),
        "{page}"
    );
    assert!(
        page.contains(&format!("src=\"{}\"", icon["url"].as_str().unwrap())),
        "{page}"
    );
    assert!(
        page.contains(&format!("src=\"{}\"", shot["url"].as_str().unwrap())),
        "{page}"
    );
    // What it may do, in words: the hosts it may reach, its limits, its links; no WIT in backticks.
    assert!(page.contains("<code>api.vendor.example</code>"), "{page}");
    assert!(page.contains("Internet hosts it may reach"), "{page}");
    assert!(page.contains("MiB of memory"), "{page}");
    assert!(
        page.contains("href=\"mailto:help@vendor.example\"")
            && page.contains("href=\"https://vendor.example/privacy\"")
    );
    assert!(!page.contains('`'), "no literal backticks: {page}");
    // The long description is Markdown, rendered inert.
    assert!(
        page.contains("<h4>How it works</h4>") && page.contains("<strong>your vendor</strong>"),
        "{page}"
    );
    assert!(page.contains("href=\"https://example.com/guide\""), "{page}");
    assert!(
        !page.contains("<script>alert") && page.contains("&lt;script&gt;"),
        "{page}"
    );
    assert!(!page.contains("javascript:alert(1)\""), "{page}");
    assert!(!page.to_lowercase().contains("href=\"javascript"), "{page}");
    // Dates for people, not RFC 3339.
    assert!(!page.contains("T00:") && regex_like_date(&page), "{page}");

    // The publisher: a profile, and the verified mark only reviewers give.
    let (status, profile) = server
        .call(
            &dev.key,
            Method::PUT,
            "/v1/publisher",
            Some(json!({ "about": "We make sync tools.", "website": "https://vendor.example" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["verified"], false);
    let verification = format!("/v1/review/publishers/{}/verification", dev.id);
    let (status, _) = server
        .call(
            &dev.key,
            Method::PUT,
            &verification,
            Some(json!({ "verified": true })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a developer cannot verify themselves"
    );
    let (status, verified) = reviewer
        .send(
            Method::PUT,
            &verification,
            Some(json!({ "verified": true })),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["verified"], true);
    let page = anonymous
        .get(format!("{}/marketplace/item-sync", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let slug = profile["slug"].as_str().unwrap();
    assert!(
        page.contains("✓ Verified publisher") && page.contains(&format!("href=\"/publishers/{slug}\"")),
        "{page}"
    );
    let publisher = anonymous
        .get(format!("{}/publishers/{slug}", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        publisher.contains("We make sync tools.") && publisher.contains("/marketplace/item-sync"),
        "{publisher}"
    );

    // Reviews, and the developer's reply.
    let (status, _) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "item-sync", "scopes": ["tasks:read", "storage", "network"],
            "config": { "api_token": "t", "vendor": "https://api.vendor.example" } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = server
        .post(
            &tenant.key,
            "/v1/catalog/item-sync/ratings",
            json!({ "stars": 4, "review": "Works, but <b>slow</b>." }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, acme) = server.get(&tenant.key, "/v1/organization").await;
    let reply = format!(
        "/v1/apps/{app_id}/reviews/{}/reply",
        acme["slug"].as_str().unwrap()
    );
    let (status, _) = server
        .call(
            &tenant.key,
            Method::PUT,
            &reply,
            Some(json!({ "reply": "Mine now" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only the developer replies");
    let (status, _) = server
        .call(
            &dev.key,
            Method::PUT,
            &reply,
            Some(json!({ "reply": "Faster in 1.1, thanks!" })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let page = anonymous
        .get(format!("{}/marketplace/item-sync", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Works, but &lt;b&gt;slow&lt;/b&gt;.") && page.contains("Faster in 1.1, thanks!"),
        "{page}"
    );
    assert!(page.contains("Vendor Labs replied"), "{page}");

    // Search engines find the public pages.
    let robots = anonymous
        .get(format!("{}/robots.txt", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        robots.contains("Allow: /marketplace") && robots.contains("Disallow: /\n"),
        "{robots}"
    );
    let sitemap = anonymous
        .get(format!("{}/sitemap.xml", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(sitemap.contains("/marketplace/item-sync</loc>"), "{sitemap}");
    assert!(
        sitemap.contains(&format!("/publishers/{slug}</loc>")),
        "{sitemap}"
    );

    // Signed in, the same page offers the install.
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();
    let (_, signed_in) = admin.page("/marketplace/item-sync").await;
    assert!(signed_in.contains("Installed"), "{signed_in}");
}

/// Sends only the head of an upload announcing `length` bytes; returns the server's answer.
async fn announce_upload(server: &TestServer, key: &str, path: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\nContent-Type: image/png\r\n\
         Content-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// Whether the page shows a date as "6 Dec 2026".
fn regex_like_date(page: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS.iter().any(|m| page.contains(&format!(" {m} 20")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_without_credentials_are_rate_limited_per_address() {
    let mut config = bazaar::config::Config::default();
    config.rate_limits.anonymous = bazaar::config::PlanLimits {
        per_minute: 60,
        burst: 3,
    };
    let server = TestServer::start_with(Backend::Sqlite, config).await;
    let org = server.org("Acme").await;
    let anonymous = reqwest::Client::new();
    for _ in 0..3 {
        let res = anonymous
            .get(format!("{}/v1/catalog", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let refused = anonymous
        .get(format!("{}/v1/catalog", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("without credentials"),
        "{body}"
    );
    // A credential has its own bucket.
    let (status, _) = server.get(&org.key, "/v1/catalog").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_queue_shows_what_a_version_changes_since_the_approved_one() {
    let server = TestServer::start(Backend::Sqlite).await;
    let dev = server.org("Vendor Labs").await;
    let reviewer = server.reviewer().await;
    // 1.0.0: counts in storage; 2.0.0 also calls the vendor over the network.
    let first = crate::catalog::manifest("project-stats")
        .replace("slug = \"project-stats\"", "slug = \"item-sync\"")
        .replace("name = \"Project statistics\"", "name = \"Item sync\"");
    let (app_id, submitted) = server
        .publish_draft(&dev.key, &first, "1.0.0", &component("project-stats"), None)
        .await;
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let (_, second) = server
        .publish_draft(
            &dev.key,
            &manifest(),
            "2.0.0",
            &component("test-plugin-replay-fixed"),
            Some(&app_id),
        )
        .await;
    assert_eq!(second["state"], "in_review", "{second}");
    let (status, queue) = reviewer.send(Method::GET, "/v1/review/queue", None, false).await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let changes = &queue["data"][0]["changes"];
    assert_eq!(changes["since"], "1.0.0", "{changes}");
    assert_eq!(changes["scopes"]["added"], json!(["network"]), "{changes}");
    assert_eq!(
        changes["hosts"]["added"],
        json!(["api.vendor.example"]),
        "{changes}"
    );
    let added: Vec<&str> = changes["imports"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert!(
        added.iter().any(|i| i.starts_with("bazaar:platform/http@")),
        "{changes}"
    );
    let (_, page) = reviewer.page("/review").await;
    assert!(page.contains("Changes since 1.0.0"), "{page}");
    assert!(
        page.contains("+ <code>network</code>") && page.contains("+ <code>api.vendor.example</code>"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_counts_only_behind_a_trusted_proxy() {
    let get = |server: &TestServer, forwarded: &'static str| {
        let (http, base) = (server.http.clone(), server.base.clone());
        async move {
            http.get(format!("{base}/v1/catalog"))
                .header("x-forwarded-for", forwarded)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let limited = || {
        let mut config = bazaar::config::Config::default();
        config.rate_limits.anonymous = bazaar::config::PlanLimits {
            per_minute: 1,
            burst: 1,
        };
        config
    };
    // Straight from the client: the header is the client's own word, ignored.
    let direct = TestServer::start_with(Backend::Sqlite, limited()).await;
    assert_eq!(get(&direct, "203.0.113.7").await, StatusCode::OK);
    assert_eq!(
        get(&direct, "203.0.113.8").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a made-up X-Forwarded-For does not dodge the limit"
    );
    // Behind a trusted proxy (loopback here): each client has its own bucket.
    let mut config = limited();
    config.rate_limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let proxied = TestServer::start_with(Backend::Sqlite, config).await;
    assert_eq!(get(&proxied, "203.0.113.7").await, StatusCode::OK);
    assert_eq!(get(&proxied, "203.0.113.7").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(get(&proxied, "198.51.100.1, 203.0.113.8").await, StatusCode::OK);
}
