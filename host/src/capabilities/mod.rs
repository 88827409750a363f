//! The host side of each WIT interface: one module per capability, each checking its grant
//! through [`PluginState::enter`](crate::runtime::state::PluginState) before it does anything.
//! Which scope each interface needs is decided in [`crate::policy`], not here.

pub mod config;
pub mod connections;
pub mod credentials;
pub mod http;
pub mod kv;
pub mod log;
pub mod projects;
pub mod tasks;
pub mod trace;

/// What a host function returns: the guest's result inside, a trap (host bug) outside.
pub(crate) type HostResult<T> = wasmtime::Result<Result<T, crate::runtime::bindings::Error>>;

/// Hands a host call's answer to the guest and records its outcome (`ok` or the error case) on
/// the call's `host_call` span, which names the interface, function and installation and
/// times the call.
pub(crate) fn answer<T>(result: Result<T, crate::runtime::bindings::Error>) -> HostResult<T> {
    use crate::runtime::bindings::Error;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(Error::Forbidden(_)) => "forbidden",
        Err(Error::NotFound(_)) => "not_found",
        Err(Error::Invalid(_)) => "invalid",
        Err(Error::LimitExceeded(_)) => "limit_exceeded",
        Err(Error::Unavailable(_)) => "unavailable",
        Err(Error::Internal(_)) => "internal",
    };
    tracing::Span::current().record("outcome", outcome);
    Ok(result)
}
