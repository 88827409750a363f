//! Host bindings of every contract version this host links, generated from the WIT in `wit/`.
//!
//! Each released version is frozen (`wit/0.1.0`) and linked beside the newest (`wit/0.2.0`):
//! a component built against any of them runs unchanged, with the same scopes and limits. The
//! capability modules implement the newest version's host traits; the older versions' traits
//! forward to them ([`super::compat`]). The shared records (`types`) are one set of Rust types for
//! every version, so a call's input and error need no conversion.
//!
//! Imports are async (host functions query the database or the network) and trappable: a host
//! function returns the WIT `error` for anything the plugin should see, and a trap only for a
//! host bug.

/// `bazaar:platform@0.2.0`, the newest, with its UI world `plugin-with-ui`.
pub mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit/0.2.0",
        world: "plugin-with-ui",
        imports: { default: async | trappable },
        exports: { default: async },
        // Records cross into recordings (`super::recording`) as JSON.
        additional_derives: [serde::Serialize, serde::Deserialize],
    });

    /// World `full-plugin` of 0.2.0, for its `triggers` export: bound per component that has it
    /// (whatever else it exports), through `GuestIndices`.
    pub mod full {
        wasmtime::component::bindgen!({
            path: "../wit/0.2.0",
            world: "full-plugin",
            imports: { default: async | trappable },
            exports: { default: async },
            additional_derives: [serde::Serialize, serde::Deserialize],
            with: {
                "bazaar:platform/types": super::bazaar::platform::types,
                "bazaar:platform/log": super::bazaar::platform::log,
                "bazaar:platform/trace": super::bazaar::platform::trace,
                "bazaar:platform/config": super::bazaar::platform::config,
                "bazaar:platform/kv": super::bazaar::platform::kv,
                "bazaar:platform/projects": super::bazaar::platform::projects,
                "bazaar:platform/projects-write": super::bazaar::platform::projects_write,
                "bazaar:platform/tasks": super::bazaar::platform::tasks,
                "bazaar:platform/tasks-write": super::bazaar::platform::tasks_write,
                "bazaar:platform/http": super::bazaar::platform::http,
                "bazaar:platform/connections": super::bazaar::platform::connections,
                "bazaar:platform/ui": super::bazaar::platform::ui,
            },
        });
    }

    /// World `plugin` of 0.2.0: the same imports, without the UI export.
    pub mod plain {
        wasmtime::component::bindgen!({
            path: "../wit/0.2.0",
            world: "plugin",
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                "bazaar:platform/types": super::bazaar::platform::types,
                "bazaar:platform/log": super::bazaar::platform::log,
                "bazaar:platform/trace": super::bazaar::platform::trace,
                "bazaar:platform/config": super::bazaar::platform::config,
                "bazaar:platform/kv": super::bazaar::platform::kv,
                "bazaar:platform/projects": super::bazaar::platform::projects,
                "bazaar:platform/projects-write": super::bazaar::platform::projects_write,
                "bazaar:platform/tasks": super::bazaar::platform::tasks,
                "bazaar:platform/tasks-write": super::bazaar::platform::tasks_write,
                "bazaar:platform/http": super::bazaar::platform::http,
                "bazaar:platform/connections": super::bazaar::platform::connections,
            },
        });
    }
}

/// `bazaar:platform@0.1.0`, as released.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/0.1.0",
        world: "plugin",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "bazaar:platform/types": super::v0_2::bazaar::platform::types,
        },
    });
}

pub use v0_2::bazaar::platform;
pub use v0_2::bazaar::platform::types::{Error, Event, Project, Task};
pub use v0_2::bazaar::platform::ui;
pub use v0_2::full::exports::bazaar::platform::triggers;

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
