//! `bazaar:platform/trace` (no scope): the plugin's own spans in the call's trace, kept by
//! [`crate::runtime::spans`].

use crate::runtime::bindings::platform::trace::Host;
use crate::runtime::state::PluginState;

impl Host for PluginState {
    async fn enter(&mut self, name: String, attributes: Vec<(String, String)>) -> wasmtime::Result<u32> {
        Ok(self.guest_spans.enter(name, attributes))
    }

    async fn set_attribute(&mut self, span: u32, key: String, value: String) -> wasmtime::Result<()> {
        self.guest_spans.set(span, key, value);
        Ok(())
    }

    async fn exit(&mut self, span: u32) -> wasmtime::Result<()> {
        self.guest_spans.exit(span);
        Ok(())
    }
}
