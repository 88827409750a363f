//! `bazaar:platform/config` (no scope): this installation's configuration values.

use crate::runtime::bindings::bazaar::platform::config::Host;
use crate::runtime::state::PluginState;

impl Host for PluginState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.installation.config.get(&key).cloned())
    }
}
