//! A plugin as a partner built it before contract 0.2.0: its bindings come straight from the
//! frozen `wit/0.1.0`, not from today's SDK. It must keep running on every newer host, through
//! delivery and hooks, with the same scopes.

// The generated bindings and export glue are `unsafe` by nature (the canonical ABI).
#![allow(unsafe_code)]

wit_bindgen::generate!({
    path: "../../../wit/0.1.0",
    world: "plugin",
});

use bazaar::platform::types::{Error, Event, Task};
use bazaar::platform::{log, tasks, tasks_write};

struct Classic;

impl exports::bazaar::platform::handler::Guest for Classic {
    fn on_event(event: Event) -> Result<(), Error> {
        let task = tasks::get(&event.subject_id)?;
        let mut labels = task.labels;
        if !labels.iter().any(|l| l == "classic") {
            labels.push("classic".into());
        }
        tasks_write::set_labels(&task.id, &labels)?;
        log::write(
            log::Level::Info,
            &format!("labelled {} (contract 0.1.0)", task.id),
        );
        Ok(())
    }
}

impl exports::bazaar::platform::hooks::Guest for Classic {
    fn validate_task(task: Task) -> Result<(), Error> {
        if task.title.contains("legacy-blocked") {
            return Err(Error::Invalid("titles may not say legacy-blocked".into()));
        }
        Ok(())
    }
}

export!(Classic);
