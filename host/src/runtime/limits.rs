//! The limits of one invocation, and the memory cap that enforces one of them.

use serde::{Deserialize, Serialize};

/// What one call may use. Production and `bazaar plugin run` use the same defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Wasm instructions, roughly (wasmtime fuel).
    pub fuel: u64,
    /// Linear memory of the instance, in bytes.
    pub memory_bytes: usize,
    /// Wall-clock time of the whole call, host calls included.
    pub timeout_ms: u64,
    /// The event handed to the plugin (its JSON payload), in bytes.
    pub max_event_bytes: usize,
    /// What the plugin may return (an error message), in bytes.
    pub max_result_bytes: usize,
    /// Log and captured output kept per call, in bytes.
    pub max_log_bytes: usize,
    /// Log lines and captured output lines kept per call (an empty line counts).
    pub max_log_lines: usize,
    /// Calls into the host per invocation (kv, projects, tasks, http).
    pub max_host_calls: u32,
    /// Outbound HTTP requests per invocation.
    pub max_http_requests: u32,
    /// Bytes of one HTTP response body.
    pub max_http_response_bytes: usize,
    /// Total bytes (keys and values) an installation may keep in its KV store.
    pub kv_quota_bytes: u64,
}

impl Limits {
    /// The budget of an event handler (`on-event`).
    pub const EVENT: Limits = Limits {
        fuel: 500_000_000,
        memory_bytes: 64 << 20,
        timeout_ms: 5_000,
        max_event_bytes: 256 << 10,
        max_result_bytes: 64 << 10,
        max_log_bytes: 64 << 10,
        max_log_lines: 1_000,
        max_host_calls: 1_000,
        max_http_requests: 10,
        max_http_response_bytes: 1 << 20,
        kv_quota_bytes: 1 << 20,
    };

    /// The much smaller budget of a hook called inside an API request (`validate-task`).
    pub const HOOK: Limits = Limits {
        fuel: 20_000_000,
        memory_bytes: 16 << 20,
        timeout_ms: 100,
        max_host_calls: 20,
        max_http_requests: 0,
        ..Limits::EVENT
    };

    /// The platform's ceiling: no installation may ask for more than this.
    pub const MAX: Limits = Limits {
        fuel: 5_000_000_000,
        memory_bytes: 256 << 20,
        timeout_ms: 30_000,
        max_event_bytes: 1 << 20,
        max_result_bytes: 1 << 20,
        max_log_bytes: 1 << 20,
        max_log_lines: 10_000,
        max_host_calls: 10_000,
        max_http_requests: 50,
        max_http_response_bytes: 10 << 20,
        kv_quota_bytes: 100 << 20,
    };

    /// These limits lowered to the platform's ceiling.
    pub fn capped(self) -> Limits {
        let max = Limits::MAX;
        Limits {
            fuel: self.fuel.min(max.fuel),
            memory_bytes: self.memory_bytes.min(max.memory_bytes),
            timeout_ms: self.timeout_ms.min(max.timeout_ms),
            max_event_bytes: self.max_event_bytes.min(max.max_event_bytes),
            max_result_bytes: self.max_result_bytes.min(max.max_result_bytes),
            max_log_bytes: self.max_log_bytes.min(max.max_log_bytes),
            max_log_lines: self.max_log_lines.min(max.max_log_lines),
            max_host_calls: self.max_host_calls.min(max.max_host_calls),
            max_http_requests: self.max_http_requests.min(max.max_http_requests),
            max_http_response_bytes: self.max_http_response_bytes.min(max.max_http_response_bytes),
            kv_quota_bytes: self.kv_quota_bytes.min(max.kv_quota_bytes),
        }
    }
}

// A hook runs inside someone's API request: its budget must stay below a handler's.
const _: () =
    assert!(Limits::HOOK.fuel < Limits::EVENT.fuel && Limits::HOOK.timeout_ms < Limits::EVENT.timeout_ms);

/// Caps linear memory and remembers whether the cap was hit, so that the trap that follows (a
/// failed allocation aborts a Rust guest) is reported as the memory limit it is.
#[derive(Debug)]
pub struct MemoryCap {
    pub max_bytes: usize,
    pub hit: bool,
    /// The largest linear memory the call grew to, in bytes.
    pub peak: usize,
}

impl wasmtime::ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_limits_never_exceed_the_ceiling() {
        let greedy = Limits {
            fuel: u64::MAX,
            memory_bytes: usize::MAX,
            ..Limits::EVENT
        };
        assert_eq!(greedy.capped().fuel, Limits::MAX.fuel);
        assert_eq!(greedy.capped().memory_bytes, Limits::MAX.memory_bytes);
    }
}
