//! `bazaar:platform/config` (no scope): this installation's configuration values.

use crate::policy::Interface;
use crate::runtime::bindings::bazaar::platform::config::Host;
use crate::runtime::state::PluginState;

impl Host for PluginState {
    /// Counted like every host call: past the budget it answers `none` (the WIT gives `get` no
    /// error case) and the invocation ends `limit_exceeded`.
    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "config", function = "get", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        if self.enter(Interface::Config).is_err() {
            return Ok(None);
        }
        Ok(self.installation.config.get(&key).cloned())
    }
}
