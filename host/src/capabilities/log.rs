//! `bazaar:platform/log` (no scope): lines into the invocation's capped log.

use crate::runtime::bindings::platform::log::{Host, Level};
use crate::runtime::state::PluginState;

impl Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "log", function = "write", outcome = tracing::field::Empty))]
    async fn write(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        self.log.push(level, &message);
        Ok(())
    }
}
