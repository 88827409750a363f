//! The OAuth 2.0 authorization server for external apps (RFC 6749 with the security best
//! current practice of RFC 9700): authorization code with PKCE S256 only, exact redirect URIs,
//! one-time codes, short random access tokens, refresh tokens rotated on every use with reuse
//! detection per token family, revocation (RFC 7009), introspection (RFC 7662) and metadata
//! (RFC 8414). An external app is the client; its `client_id` is the app id.
//!
//! - [`clients`]: client secrets and client authentication.
//! - [`grants`]: codes and tokens, and bearer authentication for `/v1`.

pub mod clients;
pub mod grants;

use serde::Serialize;

/// Prefixes make a leaked secret recognisable (and let `/v1` tell tokens from API keys).
pub const ACCESS_TOKEN_PREFIX: &str = "bzat_";
pub const REFRESH_TOKEN_PREFIX: &str = "bzrt_";
pub const CODE_PREFIX: &str = "bzac_";
pub const CLIENT_SECRET_PREFIX: &str = "bzcs_";

/// Access tokens last an hour; refresh tokens 30 days (each use replaces it); codes 5 minutes.
pub const ACCESS_TTL_MS: i64 = 3_600_000;
pub const REFRESH_TTL_MS: i64 = 30 * 24 * 3_600_000;
pub const CODE_TTL_MS: i64 = 5 * 60_000;

/// An OAuth error response (RFC 6749 section 5.2), with a description for the developer.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    InvalidScope(String),
    #[error("{0}")]
    ServerError(String),
}

impl OAuthError {
    /// The `error` code of the response.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient(_) => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::ServerError(_) => "server_error",
        }
    }
}

impl From<crate::platform::PlatformError> for OAuthError {
    fn from(e: crate::platform::PlatformError) -> Self {
        tracing::error!(error = %e, "oauth storage failure");
        OAuthError::ServerError("the authorization server failed; try again".into())
    }
}

impl From<crate::store::Error> for OAuthError {
    fn from(e: crate::store::Error) -> Self {
        crate::platform::PlatformError::from(e).into()
    }
}

/// The body of a token error (RFC 6749 section 5.2).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`, ...
    #[schema(value_type = String)]
    pub error: &'static str,
    pub error_description: String,
}
