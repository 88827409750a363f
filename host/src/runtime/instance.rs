//! A component linked against the world it was built for, and the one call made on each fresh
//! instance of it.
//!
//! A call types only the export it calls: wasmtime type-checks an export each time it is
//! loaded from an instance, and a UI component's `render` and `on-action` carry the whole block
//! variant. Loading the world's every export for each call cost ~6 k instructions of the
//! ~135 k a fresh parse-only call takes (see the README's profile).

use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

use super::bindings::{self, triggers, v0_1, v0_2};
use super::state::PluginState;
use super::{Answer, Call, RuntimeError};

/// The export that answers inbound web triggers.
const TRIGGERS_EXPORT: &str = "bazaar:platform/triggers@0.2.0";
/// The export that makes a 0.2.0 component a UI one (world `plugin-with-ui`).
const EXTENSION_EXPORT: &str = "bazaar:platform/extension@0.2.0";

/// Where the exported interfaces of each world are, found once per component.
enum Indices {
    V0_1 {
        handler: v0_1::exports::bazaar::platform::handler::GuestIndices,
        hooks: v0_1::exports::bazaar::platform::hooks::GuestIndices,
    },
    V0_2 {
        handler: v0_2::plain::exports::bazaar::platform::handler::GuestIndices,
        hooks: v0_2::plain::exports::bazaar::platform::hooks::GuestIndices,
    },
    V0_2Ui {
        handler: v0_2::exports::bazaar::platform::handler::GuestIndices,
        hooks: v0_2::exports::bazaar::platform::hooks::GuestIndices,
        extension: v0_2::exports::bazaar::platform::extension::GuestIndices,
    },
}

/// A compiled component linked for its world: what each of its instances is made from.
pub(super) struct Linked {
    instance_pre: InstancePre<PluginState>,
    indices: Indices,
    /// Where its `triggers` export is, when it has one (0.2.0 on).
    triggers: Option<triggers::GuestIndices>,
}

impl Linked {
    /// Finds the exports of the world `contract` names; `exports` are the component's own.
    pub(super) fn new(
        instance_pre: InstancePre<PluginState>,
        contract: &str,
        exports: &[String],
    ) -> Result<Linked, RuntimeError> {
        let link = |e: wasmtime::Error| RuntimeError::Link(format!("{e:#}"));
        let pre = &instance_pre;
        let indices = match contract {
            "0.1.0" => {
                use v0_1::exports::bazaar::platform::{handler, hooks};
                Indices::V0_1 {
                    handler: handler::GuestIndices::new(pre).map_err(link)?,
                    hooks: hooks::GuestIndices::new(pre).map_err(link)?,
                }
            }
            "0.2.0" if exports.iter().any(|e| e == EXTENSION_EXPORT) => {
                use v0_2::exports::bazaar::platform::{extension, handler, hooks};
                Indices::V0_2Ui {
                    handler: handler::GuestIndices::new(pre).map_err(link)?,
                    hooks: hooks::GuestIndices::new(pre).map_err(link)?,
                    extension: extension::GuestIndices::new(pre).map_err(link)?,
                }
            }
            "0.2.0" => {
                use v0_2::plain::exports::bazaar::platform::{handler, hooks};
                Indices::V0_2 {
                    handler: handler::GuestIndices::new(pre).map_err(link)?,
                    hooks: hooks::GuestIndices::new(pre).map_err(link)?,
                }
            }
            other => return Err(RuntimeError::Contract(format!("bazaar:platform@{other}"))),
        };
        let triggers = match exports.iter().any(|e| e == TRIGGERS_EXPORT) {
            true => Some(triggers::GuestIndices::new(pre).map_err(link)?),
            false => None,
        };
        Ok(Linked {
            instance_pre,
            indices,
            triggers,
        })
    }

    /// Whether the component exports the UI interface (`extension`), so it can render blocks.
    pub(super) fn has_ui(&self) -> bool {
        matches!(self.indices, Indices::V0_2Ui { .. })
    }

    /// Whether the component answers inbound web triggers (exports `triggers`).
    pub(super) fn has_triggers(&self) -> bool {
        self.triggers.is_some()
    }

    /// A fresh instance in `store`: the component's start-up has run, nothing of any call yet.
    pub(super) async fn instantiate(&self, store: &mut Store<PluginState>) -> wasmtime::Result<Instance> {
        self.instance_pre.instantiate_async(store).await
    }

    /// Makes `call` on `instance`, typing only the export it calls.
    pub(super) async fn call(
        &self,
        store: &mut Store<PluginState>,
        instance: &Instance,
        call: &Call,
    ) -> wasmtime::Result<Result<Answer, bindings::Error>> {
        let done = |r: Result<(), bindings::Error>| r.map(|()| Answer::Done);
        let missing = |what: &str| {
            Ok(Err(bindings::Error::Internal(format!(
                "the component has no {what} export"
            ))))
        };
        // Each world has its own generated types: the same two calls, once per world.
        macro_rules! on_event {
            ($handler:expr, $event:expr) => {
                $handler
                    .load(&mut *store, instance)?
                    .call_on_event(store, $event)
                    .await
                    .map(done)
            };
        }
        macro_rules! validate_task {
            ($hooks:expr, $task:expr) => {
                $hooks
                    .load(&mut *store, instance)?
                    .call_validate_task(store, $task)
                    .await
                    .map(done)
            };
        }
        match (call, &self.indices) {
            (Call::Trigger(request), _) => match &self.triggers {
                Some(indices) => indices
                    .load(&mut *store, instance)?
                    .call_on_request(store, request)
                    .await
                    .map(|r| r.map(Answer::Trigger)),
                None => missing("triggers"),
            },
            (Call::Render(context), Indices::V0_2Ui { extension, .. }) => extension
                .load(&mut *store, instance)?
                .call_render(store, context)
                .await
                .map(|r| r.map(Answer::Blocks)),
            (Call::Action(context, action, values), Indices::V0_2Ui { extension, .. }) => extension
                .load(&mut *store, instance)?
                .call_on_action(store, context, action, values)
                .await
                .map(|r| r.map(Answer::Reply)),
            (Call::Render(_) | Call::Action(..), _) => missing("UI"),
            (Call::OnEvent(event), Indices::V0_1 { handler, .. }) => on_event!(handler, event),
            (Call::OnEvent(event), Indices::V0_2 { handler, .. }) => on_event!(handler, event),
            (Call::OnEvent(event), Indices::V0_2Ui { handler, .. }) => on_event!(handler, event),
            (Call::ValidateTask(task), Indices::V0_1 { hooks, .. }) => validate_task!(hooks, task),
            (Call::ValidateTask(task), Indices::V0_2 { hooks, .. }) => validate_task!(hooks, task),
            (Call::ValidateTask(task), Indices::V0_2Ui { hooks, .. }) => validate_task!(hooks, task),
        }
    }

    /// Calls `on-event` `count` times on one instance, its export typed once, and times each
    /// call: what `bazaar bench plugin` shows as a reused instance (production never does this).
    pub(super) async fn time_reused_on_event(
        &self,
        store: &mut Store<PluginState>,
        instance: &Instance,
        event: &bindings::Event,
        count: usize,
    ) -> wasmtime::Result<Result<Vec<std::time::Duration>, bindings::Error>> {
        macro_rules! time {
            ($handler:expr) => {{
                let guest = $handler.load(&mut *store, instance)?;
                let mut durations = Vec::with_capacity(count);
                for _ in 0..count {
                    let started = std::time::Instant::now();
                    let result = guest.call_on_event(&mut *store, event).await?;
                    durations.push(started.elapsed());
                    if let Err(e) = result {
                        return Ok(Err(e));
                    }
                }
                Ok(Ok(durations))
            }};
        }
        match &self.indices {
            Indices::V0_1 { handler, .. } => time!(handler),
            Indices::V0_2 { handler, .. } => time!(handler),
            Indices::V0_2Ui { handler, .. } => time!(handler),
        }
    }
}
