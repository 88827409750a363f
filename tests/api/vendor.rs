//! A stand-in for a vendor with OAuth 2.0 and an API, on an ephemeral loopback port, shaped
//! like GitHub's: `/login/oauth/authorize` (sends the browser back with a code),
//! `/login/oauth/access_token` (authorization code with PKCE S256 and client authentication,
//! refresh tokens that rotate and can be revoked) and `POST /repos/{owner}/{repo}/issues`, which
//! answers 401 to any token but the current one. Every request is recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "Iv1.bazaar-test";
pub const CLIENT_SECRET: &str = "vendor-client-secret";

/// One request the vendor received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub authorization: Option<String>,
    /// Every header, names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Inner {
    /// code -> (PKCE challenge, redirect_uri)
    codes: HashMap<String, (String, String)>,
    issued: u32,
    access: Option<String>,
    refresh: Option<String>,
    /// Seconds the next access token lives.
    lifetime: u64,
    seen: Vec<Seen>,
    grants: Vec<String>,
    /// Statuses the issues endpoint answers before it creates one (429 with `Retry-After`).
    failures: std::collections::VecDeque<u16>,
    next_issue: u64,
}

#[derive(Clone, Default)]
pub struct Vendor {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl Vendor {
    /// Starts the vendor; its access tokens live `lifetime` seconds.
    pub async fn start(lifetime: u64) -> Vendor {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let vendor = Vendor {
            base: format!("http://{}", listener.local_addr().unwrap()),
            ..Vendor::default()
        };
        vendor.inner.lock().unwrap().lifetime = lifetime;
        let app = axum::Router::new()
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(token))
            .route("/repos/{owner}/{repo}/issues", post(create_issue))
            .with_state(vendor.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        vendor
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }

    /// The grant types of the token requests, in order.
    pub fn grants(&self) -> Vec<String> {
        self.inner.lock().unwrap().grants.clone()
    }

    /// Every token it issued so far (`gho_N`, `ghr_N`), to look for where they must not be.
    pub fn issued_tokens(&self) -> Vec<String> {
        let n = self.inner.lock().unwrap().issued;
        (1..=n)
            .flat_map(|i| [format!("gho_{i}"), format!("ghr_{i}")])
            .collect()
    }

    /// The issues endpoint answers these statuses first, one per request.
    pub fn fail_with(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().failures.extend(statuses);
    }

    /// How long the access tokens issued from now on live.
    pub fn set_lifetime(&self, seconds: u64) {
        self.inner.lock().unwrap().lifetime = seconds;
    }

    /// The tenant revokes Bazaar at the vendor: tokens stop working, refreshes are refused.
    pub fn revoke(&self) {
        let mut inner = self.inner.lock().unwrap();
        inner.access = None;
        inner.refresh = None;
    }
}

fn record(vendor: &Vendor, path: String, headers: &HeaderMap, body: String) {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    vendor.inner.lock().unwrap().seen.push(Seen {
        path,
        authorization,
        headers,
        body,
    });
}

async fn authorize(State(vendor): State<Vendor>, Query(q): Query<HashMap<String, String>>) -> Response {
    let field = |k: &str| q.get(k).cloned().unwrap_or_default();
    if field("client_id") != CLIENT_ID
        || field("code_challenge_method") != "S256"
        || field("response_type") != "code"
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = format!("code-{}", vendor.inner.lock().unwrap().codes.len() + 1);
    vendor
        .inner
        .lock()
        .unwrap()
        .codes
        .insert(code.clone(), (field("code_challenge"), field("redirect_uri")));
    let back = format!(
        "{}?code={code}&state={}",
        field("redirect_uri"),
        url::form_urlencoded::byte_serialize(field("state").as_bytes()).collect::<String>()
    );
    Redirect::to(&back).into_response()
}

fn client_authenticated(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    match basic {
        Some(pair) => pair == format!("{CLIENT_ID}:{CLIENT_SECRET}"),
        None => {
            form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
        }
    }
}

fn issue(inner: &mut Inner) -> serde_json::Value {
    inner.issued += 1;
    let access = format!("gho_{}", inner.issued);
    let refresh = format!("ghr_{}", inner.issued);
    inner.access = Some(access.clone());
    inner.refresh = Some(refresh.clone());
    json!({ "access_token": access, "token_type": "bearer", "expires_in": inner.lifetime, "refresh_token": refresh, "scope": "repo" })
}

async fn token(
    State(vendor): State<Vendor>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let refused =
        |error: &str| (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": error }))).into_response();
    if !client_authenticated(&headers, &form) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    let mut inner = vendor.inner.lock().unwrap();
    inner.grants.push(grant.clone());
    match grant.as_str() {
        "authorization_code" => {
            let Some((challenge, redirect_uri)) = form.get("code").and_then(|c| inner.codes.remove(c)) else {
                return refused("invalid_grant");
            };
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let derived =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if derived != challenge || form.get("redirect_uri") != Some(&redirect_uri) {
                return refused("invalid_grant");
            }
            axum::Json(issue(&mut inner)).into_response()
        }
        "refresh_token" => {
            if inner.refresh.is_none() || form.get("refresh_token") != inner.refresh.as_ref() {
                return refused("invalid_grant");
            }
            axum::Json(issue(&mut inner)).into_response()
        }
        _ => refused("unsupported_grant_type"),
    }
}

async fn create_issue(
    State(vendor): State<Vendor>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    record(&vendor, format!("/repos/{owner}/{repo}/issues"), &headers, body);
    let mut inner = vendor.inner.lock().unwrap();
    let presented = headers.get("authorization").and_then(|v| v.to_str().ok());
    if inner
        .access
        .as_ref()
        .is_none_or(|token| presented != Some(&format!("Bearer {token}")))
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "message": "Bad credentials" })),
        )
            .into_response();
    }
    if let Some(status) = inner.failures.pop_front() {
        let status = StatusCode::from_u16(status).unwrap();
        return (
            status,
            [("retry-after", "0")],
            axum::Json(json!({ "message": "try later" })),
        )
            .into_response();
    }
    inner.next_issue += 1;
    let number = inner.next_issue;
    (
        StatusCode::CREATED,
        axum::Json(json!({ "number": number, "state": "open" })),
    )
        .into_response()
}
