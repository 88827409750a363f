//! The benchmark's plugin: parses the event's JSON payload and returns. `bazaar bench plugin`
//! compares calling it in a fresh instance, in a reused one, and the same logic natively.

use bazaar_sdk::{Error, Event, Plugin};

/// The work measured: parse the payload and check it is an object with an id.
pub fn check(payload: &str) -> Result<(), Error> {
    let value: serde_json::Value = serde_json::from_str(payload)?;
    match value.get("id") {
        Some(serde_json::Value::String(_)) => Ok(()),
        _ => Err(Error::Invalid("the payload has no string `id`".into())),
    }
}

struct ParseEvent;

impl Plugin for ParseEvent {
    fn on_event(event: Event) -> Result<(), Error> {
        check(&event.payload_json)
    }
}

bazaar_sdk::export_plugin!(ParseEvent);
