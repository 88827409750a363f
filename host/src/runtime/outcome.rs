//! How a call ended, classified so that a partner, an admin and the retry policy all understand
//! it the same way.

use serde::Serialize;

use super::bindings::Error as PluginError;
use super::output::LogLine;

/// How one invocation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum Outcome {
    /// The plugin returned ok.
    Ok,
    /// The plugin returned its `error` value: `kind` is the WIT case.
    PluginError { kind: String, message: String },
    /// The plugin ran out of fuel (too much computation).
    FuelExhausted,
    /// The plugin tried to use more linear memory than allowed.
    MemoryLimit,
    /// The call took longer than its wall-clock limit.
    Deadline,
    /// The plugin broke the rules of its limits in another way (result too large, ...).
    LimitExceeded { message: String },
    /// The plugin trapped: a panic, an abort, a stack overflow.
    Trap { reason: String },
    /// The plugin was not run: its imports need scopes that were not granted, or its input was
    /// refused.
    Refused { message: String },
    /// Bazaar failed, not the plugin.
    HostFailure { message: String },
}

impl Outcome {
    /// Every class, in the order pages list them.
    pub const CLASSES: [&'static str; 9] = [
        "ok",
        "plugin_error",
        "trap",
        "fuel_exhausted",
        "memory_limit",
        "deadline",
        "limit_exceeded",
        "refused",
        "host_failure",
    ];

    /// Stable name of the class, for counters and the delivery log.
    pub fn class(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::PluginError { .. } => "plugin_error",
            Outcome::FuelExhausted => "fuel_exhausted",
            Outcome::MemoryLimit => "memory_limit",
            Outcome::Deadline => "deadline",
            Outcome::LimitExceeded { .. } => "limit_exceeded",
            Outcome::Trap { .. } => "trap",
            Outcome::Refused { .. } => "refused",
            Outcome::HostFailure { .. } => "host_failure",
        }
    }

    /// A sentence for the partner or the admin.
    pub fn describe(&self, limits: &super::Limits) -> String {
        match self {
            Outcome::Ok => "the plugin finished successfully".into(),
            Outcome::PluginError { kind, message } => {
                format!("the plugin returned an error ({kind}): {message}")
            }
            Outcome::FuelExhausted => format!(
                "the plugin used all of its fuel ({} units) and was stopped; it computes too much for one call",
                limits.fuel
            ),
            Outcome::MemoryLimit => format!(
                "the plugin tried to use more than {} MiB of memory and was stopped",
                limits.memory_bytes >> 20
            ),
            Outcome::Deadline => format!(
                "the plugin ran longer than {} ms and was stopped",
                limits.timeout_ms
            ),
            Outcome::LimitExceeded { message } => format!("the plugin exceeded a limit: {message}"),
            Outcome::Trap { reason } => format!("the plugin crashed: {reason}"),
            Outcome::Refused { message } => format!("the plugin was not run: {message}"),
            Outcome::HostFailure { message } => format!("Bazaar failed while running the plugin: {message}"),
        }
    }

    /// Whether the delivery should be tried again later.
    pub fn retryable(&self) -> bool {
        matches!(self, Outcome::PluginError { kind, .. } if kind == "unavailable")
            || matches!(self, Outcome::HostFailure { .. })
    }

    pub(crate) fn from_plugin_error(e: PluginError) -> Outcome {
        let (kind, message) = match e {
            PluginError::Forbidden(m) => ("forbidden", m),
            PluginError::NotFound(m) => ("not_found", m),
            PluginError::Invalid(m) => ("invalid", m),
            PluginError::LimitExceeded(m) => ("limit_exceeded", m),
            PluginError::Unavailable(m) => ("unavailable", m),
            PluginError::Internal(m) => ("internal", m),
        };
        Outcome::PluginError {
            kind: kind.into(),
            message,
        }
    }

    /// Classifies a wasmtime error from a call.
    pub(crate) fn from_trap(error: &wasmtime::Error, memory_hit: bool) -> Outcome {
        if memory_hit {
            return Outcome::MemoryLimit;
        }
        match error.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::OutOfFuel) => Outcome::FuelExhausted,
            Some(wasmtime::Trap::Interrupt) => Outcome::Deadline,
            Some(wasmtime::Trap::StackOverflow) => Outcome::Trap {
                reason: "stack overflow (unbounded recursion?)".into(),
            },
            // A Rust (or C) guest keeps its stack at the bottom of linear memory: overflowing it
            // runs below address 0, which wasm reports as an out-of-bounds access.
            Some(wasmtime::Trap::MemoryOutOfBounds) => Outcome::Trap {
                reason: "out-of-bounds memory access, most often a stack overflow inside the plugin's \
                         linear memory (deep recursion or large local arrays on a small stack; the \
                         SDK's stack is 64 KiB), otherwise a bad pointer"
                    .into(),
            },
            Some(wasmtime::Trap::UnreachableCodeReached) => Outcome::Trap {
                reason: "panic or abort (wasm `unreachable`)".into(),
            },
            Some(trap) => Outcome::Trap {
                reason: trap.to_string(),
            },
            None => {
                let first = format!("{error:#}").lines().next().unwrap_or_default().to_owned();
                // The canonical ABI checks every string the guest hands over.
                let reason = if first.contains("utf-8") || first.contains("utf8") {
                    format!("the plugin returned a string that is not valid UTF-8 ({first})")
                } else {
                    first
                };
                Outcome::Trap { reason }
            }
        }
    }
}

/// Everything a caller learns about one invocation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub outcome: Outcome,
    /// `outcome.describe()`, kept with it for the JSON form.
    pub message: String,
    pub fuel_used: u64,
    pub duration_us: u64,
    pub log: Vec<LogLine>,
    /// Log bytes dropped because of the caps.
    pub log_dropped_bytes: u64,
    /// Log lines dropped because of the caps.
    pub log_dropped_lines: u64,
    /// The most linear memory the guest held at once.
    pub memory_peak_bytes: u64,
    /// The longest `Retry-After` of a 429 or 503 answer the plugin received: a retried
    /// delivery waits at least that long.
    #[serde(skip)]
    pub retry_after: Option<std::time::Duration>,
    /// What came into the sandbox, to run the call again (when the runtime records).
    #[serde(skip)]
    pub recording: Option<std::sync::Arc<super::recording::Recording>>,
}
