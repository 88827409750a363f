//! Connections of an installation: the accounts (OAuth 2.0) and keys a tenant connected for an
//! app, which the host attaches to the plugin's requests for the connection's hosts.
//!
//! Bazaar is the OAuth client: the developer registers a client at the vendor and gives Bazaar
//! its id and secret ([`set_client`]); the tenant signs in at the vendor ([`begin_sign_in`],
//! [`finish_sign_in`], state and PKCE checked, the state used once within ten minutes); the
//! tokens are sealed at rest and refreshed a minute before they expire ([`credential`]). A
//! credential leaves this module only as the header value the `connections` capability sends;
//! nothing returns it to an API caller, a page or the guest.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use oauth2::basic::BasicErrorResponseType;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RequestTokenError, TokenResponse, TokenUrl,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::platform::{PlatformError, Result, format_time};
use crate::policy::connections::{ConnectionKind, ConnectionSpec};
use crate::policy::egress::{EgressRefusal, HttpPolicy};
use crate::secrets::Secrets;
use crate::store::{Store, now_ms};

/// How long a sign-in at the vendor may take.
const SIGN_IN_TTL_MS: i64 = 10 * 60 * 1000;
/// Tokens are refreshed this long before they expire.
const REFRESH_MARGIN_MS: i64 = 60 * 1000;

/// A connection as the tenant sees it on the installed-app page: never its credential.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectionHealth {
    pub name: String,
    pub title: String,
    pub kind: ConnectionKind,
    pub hosts: Vec<String>,
    /// `not-connected`, `connected`, or `rejected` (the vendor refused the credential: connect
    /// again).
    pub state: String,
    /// What went wrong last, in words.
    pub problem: Option<String>,
    /// The account connected, when the vendor said.
    pub account: Option<String>,
    /// When the access token expires (OAuth 2.0), RFC 3339.
    pub expires_at: Option<String>,
    pub connected_at: Option<String>,
    pub refreshed_at: Option<String>,
    /// OAuth 2.0: whether the developer has given Bazaar the app's client at the vendor (without
    /// it, tenants cannot connect yet).
    pub ready: bool,
}

/// Why a request cannot carry a connection's credential.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("the tenant has not connected `{0}` yet: they connect it on the installed app's page")]
    NotConnected(String),
    #[error("`{name}` must be connected again on the installed app's page: {problem}")]
    Rejected { name: String, problem: String },
    #[error("the connection `{name}` could not be refreshed for now: {problem}")]
    Unavailable { name: String, problem: String },
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

#[derive(serde::Deserialize)]
struct Row {
    name: String,
    secret: String,
    refresh_token: Option<String>,
    expires_at: Option<i64>,
    account: Option<String>,
    state: String,
    problem: Option<String>,
    connected_at: i64,
    refreshed_at: Option<i64>,
}

async fn row(store: &Store, installation_id: &str, name: &str) -> Result<Option<Row>> {
    Ok(crate::store::query_as::<Row>(
        "SELECT name, secret, refresh_token, expires_at, account, state, problem, connected_at, refreshed_at \
         FROM installation_connections WHERE installation_id = $1 AND name = $2",
    )
    .bind(installation_id)
    .bind(name)
    .fetch_optional(store.reader())
    .await?)
}

/// Whether connection `name` is connected (and usable), and its account when the vendor said.
pub async fn status(store: &Store, installation_id: &str, name: &str) -> Result<(bool, Option<String>)> {
    Ok(match row(store, installation_id, name).await? {
        Some(row) => (row.state == "connected", row.account),
        None => (false, None),
    })
}

/// Every connection the app declares, with what the tenant connected.
pub async fn health(
    store: &Store,
    installation_id: &str,
    app_id: &str,
    specs: &[ConnectionSpec],
) -> Result<Vec<ConnectionHealth>> {
    let rows: Vec<Row> = crate::store::query_as(
        "SELECT name, secret, refresh_token, expires_at, account, state, problem, connected_at, refreshed_at \
         FROM installation_connections WHERE installation_id = $1",
    )
    .bind(installation_id)
    .fetch_all(store.reader())
    .await?;
    let clients: Vec<(String,)> =
        crate::store::query_as("SELECT name FROM app_connection_clients WHERE app_id = $1")
            .bind(app_id)
            .fetch_all(store.reader())
            .await?;
    Ok(specs
        .iter()
        .map(|spec| {
            let row = rows.iter().find(|r| r.name == spec.name);
            ConnectionHealth {
                name: spec.name.clone(),
                title: spec.title.clone(),
                kind: spec.kind,
                hosts: spec.hosts.clone(),
                state: row.map_or("not-connected", |r| r.state.as_str()).to_owned(),
                problem: row.and_then(|r| r.problem.clone()),
                account: row.and_then(|r| r.account.clone()),
                expires_at: row.and_then(|r| r.expires_at).map(format_time),
                connected_at: row.map(|r| format_time(r.connected_at)),
                refreshed_at: row.and_then(|r| r.refreshed_at).map(format_time),
                ready: spec.kind == ConnectionKind::ApiKey || clients.iter().any(|(n,)| *n == spec.name),
            }
        })
        .collect())
}

/// The developer's OAuth client at the vendor for the connection `name` of `app_id`.
pub async fn set_client(
    store: &Store,
    secrets: &Secrets,
    app_id: &str,
    name: &str,
    client_id: &str,
    client_secret: Option<&str>,
) -> Result<()> {
    if client_id.trim().is_empty() || client_id.len() > 500 {
        return Err(PlatformError::Invalid(
            "client_id must be 1 to 500 characters".into(),
        ));
    }
    crate::store::query(
        "INSERT INTO app_connection_clients (app_id, name, client_id, client_secret, updated_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (app_id, name) DO UPDATE SET client_id = excluded.client_id, \
         client_secret = excluded.client_secret, updated_at = excluded.updated_at",
    )
    .bind(app_id)
    .bind(name)
    .bind(client_id.trim())
    .bind(client_secret.map(|s| secrets.seal(s)))
    .bind(now_ms())
    .execute(store.writer())
    .await?;
    Ok(())
}

/// Keeps the API key the tenant entered for an `api-key` connection.
pub async fn set_key(
    store: &Store,
    secrets: &Secrets,
    installation_id: &str,
    spec: &ConnectionSpec,
    key: &str,
) -> Result<()> {
    if spec.kind != ConnectionKind::ApiKey {
        return Err(PlatformError::Invalid(format!(
            "`{}` is connected by signing in, not with a key",
            spec.name
        )));
    }
    let key = key.trim();
    if key.is_empty() || key.len() > 4096 || key.chars().any(char::is_control) {
        return Err(PlatformError::Invalid(
            "the key must be 1 to 4096 characters, without line breaks".into(),
        ));
    }
    save(
        store,
        installation_id,
        &spec.name,
        &secrets.seal(key),
        None,
        None,
        None,
    )
    .await
}

/// Keeps `secret` as the credential of connection `name`, with no expiry: a sandbox run's token
/// or key.
pub async fn keep(
    store: &Store,
    secrets: &Secrets,
    installation_id: &str,
    name: &str,
    secret: &str,
) -> Result<()> {
    save(
        store,
        installation_id,
        name,
        &secrets.seal(secret),
        None,
        None,
        None,
    )
    .await
}

async fn save(
    store: &Store,
    installation_id: &str,
    name: &str,
    sealed_secret: &str,
    sealed_refresh: Option<String>,
    expires_at: Option<i64>,
    account: Option<String>,
) -> Result<()> {
    crate::store::query(
        "INSERT INTO installation_connections \
         (installation_id, name, secret, refresh_token, expires_at, account, state, problem, connected_at, refreshed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'connected', NULL, $7, NULL) \
         ON CONFLICT (installation_id, name) DO UPDATE SET secret = excluded.secret, \
         refresh_token = excluded.refresh_token, expires_at = excluded.expires_at, account = excluded.account, \
         state = 'connected', problem = NULL, connected_at = excluded.connected_at, refreshed_at = NULL",
    )
    .bind(installation_id)
    .bind(name)
    .bind(sealed_secret)
    .bind(sealed_refresh)
    .bind(expires_at)
    .bind(account)
    .bind(now_ms())
    .execute(store.writer())
    .await?;
    Ok(())
}

/// Forgets what the tenant connected for `name`.
pub async fn disconnect(store: &Store, installation_id: &str, name: &str) -> Result<()> {
    crate::store::query("DELETE FROM installation_connections WHERE installation_id = $1 AND name = $2")
        .bind(installation_id)
        .bind(name)
        .execute(store.writer())
        .await?;
    Ok(())
}

/// Records that the vendor refused the credential: the tenant must connect again.
pub async fn mark_rejected(store: &Store, installation_id: &str, name: &str, problem: &str) -> Result<()> {
    crate::store::query(
        "UPDATE installation_connections SET state = 'rejected', problem = $3 \
         WHERE installation_id = $1 AND name = $2",
    )
    .bind(installation_id)
    .bind(name)
    .bind(problem)
    .execute(store.writer())
    .await?;
    Ok(())
}

/// Deletes every connection of an uninstalled installation.
pub async fn forget(
    conn: &mut crate::store::Conn,
    installation_id: &str,
) -> std::result::Result<(), crate::store::Error> {
    for table in ["installation_connections", "connection_sign_ins"] {
        crate::store::query(&format!("DELETE FROM {table} WHERE installation_id = $1"))
            .bind(installation_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The OAuth client of `app_id` for the connection `spec`, with Bazaar's callback.
struct Client {
    inner: oauth2::Client<
        oauth2::basic::BasicErrorResponse,
        oauth2::basic::BasicTokenResponse,
        oauth2::basic::BasicTokenIntrospectionResponse,
        oauth2::StandardRevocableToken,
        oauth2::basic::BasicRevocationErrorResponse,
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    /// Token requests: no redirects, public addresses only (unless the server allows private
    /// ones for development).
    http: reqwest::Client,
    token_url: String,
    allow_private: bool,
}

async fn client(
    store: &Store,
    secrets: &Secrets,
    app_id: &str,
    spec: &ConnectionSpec,
    issuer: &str,
    allow_private: bool,
) -> Result<Client> {
    let (authorize_url, token_url) = match (&spec.authorize_url, &spec.token_url) {
        (Some(a), Some(t)) if spec.kind == ConnectionKind::Oauth2 => (a.clone(), t.clone()),
        _ => {
            return Err(PlatformError::Invalid(format!(
                "`{}` is not an OAuth 2.0 connection",
                spec.name
            )));
        }
    };
    let registered: Option<(String, Option<String>)> = crate::store::query_as(
        "SELECT client_id, client_secret FROM app_connection_clients WHERE app_id = $1 AND name = $2",
    )
    .bind(app_id)
    .bind(&spec.name)
    .fetch_optional(store.reader())
    .await?;
    let Some((client_id, sealed_secret)) = registered else {
        return Err(PlatformError::Conflict(format!(
            "the app's developer has not set up `{}` yet: it cannot be connected for now",
            spec.name
        )));
    };
    let internal = |e: &dyn std::fmt::Display| PlatformError::Internal(e.to_string());
    let mut inner = oauth2::basic::BasicClient::new(ClientId::new(client_id))
        .set_auth_uri(AuthUrl::new(authorize_url).map_err(|e| internal(&e))?)
        .set_token_uri(TokenUrl::new(token_url.clone()).map_err(|e| internal(&e))?)
        .set_redirect_uri(
            RedirectUrl::new(format!("{issuer}/connections/callback")).map_err(|e| internal(&e))?,
        );
    if let Some(sealed) = sealed_secret {
        inner = inner.set_client_secret(ClientSecret::new(
            secrets.open(&sealed).map_err(|e| internal(&e))?,
        ));
    }
    let http = crate::webhooks::address::client(allow_private)
        .ok_or_else(|| PlatformError::Internal("the HTTP client could not start".into()))?;
    Ok(Client {
        inner,
        http,
        token_url,
        allow_private,
    })
}

impl Client {
    /// Token endpoints get the egress rules plugins get: public addresses only.
    fn check_egress(&self) -> std::result::Result<(), String> {
        let host = url::Url::parse(&self.token_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        HttpPolicy::new(vec![host], self.allow_private)
            .check(&self.token_url)
            .map(|_| ())
            .map_err(|refusal| match refusal {
                EgressRefusal::Invalid(m) | EgressRefusal::Forbidden(m) => m,
            })
    }
}

/// Starts a sign-in at the vendor for `user_id`: the URL to send their browser to.
#[allow(clippy::too_many_arguments)]
pub async fn begin_sign_in(
    store: &Store,
    secrets: &Secrets,
    issuer: &str,
    allow_private: bool,
    installation_id: &str,
    app_id: &str,
    spec: &ConnectionSpec,
    user_id: &str,
) -> Result<String> {
    let client = client(store, secrets, app_id, spec, issuer, allow_private).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .inner
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for scope in &spec.scopes {
        request = request.add_scope(oauth2::Scope::new(scope.clone()));
    }
    for (key, value) in &spec.authorize_params {
        request = request.add_extra_param(key.clone(), value.clone());
    }
    let (url, state) = request.url();
    let now = now_ms();
    crate::store::query("DELETE FROM connection_sign_ins WHERE expires_at < $1")
        .bind(now)
        .execute(store.writer())
        .await?;
    crate::store::query(
        "INSERT INTO connection_sign_ins (state_hash, installation_id, name, user_id, verifier, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crate::platform::credentials::token_hash(state.secret()))
    .bind(installation_id)
    .bind(&spec.name)
    .bind(user_id)
    .bind(secrets.seal(verifier.secret()))
    .bind(now + SIGN_IN_TTL_MS)
    .execute(store.writer())
    .await?;
    Ok(url.to_string())
}

/// A sign-in the vendor sent back, once its state is checked: which installation and connection.
pub struct SignIn {
    pub installation_id: String,
    pub name: String,
    verifier: String,
}

/// Takes (and so uses up) the sign-in `state` names, if `user_id` started it and it is fresh.
/// Someone else's attempt neither uses it nor learns anything from it.
pub async fn take_sign_in(store: &Store, secrets: &Secrets, user_id: &str, state: &str) -> Result<SignIn> {
    let found: Option<(String, String, String, i64)> = crate::store::query_as(
        "DELETE FROM connection_sign_ins WHERE state_hash = $1 AND user_id = $2 \
         RETURNING installation_id, name, verifier, expires_at",
    )
    .bind(crate::platform::credentials::token_hash(state))
    .bind(user_id)
    .fetch_optional(store.writer())
    .await?;
    match found {
        Some((installation_id, name, verifier, expires_at)) if expires_at >= now_ms() => {
            Ok(SignIn {
                installation_id,
                name,
                verifier: secrets.open(&verifier).map_err(|e| PlatformError::Internal(e.to_string()))?,
            })
        }
        _ => Err(PlatformError::Invalid(
            "this sign-in is unknown, was already used, has expired or was started by someone else: start it again"
                .into(),
        )),
    }
}

/// Exchanges the vendor's code (with the PKCE verifier) and keeps the tokens.
#[allow(clippy::too_many_arguments)]
pub async fn finish_sign_in(
    store: &Store,
    secrets: &Secrets,
    issuer: &str,
    allow_private: bool,
    app_id: &str,
    spec: &ConnectionSpec,
    sign_in: SignIn,
    code: &str,
) -> Result<()> {
    let client = client(store, secrets, app_id, spec, issuer, allow_private).await?;
    client.check_egress().map_err(PlatformError::Invalid)?;
    let token = client
        .inner
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(sign_in.verifier))
        .request_async(&client.http)
        .await
        .map_err(|e| {
            PlatformError::Invalid(format!("the vendor refused the sign-in: {}", token_problem(&e)))
        })?;
    let expires_at = token
        .expires_in()
        .map(|d| now_ms() + d.as_millis().min(i64::MAX as u128) as i64);
    save(
        store,
        &sign_in.installation_id,
        &spec.name,
        &secrets.seal(token.access_token().secret()),
        token.refresh_token().map(|r| secrets.seal(r.secret())),
        expires_at,
        None,
    )
    .await
}

fn token_problem<E: std::error::Error>(
    e: &RequestTokenError<E, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
) -> String {
    match e {
        RequestTokenError::ServerResponse(answer) => match answer.error_description() {
            Some(description) => format!("{} ({description})", answer.error()),
            None => answer.error().to_string(),
        },
        RequestTokenError::Request(e) => format!("the token endpoint could not be reached: {e}"),
        RequestTokenError::Parse(e, _) => format!("the token endpoint's answer was not understood: {e}"),
        RequestTokenError::Other(m) => m.clone(),
    }
}

/// One refresh at a time per connection on this node: two calls that find the same token
/// expiring wait for one refresh instead of spending the refresh token twice. Across nodes the
/// refresh is claimed in the database ([`claim_refresh`]).
static REFRESHING: LazyLock<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

/// The header value a request for `spec` carries for this installation (of app `app_id`),
/// refreshing an OAuth token that expires within a minute first.
#[allow(clippy::too_many_arguments)]
pub async fn credential(
    store: &Store,
    secrets: &Secrets,
    issuer: &str,
    allow_private: bool,
    installation_id: &str,
    app_id: &str,
    spec: &ConnectionSpec,
) -> std::result::Result<String, CredentialError> {
    let current = row(store, installation_id, &spec.name).await?;
    let Some(current) = current else {
        return Err(CredentialError::NotConnected(spec.name.clone()));
    };
    if current.state == "rejected" {
        return Err(CredentialError::Rejected {
            name: spec.name.clone(),
            problem: current.problem.unwrap_or_else(|| "the vendor refused it".into()),
        });
    }
    let expiring = current
        .expires_at
        .is_some_and(|at| at - REFRESH_MARGIN_MS <= now_ms());
    if !expiring {
        return Ok(spec.header_value(&open(secrets, &current.secret)?));
    }

    let lock = {
        let mut locks = REFRESHING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        locks
            .entry(format!("{installation_id}/{}", spec.name))
            .or_default()
            .clone()
    };
    let _turn = lock.lock().await;
    // Another call may have refreshed it while this one waited.
    let current = row(store, installation_id, &spec.name)
        .await?
        .ok_or_else(|| CredentialError::NotConnected(spec.name.clone()))?;
    if current
        .expires_at
        .is_none_or(|at| at - REFRESH_MARGIN_MS > now_ms())
    {
        return Ok(spec.header_value(&open(secrets, &current.secret)?));
    }
    // Another node may be refreshing it: wait for its token rather than spend the refresh
    // token a second time.
    if !claim_refresh(store, installation_id, &spec.name).await? {
        let refreshed = refreshed_elsewhere(store, installation_id, &spec.name).await?;
        return Ok(spec.header_value(&open(secrets, &refreshed)?));
    }
    let refreshed = refresh(
        store,
        secrets,
        issuer,
        allow_private,
        installation_id,
        app_id,
        spec,
        &current,
    )
    .await;
    release_refresh(store, installation_id, &spec.name).await?;
    refreshed
}

/// How long a node may take over a refresh before another may claim it.
const REFRESH_CLAIM_MS: i64 = 15_000;

/// Claims the refresh of a connection's token across nodes: `true` when this node's update set
/// the claim (none was held, or it lapsed).
async fn claim_refresh(store: &Store, installation_id: &str, name: &str) -> Result<bool> {
    let now = now_ms();
    let claimed = crate::store::query(
        "UPDATE installation_connections SET refresh_claimed_until = $3 WHERE installation_id = $1 AND name = $2 \
         AND (refresh_claimed_until IS NULL OR refresh_claimed_until < $4)",
    )
    .bind(installation_id)
    .bind(name)
    .bind(now + REFRESH_CLAIM_MS)
    .bind(now)
    .execute(store.writer())
    .await?;
    Ok(claimed.rows_affected() == 1)
}

async fn release_refresh(store: &Store, installation_id: &str, name: &str) -> Result<()> {
    crate::store::query("UPDATE installation_connections SET refresh_claimed_until = NULL WHERE installation_id = $1 AND name = $2")
        .bind(installation_id)
        .bind(name)
        .execute(store.writer())
        .await?;
    Ok(())
}

/// Waits (up to the claim's length) for the node that claimed the refresh to store the new
/// token; returns it sealed.
async fn refreshed_elsewhere(
    store: &Store,
    installation_id: &str,
    name: &str,
) -> std::result::Result<String, CredentialError> {
    let until = now_ms() + REFRESH_CLAIM_MS;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let current = row(store, installation_id, name)
            .await?
            .ok_or_else(|| CredentialError::NotConnected(name.to_owned()))?;
        if current.state == "rejected" {
            return Err(CredentialError::Rejected {
                name: name.to_owned(),
                problem: current.problem.unwrap_or_else(|| "the vendor refused it".into()),
            });
        }
        if current
            .expires_at
            .is_none_or(|at| at - REFRESH_MARGIN_MS > now_ms())
        {
            return Ok(current.secret);
        }
        if now_ms() > until {
            return Err(CredentialError::Unavailable {
                name: name.to_owned(),
                problem: "another node's refresh of the token did not finish in time".into(),
            });
        }
    }
}

/// A sealed token or key, opened; a value that does not open is the platform's fault.
fn open(secrets: &Secrets, sealed: &str) -> std::result::Result<String, CredentialError> {
    secrets
        .open(sealed)
        .map_err(|e| CredentialError::Platform(PlatformError::Internal(e.to_string())))
}

/// Refreshes the connection's token at the vendor (this node holds the claim) and keeps it.
#[allow(clippy::too_many_arguments)]
async fn refresh(
    store: &Store,
    secrets: &Secrets,
    issuer: &str,
    allow_private: bool,
    installation_id: &str,
    app_id: &str,
    spec: &ConnectionSpec,
    current: &Row,
) -> std::result::Result<String, CredentialError> {
    let Some(sealed_refresh) = &current.refresh_token else {
        let problem = "the token expired and the vendor gave no refresh token".to_owned();
        mark_rejected(store, installation_id, &spec.name, &problem).await?;
        return Err(CredentialError::Rejected {
            name: spec.name.clone(),
            problem,
        });
    };
    let client = client(store, secrets, app_id, spec, issuer, allow_private).await?;
    client
        .check_egress()
        .map_err(|problem| CredentialError::Unavailable {
            name: spec.name.clone(),
            problem,
        })?;
    let refresh = RefreshToken::new(open(secrets, sealed_refresh)?);
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        client
            .inner
            .exchange_refresh_token(&refresh)
            .request_async(&client.http),
    )
    .await
    .map_err(|_| CredentialError::Unavailable {
        name: spec.name.clone(),
        problem: "the token endpoint did not answer within 10 s".into(),
    })?;
    let token = match answer {
        Ok(token) => token,
        // The vendor says the grant is gone (revoked, or the refresh token expired): final.
        Err(RequestTokenError::ServerResponse(e)) => {
            let problem = format!(
                "the vendor refused to refresh the token: {}",
                token_problem::<reqwest::Error>(&RequestTokenError::ServerResponse(e))
            );
            mark_rejected(store, installation_id, &spec.name, &problem).await?;
            return Err(CredentialError::Rejected {
                name: spec.name.clone(),
                problem,
            });
        }
        Err(e) => {
            return Err(CredentialError::Unavailable {
                name: spec.name.clone(),
                problem: token_problem(&e),
            });
        }
    };
    let expires_at = token
        .expires_in()
        .map(|d| now_ms() + d.as_millis().min(i64::MAX as u128) as i64);
    // Vendors that rotate refresh tokens send a new one; the others keep the old one valid.
    let refresh_token = token
        .refresh_token()
        .map(|r| secrets.seal(r.secret()))
        .unwrap_or_else(|| sealed_refresh.clone());
    crate::store::query(
        "UPDATE installation_connections SET secret = $3, refresh_token = $4, expires_at = $5, refreshed_at = $6 \
         WHERE installation_id = $1 AND name = $2",
    )
    .bind(installation_id)
    .bind(&spec.name)
    .bind(secrets.seal(token.access_token().secret()))
    .bind(refresh_token)
    .bind(expires_at)
    .bind(now_ms())
    .execute(store.writer())
    .await
    .map_err(PlatformError::from)?;
    tracing::info!(installation = installation_id, connection = %spec.name, "connection token refreshed");
    Ok(spec.header_value(token.access_token().secret()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::connections::ConnectionKind;

    /// A node that finds another node's claim on the refresh waits for its token: it never asks
    /// the vendor itself (no OAuth client is even registered here), and gets the new token.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refresh_claimed_by_another_node_is_waited_for_not_repeated() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        store.migrate().await.unwrap();
        let secrets = Secrets::load(None, dir.path()).unwrap();
        let spec = ConnectionSpec {
            name: "github".into(),
            title: "Your GitHub account".into(),
            kind: ConnectionKind::Oauth2,
            hosts: vec!["api.github.com".into()],
            authorize_url: Some("https://github.com/login/oauth/authorize".into()),
            token_url: Some("https://github.com/login/oauth/access_token".into()),
            scopes: Vec::new(),
            authorize_params: Default::default(),
            header: None,
            prefix: None,
        };
        // An expiring token whose refresh another node has just claimed.
        save(
            &store,
            "ins_1",
            "github",
            &secrets.seal("old-token"),
            Some(secrets.seal("refresh-1")),
            Some(now_ms()),
            None,
        )
        .await
        .unwrap();
        assert!(claim_refresh(&store, "ins_1", "github").await.unwrap());
        assert!(
            !claim_refresh(&store, "ins_1", "github").await.unwrap(),
            "a claim is held once"
        );
        let other_node = {
            let (store, new_token) = (store.clone(), secrets.seal("new-token"));
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                crate::store::query(
                    "UPDATE installation_connections SET secret = $1, expires_at = $2, refresh_claimed_until = NULL \
                     WHERE installation_id = 'ins_1' AND name = 'github'",
                )
                .bind(new_token)
                .bind(now_ms() + 3_600_000)
                .execute(store.writer())
                .await
                .unwrap();
            })
        };
        let started = std::time::Instant::now();
        let header = credential(
            &store,
            &secrets,
            "http://127.0.0.1",
            true,
            "ins_1",
            "app_1",
            &spec,
        )
        .await
        .unwrap();
        assert_eq!(header, "Bearer new-token");
        assert!(
            started.elapsed() >= Duration::from_millis(250),
            "it waited for the other node"
        );
        other_node.await.unwrap();
        // A lapsed claim can be taken over.
        crate::store::query("UPDATE installation_connections SET refresh_claimed_until = $1")
            .bind(now_ms() - 1)
            .execute(store.writer())
            .await
            .unwrap();
        assert!(claim_refresh(&store, "ins_1", "github").await.unwrap());
    }
}
