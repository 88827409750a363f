//! Host bindings of `bazaar:platform@0.1.0`, generated from the WIT in `wit/`.
//!
//! Imports are async (host functions query the database or the network) and trappable: a host
//! function returns the WIT `error` for anything the plugin should see, and a trap only for a
//! host bug.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use self::bazaar::platform::types::{Error, Event, Project, Task};

impl From<crate::platform::PlatformError> for Error {
    fn from(e: crate::platform::PlatformError) -> Self {
        use crate::platform::PlatformError as P;
        match e {
            P::NotFound(what) => Error::NotFound(format!("{what} not found")),
            P::Conflict(m) | P::Invalid(m) | P::InvalidFields(m, _) => Error::Invalid(m),
            P::Database(e) => {
                tracing::warn!(error = %e, "database error in a host function");
                Error::Unavailable("the platform is busy; try again".into())
            }
            P::Internal(m) => {
                tracing::warn!(detail = %m, "internal error in a host function");
                Error::Internal("the host failed to complete the call".into())
            }
        }
    }
}
