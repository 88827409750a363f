//! Who is calling and whether they may: every `/v1` handler takes an [`Authorized`] naming the
//! one scope its route needs, so a route cannot forget to check.
//!
//! Credentials: `Authorization: Bearer bzk_...` (an organization API key) or the web session
//! cookie. A cookie-authenticated request that changes something must also carry the session's
//! CSRF token in `x-csrf-token`, so another site cannot make a signed-in browser act.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};

use super::error::ApiError;
use crate::AppState;
use crate::platform::ScopeSet;
use crate::platform::credentials::{self, SessionIdentity};
use crate::platform::orgs::Role;
pub use crate::platform::scope::{RequiredScope, need};

/// Name of the web session cookie.
pub const SESSION_COOKIE: &str = "bazaar_session";
/// Header carrying the CSRF token on cookie-authenticated changes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What the caller acts as.
#[derive(Debug, Clone)]
pub enum Actor {
    ApiKey {
        key_id: String,
    },
    User {
        user_id: String,
        role: Role,
        session_id: String,
    },
    /// An external app, through an OAuth access token for its installation.
    App {
        app_id: String,
        installation_id: String,
        token_id: String,
    },
}

/// An authenticated caller: one organization, one actor, a set of scopes.
#[derive(Debug, Clone)]
pub struct Principal {
    pub org_id: String,
    pub actor: Actor,
    pub scopes: ScopeSet,
}

impl Principal {
    /// The member role behind the request, if a person (not a key) is calling.
    pub fn role(&self) -> Option<Role> {
        match &self.actor {
            Actor::User { role, .. } => Some(*role),
            Actor::ApiKey { .. } | Actor::App { .. } => None,
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::User { user_id, .. } => Some(user_id),
            Actor::ApiKey { .. } | Actor::App { .. } => None,
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let principal = authenticate(parts, state).await?;
        tracing::Span::current().record("org", principal.org_id.as_str());
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
            })?;
        if token.starts_with(crate::oauth::ACCESS_TOKEN_PREFIX) {
            let app = crate::oauth::grants::authenticate_bearer(&state.store, token)
                .await?
                .ok_or_else(|| {
                    ApiError::Unauthenticated(
                        "the access token is unknown, expired or revoked, or the app was paused or uninstalled".into(),
                    )
                })?;
            return Ok(Principal {
                org_id: app.org_id,
                actor: Actor::App {
                    app_id: app.app_id,
                    installation_id: app.installation_id,
                    token_id: app.token_id,
                },
                scopes: app.scopes,
            });
        }
        let key = credentials::authenticate_api_key(&state.store, token).await?;
        let key =
            key.ok_or_else(|| ApiError::Unauthenticated("the token is unknown, revoked or expired".into()))?;
        return Ok(Principal {
            org_id: key.org_id,
            actor: Actor::ApiKey { key_id: key.key_id },
            scopes: key.scopes,
        });
    }
    if let Some(token) = session_cookie(parts) {
        let session = credentials::authenticate_session(&state.store, token).await?;
        let session = session
            .ok_or_else(|| ApiError::Unauthenticated("your session has ended; sign in again".into()))?;
        check_csrf(parts, &session)?;
        let mut scopes = session.role.scopes();
        if session.reviewer {
            scopes = scopes
                .iter()
                .chain([crate::platform::Scope::AppsReview])
                .collect();
        }
        return Ok(Principal {
            org_id: session.org_id,
            scopes,
            actor: Actor::User {
                user_id: session.user_id,
                role: session.role,
                session_id: session.session_id,
            },
        });
    }
    Err(ApiError::Unauthenticated(
        "this request needs credentials: send `Authorization: Bearer <API key>` or sign in".into(),
    ))
}

/// Whether the request carries any credential (a bearer token or the session cookie), valid
/// or not.
pub fn carries_credential(parts: &Parts) -> bool {
    parts.headers.contains_key(header::AUTHORIZATION) || session_cookie(parts).is_some()
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

fn check_csrf(parts: &Parts, session: &SessionIdentity) -> Result<(), ApiError> {
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if safe {
        return Ok(());
    }
    let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match sent {
        Some(sent) if constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) => Ok(()),
        _ => Err(ApiError::Forbidden(format!(
            "a signed-in change must carry the `{CSRF_HEADER}` header returned at sign-in"
        ))),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A public route's caller: `None` for one who sent no credential (the public view, rate
/// limited per address); otherwise an authenticated caller who holds `S`, as [`Authorized`]
/// (a bad credential is 401, a missing scope 403, never quietly the public view).
pub struct PublicOr<S: RequiredScope>(pub Option<Principal>, pub(crate) PhantomData<S>);

impl<S: RequiredScope> FromRequestParts<AppState> for PublicOr<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !carries_credential(parts) {
            return Ok(PublicOr(None, PhantomData));
        }
        let Authorized(principal, _) = Authorized::<S>::from_request_parts(parts, state).await?;
        Ok(PublicOr(Some(principal), PhantomData))
    }
}

/// An authenticated caller who holds the scope `S`; anyone else gets 401 or 403.
pub struct Authorized<S: RequiredScope>(pub Principal, pub(crate) PhantomData<S>);

impl<S: RequiredScope> FromRequestParts<AppState> for Authorized<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        if !principal.scopes.contains(S::SCOPE) {
            return Err(ApiError::MissingScope(S::SCOPE));
        }
        Ok(Authorized(principal, PhantomData))
    }
}
