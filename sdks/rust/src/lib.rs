//! Write Bazaar plugins in Rust.
//!
//! A plugin is a type that implements [`Plugin`] and is exported with [`export_plugin!`]; it is
//! built for `wasm32-wasip2` and runs inside Bazaar in a fresh sandbox for every call. It can
//! reach the platform only through the capability modules of this crate ([`kv`], [`projects`],
//! [`tasks`], [`http`], ...), and only those whose scope the installation granted: the
//! component's imports are its capability list, and the host refuses to run a component that
//! imports an interface whose scope was not granted.
//!
//! ```ignore
//! use bazaar_sdk::{Event, Plugin, log, tasks};
//!
//! struct Triage;
//!
//! impl Plugin for Triage {
//!     fn on_event(event: Event) -> Result<(), bazaar_sdk::Error> {
//!         if event.kind == "task.created" {
//!             let task: bazaar_sdk::Task = tasks::get(&event.subject_id)?;
//!             log::info(&format!("new task: {}", task.title));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! bazaar_sdk::export_plugin!(Triage);
//! ```
#![deny(missing_docs)]

// The generated bindings name this crate by its public path, which must resolve inside it too.
extern crate self as bazaar_sdk;

mod capabilities;
pub mod triggers;
mod types;
pub mod ui;

pub use capabilities::{config, connections, files, http, kv, log, projects, tasks, trace};
pub use types::{Error, Event, Project, Task};

/// The generated bindings of Bazaar's WIT package. Not part of the SDK's API: use the typed
/// wrappers instead.
#[doc(hidden)]
pub mod wit {
    wit_bindgen::generate!({
        path: "../../wit/0.2.0",
        world: "full-plugin",
        pub_export_macro: true,
        export_macro_name: "__export",
        default_bindings_module: "::bazaar_sdk::wit",
        runtime_path: "::bazaar_sdk::__wit_bindgen::rt",
    });
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// What a plugin does. Every method has a default that does nothing, so a plugin implements only
/// what it needs.
pub trait Plugin {
    /// Handles one event the installation subscribed to. Return [`Error::Unavailable`] to have
    /// the delivery retried later; any other error is final for this delivery.
    fn on_event(event: Event) -> Result<(), Error> {
        let _ = event;
        Ok(())
    }

    /// Checks a task before it is created or changed. Return [`Error::Invalid`] with a message
    /// for the person to reject the change. Runs inside their request, with a small budget.
    fn validate_task(task: Task) -> Result<(), Error> {
        let _ = task;
        Ok(())
    }

    /// The blocks to show where the manifest's `ui` names (a task's panel, a project's card,
    /// the settings page); `context.subject_id` is the task or project shown. Runs inside the
    /// person's page load, with the hook budget: keep it quick.
    fn render(context: ui::Context) -> Result<Vec<ui::Block>, Error> {
        let _ = context;
        Ok(Vec::new())
    }

    /// A person pressed one of the plugin's buttons: `action` is the button's, `values` its
    /// form's. Return [`ui::Reply::Notice`] to show a message and render again, or
    /// [`ui::Reply::Show`] to show other blocks.
    fn on_action(context: ui::Context, action: String, values: ui::Values) -> Result<ui::Reply, Error> {
        let _ = (context, values);
        Err(Error::Invalid(format!("this plugin has no action `{action}`")))
    }

    /// A tool called one of the manifest's `triggers` (GitHub's webhook, say), and the host
    /// checked its signature. Runs with the hook budget; answer quickly, with
    /// [`triggers::json`] or [`triggers::text`].
    fn on_request(request: triggers::Inbound) -> Result<triggers::Answer, Error> {
        Ok(triggers::text(
            404,
            &format!("this plugin has no trigger `{}`", request.trigger),
        ))
    }
}

/// Exports a [`Plugin`] implementation as the component's entry points.
///
/// Use it once per plugin crate, at the crate root: `bazaar_sdk::export_plugin!(MyPlugin);`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __BazaarExport;

        impl $crate::wit::exports::bazaar::platform::handler::Guest for __BazaarExport {
            fn on_event(
                event: $crate::wit::bazaar::platform::types::Event,
            ) -> ::core::result::Result<(), $crate::wit::bazaar::platform::types::Error> {
                <$plugin as $crate::Plugin>::on_event($crate::Event::from(event)).map_err(::core::convert::Into::into)
            }
        }

        impl $crate::wit::exports::bazaar::platform::hooks::Guest for __BazaarExport {
            fn validate_task(
                task: $crate::wit::bazaar::platform::types::Task,
            ) -> ::core::result::Result<(), $crate::wit::bazaar::platform::types::Error> {
                <$plugin as $crate::Plugin>::validate_task($crate::Task::from(task)).map_err(::core::convert::Into::into)
            }
        }

        impl $crate::wit::exports::bazaar::platform::extension::Guest for __BazaarExport {
            fn render(
                context: $crate::ui::Context,
            ) -> ::core::result::Result<::std::vec::Vec<$crate::ui::Block>, $crate::wit::bazaar::platform::types::Error> {
                <$plugin as $crate::Plugin>::render(context).map_err(::core::convert::Into::into)
            }

            fn on_action(
                context: $crate::ui::Context,
                action: ::std::string::String,
                values: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
            ) -> ::core::result::Result<$crate::ui::Reply, $crate::wit::bazaar::platform::types::Error> {
                <$plugin as $crate::Plugin>::on_action(context, action, $crate::ui::Values(values))
                    .map_err(::core::convert::Into::into)
            }
        }

        impl $crate::wit::exports::bazaar::platform::triggers::Guest for __BazaarExport {
            fn on_request(
                request: $crate::triggers::Inbound,
            ) -> ::core::result::Result<$crate::triggers::Answer, $crate::wit::bazaar::platform::types::Error> {
                <$plugin as $crate::Plugin>::on_request(request).map_err(::core::convert::Into::into)
            }
        }

        // Exports exist only in the component; native builds (the plugin's own unit tests) skip
        // them, since WIT export names are not valid native symbol names.
        #[cfg(target_arch = "wasm32")]
        $crate::wit::__export!(__BazaarExport with_types_in $crate::wit);
    };
}
