//! The one error shape of `/v1`: `{"error": {"code": "...", "message": "..."}}`.

use super::json::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::platform::{PlatformError, Scope};

/// Everything a `/v1` request can fail with, each with its status and stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No credential, or one that is unknown, revoked or expired.
    #[error("{0}")]
    Unauthenticated(String),
    /// The credential is valid but lacks the route's scope.
    #[error("this request needs the `{0}` scope, which your credential does not hold")]
    MissingScope(Scope),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Well-formed but unacceptable input (validation).
    #[error("{0}")]
    Invalid(String),
    /// Validation with one problem per named field.
    #[error("{0}")]
    InvalidFields(String, Vec<(String, String)>),
    /// Input that could not be read at all (bad JSON, bad query string).
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request body is larger than the limit of {0} bytes")]
    TooLarge(usize),
    #[error("no route for {0}; see /v1/openapi.json for what exists")]
    NoRoute(String),
    #[error("this path does not accept the {0} method")]
    MethodNotAllowed(String),
    /// A failure of ours; the detail goes to the log, never to the caller.
    #[error("something went wrong on our side; try again, and contact support if it persists")]
    Internal(String),
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `not_found`, `insufficient_scope`, `invalid_request`, ...
    pub code: String,
    /// What was wrong and what to do, for a person.
    pub message: String,
    /// For validation errors of a document (a manifest): each problem with its field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

/// One invalid field.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// Where, e.g. `scopes[1].purpose`.
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::MissingScope(_) | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Invalid(_) | ApiError::InvalidFields(..) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::MissingScope(_) => "insufficient_scope",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) | ApiError::NoRoute(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Invalid(_) | ApiError::InvalidFields(..) => "invalid_request",
            ApiError::Malformed(_) => "malformed_request",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl From<PlatformError> for ApiError {
    fn from(e: PlatformError) -> Self {
        match e {
            PlatformError::NotFound(what) => ApiError::NotFound(capitalize(what)),
            PlatformError::Conflict(m) => ApiError::Conflict(m),
            PlatformError::Invalid(m) => ApiError::Invalid(m),
            PlatformError::InvalidFields(m, fields) => ApiError::InvalidFields(m, fields),
            PlatformError::Database(e) => ApiError::Internal(format!("database: {e}")),
            PlatformError::Internal(m) => ApiError::Internal(m),
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let status = self.status();
        let fields = match &self {
            ApiError::InvalidFields(_, fields) => fields
                .iter()
                .map(|(field, message)| FieldProblem {
                    field: field.clone(),
                    message: message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                fields,
            },
        };
        let mut response = (status, Json(body)).into_response();
        let challenge = match &self {
            ApiError::Unauthenticated(_) => Some(r#"Bearer realm="bazaar""#.to_owned()),
            ApiError::MissingScope(scope) => Some(format!(
                r#"Bearer realm="bazaar", error="insufficient_scope", scope="{scope}""#
            )),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
