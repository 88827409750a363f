//! Syncs items from a vendor: counts its runs in storage, reads a secret token from its
//! configuration, asks the vendor's API for items (inside a span of its own), hashes them into a map, and logs the first
//! one's name with the time. Built plain it has a bug: it assumes the list is never empty.
//! Built with the `fixed` feature it handles an empty list. Recorded and replayed by the tests.

use std::collections::HashMap;

use bazaar_sdk::http::Method;
use bazaar_sdk::{Error, Event, Plugin, config, http, kv, log, trace};

struct Sync;

impl Plugin for Sync {
    fn on_event(_event: Event) -> Result<(), Error> {
        let runs = kv::get_json::<u64>("runs")?.unwrap_or(0) + 1;
        kv::set_json("runs", &runs)?;
        let token = config::require("api_token")?;
        let vendor = config::require("vendor")?;
        let fetch = trace::span("fetch items", &[("run", &runs.to_string())]);
        let answer = http::send(
            Method::Get,
            &format!("{vendor}/items"),
            &[("x-token", &token)],
            None,
        )?;
        let body: serde_json::Value = serde_json::from_slice(&answer.body)?;
        let items = body["items"].as_array().cloned().unwrap_or_default();
        fetch.set("items", &items.len().to_string());
        drop(fetch);
        // A map with std's random hasher, and the clock: a replay must give both back.
        let by_name: HashMap<String, usize> = items
            .iter()
            .enumerate()
            .map(|(i, item)| (item["name"].as_str().unwrap_or_default().to_owned(), i))
            .collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        #[cfg(not(feature = "fixed"))]
        let first = items[0]["name"].as_str().unwrap_or_default().to_owned();
        #[cfg(feature = "fixed")]
        let Some(first) = items
            .first()
            .map(|i| i["name"].as_str().unwrap_or_default().to_owned())
        else {
            log::info(&format!("run {runs}: nothing to sync at {now}"));
            return Ok(());
        };
        log::info(&format!(
            "run {runs}: {} items, first {first}, at {now}",
            by_name.len()
        ));
        Ok(())
    }
}

bazaar_sdk::export_plugin!(Sync);
