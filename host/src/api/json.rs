//! A JSON response, written straight into one growing buffer.
//!
//! axum's `Json` writes through a `BytesMut` writer that starts at 128 bytes: a page of 50
//! projects (13 KB) then costs seven reallocations and a bounds-checked `put` per string piece.
//! Here serde_json writes into a `Vec` that starts at 4 KiB (most bodies fit; a page of 50
//! grows twice).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A JSON body with `application/json`.
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(4096);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => {
                let mut response = Response::new(axum::body::Body::from(body));
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("could not write the response: {e}"),
            )
                .into_response(),
        }
    }
}
