//! The OAuth endpoints: `/oauth/authorize` (consent page), `/oauth/token`, `/oauth/revoke`,
//! `/oauth/introspect`, `/.well-known/oauth-authorization-server`, and the developer's
//! `POST /v1/apps/{id}/client-secret`.
//!
//! Errors follow RFC 6749: a bad client or redirect URI is shown on the page (never
//! redirected, so an attacker cannot use Bazaar as an open redirector); every other authorize
//! error is redirected to the client with `error`, `state` and `iss` (RFC 9207).

use std::collections::HashMap;

use super::json::Json;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{Authorized, SESSION_COOKIE, need};
use super::error::{ApiError, ErrorBody};
use crate::AppState;
use crate::catalog::apps::{self, App, AppKind, Version};
use crate::oauth::{ErrorResponse, OAuthError, clients, grants};
use crate::platform::credentials::{self, SESSION_LIFETIME_MS, SessionIdentity};
use crate::platform::orgs::{self, Role};
use crate::platform::{Scope, ScopeSet};

type Params = HashMap<String, String>;

/// The form body of `/oauth/token`, `/oauth/revoke` and `/oauth/introspect`. Anything else (a
/// JSON body, no Content-Type, a body that does not parse) is RFC 6749 §5.2's 400
/// `invalid_request` in JSON with `Cache-Control: no-store`, not the framework's plain-text
/// 415, which OAuth client libraries cannot read.
pub struct TokenForm(pub Params);

impl<S: Send + Sync> axum::extract::FromRequest<S> for TokenForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let form_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        if !form_type {
            return Err(token_error(OAuthError::InvalidRequest(
                "send the parameters as application/x-www-form-urlencoded (RFC 6749 §3.2)".into(),
            )));
        }
        match Form::<Params>::from_request(req, state).await {
            Ok(Form(params)) => Ok(TokenForm(params)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(rejection.into_response())
            }
            Err(rejection) => Err(token_error(OAuthError::InvalidRequest(format!(
                "the form body could not be read: {}",
                rejection.body_text()
            )))),
        }
    }
}

/// The issuer, fixed when the server started (see [`AppState::issuer`]).
fn issuer(state: &AppState) -> String {
    state.issuer.to_string()
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} · Bazaar</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}}\
         li{{margin:.4rem 0}} .purpose{{color:#555}} button{{font:inherit;padding:.5rem 1rem;margin-right:.5rem}}\
         .error{{color:#a00}} label{{display:block;margin:.6rem 0}} input,select{{font:inherit;padding:.3rem;width:100%}}</style></head>\
         <body><main>{body}</main></body></html>",
        title = esc(title)
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https: http:; frame-ancestors 'none'"),
    );
    response
}

fn error_page(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Cannot authorize",
        &format!(
            "<h1>This app cannot be authorized</h1><p class=\"error\">{}</p>",
            esc(message)
        ),
    )
}

/// A validated authorization request.
struct AuthRequest {
    app: App,
    version: Version,
    redirect_uri: String,
    scopes: ScopeSet,
    state: Option<String>,
    code_challenge: String,
}

enum Refusal {
    /// Shown on the page: the client or the redirect URI cannot be trusted.
    Page(String),
    /// Redirected to the client.
    Redirect {
        uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
}

async fn validate(
    state: &AppState,
    q: &Params,
    session: Option<&SessionIdentity>,
) -> Result<AuthRequest, Refusal> {
    let client_id = q
        .get("client_id")
        .ok_or_else(|| Refusal::Page("client_id is missing".into()))?;
    let app = apps::get(&state.store, client_id)
        .await
        .map_err(|_| Refusal::Page("unknown client_id".into()))?;
    if app.kind != AppKind::External {
        return Err(Refusal::Page(format!("{} is not an external app", app.name)));
    }
    if app.status != "active" {
        return Err(Refusal::Page(format!("{} is suspended", app.name)));
    }
    // The published version, or, for its own developers, the latest one (sandbox).
    let developer = match session {
        Some(s) => orgs::memberships_of(&state.store, &s.user_id)
            .await
            .map(|m| m.iter().any(|(org, _)| org.id == app.owner_org_id))
            .unwrap_or(false),
        None => false,
    };
    let version = match (&app.published_version_id, developer) {
        (_, true) => apps::versions(&state.store, &app.id, false)
            .await
            .ok()
            .and_then(|v| v.into_iter().next()),
        (Some(id), false) => apps::version(&state.store, id).await.ok(),
        (None, false) => None,
    }
    .ok_or_else(|| Refusal::Page(format!("{} is not published", app.name)))?;
    let redirect_uri = q
        .get("redirect_uri")
        .ok_or_else(|| Refusal::Page("redirect_uri is missing".into()))?;
    if !clients::redirect_uri_registered(&version.manifest.redirect_uris, redirect_uri) {
        return Err(Refusal::Page(
            "redirect_uri is not one of the app's registered redirect URIs".into(),
        ));
    }
    let st = q.get("state").cloned();
    let refuse = |error: &'static str, description: &str| Refusal::Redirect {
        uri: redirect_uri.clone(),
        error,
        description: description.into(),
        state: st.clone(),
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return Err(refuse(
            "unsupported_response_type",
            "response_type must be `code`",
        ));
    }
    let Some(code_challenge) = q.get("code_challenge").filter(|c| !c.is_empty()) else {
        return Err(refuse(
            "invalid_request",
            "PKCE is required: send code_challenge with S256",
        ));
    };
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return Err(refuse(
            "invalid_request",
            "code_challenge_method must be S256 (plain is not accepted)",
        ));
    }
    if !(43..=128).contains(&code_challenge.len()) {
        return Err(refuse(
            "invalid_request",
            "code_challenge must be a base64url SHA-256",
        ));
    }
    let offered = version.manifest.scope_set();
    let scopes = match q.get("scope").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => offered,
        Some(asked) => {
            let asked = ScopeSet::parse_text(asked).map_err(|e| refuse("invalid_scope", &e.to_string()))?;
            if !offered.covers(asked) {
                return Err(refuse(
                    "invalid_scope",
                    "the request asks for scopes the app's manifest does not declare",
                ));
            }
            asked
        }
    };
    Ok(AuthRequest {
        app,
        version,
        redirect_uri: redirect_uri.clone(),
        scopes,
        state: st,
        code_challenge: code_challenge.clone(),
    })
}

fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> Response {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs {
                    query.append_pair(k, v);
                }
            }
            Redirect::to(url.as_str()).into_response()
        }
        Err(_) => error_page("the redirect URI is not a URL"),
    }
}

fn refused(refusal: Refusal, iss: &str) -> Response {
    match refusal {
        Refusal::Page(message) => error_page(&message),
        Refusal::Redirect {
            uri,
            error,
            description,
            state,
        } => {
            let mut pairs = vec![
                ("error", error),
                ("error_description", description.as_str()),
                ("iss", iss),
            ];
            if let Some(s) = &state {
                pairs.push(("state", s));
            }
            redirect_with(&uri, &pairs)
        }
    }
}

async fn session(state: &AppState, headers: &HeaderMap) -> Option<SessionIdentity> {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())?;
    credentials::authenticate_session(&state.store, &cookie)
        .await
        .ok()
        .flatten()
}

fn hidden(q: &Params) -> String {
    [
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
    ]
    .iter()
    .filter_map(|k| {
        q.get(*k)
            .map(|v| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(v)))
    })
    .collect()
}

/// The authorization endpoint: sign-in if needed, then the consent page. Approving redirects
/// to `redirect_uri` with `code`, `state` and `iss`; a bad client or redirect URI is shown on
/// the page, never redirected to.
#[utoipa::path(get, path = "/oauth/authorize", tag = "oauth",
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query, description = "The app id"),
        ("redirect_uri" = String, Query, description = "One the manifest registers, byte for byte (a loopback URI registered without a port matches any port)"),
        ("scope" = Option<String>, Query, description = "Space-separated; the manifest's scopes when absent"),
        ("state" = Option<String>, Query, description = "Returned unchanged"),
        ("code_challenge" = String, Query, description = "base64url(SHA-256(code_verifier))"),
        ("code_challenge_method" = String, Query, description = "`S256` (plain is refused)"),
    ),
    responses((status = 200, description = "The sign-in or consent page (HTML)"),
        (status = 303, description = "Back to the client's redirect URI with `code` or `error`")))]
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    let iss = issuer(&state);
    let who = session(&state, &headers).await;
    let request = match validate(&state, &q, who.as_ref()).await {
        Ok(request) => request,
        Err(refusal) => return refused(refusal, &iss),
    };
    let Some(who) = who else {
        return sign_in_page(&request.app.name, &q, None);
    };
    let orgs: Vec<_> = orgs::memberships_of(&state.store, &who.user_id)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, role)| matches!(role, Role::Owner | Role::Admin))
        .collect();
    if orgs.is_empty() {
        return error_page("only an owner or admin of an organization can install apps");
    }
    let purposes: HashMap<&str, &str> = request
        .version
        .manifest
        .scopes
        .iter()
        .map(|s| (s.name.as_str(), s.purpose.as_str()))
        .collect();
    let scopes: String = request
        .scopes
        .iter()
        .map(|s: Scope| {
            format!(
                "<li><strong>{}</strong> — {}<br><span class=\"purpose\">Why: {}</span></li>",
                esc(s.as_str()),
                esc(s.describe()),
                esc(purposes.get(s.as_str()).copied().unwrap_or("not explained"))
            )
        })
        .collect();
    let options: String = orgs
        .iter()
        .map(|(org, _)| {
            let selected = if org.id == who.org_id { " selected" } else { "" };
            format!(
                "<option value=\"{}\"{selected}>{}</option>",
                esc(&org.id),
                esc(&org.name)
            )
        })
        .collect();
    let body = format!(
        "<h1>Allow {app} to access your organization?</h1>\
         <p>{app} ({desc}) asks to:</p><ul>{scopes}</ul>\
         <form method=\"post\" action=\"/oauth/authorize\">{hidden}\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
         <label>Organization <select name=\"org_id\">{options}</select></label>\
         <p>You can pause or uninstall it at any time.</p>\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        app = esc(&request.app.name),
        desc = esc(&request.app.description),
        hidden = hidden(&q),
        csrf = esc(&who.csrf_token),
    );
    page(StatusCode::OK, "Authorize", &body)
}

fn sign_in_page(app: &str, q: &Params, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign in to continue to {app}</h1>{error}\
         <form method=\"post\" action=\"/oauth/sign-in\">{hidden}\
         <label>Email <input name=\"email\" type=\"email\" autocomplete=\"username\" required></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">Sign in</button></form>",
        app = esc(app),
        hidden = hidden(q),
    );
    page(
        if error.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        },
        "Sign in",
        &body,
    )
}

/// Signs in from the authorization page and returns to it.
pub async fn sign_in(State(state): State<AppState>, Form(mut form): Form<Params>) -> Response {
    let email = form.remove("email").unwrap_or_default();
    let password = form.remove("password").unwrap_or_default();
    let app = form.get("client_id").cloned().unwrap_or_default();
    match credentials::sign_in(&state.store, &email, &password, None).await {
        Ok(session) => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.iter())
                .finish();
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={}",
                session.token,
                SESSION_LIFETIME_MS / 1000
            );
            let mut response = Redirect::to(&format!("/oauth/authorize?{query}")).into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(_) => sign_in_page(&app, &form, Some("wrong email or password")),
    }
}

/// The consent decision.
pub async fn decide(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<Params>) -> Response {
    let iss = issuer(&state);
    let Some(who) = session(&state, &headers).await else {
        return error_page("your session ended; start the authorization again");
    };
    let sent = form.get("csrf_token").map(String::as_str).unwrap_or_default();
    if sent.len() != who.csrf_token.len()
        || sent
            .bytes()
            .zip(who.csrf_token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
    {
        return page(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "<h1>This form expired</h1><p class=\"error\">The form's security token does not match your session.</p>",
        );
    }
    let request = match validate(&state, &form, Some(&who)).await {
        Ok(request) => request,
        Err(refusal) => return refused(refusal, &iss),
    };
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let finish = |mut pairs: Vec<(&str, String)>, request: &AuthRequest| {
        pairs.push(("iss", iss.clone()));
        if let Some(s) = &request.state {
            pairs.push(("state", s.clone()));
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        redirect_with(&request.redirect_uri, &pairs)
    };
    if form.get("decision").map(String::as_str) != Some("approve") {
        pairs.push(("error", "access_denied".into()));
        pairs.push(("error_description", "the user denied the request".into()));
        return finish(pairs, &request);
    }
    let org_id = form.get("org_id").cloned().unwrap_or_default();
    let role = orgs::memberships_of(&state.store, &who.user_id)
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|(org, _)| org.id == org_id)
        .map(|(_, role)| role);
    if !matches!(role, Some(Role::Owner | Role::Admin)) {
        return page(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "<h1>Not allowed</h1><p class=\"error\">Only an owner or admin of that organization can install apps.</p>",
        );
    }
    let installed = crate::installs::authorize_external(
        &state.store,
        &org_id,
        &who.user_id,
        &request.app,
        &request.version,
        request.scopes,
    )
    .await;
    let installation_id = match installed {
        Ok(id) => id,
        Err(e) => return error_page(&e.to_string()),
    };
    let approval = grants::Approval {
        app_id: &request.app.id,
        org_id: &org_id,
        user_id: &who.user_id,
        installation_id: &installation_id,
        redirect_uri: &request.redirect_uri,
        scopes: request.scopes,
        code_challenge: &request.code_challenge,
    };
    match grants::issue_code(&state.store, &approval).await {
        Ok(code) => {
            pairs.push(("code", code));
            finish(pairs, &request)
        }
        Err(e) => {
            tracing::error!(error = %e, "issuing an authorization code failed");
            pairs.push(("error", "server_error".into()));
            finish(pairs, &request)
        }
    }
}

fn token_error(e: OAuthError) -> Response {
    let status = match e {
        OAuthError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
        OAuthError::ServerError(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = ErrorResponse {
        error: e.code(),
        error_description: e.to_string(),
    };
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"bazaar\""),
        );
    }
    response
}

fn no_store(body: impl Serialize) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Client authentication: `client_secret_basic` or `client_secret_post`, never both.
async fn client(state: &AppState, headers: &HeaderMap, form: &Params) -> Result<String, OAuthError> {
    let (id, secret) = client_credentials(headers, form)?;
    clients::authenticate(&state.store, &id, &secret).await?;
    Ok(id)
}

/// The client credentials a request presents (not yet checked).
fn client_credentials(headers: &HeaderMap, form: &Params) -> Result<(String, String), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .map(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|raw| String::from_utf8(raw).ok())
                .and_then(|pair| {
                    let (id, secret) = pair.split_once(':')?;
                    let decode = |s: &str| {
                        url::form_urlencoded::parse(format!("x={s}").as_bytes())
                            .next()
                            .map(|(_, v)| v.into_owned())
                    };
                    Some((decode(id)?, decode(secret)?))
                })
                .ok_or_else(|| OAuthError::InvalidClient("the Basic credentials are malformed".into()))
        })
        .transpose()?;
    let posted = form.get("client_secret");
    let (id, secret) = match (basic, posted) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::InvalidRequest(
                "use one client authentication method, not two".into(),
            ));
        }
        (Some(pair), None) => pair,
        (None, Some(secret)) => (form.get("client_id").cloned().unwrap_or_default(), secret.clone()),
        (None, None) => {
            return Err(OAuthError::InvalidClient(
                "client authentication is required (client_secret_basic or client_secret_post)".into(),
            ));
        }
    };
    if let Some(named) = form.get("client_id")
        && *named != id
    {
        return Err(OAuthError::InvalidClient(
            "client_id does not match the credentials".into(),
        ));
    }
    Ok((id, secret))
}

/// The form of `POST /oauth/token`: the fields of the grant named by `grant_type`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// `authorization_code` or `refresh_token`.
    grant_type: String,
    /// authorization_code: the code from the redirect (single use, 10 minutes).
    code: Option<String>,
    /// authorization_code: the redirect URI of the authorization request.
    redirect_uri: Option<String>,
    /// authorization_code: the PKCE verifier whose S256 hash was the `code_challenge`.
    code_verifier: Option<String>,
    /// refresh_token: the refresh token; it is rotated, and a spent one revokes its family.
    refresh_token: Option<String>,
    /// refresh_token: a narrower set of the granted scopes, space-separated.
    scope: Option<String>,
    /// client_secret_post: the app id.
    client_id: Option<String>,
    /// client_secret_post: the client secret (or send both with HTTP Basic instead).
    client_secret: Option<String>,
}

/// The form of `POST /oauth/revoke` and `POST /oauth/introspect`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenQuery {
    /// An access or refresh token of this client.
    token: String,
    /// `access_token` or `refresh_token` (optional; both are looked up).
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The token endpoint.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = crate::oauth::grants::TokenResponse),
        (status = 400, description = "RFC 6749 §5.2 error", body = crate::oauth::ErrorResponse),
        (status = 401, description = "invalid_client", body = crate::oauth::ErrorResponse)))]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    TokenForm(form): TokenForm,
) -> Response {
    let get = |k: &str| form.get(k).map(String::as_str);
    let (client_id, secret) = match client_credentials(&headers, &form) {
        Ok(pair) => pair,
        Err(e) => return token_error(e),
    };
    // The refresh grant checks the client in the same read as the token (the hot path).
    if get("grant_type") == Some("refresh_token") {
        let result = match get("refresh_token") {
            Some(token) => grants::refresh(&state.store, &client_id, &secret, token, get("scope")).await,
            None => Err(OAuthError::InvalidRequest("refresh_token is missing".into())),
        };
        return match result {
            Ok(tokens) => no_store(tokens),
            Err(e) => token_error(e),
        };
    }
    if let Err(e) = clients::authenticate(&state.store, &client_id, &secret).await {
        return token_error(e);
    }
    let result = match get("grant_type") {
        Some("authorization_code") => match get("code") {
            Some(code) => {
                grants::exchange_code(
                    &state.store,
                    &client_id,
                    code,
                    get("redirect_uri"),
                    get("code_verifier"),
                )
                .await
            }
            None => Err(OAuthError::InvalidRequest("code is missing".into())),
        },
        Some(other) => Err(OAuthError::UnsupportedGrantType(format!(
            "grant_type `{other}` is not supported; use authorization_code or refresh_token"
        ))),
        None => Err(OAuthError::InvalidRequest("grant_type is missing".into())),
    };
    match result {
        Ok(tokens) => no_store(tokens),
        Err(e) => token_error(e),
    }
}

/// Token revocation (RFC 7009). Revoking a refresh token ends its whole family.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content = TokenQuery, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Revoked (or already unknown)"),
        (status = 400, body = crate::oauth::ErrorResponse), (status = 401, body = crate::oauth::ErrorResponse)))]
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    TokenForm(form): TokenForm,
) -> Response {
    let client_id = match client(&state, &headers, &form).await {
        Ok(id) => id,
        Err(e) => return token_error(e),
    };
    let Some(token) = form.get("token") else {
        return token_error(OAuthError::InvalidRequest("token is missing".into()));
    };
    match grants::revoke(&state.store, &client_id, token).await {
        Ok(()) => no_store(serde_json::json!({})),
        Err(e) => token_error(e.into()),
    }
}

/// Token introspection (RFC 7662), for the app's own tokens.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    request_body(content = TokenQuery, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = crate::oauth::grants::Introspection),
        (status = 400, body = crate::oauth::ErrorResponse), (status = 401, body = crate::oauth::ErrorResponse)))]
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    TokenForm(form): TokenForm,
) -> Response {
    let client_id = match client(&state, &headers, &form).await {
        Ok(id) => id,
        Err(e) => return token_error(e),
    };
    let Some(token) = form.get("token") else {
        return token_error(OAuthError::InvalidRequest("token is missing".into()));
    };
    match grants::introspect(&state.store, &client_id, token).await {
        Ok(answer) => no_store(answer),
        Err(e) => token_error(e.into()),
    }
}

/// Authorization server metadata (RFC 8414).
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    responses((status = 200, description = "The issuer, endpoints, supported grants and scopes", body = Object)))]
pub async fn metadata(State(state): State<AppState>) -> Response {
    let iss = issuer(&state);
    let scopes: Vec<&str> = crate::policy::app_scopes().iter().map(Scope::as_str).collect();
    Json(serde_json::json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth/authorize"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "revocation_endpoint": format!("{iss}/oauth/revoke"),
        "introspection_endpoint": format!("{iss}/oauth/introspect"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": scopes,
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": format!("{iss}/v1/openapi.json"),
    }))
    .into_response()
}

/// An external app's OAuth client credentials; the secret is shown once.
#[derive(Serialize, ToSchema)]
pub struct ClientCredentials {
    pub client_id: String,
    /// `bzcs_...`; a new one replaces the old at once.
    pub client_secret: String,
}

/// Create or replace the OAuth client secret of one of the organization's external apps.
#[utoipa::path(post, path = "/v1/apps/{id}/client-secret", tag = "apps",
    params(("id" = String, Path, description = "App id")),
    security(("bearer" = ["apps:write"]), ("session" = ["apps:write"])),
    responses((status = 201, body = ClientCredentials), (status = "4XX", body = ErrorBody)))]
pub async fn client_secret(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::AppsWrite>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ClientCredentials>), ApiError> {
    let app = apps::get(&state.store, &id).await?;
    if app.owner_org_id != who.org_id {
        return Err(ApiError::NotFound("app".into()));
    }
    if app.kind != AppKind::External {
        return Err(ApiError::Invalid("only external apps are OAuth clients".into()));
    }
    let secret = clients::new_secret(&state.store, &app.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(ClientCredentials {
            client_id: app.id,
            client_secret: secret,
        }),
    ))
}
