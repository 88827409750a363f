//! Inbound web triggers: a tool calling the plugin back at the URL Bazaar gives each trigger
//! the manifest declares. The host has already checked the request's signature (or shared
//! secret) when [`Plugin::on_request`](crate::Plugin::on_request) runs.
//!
//! ```ignore
//! fn on_request(request: triggers::Inbound) -> Result<triggers::Answer, Error> {
//!     if triggers::header(&request, "x-github-event") == Some("ping") {
//!         return Ok(triggers::text(200, "pong"));
//!     }
//!     let event: serde_json::Value = triggers::body_json(&request)?;
//!     Ok(triggers::json(200, &serde_json::json!({ "seen": event["action"] })))
//! }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;

/// The answer the caller gets: a status (200 to 599), headers (`content-type` and `x-*` only)
/// and a body of at most 64 KiB.
pub use crate::wit::exports::bazaar::platform::triggers::Answer;
/// A verified request: the trigger's name, method, headers (lowercase names; no `cookie` or
/// `authorization`) and body.
pub use crate::wit::exports::bazaar::platform::triggers::Inbound;

/// The value of header `name` (lowercase), if the request has it.
pub fn header<'a>(request: &'a Inbound, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The request's body parsed as JSON.
pub fn body_json<T: DeserializeOwned>(request: &Inbound) -> Result<T, Error> {
    serde_json::from_slice(&request.body)
        .map_err(|e| Error::Invalid(format!("the request's body is not the JSON expected: {e}")))
}

/// An answer with `value` as JSON.
pub fn json<T: Serialize>(status: u16, value: &T) -> Answer {
    Answer {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::to_vec(value).unwrap_or_default(),
    }
}

/// An answer with `text` as plain text.
pub fn text(status: u16, text: &str) -> Answer {
    Answer {
        status,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: text.as_bytes().to_vec(),
    }
}
