//! Request extractors whose failures speak the `/v1` error shape.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body; malformed JSON is 400, a wrong or unknown field 422, another media type 415.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map(|l| l.0)
            .unwrap_or_default();
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_error(rejection, limit)),
        }
    }
}

/// The configured body limit, put on each request so errors can name it.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

fn json_error(rejection: JsonRejection, limit: usize) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::Invalid(format!(
            "the JSON body does not fit this request: {}",
            e.body_text()
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        )),
        JsonRejection::JsonSyntaxError(e) => ApiError::Malformed(format!(
            "the body is not valid JSON: {}",
            e.body_text()
                .trim_start_matches("Failed to parse the request body as JSON: ")
        )),
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "send the body as JSON with `Content-Type: application/json`".into(),
        ),
        other if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(limit),
        other => ApiError::Malformed(other.body_text()),
    }
}

/// Query-string parameters; anything unreadable or unknown is 400 with the reason.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| {
                ApiError::Malformed(format!(
                    "the query string is not valid: {}",
                    e.body_text()
                        .trim_start_matches("Failed to deserialize query string: ")
                ))
            })
    }
}

/// A raw request body (a component or image upload) of at most `LIMIT` bytes; the route sets
/// the same limit on its body.
pub struct ApiBytes<const LIMIT: usize = { crate::catalog::apps::MAX_COMPONENT_BYTES }>(
    pub axum::body::Bytes,
);

impl<S: Send + Sync, const LIMIT: usize> FromRequest<S> for ApiBytes<LIMIT> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // An announced length past the limit is refused before any of the body is read.
        let announced = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > LIMIT as u64) {
            return Err(ApiError::TooLarge(LIMIT));
        }
        axum::body::Bytes::from_request(req, state)
            .await
            .map(ApiBytes)
            .map_err(|e| match e.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(LIMIT),
                _ => ApiError::Malformed(e.body_text()),
            })
    }
}
