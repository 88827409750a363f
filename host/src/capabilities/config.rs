//! `bazaar:platform/config` (no scope): this installation's configuration values.

use crate::policy::Interface;
use crate::runtime::bindings::platform::config::Host;
use crate::runtime::recording::Source;
use crate::runtime::state::PluginState;

impl Host for PluginState {
    /// Counted like every host call: past the budget it answers `none` (the WIT gives `get` no
    /// error case) and the invocation ends `limit_exceeded`.
    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "config", function = "get", outcome = tracing::field::Empty))]
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        if self.enter(Interface::Config).is_err() {
            return Ok(None);
        }
        match &self.tape {
            Some(Source::Replay(player)) => Ok(player.host_call("config", "get").unwrap_or(None)),
            tape => {
                let value = self.installation.config.get(&key).cloned();
                if let Some(Source::Record(recorder)) = tape {
                    // A secret is recorded as a placeholder of its length: the replay copies as
                    // many bytes, and the recording holds nothing of it.
                    let secret = self.installation.secret_config.contains(&key);
                    let recorded = match (&value, secret) {
                        (Some(v), true) => Some("*".repeat(v.len())),
                        _ => value.clone(),
                    };
                    recorder.host_call::<Option<String>>("config", "get", &Ok(recorded), secret);
                }
                Ok(value)
            }
        }
    }
}
