//! OAuth 2.0 end to end, driven by the `oauth2` crate as the client (a real client no one here
//! wrote): authorization with PKCE through the consent form, token exchange, scoped API calls,
//! refresh rotation and reuse detection, revocation and introspection; then the attacks.
//! Also the Zapier endpoints and rate limits.

use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    IntrospectionUrl, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, RevocationUrl,
    Scope, TokenIntrospectionResponse, TokenResponse, TokenUrl,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::catalog::approve;
use crate::on_both_databases;
use crate::support::{Backend, Browser, TestOrg, TestServer};

on_both_databases!(
    an_app_is_authorized_with_pkce_and_calls_the_api_within_its_scopes,
    attacks_on_the_authorization_server_fail,
    zapier_polls_triggers_and_tests_its_connection
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_from_the_authorization_page_returns_to_it() {
    let server = TestServer::start(Backend::Sqlite).await;
    let dev = server.org("Zap Co").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let app = external_app(&server, &dev, &reviewer, "zap-bridge").await;
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = app
        .client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();

    // Not signed in: a sign-in form that carries the request along.
    let html = http()
        .get(url.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Sign in to continue to App zap-bridge"), "{html}");
    let mut form = hidden_fields(&html);
    assert!(form.iter().any(|(k, v)| k == "state" && v == state.secret()));
    form.push(("email".into(), tenant.owner_email.clone()));
    form.push(("password".into(), "wrong password".into()));
    let res = http()
        .post(format!("{}/oauth/sign-in", server.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("wrong email or password"));
    form.pop();
    form.push(("password".into(), tenant.password.clone()));
    let res = http()
        .post(format!("{}/oauth/sign-in", server.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with("/oauth/authorize?"), "{back}");
    let page = http()
        .get(format!("{}{back}", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Allow App zap-bridge to access your organization?"),
        "{html}"
    );
    assert!(html.contains("Acme"), "the organization to pick: {html}");

    // A consent form posted without the session's CSRF token is refused.
    let mut forged = hidden_fields(&html);
    forged.retain(|(k, _)| k != "csrf_token");
    forged.push(("org_id".into(), tenant.id.clone()));
    forged.push(("decision".into(), "approve".into()));
    let res = http()
        .post(format!("{}/oauth/authorize", server.base))
        .header("cookie", &cookie)
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (_, installations) = server.get(&tenant.key, "/v1/installations").await;
    assert_eq!(installations["data"], json!([]), "nothing was installed");
}

/// A native app's loopback redirect URI, registered without a port (RFC 8252 §7.3).
const LOOPBACK: &str = "http://127.0.0.1/callback";

/// The token, revocation and introspection endpoints answer every malformed body with RFC
/// 6749 §5.2's JSON error, never the framework's plain-text 415.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoints_refuse_other_bodies_with_an_oauth_error() {
    let server = TestServer::start(Backend::Sqlite).await;
    let http = http();
    for path in ["/oauth/token", "/oauth/revoke", "/oauth/introspect"] {
        let url = format!("{}{path}", server.base);
        let json_body = http.post(&url).json(&json!({ "grant_type": "refresh_token" }));
        let no_type = http.post(&url).body("grant_type=refresh_token");
        let other_type = http
            .post(&url)
            .header("content-type", "text/plain")
            .body("token=x");
        for request in [json_body, no_type, other_type] {
            let res = request.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
            assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
            let body: Value = res.json().await.expect("a JSON object");
            assert_eq!(body["error"], "invalid_request", "{path}: {body}");
            assert!(body["error_description"].is_string());
        }
    }
}

/// The issuer is fixed when the server starts: a request's Host header does not move it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuer_does_not_follow_the_host_header() {
    let server = TestServer::start(Backend::Sqlite).await;
    let res = http()
        .get(format!("{}/.well-known/oauth-authorization-server", server.base))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    let meta: Value = res.json().await.unwrap();
    assert_eq!(meta["issuer"], server.base.as_str());
    assert_eq!(meta["token_endpoint"], format!("{}/oauth/token", server.base));
    let scopes = meta["scopes_supported"].as_array().unwrap();
    assert!(scopes.contains(&json!("tasks:read")));
    assert!(
        !scopes.contains(&json!("keys:write")),
        "only scopes an app may hold"
    );
}

/// A loopback redirect URI registered without a port accepts the port the native app got;
/// every other redirect URI stays exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_apps_redirect_to_any_loopback_port() {
    let server = TestServer::start(Backend::Sqlite).await;
    let dev = server.org("Zap Co").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let app = external_app(&server, &dev, &reviewer, "native-bridge").await;
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();
    let native = "http://127.0.0.1:54321/callback";
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = app
        .client
        .clone()
        .set_redirect_uri(RedirectUrl::new(native.into()).unwrap());
    let (url, _) = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let params = consent_to(&server, &admin, url.as_str(), &tenant.id, "approve", native).await;
    let code = param(&params, "code").expect("a code").to_owned();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .expect("the code is bound to the port it was sent to");
    assert!(tokens.access_token().secret().starts_with("bzat_"));

    // Not for a URI registered with a host name or a port, nor for a different path.
    for refused in ["http://localhost:7778/callback", "http://127.0.0.1:54321/other"] {
        let (challenge, _) = PkceCodeChallenge::new_random_sha256();
        let client = app
            .client
            .clone()
            .set_redirect_uri(RedirectUrl::new(refused.into()).unwrap());
        let (url, _) = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge)
            .url();
        let res = http()
            .get(url.as_str())
            .header("cookie", &admin.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{refused}");
        assert!(res.headers().get("location").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_their_headers() {
    rate_limits(Backend::Sqlite).await;
}

const REDIRECT: &str = "http://localhost:7777/callback";

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointSet, EndpointSet, EndpointSet>;

struct ExternalApp {
    id: String,
    secret: String,
    client: Client,
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Publishes an external app and gives it a client secret; returns the configured client.
async fn external_app(server: &TestServer, dev: &TestOrg, reviewer: &Browser, slug: &str) -> ExternalApp {
    let manifest = json!({
        "name": format!("App {slug}"), "slug": slug, "description": "Connects your tasks to other tools.",
        "category": "automation", "pricing": {"plan": "free"}, "redirect_uris": [REDIRECT, LOOPBACK],
        "scopes": [
            {"name": "tasks:read", "purpose": "Show your tasks in other tools."},
            {"name": "tasks:write", "purpose": "Create tasks from other tools."},
            {"name": "projects:read", "purpose": "Pick a project."}
        ],
        "events": ["task.created"],
    });
    let (_, app) = server
        .post(
            &dev.key,
            "/v1/apps",
            json!({ "kind": "external", "manifest": manifest.to_string() }),
        )
        .await;
    let app_id = app["id"].as_str().unwrap().to_owned();
    let (_, draft) = server
        .post(
            &dev.key,
            &format!("/v1/apps/{app_id}/versions"),
            json!({ "version": "1.0.0", "manifest": manifest }),
        )
        .await;
    let draft_id = draft["id"].as_str().unwrap();
    server
        .post(
            &dev.key,
            &format!("/v1/apps/{app_id}/versions/{draft_id}/submit"),
            json!({}),
        )
        .await;
    approve(reviewer, draft_id).await;
    let (status, credentials) = server
        .post(&dev.key, &format!("/v1/apps/{app_id}/client-secret"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{credentials}");
    assert_eq!(credentials["client_id"], app_id.as_str());
    let base = &server.base;
    let secret = credentials["client_secret"].as_str().unwrap().to_owned();
    let client = BasicClient::new(ClientId::new(app_id.clone()))
        .set_client_secret(ClientSecret::new(secret.clone()))
        .set_auth_uri(AuthUrl::new(format!("{base}/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{base}/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
        .set_revocation_url(RevocationUrl::new(format!("{base}/oauth/revoke")).unwrap())
        .set_introspection_url(IntrospectionUrl::new(format!("{base}/oauth/introspect")).unwrap());
    ExternalApp {
        id: app_id,
        secret,
        client,
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden inputs of the consent form.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.strip_prefix("name=\"")?.split('"').next()?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), unescape(value)))
        })
        .collect()
}

/// Follows an authorization URL as the signed-in person, approves for `org_id`, and returns
/// the redirect's query parameters.
async fn consent(
    server: &TestServer,
    person: &Browser,
    url: &str,
    org_id: &str,
    decision: &str,
) -> Vec<(String, String)> {
    consent_to(server, person, url, org_id, decision, REDIRECT).await
}

/// [`consent`], for a client whose redirect URI is `redirect`.
async fn consent_to(
    server: &TestServer,
    person: &Browser,
    url: &str,
    org_id: &str,
    decision: &str,
    redirect: &str,
) -> Vec<(String, String)> {
    let res = http()
        .get(url)
        .header("cookie", &person.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Show your tasks in other tools."),
        "the purpose is shown: {html}"
    );
    let mut form = hidden_fields(&html);
    form.push(("org_id".into(), org_id.into()));
    form.push(("decision".into(), decision.into()));
    let res = http()
        .post(format!("{}/oauth/authorize", server.base))
        .header("cookie", &person.cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    redirect_params_to(&res, redirect)
}

fn redirect_params(res: &reqwest::Response) -> Vec<(String, String)> {
    redirect_params_to(res, REDIRECT)
}

fn redirect_params_to(res: &reqwest::Response, redirect: &str) -> Vec<(String, String)> {
    let location = res.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(redirect), "{location}");
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Runs the whole authorization up to the code; returns (code, verifier).
async fn authorize(
    server: &TestServer,
    app: &ExternalApp,
    person: &Browser,
    org_id: &str,
    scopes: &[&str],
) -> (String, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = app.client.authorize_url(CsrfToken::new_random);
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).into()));
    }
    let (url, state) = request.set_pkce_challenge(challenge).url();
    let params = consent(server, person, url.as_str(), org_id, "approve").await;
    assert_eq!(
        param(&params, "state"),
        Some(state.secret().as_str()),
        "{params:?}"
    );
    assert_eq!(
        param(&params, "iss"),
        Some(server.base.as_str()),
        "RFC 9207 issuer"
    );
    (param(&params, "code").expect("a code").to_owned(), verifier)
}

async fn call(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    server.call(token, method, path, body).await
}

/// Exchanges a code with its verifier (the happy path).
async fn exchange(
    app: &ExternalApp,
    code: String,
    verifier: PkceCodeVerifier,
) -> oauth2::basic::BasicTokenResponse {
    app.client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .unwrap()
}

fn is_invalid_grant<E>(
    result: &Result<
        impl std::fmt::Debug,
        RequestTokenError<E, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
    >,
) -> bool
where
    E: std::error::Error + 'static,
{
    matches!(result, Err(RequestTokenError::ServerResponse(r)) if *r.error() == BasicErrorResponseType::InvalidGrant)
}

async fn an_app_is_authorized_with_pkce_and_calls_the_api_within_its_scopes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let dev = server.org("Zap Co").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let app = external_app(&server, &dev, &reviewer, "zap-bridge").await;
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();
    let project = server.project(&tenant.key, "Launch").await;
    server.task(&tenant.key, &project, "Write the plan").await;

    // Metadata (RFC 8414).
    let (status, meta) = server
        .get(&tenant.key, "/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(meta["issuer"], server.base.as_str());
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);

    // Consent for two of the three scopes; the code comes back with state and iss.
    let (code, verifier) = authorize(
        &server,
        &app,
        &admin,
        &tenant.id,
        &["tasks:read", "projects:read"],
    )
    .await;
    let http = http();
    let tokens = exchange(&app, code, verifier).await;
    let access = tokens.access_token().secret().clone();
    assert!(access.starts_with("bzat_"));
    assert_eq!(tokens.expires_in(), Some(Duration::from_secs(3600)));
    let granted: Vec<String> = tokens.scopes().unwrap().iter().map(|s| s.to_string()).collect();
    assert_eq!(granted, vec!["projects:read", "tasks:read"]);

    // The installation exists with the granted scopes.
    let (_, installations) = server.get(&tenant.key, "/v1/installations").await;
    let installation = &installations["data"][0];
    assert_eq!(installation["app_id"], app.id.as_str());
    assert_eq!(
        installation["granted_scopes"],
        json!(["projects:read", "tasks:read"])
    );

    // Within scope: read tasks; outside: 403 naming the scope, with the challenge.
    let (status, tasks) = call(&server, &access, Method::GET, "/v1/tasks", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tasks["data"][0]["title"], "Write the plan");
    let res = server
        .http
        .post(format!("{}/v1/tasks", server.base))
        .bearer_auth(&access)
        .json(&json!({ "project_id": project, "title": "Sneaky" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("tasks:write"),
        "{challenge}"
    );
    let (_, me) = call(&server, &access, Method::GET, "/v1/me", None).await;
    assert_eq!(me["credential"], "oauth");
    assert_eq!(me["organization"]["id"], tenant.id.as_str());
    assert_eq!(me["installation_id"], installation["id"]);

    // Introspection (RFC 7662) tells the app what the token is.
    let info = app
        .client
        .introspect(tokens.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(info.active());
    assert_eq!(info.client_id().map(|c| c.as_str()), Some(app.id.as_str()));

    // Refresh: rotated on every use.
    let refresh = tokens.refresh_token().unwrap().clone();
    let second = app
        .client
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await
        .unwrap();
    assert_ne!(second.refresh_token().unwrap().secret(), refresh.secret());
    let (status, _) = call(
        &server,
        second.access_token().secret(),
        Method::GET,
        "/v1/me",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Reusing the spent refresh token revokes the whole family, the fresh tokens included.
    let reuse = app
        .client
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await;
    assert!(is_invalid_grant(&reuse), "{reuse:?}");
    let (status, _) = call(
        &server,
        second.access_token().secret(),
        Method::GET,
        "/v1/me",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the family is revoked");
    let again = app
        .client
        .exchange_refresh_token(second.refresh_token().unwrap())
        .request_async(&http)
        .await;
    assert!(is_invalid_grant(&again), "{again:?}");

    // A new authorization, then revocation (RFC 7009).
    let (code, verifier) = authorize(&server, &app, &admin, &tenant.id, &["tasks:read"]).await;
    let third = exchange(&app, code, verifier).await;
    let (status, _) = call(
        &server,
        third.access_token().secret(),
        Method::GET,
        "/v1/tasks",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The oauth2 crate refuses a plain-http revocation URL (this server is on loopback), so
    // the RFC 7009 request is made by hand, with client_secret_basic.
    let res = http
        .post(format!("{}/oauth/revoke", server.base))
        .basic_auth(&app.id, Some(&app.secret))
        .form(&[
            ("token", third.refresh_token().unwrap().secret().as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Unknown tokens are "revoked" too (RFC 7009: nothing to tell an attacker).
    let res = http
        .post(format!("{}/oauth/revoke", server.base))
        .basic_auth(&app.id, Some(&app.secret))
        .form(&[("token", "bzrt_unknown")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, _) = call(
        &server,
        third.access_token().secret(),
        Method::GET,
        "/v1/tasks",
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "revoking the refresh token ends its access token too"
    );
    let info = app
        .client
        .introspect(third.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(!info.active());

    // The consent can be denied: the client hears access_denied.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = app
        .client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let params = consent(&server, &admin, url.as_str(), &tenant.id, "deny").await;
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert!(param(&params, "code").is_none());
}

async fn attacks_on_the_authorization_server_fail(backend: Backend) {
    let server = TestServer::start(backend).await;
    let dev = server.org("Zap Co").await;
    let tenant = server.org("Acme").await;
    let other = server.org("Globex").await;
    let reviewer = server.reviewer().await;
    let app = external_app(&server, &dev, &reviewer, "zap-bridge").await;
    let rival = external_app(&server, &dev, &reviewer, "rival-bridge").await;
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();
    let http = http();

    // A redirect URI not registered byte for byte is shown an error page, never redirected to.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let evil = app
        .client
        .clone()
        .set_redirect_uri(RedirectUrl::new("http://localhost:7777/callback/../steal".into()).unwrap());
    let (url, _) = evil
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let res = http
        .get(url.as_str())
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.headers().get("location").is_none());
    assert!(res.text().await.unwrap().contains("redirect_uri"));

    // PKCE is required, and only S256.
    let (url, _) = app.client.authorize_url(CsrfToken::new_random).url();
    let res = http
        .get(url.as_str())
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    let params = redirect_params(&res);
    assert_eq!(param(&params, "error"), Some("invalid_request"));
    assert!(param(&params, "error_description").unwrap().contains("PKCE"));
    let plain = format!(
        "{}&code_challenge={}&code_challenge_method=plain",
        url,
        "a".repeat(43)
    );
    let res = http
        .get(&plain)
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    let params = redirect_params(&res);
    assert_eq!(param(&params, "error"), Some("invalid_request"));
    assert!(param(&params, "error_description").unwrap().contains("S256"));
    // A scope the manifest does not declare.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = app
        .client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("members:write".into()))
        .set_pkce_challenge(challenge)
        .url();
    let res = http
        .get(url.as_str())
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(param(&redirect_params(&res), "error"), Some("invalid_scope"));

    // A wrong verifier fails, and burns the code.
    let (code, verifier) = authorize(&server, &app, &admin, &tenant.id, &["tasks:read"]).await;
    let wrong = app
        .client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(64)))
        .request_async(&http)
        .await;
    assert!(is_invalid_grant(&wrong), "{wrong:?}");
    let late = app
        .client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await;
    assert!(is_invalid_grant(&late), "{late:?}");
    // A missing verifier fails too.
    let (code, _) = authorize(&server, &app, &admin, &tenant.id, &["tasks:read"]).await;
    let missing = app
        .client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http)
        .await;
    assert!(is_invalid_grant(&missing), "{missing:?}");

    // Code replay: the second use fails and revokes what the first one got.
    let (code, verifier) = authorize(&server, &app, &admin, &tenant.id, &["tasks:read"]).await;
    let verifier_copy = PkceCodeVerifier::new(verifier.secret().clone());
    let first = app
        .client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let replay = app
        .client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier_copy)
        .request_async(&http)
        .await;
    assert!(is_invalid_grant(&replay), "{replay:?}");
    let (status, _) = call(
        &server,
        first.access_token().secret(),
        Method::GET,
        "/v1/me",
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "tokens of a replayed code are revoked"
    );

    // A code used by another client.
    let (code, verifier) = authorize(&server, &app, &admin, &tenant.id, &["tasks:read"]).await;
    let stolen = rival
        .client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await;
    assert!(is_invalid_grant(&stolen), "{stolen:?}");
    // A client with a wrong secret is not authenticated at all.
    let impostor = app
        .client
        .clone()
        .set_client_secret(ClientSecret::new("bzcs_wrong".into()));
    let (code, verifier) = authorize(&server, &app, &admin, &tenant.id, &["tasks:read"]).await;
    let res = impostor
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await;
    assert!(
        matches!(&res, Err(RequestTokenError::ServerResponse(r)) if *r.error() == BasicErrorResponseType::InvalidClient),
        "{res:?}"
    );

    // A token of organization A cannot reach B's data.
    let (code, verifier) = authorize(
        &server,
        &app,
        &admin,
        &tenant.id,
        &["tasks:read", "projects:read"],
    )
    .await;
    let tokens = exchange(&app, code, verifier).await;
    let access = tokens.access_token().secret().clone();
    let theirs = server.project(&other.key, "Secret plans").await;
    let (status, _) = call(
        &server,
        &access,
        Method::GET,
        &format!("/v1/projects/{theirs}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = call(&server, &access, Method::GET, "/v1/projects", None).await;
    assert_eq!(list["data"], json!([]));

    // An expired token stops working.
    bazaar::store::query("UPDATE oauth_tokens SET expires_at = 0 WHERE token_hash = $1")
        .bind(bazaar::platform::credentials::token_hash(&access))
        .execute(server.store.writer())
        .await
        .unwrap();
    let (status, body) = call(&server, &access, Method::GET, "/v1/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // Pausing stops tokens at once; resuming brings them back; uninstalling ends them.
    let fresh = app
        .client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .request_async(&http)
        .await
        .unwrap();
    let access = fresh.access_token().secret().clone();
    let (_, installations) = server.get(&tenant.key, "/v1/installations").await;
    let installation = installations["data"][0]["id"].as_str().unwrap().to_owned();
    server
        .post(
            &tenant.key,
            &format!("/v1/installations/{installation}/pause"),
            json!({}),
        )
        .await;
    assert_eq!(
        call(&server, &access, Method::GET, "/v1/me", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    server
        .post(
            &tenant.key,
            &format!("/v1/installations/{installation}/resume"),
            json!({}),
        )
        .await;
    assert_eq!(
        call(&server, &access, Method::GET, "/v1/me", None).await.0,
        StatusCode::OK
    );
    let (status, _) = server
        .call(
            &tenant.key,
            Method::DELETE,
            &format!("/v1/installations/{installation}"),
            None,
        )
        .await;
    assert!(status.is_success());
    assert_eq!(
        call(&server, &access, Method::GET, "/v1/me", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let refreshed = app
        .client
        .exchange_refresh_token(fresh.refresh_token().unwrap())
        .request_async(&http)
        .await;
    assert!(refreshed.is_err(), "uninstalled: no refresh either");
}

async fn zapier_polls_triggers_and_tests_its_connection(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.org("Acme").await;
    let (_, me) = server.get(&tenant.key, "/v1/me").await;
    assert_eq!(me["organization"]["name"], "Acme");
    assert_eq!(me["credential"], "api_key");
    let project = server.project(&tenant.key, "Zaps").await;
    let first = server.task(&tenant.key, &project, "First").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = server.task(&tenant.key, &project, "Second").await;
    let (status, tasks) = server.get(&tenant.key, "/v1/triggers/new-task").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![second["id"].as_str().unwrap(), first["id"].as_str().unwrap()],
        "a bare array, newest first"
    );
    let since = first["created_at"].as_str().unwrap();
    let (_, newer) = server
        .get(
            &tenant.key,
            &format!("/v1/triggers/new-task?since={}", urlencode(since)),
        )
        .await;
    assert_eq!(newer.as_array().unwrap().len(), 1);
    assert_eq!(newer[0]["id"], second["id"]);
    let (_, projects) = server.get(&tenant.key, "/v1/triggers/new-project").await;
    assert_eq!(projects[0]["id"], project.as_str());
    let (status, _) = server.get("bzk_nope", "/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn rate_limits(backend: Backend) {
    let mut config = bazaar::config::Config::default();
    config.rate_limits.plans.insert(
        "standard".into(),
        bazaar::config::PlanLimits {
            per_minute: 60,
            burst: 3,
        },
    );
    let server = TestServer::start_with(backend, config).await;
    let tenant = server.org("Acme").await;
    let neighbour = server.org("Other").await;
    for remaining in ["2", "1", "0"] {
        let res = server
            .http
            .get(format!("{}/v1/me", server.base))
            .bearer_auth(&tenant.key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers();
        assert_eq!(h["x-ratelimit-limit"], "3");
        assert_eq!(h["x-ratelimit-remaining"], remaining);
        assert_eq!(h["ratelimit-policy"], "\"standard\";q=3;w=3");
        assert!(
            h["ratelimit"]
                .to_str()
                .unwrap()
                .starts_with(&format!("\"standard\";r={remaining};t="))
        );
    }
    let res = server
        .http
        .get(format!("{}/v1/projects", server.base))
        .bearer_auth(&tenant.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "1");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another credential has its own bucket; after a second, one more request fits.
    let (status, _) = server.get(&neighbour.key, "/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = server.get(&tenant.key, "/v1/me").await;
    assert_eq!(status, StatusCode::OK);
}
