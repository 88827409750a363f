//! A JSON response body, written by sonic-rs.
//!
//! A page of 50 projects is 13 KB of strings to escape. serde_json checks them a byte at a time
//! (a quarter of a `GET /v1/projects` in callgrind) and axum's `Json` writes through a
//! `BytesMut` that starts at 128 bytes; sonic-rs escapes with SIMD into one `Vec` and writes the
//! same text (the test below compares the two byte for byte).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A JSON body with `application/json`.
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match sonic_rs::to_vec(&self.0) {
            Ok(body) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_are_the_bytes_serde_json_writes() {
        let value = serde_json::json!({
            "text": "quote \" backslash \\ slash / tab \t newline \n nul \u{0} bell \u{7} del \u{7f}",
            "unicode": "é ✓ 🎉 \u{2028} \u{2029}",
            "numbers": [0, -1, 9_007_199_254_740_993_i64, u64::MAX, 1.5, -0.25, 1e300],
            "nested": {"empty": {}, "list": [], "null": null, "yes": true},
            "long": "a".repeat(5000),
        });
        let response = Json(&value).into_response();
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8(body.to_vec()).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
    }
}
