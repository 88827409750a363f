//! The native integrations, each against a local stand-in of its vendor's API on loopback,
//! driven by task events through real delivery: every documented field of the requests they
//! send is checked, and the vendor's answers (success, 429, 5xx, 401) become the right outcome.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::catalog::{approve, manifest};
use crate::connections::{connect, connection};
use crate::delivery::{fast_config, wait_deliveries};
use crate::guests::component;
use crate::standin::{Reply, Standin};
use crate::support::{Backend, Browser, TestOrg, TestServer};
use crate::vendor::{CLIENT_ID, CLIENT_SECRET, Vendor};

fn hmac_hex(secret: &str, body: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn deliveries_in(state: &'static str, n: usize) -> impl Fn(&[Value]) -> bool {
    move |list| list.iter().filter(|d| d["state"] == state).count() == n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_issues_open_once_per_labelled_task_through_the_connected_account() {
    let vendor = Vendor::start(3600).await;
    let server = TestServer::start_with(Backend::Sqlite, fast_config(&[0.2, 0.2, 0.2])).await;
    let dev = server.org("Bazaar integrations").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    // The published manifest, pointed at the stand-in instead of github.com.
    let host = vendor
        .base
        .trim_start_matches("http://")
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    let manifest = manifest("github-issues")
        .replace("\"api.github.com\"", &format!("\"{host}\""))
        .replace("https://github.com", &vendor.base);
    let (status, submitted) = server
        .publish_draft(&dev.key, &manifest, "1.0.0", &component("github-issues"), None)
        .await;
    assert_eq!(submitted["state"], "in_review", "{status} {submitted}");
    let app_id = submitted["app_id"].as_str().unwrap().to_owned();
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let (status, _) = server
        .call(
            &dev.key,
            Method::PUT,
            &format!("/v1/apps/{app_id}/connections/github/client"),
            Some(json!({ "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, installed) = server
        .post(
            &tenant.key,
            "/v1/installations",
            json!({ "app": "github-issues", "scopes": ["tasks:read", "tasks:write", "storage", "network"],
                    "config": { "repository": "acme/web", "api_url": vendor.base } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    let id = installed["id"].as_str().unwrap().to_owned();
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();
    let (status, page, _) = connect(&admin, &id, "github").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(connection(&server, &tenant.key, &id).await["state"], "connected");

    // A labelled task: GitHub's rate limit, then a server error, then the issue.
    vendor.fail_with(&[429, 502]);
    let project = server.project(&tenant.key, "Web").await;
    let (status, task) = server
        .post(
            &tenant.key,
            "/v1/tasks",
            json!({ "project_id": project, "title": "Login fails on Safari", "description": "Since 2.3", "labels": ["github"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let task_id = task["id"].as_str().unwrap().to_owned();
    let query = format!("subscriber_id={id}");
    let done = wait_deliveries(&server, &tenant.key, &query, deliveries_in("succeeded", 1)).await;
    assert_eq!(done[0]["attempts"], 3, "429 and 502 are retried: {done:?}");
    let seen = vendor.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    let request = &seen[2];
    assert_eq!(request.path, "/repos/acme/web/issues");
    assert_eq!(request.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("user-agent"), Some("bazaar-github-issues"));
    assert!(
        request
            .authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Bearer gho_"))
    );
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["title"], "Login fails on Safari");
    let text = body["body"].as_str().unwrap();
    assert!(text.starts_with("Since 2.3") && text.contains(&task_id), "{text}");

    // Changing the task again opens no second issue; an unlabelled task opens none.
    let (status, _) = server
        .call(
            &tenant.key,
            Method::PATCH,
            &format!("/v1/tasks/{task_id}"),
            Some(json!({ "title": "Login fails on Safari 17" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    server.task(&tenant.key, &project, "Not for GitHub").await;
    wait_deliveries(&server, &tenant.key, &query, deliveries_in("succeeded", 3)).await;
    assert_eq!(
        vendor.seen().len(),
        3,
        "no request for the update nor the unlabelled task"
    );

    // The repository's webhook says the issue closed: signed with the trigger's secret, it
    // completes the task; signed with anything else, it is refused before the plugin runs.
    let (status, triggers) = server
        .get(&tenant.key, &format!("/v1/installations/{id}/triggers"))
        .await;
    assert_eq!(status, StatusCode::OK, "{triggers}");
    let url = triggers["data"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("{}/hooks/in/{id}/github", server.base));
    let (_, secret) = server
        .get(
            &tenant.key,
            &format!("/v1/installations/{id}/triggers/github/secret"),
        )
        .await;
    let secret = secret["secret"].as_str().unwrap().to_owned();
    let closed = json!({ "action": "closed", "issue": { "number": 1, "state": "closed" },
                         "repository": { "full_name": "acme/web" }, "sender": { "login": "octocat" } })
    .to_string();
    let deliver = |signature: String| {
        let (http, url, closed) = (server.http.clone(), url.clone(), closed.clone());
        async move {
            http.post(&url)
                .header("x-github-event", "issues")
                .header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
                .header("x-hub-signature-256", signature)
                .header("content-type", "application/json")
                .body(closed)
                .send()
                .await
                .unwrap()
        }
    };
    let forged = deliver(format!("sha256={}", hmac_hex("not the secret", &closed))).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let (_, still) = server.get(&tenant.key, &format!("/v1/tasks/{task_id}")).await;
    assert_eq!(
        still["status"], "open",
        "a wrongly signed request changes nothing"
    );
    let answered = deliver(format!("sha256={}", hmac_hex(&secret, &closed))).await;
    assert_eq!(answered.status(), StatusCode::OK);
    let answer: Value = answered.json().await.unwrap();
    assert_eq!(answer["completed"], task_id.as_str());
    let (_, done) = server.get(&tenant.key, &format!("/v1/tasks/{task_id}")).await;
    assert_eq!(done["status"], "completed", "{done}");
    let (_, triggers) = server
        .get(&tenant.key, &format!("/v1/installations/{id}/triggers"))
        .await;
    assert_eq!(
        (
            triggers["data"][0]["accepted"].as_i64(),
            triggers["data"][0]["refused"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert!(
        triggers["data"][0]["last_refusal"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );
    let unknown = server
        .http
        .post(format!("{}/hooks/in/{id}/gitlab", server.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    // GitHub stops accepting the token: a final failure the tenant sees, and the connection
    // asks to be connected again.
    vendor.revoke();
    let (status, _) = server
        .post(
            &tenant.key,
            "/v1/tasks",
            json!({ "project_id": project, "title": "Crash on start", "labels": ["github"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let after = wait_deliveries(&server, &tenant.key, &query, deliveries_in("dead", 1)).await;
    let dead = after.iter().find(|d| d["state"] == "dead").unwrap();
    assert_eq!(dead["attempts"], 1, "401 is final: {dead}");
    assert!(
        dead["last_message"]
            .as_str()
            .unwrap()
            .contains("connect GitHub again"),
        "{dead}"
    );
    assert_eq!(connection(&server, &tenant.key, &id).await["state"], "rejected");
}

/// The example's manifest with every host it may reach (and each connection's) on loopback, and
/// its OAuth endpoints at `vendor` when given.
fn on_loopback(slug: &str, oauth: Option<(&str, &str, &Vendor)>) -> String {
    let mut text: String = manifest(slug)
        .lines()
        .map(|line| {
            if line.starts_with("allowed_hosts = ") {
                "allowed_hosts = [\"127.0.0.1\"]".to_owned()
            } else if line.starts_with("hosts = ") {
                "hosts = [\"127.0.0.1\"]".to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    if let Some((authorize, token, vendor)) = oauth {
        text = text
            .replace(authorize, &format!("{}/login/oauth/authorize", vendor.base))
            .replace(token, &format!("{}/login/oauth/access_token", vendor.base));
    }
    text
}

/// An example integration published, approved and installed (every scope it asks for) by a new
/// tenant with `config`.
struct Installed {
    server: TestServer,
    dev: TestOrg,
    tenant: TestOrg,
    app_id: String,
    id: String,
    project: String,
}

impl Installed {
    async fn new(slug: &str, manifest: String, config: Value) -> Installed {
        let server = TestServer::start_with(Backend::Sqlite, fast_config(&[0.2, 0.2, 0.2])).await;
        let dev = server.org("Bazaar integrations").await;
        let tenant = server.org("Acme").await;
        let reviewer = server.reviewer().await;
        let (status, submitted) = server
            .publish_draft(&dev.key, &manifest, "1.0.0", &component(slug), None)
            .await;
        assert_eq!(submitted["state"], "in_review", "{slug}: {status} {submitted}");
        approve(&reviewer, submitted["id"].as_str().unwrap()).await;
        let scopes: Vec<String> = bazaar::catalog::manifest::Manifest::from_toml(&manifest)
            .unwrap()
            .scopes
            .into_iter()
            .map(|s| s.name)
            .collect();
        let (status, installed) = server
            .post(
                &tenant.key,
                "/v1/installations",
                json!({ "app": slug, "scopes": scopes, "config": config }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{installed}");
        let project = server.project(&tenant.key, "Web").await;
        Installed {
            app_id: submitted["app_id"].as_str().unwrap().to_owned(),
            id: installed["id"].as_str().unwrap().to_owned(),
            server,
            dev,
            tenant,
            project,
        }
    }

    /// Connects the API-key connection `name` with `key`.
    async fn key(&self, name: &str, key: &str) {
        let path = format!("/v1/installations/{}/connections/{name}", self.id);
        let (status, body) = self
            .server
            .call(&self.tenant.key, Method::PUT, &path, Some(json!({ "key": key })))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    async fn task(&self, title: &str, labels: &[&str], due_date: Option<&str>) -> String {
        let (status, task) = self
            .server
            .post(
                &self.tenant.key,
                "/v1/tasks",
                json!({ "project_id": self.project, "title": title, "labels": labels, "due_date": due_date }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        task["id"].as_str().unwrap().to_owned()
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.server.call(&self.tenant.key, method, path, body).await;
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    /// Waits until `n` deliveries are in `state`; returns them all, newest first.
    async fn deliveries(&self, state: &'static str, n: usize) -> Vec<Value> {
        let query = format!("subscriber_id={}", self.id);
        wait_deliveries(&self.server, &self.tenant.key, &query, deliveries_in(state, n)).await
    }

    /// The one dead delivery: its attempts and last message.
    async fn dead(&self) -> (i64, String) {
        let all = self.deliveries("dead", 1).await;
        let dead = all.iter().find(|d| d["state"] == "dead").unwrap();
        (
            dead["attempts"].as_i64().unwrap(),
            dead["last_message"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_gets_an_adaptive_card_per_new_and_completed_task() {
    let teams = Standin::start(Reply::status(202)).await;
    let app = Installed::new(
        "teams-notifier",
        on_loopback("teams-notifier", None),
        json!({ "webhook_url": format!("{}/webhookb2/acme", teams.base) }),
    )
    .await;
    teams.then([Reply::rate_limited(), Reply::status(502)]);
    let task = app.task("Ship the login fix", &[], None).await;
    let done = app.deliveries("succeeded", 1).await;
    assert_eq!(done[0]["attempts"], 3, "429 and 502 are retried");
    let got = teams.got();
    let card = &got[2];
    assert_eq!(
        (card.method.as_str(), card.path.as_str()),
        ("POST", "/webhookb2/acme")
    );
    assert_eq!(card.header("content-type"), Some("application/json"));
    let body = card.json();
    assert_eq!(body["type"], "message");
    let attachment = &body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert_eq!(attachment["content"]["version"], "1.4");
    assert_eq!(attachment["content"]["body"][0]["text"], "New task");
    assert_eq!(attachment["content"]["body"][1]["text"], "Ship the login fix");

    // The channel's webhook was removed: final, and it says what to do.
    teams.then([Reply::status(404)]);
    app.call(Method::POST, &format!("/v1/tasks/{task}/complete"), None)
        .await;
    let (attempts, message) = app.dead().await;
    assert_eq!(attempts, 1);
    assert!(message.contains("no longer exists"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendors_retry_after_holds_the_plugins_retry_back() {
    let teams = Standin::start(Reply::status(202)).await;
    let app = Installed::new(
        "teams-notifier",
        on_loopback("teams-notifier", None),
        json!({ "webhook_url": format!("{}/webhookb2/acme", teams.base) }),
    )
    .await;
    // Teams says: come back in two minutes. The schedule's own wait is 0.2 s.
    teams.then([Reply {
        status: 429,
        headers: vec![("retry-after", "120".into())],
        body: String::new(),
    }]);
    app.task("Ship the login fix", &[], None).await;
    let query = format!("subscriber_id={}", app.id);
    let waiting = wait_deliveries(&app.server, &app.tenant.key, &query, |list| {
        list.len() == 1 && list[0]["attempts"] == 1 && list[0]["state"] == "pending"
    })
    .await;
    let next = bazaar::platform::parse_time(waiting[0]["next_attempt_at"].as_str().unwrap()).unwrap();
    let updated = bazaar::platform::parse_time(waiting[0]["updated_at"].as_str().unwrap()).unwrap();
    assert!(
        next - updated >= 119_000,
        "the retry waits for the vendor's Retry-After: {waiting:?}"
    );
    assert_eq!(teams.got().len(), 1, "and nothing is sent before it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_gets_messages_that_cannot_ping_anyone() {
    let discord = Standin::start(Reply::json(200, json!({ "id": "1", "channel_id": "2" }))).await;
    let app = Installed::new(
        "discord-notifier",
        on_loopback("discord-notifier", None),
        json!({ "webhook_url": format!("{}/api/webhooks/1234/t0k-en", discord.base) }),
    )
    .await;
    discord.then([Reply::rate_limited(), Reply::status(500)]);
    app.task("@everyone the build is red", &[], None).await;
    let done = app.deliveries("succeeded", 1).await;
    assert_eq!(done[0]["attempts"], 3, "429 and 500 are retried");
    let message = &discord.got()[2];
    assert_eq!(message.path, "/api/webhooks/1234/t0k-en?wait=true");
    assert_eq!(message.header("content-type"), Some("application/json"));
    let body = message.json();
    assert_eq!(body["content"], "**New task:** @everyone the build is red");
    assert_eq!(body["allowed_mentions"], json!({ "parse": [] }));

    discord.then([Reply::json(
        404,
        json!({ "message": "Unknown Webhook", "code": 10015 }),
    )]);
    app.task("Another", &[], None).await;
    let (attempts, message) = app.dead().await;
    assert_eq!(attempts, 1);
    assert!(message.contains("no longer exists"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postmark_sends_one_email_per_completed_task_with_the_connected_token() {
    let postmark = Standin::start(Reply::json(
        200,
        json!({ "To": "team@example.com", "ErrorCode": 0, "Message": "OK", "MessageID": "b7bc2f4a" }),
    ))
    .await;
    let app = Installed::new(
        "postmark-mailer",
        on_loopback("postmark-mailer", None),
        json!({ "from": "tasks@acme.test", "to": "team@example.com", "api_url": postmark.base }),
    )
    .await;
    app.key("postmark", "server-token-1").await;
    let task = app.task("Renew the certificate", &[], None).await;
    postmark.then([Reply::rate_limited(), Reply::status(503)]);
    app.call(Method::POST, &format!("/v1/tasks/{task}/complete"), None)
        .await;
    let done = app.deliveries("succeeded", 1).await;
    assert_eq!(done[0]["attempts"], 3, "429 and 503 are retried");
    let email = &postmark.got()[2];
    assert_eq!((email.method.as_str(), email.path.as_str()), ("POST", "/email"));
    assert_eq!(email.header("x-postmark-server-token"), Some("server-token-1"));
    assert_eq!(email.header("accept"), Some("application/json"));
    assert_eq!(email.header("content-type"), Some("application/json"));
    let body = email.json();
    assert_eq!(body["From"], "tasks@acme.test");
    assert_eq!(body["To"], "team@example.com");
    assert_eq!(body["Subject"], "Completed: Renew the certificate");
    assert!(body["TextBody"].as_str().unwrap().contains(&task));
    assert_eq!(body["MessageStream"], "outbound");
    assert_eq!(body["Metadata"]["task_id"], task.as_str());

    // A revoked server token: final, and the connection asks for a new one.
    postmark.then([Reply::json(
        401,
        json!({ "ErrorCode": 10, "Message": "Bad or missing Server API token." }),
    )]);
    let second = app.task("Rotate the keys", &[], None).await;
    app.call(Method::POST, &format!("/v1/tasks/{second}/complete"), None)
        .await;
    let (attempts, message) = app.dead().await;
    assert_eq!(attempts, 1);
    assert!(message.contains("connect a valid one"), "{message}");
    let (_, connections) = app
        .server
        .get(
            &app.tenant.key,
            &format!("/v1/installations/{}/connections", app.id),
        )
        .await;
    assert_eq!(connections["data"][0]["state"], "rejected", "{connections}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linear_creates_one_issue_per_labelled_task_with_the_documented_mutation() {
    let ok = json!({ "data": { "issueCreate": { "success": true, "issue": { "id": "9f", "identifier": "ENG-12", "url": "https://linear.app/acme/issue/ENG-12" } } } });
    let linear = Standin::start(Reply::json(200, ok)).await;
    let app = Installed::new(
        "linear-issues",
        on_loopback("linear-issues", None),
        json!({ "team_id": "team-eng", "api_url": format!("{}/graphql", linear.base) }),
    )
    .await;
    app.key("linear", "lin_api_abc").await;
    linear.then([
        Reply::json(400, json!({ "errors": [{ "message": "Rate limit exceeded", "extensions": { "code": "RATELIMITED" } }] })),
        Reply::status(503),
    ]);
    let task = app.task("Dark mode", &["linear"], None).await;
    let done = app.deliveries("succeeded", 1).await;
    assert_eq!(done[0]["attempts"], 3, "RATELIMITED and 503 are retried");
    let request = &linear.got()[2];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/graphql")
    );
    assert_eq!(
        request.header("authorization"),
        Some("lin_api_abc"),
        "a personal key, without Bearer"
    );
    let body = request.json();
    assert!(
        body["query"]
            .as_str()
            .unwrap()
            .contains("issueCreate(input: $input)")
    );
    assert_eq!(body["variables"]["input"]["teamId"], "team-eng");
    assert_eq!(body["variables"]["input"]["title"], "Dark mode");
    assert!(
        body["variables"]["input"]["description"]
            .as_str()
            .unwrap()
            .contains(&task)
    );

    // An update creates no second issue; an unlabelled task none.
    app.call(
        Method::PATCH,
        &format!("/v1/tasks/{task}"),
        Some(json!({ "title": "Dark mode, v2" })),
    )
    .await;
    app.task("Not for Linear", &[], None).await;
    app.deliveries("succeeded", 3).await;
    assert_eq!(linear.got().len(), 3);

    linear.then([Reply::json(
        400,
        json!({ "errors": [{ "message": "Authentication required, not authenticated", "extensions": { "code": "AUTHENTICATION_ERROR" } }] }),
    )]);
    app.task("Needs a key", &["linear"], None).await;
    let (attempts, message) = app.dead().await;
    assert_eq!(attempts, 1);
    assert!(message.contains("connect a valid one"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_triggers_and_resolves_incidents_and_its_resolution_completes_the_task() {
    let accepted = json!({ "status": "success", "message": "Event processed", "dedup_key": "k" });
    let pagerduty = Standin::start(Reply::json(202, accepted)).await;
    let app = Installed::new(
        "pagerduty-incidents",
        on_loopback("pagerduty-incidents", None),
        json!({ "routing_key": "R0UT1NGKEY0123456789ABCDEFGHIJKL", "events_url": format!("{}/v2/enqueue", pagerduty.base) }),
    )
    .await;
    pagerduty.then([Reply::rate_limited(), Reply::status(500)]);
    let task = app.task("Database is down", &["urgent"], None).await;
    let done = app.deliveries("succeeded", 1).await;
    assert_eq!(done[0]["attempts"], 3, "429 and 500 are retried");
    let trigger = &pagerduty.got()[2];
    assert_eq!(
        (trigger.method.as_str(), trigger.path.as_str()),
        ("POST", "/v2/enqueue")
    );
    let body = trigger.json();
    assert_eq!(body["routing_key"], "R0UT1NGKEY0123456789ABCDEFGHIJKL");
    assert_eq!(body["event_action"], "trigger");
    assert_eq!(body["dedup_key"], format!("bazaar-{task}"));
    assert_eq!(body["payload"]["summary"], "Database is down");
    assert_eq!(body["payload"]["source"], "bazaar");
    assert_eq!(body["payload"]["severity"], "critical");

    // Completing the task resolves its incident.
    app.call(Method::POST, &format!("/v1/tasks/{task}/complete"), None)
        .await;
    app.deliveries("succeeded", 2).await;
    let resolve = pagerduty.got().pop().unwrap().json();
    assert_eq!(
        resolve,
        json!({ "routing_key": "R0UT1NGKEY0123456789ABCDEFGHIJKL", "event_action": "resolve", "dedup_key": format!("bazaar-{task}") })
    );

    // Resolving an incident in PagerDuty completes its task, when PagerDuty signed the webhook.
    let second = app.task("Queue backing up", &["urgent"], None).await;
    app.deliveries("succeeded", 3).await;
    let (_, secret) = app
        .server
        .get(
            &app.tenant.key,
            &format!("/v1/installations/{}/triggers/pagerduty/secret", app.id),
        )
        .await;
    let secret = secret["secret"].as_str().unwrap();
    let resolved = json!({ "event": { "id": "01DEN", "event_type": "incident.resolved", "resource_type": "incident",
        "data": { "id": "PGR0VU2", "type": "incident", "status": "resolved", "incident_key": format!("bazaar-{second}") } } })
    .to_string();
    let url = format!("{}/hooks/in/{}/pagerduty", app.server.base, app.id);
    let send = |signature: String| {
        let (http, url, body) = (app.server.http.clone(), url.clone(), resolved.clone());
        async move {
            http.post(url)
                .header("x-pagerduty-signature", signature)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        send(format!("v1={}", hmac_hex("guess", &resolved))).await,
        StatusCode::UNAUTHORIZED
    );
    let (_, still) = app
        .server
        .get(&app.tenant.key, &format!("/v1/tasks/{second}"))
        .await;
    assert_eq!(still["status"], "open");
    let signatures = format!(
        "v1={}, v1={}",
        hmac_hex("an old secret", &resolved),
        hmac_hex(secret, &resolved)
    );
    assert_eq!(send(signatures).await, StatusCode::OK);
    let (_, done) = app
        .server
        .get(&app.tenant.key, &format!("/v1/tasks/{second}"))
        .await;
    assert_eq!(done["status"], "completed");

    // A refused event is final.
    pagerduty.then([Reply::json(
        400,
        json!({ "status": "invalid event", "message": "Event object is invalid", "errors": ["Length of 'routing_key' is incorrect"] }),
    )]);
    app.task("Disk full", &["urgent"], None).await;
    let (attempts, message) = app.dead().await;
    assert_eq!(attempts, 1);
    assert!(message.contains("Event object is invalid"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_calendar_puts_due_dates_in_the_calendar_through_the_connected_account() {
    let vendor = Vendor::start(3600).await;
    let google = Standin::start(Reply::json(
        200,
        json!({ "kind": "calendar#event", "status": "confirmed" }),
    ))
    .await;
    let manifest = on_loopback(
        "google-calendar",
        Some((
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
            &vendor,
        )),
    );
    let app = Installed::new("google-calendar", manifest, json!({ "api_url": google.base })).await;
    let (status, _) = app
        .server
        .call(
            &app.dev.key,
            Method::PUT,
            &format!("/v1/apps/{}/connections/google/client", app.app_id),
            Some(json!({ "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let admin = Browser::sign_in(&app.server, &app.tenant.owner_email, &app.tenant.password)
        .await
        .unwrap();
    let (status, started) = admin
        .send(
            Method::POST,
            &format!("/v1/installations/{}/connections/google/sign-in", app.id),
            Some(json!({})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let location = started["location"].as_str().unwrap();
    assert!(
        location.contains("access_type=offline") && location.contains("prompt=consent"),
        "Google gives a refresh token only when asked: {location}"
    );
    let (status, page, _) = connect(&admin, &app.id, "google").await;
    assert_eq!(status, StatusCode::OK, "{page}");

    google.then([Reply::rate_limited(), Reply::status(503)]);
    let task = app.task("Launch", &[], Some("2026-12-31")).await;
    let done = app.deliveries("succeeded", 1).await;
    assert_eq!(done[0]["attempts"], 3, "429 and 503 are retried");
    let insert = &google.got()[2];
    assert_eq!(
        (insert.method.as_str(), insert.path.as_str()),
        ("POST", "/calendar/v3/calendars/primary/events")
    );
    assert!(
        insert
            .header("authorization")
            .is_some_and(|a| a.starts_with("Bearer gho_"))
    );
    let event = insert.json();
    assert_eq!(event["summary"], "Due: Launch");
    assert_eq!(event["start"], json!({ "date": "2026-12-31" }));
    assert_eq!(event["end"], json!({ "date": "2027-01-01" }));
    let id = event["id"].as_str().unwrap().to_owned();
    assert!(
        id.chars().all(|c| c.is_ascii_digit() || ('a'..='v').contains(&c)),
        "base32hex: {id}"
    );

    // A new due date: the event exists (409), so it is moved.
    google.then([Reply::json(
        409,
        json!({ "error": { "code": 409, "message": "The requested identifier already exists." } }),
    )]);
    app.call(
        Method::PATCH,
        &format!("/v1/tasks/{task}"),
        Some(json!({ "due_date": "2027-01-15" })),
    )
    .await;
    app.deliveries("succeeded", 2).await;
    let moved = google.got().pop().unwrap();
    assert_eq!(
        (moved.method.as_str(), moved.path.as_str()),
        (
            "PATCH",
            format!("/calendar/v3/calendars/primary/events/{id}").as_str()
        )
    );
    assert_eq!(moved.json()["start"], json!({ "date": "2027-01-15" }));

    google.then([Reply::json(
        401,
        json!({ "error": { "code": 401, "message": "Invalid Credentials" } }),
    )]);
    app.task("Retro", &[], Some("2027-02-01")).await;
    let (attempts, message) = app.dead().await;
    assert_eq!(attempts, 1);
    assert!(message.contains("connect Google again"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_creates_one_issue_per_labelled_task_with_the_connected_token() {
    let gitlab = Standin::start(Reply::json(
        201,
        json!({ "id": 84, "iid": 3, "web_url": "https://gitlab.com/acme/web/-/issues/3" }),
    ))
    .await;
    let app = Installed::new(
        "gitlab-issues",
        on_loopback("gitlab-issues", None),
        json!({ "project": "acme/web", "api_url": gitlab.base }),
    )
    .await;
    app.key("gitlab", "glpat-abc").await;
    gitlab.then([Reply::rate_limited(), Reply::status(502)]);
    let task = app.task("Flaky test", &["gitlab", "ci"], None).await;
    let done = app.deliveries("succeeded", 1).await;
    assert_eq!(done[0]["attempts"], 3, "429 and 502 are retried");
    let request = &gitlab.got()[2];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/api/v4/projects/acme%2Fweb/issues")
    );
    assert_eq!(request.header("private-token"), Some("glpat-abc"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.json();
    assert_eq!(body["title"], "Flaky test");
    assert_eq!(body["labels"], "gitlab,ci");
    assert!(body["description"].as_str().unwrap().contains(&task));
    app.call(
        Method::PATCH,
        &format!("/v1/tasks/{task}"),
        Some(json!({ "title": "Flaky test in CI" })),
    )
    .await;
    app.deliveries("succeeded", 2).await;
    assert_eq!(gitlab.got().len(), 3, "no second issue");

    gitlab.then([Reply::json(401, json!({ "message": "401 Unauthorized" }))]);
    app.task("Broken pipeline", &["gitlab"], None).await;
    let (attempts, message) = app.dead().await;
    assert_eq!(attempts, 1);
    assert!(message.contains("connect a valid one"), "{message}");
}
