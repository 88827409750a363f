//! The benchmark's realistic plugin: summarises a task event (word count, longest word) and logs
//! the summary. `bazaar bench plugin` runs it in a fresh instance, in a reused one, and runs the
//! same [`workload`] natively as the yardstick.

use bazaar_sdk::{Error, Event, Plugin, log};

pub mod workload;

struct WordCount;

impl Plugin for WordCount {
    fn on_event(event: Event) -> Result<(), Error> {
        let summary = workload::summarize(&event.payload_json).map_err(Error::Invalid)?;
        log::info(&summary);
        Ok(())
    }
}

bazaar_sdk::export_plugin!(WordCount);
