//! `/v1/sessions`: signing people in and out of the web.

use super::json::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Actor, Principal, SESSION_COOKIE};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::AppState;
use crate::platform::credentials::{self, SESSION_LIFETIME_MS};
use crate::platform::orgs::{self, Organization, Role};
use crate::platform::{PlatformError, format_time};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    email: String,
    password: String,
    /// The organization to act in; the first one the user joined if absent.
    org_id: Option<String>,
}

/// A new web session. The cookie is set on the response; `csrf_token` must be sent as
/// `x-csrf-token` on every request that changes something.
#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    pub user_id: String,
    pub organization: Organization,
    pub role: Role,
    pub csrf_token: String,
    pub expires_at: String,
}

/// Sign in with email and password; sets the session cookie.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = SignIn,
    responses((status = 201, body = SessionInfo), (status = "4XX", body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<(StatusCode, HeaderMap, Json<SessionInfo>), ApiError> {
    let session = credentials::sign_in(&state.store, &body.email, &body.password, body.org_id.as_deref())
        .await
        .map_err(|e| match e {
            PlatformError::Invalid(m) => ApiError::Unauthenticated(m),
            other => other.into(),
        })?;
    session_response(&state, session).await
}

/// The 201 answer of a new session: the cookie, and the session's details.
async fn session_response(
    state: &AppState,
    session: credentials::NewSession,
) -> Result<(StatusCode, HeaderMap, Json<SessionInfo>), ApiError> {
    let organization = orgs::get(&state.store, &session.identity.org_id).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={}",
        session.token,
        SESSION_LIFETIME_MS / 1000
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    let info = SessionInfo {
        user_id: session.identity.user_id,
        organization,
        role: session.identity.role,
        csrf_token: session.identity.csrf_token,
        expires_at: format_time(session.expires_at),
    };
    Ok((StatusCode::CREATED, headers, Json(info)))
}

/// Sign out of the current web session; clears the cookie.
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "sessions",
    security(("session" = [])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn sign_out(
    State(state): State<AppState>,
    who: Principal,
) -> Result<(StatusCode, HeaderMap), ApiError> {
    let Actor::User { session_id, .. } = &who.actor else {
        return Err(ApiError::Invalid(
            "only a signed-in browser session can sign out; revoke API keys instead".into(),
        ));
    };
    credentials::sign_out(&state.store, session_id).await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_static("bazaar_session=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0"),
    );
    Ok((StatusCode::NO_CONTENT, headers))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    /// The new organization's name.
    organization: String,
    email: String,
    /// At least 10 characters.
    password: String,
}

/// Create an organization with its first owner, and sign them in.
#[utoipa::path(post, path = "/v1/signup", tag = "sessions", request_body = SignUp,
    responses((status = 201, body = SessionInfo), (status = "4XX", body = ErrorBody)))]
pub async fn sign_up(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignUp>,
) -> Result<(StatusCode, HeaderMap, Json<SessionInfo>), ApiError> {
    let (org, user) =
        orgs::create_with_owner(&state.store, &body.organization, &body.email, &body.password).await?;
    let session = credentials::start_session(&state.store, &user.id, Some(&org.id)).await?;
    session_response(&state, session).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    /// An organization the signed-in person belongs to.
    org_id: String,
}

/// Switch the signed-in person to another of their organizations: a new session replaces this
/// one.
#[utoipa::path(post, path = "/v1/sessions/switch", tag = "sessions", request_body = Switch,
    security(("session" = [])),
    responses((status = 201, body = SessionInfo), (status = "4XX", body = ErrorBody)))]
pub async fn switch(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<Switch>,
) -> Result<(StatusCode, HeaderMap, Json<SessionInfo>), ApiError> {
    let Actor::User {
        user_id, session_id, ..
    } = &who.actor
    else {
        return Err(ApiError::Invalid(
            "only a signed-in person switches organization".into(),
        ));
    };
    let session = credentials::start_session(&state.store, user_id, Some(&body.org_id))
        .await
        .map_err(|e| match e {
            PlatformError::Invalid(m) => ApiError::Forbidden(m),
            other => other.into(),
        })?;
    credentials::sign_out(&state.store, session_id).await?;
    session_response(&state, session).await
}
