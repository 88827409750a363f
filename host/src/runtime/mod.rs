//! The plugin host: one wasmtime engine, components compiled once per content hash, and every
//! call in a fresh, isolated instance under fuel, memory, time and I/O limits.

pub mod audit;
pub mod bindings;
pub mod cache;
mod compat;
pub mod files;
mod instance;
pub mod journal;
pub mod limits;
pub mod outcome;
pub mod output;
pub mod recording;
pub mod recordings;
pub mod spans;
pub mod state;
pub mod ui;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::WasiCtxBuilder;

pub use bindings::{Event, Task};
pub use limits::Limits;
pub use outcome::{Outcome, Report};
pub use state::{HostServices, Installation};

use bindings::{v0_1, v0_2};
use cache::ComponentCache;
use instance::Linked;
use output::PluginLog;
use recording::{Player, Recorder, Recording, Source};
use state::PluginState;

/// How often the epoch advances; wall-clock deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Why a component cannot be prepared at all.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error("the component could not be compiled: {0}")]
    Compile(String),
    #[error("the component cannot be linked: {0}")]
    Link(String),
    #[error(
        "the component is built against {0}, which this host does not serve (it serves bazaar:platform {versions})",
        versions = crate::policy::SUPPORTED_VERSIONS.join(", ")
    )]
    Contract(String),
    #[error("the plugin engine could not start: {0}")]
    Engine(String),
}

/// A component ready to instantiate: compiled, linked, with its import list.
pub struct Prepared {
    pub sha256: String,
    pub imports: Vec<String>,
    /// The contract version it is built against (`0.1.0`).
    pub contract: &'static str,
    /// Each import's rule, mapped once here so that a call checks its grants without parsing.
    rules: Vec<(String, crate::policy::ImportRule)>,
    linked: Arc<Linked>,
}

impl Prepared {
    /// Whether the component exports the UI interface (`extension`), so it can render blocks.
    pub fn has_ui(&self) -> bool {
        self.linked.has_ui()
    }

    /// Whether the component answers inbound web triggers (exports `triggers`).
    pub fn has_triggers(&self) -> bool {
        self.linked.has_triggers()
    }
}

/// The server's plugin host, started on first use and shared by the API (hooks) and the
/// delivery workers.
#[derive(Clone)]
pub struct SharedRuntime {
    cell: Arc<tokio::sync::OnceCell<Runtime>>,
    services: HostServices,
    cache_dir: PathBuf,
}

impl SharedRuntime {
    pub fn new(services: HostServices, cache_dir: PathBuf) -> Self {
        SharedRuntime {
            cell: Arc::default(),
            services,
            cache_dir,
        }
    }

    /// The runtime, started now if this is the first use.
    pub async fn get(&self) -> Result<&Runtime, RuntimeError> {
        self.cell
            .get_or_try_init(|| async { Runtime::new(self.services.clone(), Some(self.cache_dir.clone())) })
            .await
    }
}

/// Which export to call.
#[derive(Clone)]
enum Call {
    OnEvent(Event),
    ValidateTask(Task),
    Render(ui::Context),
    Action(ui::Context, String, Vec<(String, String)>),
    Trigger(bindings::triggers::Inbound),
}

impl Call {
    /// What runs, in words, as the journal and recordings list it.
    fn describe(&self) -> String {
        match self {
            Call::OnEvent(event) => format!("on-event {}", event.kind),
            Call::ValidateTask(_) => "validate-task".into(),
            Call::Render(context) => format!("render {}", ui::surface_name(context.surface)),
            Call::Action(_, action, _) => format!("on-action {action}"),
            Call::Trigger(request) => format!("on-request {}", request.trigger),
        }
    }

    fn event_id(&self) -> Option<String> {
        match self {
            Call::OnEvent(event) => Some(event.id.clone()),
            _ => None,
        }
    }

    fn input(&self) -> recording::Input {
        use recording::Input;
        match self.clone() {
            Call::OnEvent(event) => Input::OnEvent { event },
            Call::ValidateTask(task) => Input::ValidateTask { task },
            Call::Render(context) => Input::Render { context },
            Call::Action(context, action, values) => Input::OnAction {
                context,
                action,
                values,
            },
            Call::Trigger(request) => Input::OnRequest { request },
        }
    }

    fn from_input(input: recording::Input) -> Call {
        use recording::Input;
        match input {
            Input::OnEvent { event } => Call::OnEvent(event),
            Input::ValidateTask { task } => Call::ValidateTask(task),
            Input::Render { context } => Call::Render(context),
            Input::OnAction {
                context,
                action,
                values,
            } => Call::Action(context, action, values),
            Input::OnRequest { request } => Call::Trigger(request),
        }
    }
}

/// What a successful call returned.
enum Answer {
    Done,
    Blocks(Vec<ui::Block>),
    Reply(ui::Reply),
    Trigger(bindings::triggers::Answer),
}

/// What a replay found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Replayed {
    pub report: Report,
    /// Whether the component replayed is the one recorded (by SHA-256).
    pub same_component: bool,
    /// Where the run first left the recording: a host call it made differently, or one the
    /// recording has that it never made.
    pub divergence: Option<String>,
}

/// The process's plugin host.
pub struct Runtime {
    engine: Engine,
    linker: Linker<PluginState>,
    cache: ComponentCache,
    services: Arc<HostServices>,
    prepared: Mutex<HashMap<String, Arc<Prepared>>>,
    /// Whether calls are recorded (on unless turned off, e.g. to measure what recording costs).
    recording: AtomicBool,
}

impl Runtime {
    /// Starts the engine (and its epoch ticker thread); compiled components go to `cache_dir`.
    pub fn new(services: HostServices, cache_dir: Option<PathBuf>) -> Result<Self, RuntimeError> {
        let engine = engine().map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::<PluginState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        // Every version this host serves, side by side: their interface names differ by version.
        v0_2::PluginWithUi::add_to_linker::<PluginState, HasSelf<PluginState>>(&mut linker, |state| state)
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        v0_1::Plugin::add_to_linker::<PluginState, HasSelf<PluginState>>(&mut linker, |state| state)
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        // 0.1.0's `types` are 0.2.0's Rust types; its (empty) instance still needs its own name.
        linker
            .instance("bazaar:platform/types@0.1.0")
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        start_epoch_ticker(&engine);
        Ok(Runtime {
            engine,
            linker,
            cache: ComponentCache::new(cache_dir),
            services: Arc::new(services),
            prepared: Mutex::default(),
            recording: AtomicBool::new(true),
        })
    }

    /// Compiles (or loads from cache) and links a component; the result is kept per content
    /// hash, so preparing the same bytes again is a lookup.
    pub fn prepare(&self, bytes: &[u8]) -> Result<Arc<Prepared>, RuntimeError> {
        let audit = audit::audit(bytes)?;
        if let Some(prepared) = self
            .prepared
            .lock()
            .ok()
            .and_then(|m| m.get(&audit.sha256).cloned())
        {
            return Ok(prepared);
        }
        let component = self
            .cache
            .load_or_compile(&self.engine, bytes, &audit.sha256)
            .map_err(|e| RuntimeError::Compile(format!("{e:#}")))?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
        let contract = crate::policy::SUPPORTED_VERSIONS
            .into_iter()
            .find(|v| audit.contract.as_deref() == Some(*v))
            .ok_or_else(|| {
                RuntimeError::Contract(audit.contract.as_deref().map_or_else(
                    || "no bazaar:platform version (it exports no handler)".to_owned(),
                    |v| format!("bazaar:platform@{v}"),
                ))
            })?;
        let linked = Arc::new(Linked::new(instance_pre, contract, &audit.exports)?);
        let imports: Vec<String> = audit.imports.into_iter().map(|i| i.name).collect();
        let prepared = Arc::new(Prepared {
            sha256: audit.sha256.clone(),
            contract,
            rules: crate::policy::rules_of(imports.iter().map(String::as_str)),
            imports,
            linked,
        });
        if let Ok(mut map) = self.prepared.lock() {
            map.insert(audit.sha256, prepared.clone());
        }
        Ok(prepared)
    }

    /// The prepared component with this SHA-256, if it was prepared before (no bytes needed).
    pub fn prepared(&self, sha256: &str) -> Option<Arc<Prepared>> {
        self.prepared.lock().ok().and_then(|m| m.get(sha256).cloned())
    }

    /// Runs the plugin's `on-event` in a fresh instance.
    #[tracing::instrument(skip_all, fields(installation = %installation.id, event = %event.id, kind = %event.kind, outcome = tracing::field::Empty, fuel = tracing::field::Empty, memory_peak_bytes = tracing::field::Empty, duration_us = tracing::field::Empty))]
    pub async fn on_event(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        limits: Limits,
        event: Event,
    ) -> Report {
        self.invoke(prepared, installation, limits, Call::OnEvent(event))
            .await
            .0
    }

    /// Runs the plugin's `validate-task` hook in a fresh instance.
    #[tracing::instrument(skip_all, fields(installation = %installation.id, task = %task.id, outcome = tracing::field::Empty, fuel = tracing::field::Empty, memory_peak_bytes = tracing::field::Empty, duration_us = tracing::field::Empty))]
    pub async fn validate_task(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        limits: Limits,
        task: Task,
    ) -> Report {
        self.invoke(prepared, installation, limits, Call::ValidateTask(task))
            .await
            .0
    }

    /// Runs the plugin's `render` in a fresh instance: its blocks, when the call succeeded
    /// within the limits (at most [`ui::MAX_BLOCKS`] blocks and [`ui::MAX_TEXT_BYTES`] of text).
    #[tracing::instrument(skip_all, fields(installation = %installation.id, surface = ?context.surface, outcome = tracing::field::Empty, fuel = tracing::field::Empty, memory_peak_bytes = tracing::field::Empty, duration_us = tracing::field::Empty))]
    pub async fn render(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        limits: Limits,
        context: ui::Context,
    ) -> (Report, Option<Vec<ui::Block>>) {
        match self
            .invoke(prepared, installation, limits, Call::Render(context))
            .await
        {
            (report, Some(Answer::Blocks(blocks))) => (report, Some(blocks)),
            (report, _) => (report, None),
        }
    }

    /// Runs the plugin's `on-action` in a fresh instance: what it asks to show next.
    #[tracing::instrument(skip_all, fields(installation = %installation.id, surface = ?context.surface, action = %action, outcome = tracing::field::Empty, fuel = tracing::field::Empty, memory_peak_bytes = tracing::field::Empty, duration_us = tracing::field::Empty))]
    pub async fn on_action(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        limits: Limits,
        context: ui::Context,
        action: String,
        values: Vec<(String, String)>,
    ) -> (Report, Option<ui::Reply>) {
        match self
            .invoke(
                prepared,
                installation,
                limits,
                Call::Action(context, action, values),
            )
            .await
        {
            (report, Some(Answer::Reply(reply))) => (report, Some(reply)),
            (report, _) => (report, None),
        }
    }

    /// Runs the plugin's `on-request` for a verified inbound web trigger in a fresh instance:
    /// its answer, when it gave one within the limits (status 200 to 599, at most
    /// [`ui::MAX_TEXT_BYTES`] of body).
    #[tracing::instrument(skip_all, fields(installation = %installation.id, trigger = %request.trigger, outcome = tracing::field::Empty, fuel = tracing::field::Empty, memory_peak_bytes = tracing::field::Empty, duration_us = tracing::field::Empty))]
    pub async fn on_request(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        limits: Limits,
        request: bindings::triggers::Inbound,
    ) -> (Report, Option<bindings::triggers::Answer>) {
        match self
            .invoke(prepared, installation, limits, Call::Trigger(request))
            .await
        {
            (report, Some(Answer::Trigger(answer))) => (report, Some(answer)),
            (report, _) => (report, None),
        }
    }

    /// Turns recording on or off for the calls that follow (on by default).
    pub fn set_recording(&self, on: bool) {
        self.recording.store(on, Ordering::Relaxed);
    }

    /// Runs a recorded call again on `prepared` (the same component, or a new build of it),
    /// feeding back what the recording holds in the same order: nothing is read, written or
    /// sent. The report is the replay's; the divergence, if any, names the first host call (or
    /// clock or random draw) where the new run left the recording.
    #[tracing::instrument(skip_all, fields(installation = %recording.installation_id, input = %recording.input.describe(), outcome = tracing::field::Empty, fuel = tracing::field::Empty, memory_peak_bytes = tracing::field::Empty, duration_us = tracing::field::Empty))]
    pub async fn replay(&self, prepared: &Prepared, recording: &Recording) -> Replayed {
        let grants = crate::platform::ScopeSet::parse_text(&recording.grants.join(" ")).unwrap_or_default();
        let installation = Arc::new(Installation {
            id: recording.installation_id.clone(),
            app_id: recording.app_id.clone(),
            org_id: recording.org_id.clone(),
            grants,
            config: Default::default(),
            allowed_hosts: Vec::new(),
            connections: Vec::new(),
            secret_config: Vec::new(),
        });
        let player = Player::new(recording.tape.clone());
        let call = Call::from_input(recording.input.clone());
        let (report, _) = self
            .invoke_taped(
                prepared,
                installation,
                recording.limits,
                call,
                Some(Source::Replay(player.clone())),
            )
            .await;
        Replayed {
            same_component: prepared.sha256 == recording.component_sha256,
            divergence: player.divergence(),
            report,
        }
    }

    async fn invoke(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        limits: Limits,
        call: Call,
    ) -> (Report, Option<Answer>) {
        let tape = self
            .recording
            .load(Ordering::Relaxed)
            .then(|| Source::Record(Recorder::default()));
        self.invoke_taped(prepared, installation, limits, call, tape)
            .await
    }

    /// Runs one call with its clocks, randomness and host answers recorded (or replayed).
    async fn invoke_taped(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        limits: Limits,
        call: Call,
        tape: Option<Source>,
    ) -> (Report, Option<Answer>) {
        let limits = limits.capped();
        let log = PluginLog::new(limits.max_log_bytes, limits.max_log_lines);
        let started = Instant::now();
        let recorded = match &tape {
            Some(Source::Record(recorder)) => Some((recorder.clone(), call.input(), installation.clone())),
            _ => None,
        };
        // A replay is not a call of the installation: it is not journaled.
        let journaled = match (&self.services.journal, &tape) {
            (Some(_), Some(Source::Replay(_))) | (None, _) => None,
            (Some(journal), _) => Some((
                journal.clone(),
                call.describe(),
                call.event_id(),
                installation.clone(),
            )),
        };
        let (outcome, fuel_used, memory_peak, answer, retry_after) =
            match self.admit(prepared, &installation, &limits, &call) {
                Err(message) => (Outcome::Refused { message }, 0, 0, None, None),
                Ok(()) => {
                    self.run(prepared, installation, limits, call, log.clone(), tape)
                        .await
                }
            };
        let kept = log.take();
        let message = outcome.describe(&limits);
        let recording = recorded.map(|(recorder, input, installation)| {
            Arc::new(Recording {
                format: recording::FORMAT,
                component_sha256: prepared.sha256.clone(),
                contract: prepared.contract.to_owned(),
                installation_id: installation.id.clone(),
                app_id: installation.app_id.clone(),
                org_id: installation.org_id.clone(),
                grants: installation.grants.names(),
                limits,
                input,
                tape: recorder.take(),
                outcome: outcome.class().to_owned(),
                message: message.clone(),
                fuel_used,
            })
        });
        let report = Report {
            message,
            outcome,
            fuel_used,
            duration_us: started.elapsed().as_micros() as u64,
            log: kept.lines,
            log_dropped_bytes: kept.dropped_bytes,
            log_dropped_lines: kept.dropped_lines,
            memory_peak_bytes: memory_peak as u64,
            retry_after,
            recording,
        };
        // The call's span (the caller's `#[instrument]`): what a trace shows of it.
        let span = tracing::Span::current();
        span.record("outcome", report.outcome.class());
        // As i64: OpenTelemetry's integers are signed (a u64 would arrive as text).
        span.record("fuel", i64::try_from(report.fuel_used).unwrap_or(i64::MAX));
        span.record(
            "memory_peak_bytes",
            i64::try_from(memory_peak).unwrap_or(i64::MAX),
        );
        span.record(
            "duration_us",
            i64::try_from(report.duration_us).unwrap_or(i64::MAX),
        );
        tracing::debug!(
            outcome = report.outcome.class(),
            fuel = report.fuel_used,
            us = report.duration_us,
            "plugin call"
        );
        if let Some((journal, described, event_id, installation)) = journaled {
            journal
                .record(journal::Finished {
                    org_id: installation.org_id.clone(),
                    installation_id: installation.id.clone(),
                    app_id: installation.app_id.clone(),
                    ended_at: crate::store::now_ms(),
                    call: described,
                    event_id,
                    outcome: report.outcome.class(),
                    message: report.message.clone(),
                    fuel_used: report.fuel_used,
                    memory_peak_bytes: memory_peak as u64,
                    duration_us: report.duration_us,
                    log: report.log.clone(),
                    recording: report.recording.clone(),
                })
                .await;
        }
        (report, answer)
    }

    /// Refuses a call before anything runs: ungranted imports, oversized input.
    fn admit(
        &self,
        prepared: &Prepared,
        installation: &Installation,
        limits: &Limits,
        call: &Call,
    ) -> Result<(), String> {
        crate::policy::check_rules(&prepared.rules, installation.grants).map_err(|e| e.to_string())?;
        let size = match call {
            Call::OnEvent(e) => e.payload.len() + e.kind.len() + e.subject_id.len() + e.id.len(),
            Call::ValidateTask(t) => {
                t.title.len() + t.description.len() + t.labels.iter().map(String::len).sum::<usize>()
            }
            Call::Render(context) => context.subject_id.len(),
            Call::Trigger(request) => {
                request.body.len()
                    + request
                        .headers
                        .iter()
                        .map(|(k, v)| k.len() + v.len())
                        .sum::<usize>()
            }
            Call::Action(context, action, values) => {
                context.subject_id.len()
                    + action.len()
                    + values.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
            }
        };
        if matches!(call, Call::Render(_) | Call::Action(..)) && !prepared.has_ui() {
            return Err(format!(
                "the component has no UI: it is built against bazaar:platform@{} without the `plugin-with-ui` world",
                prepared.contract
            ));
        }
        if matches!(call, Call::Trigger(_)) && !prepared.has_triggers() {
            return Err(
                "the component answers no web triggers: it does not export bazaar:platform/triggers".into(),
            );
        }
        if size > limits.max_event_bytes {
            return Err(format!(
                "the input is {size} bytes, more than the limit of {}",
                limits.max_event_bytes
            ));
        }
        Ok(())
    }

    /// A fresh store for one invocation: WASI with no ambient authority (no environment,
    /// arguments, sockets or name lookups; output captured into the log; the installation's
    /// folder only with a `files:*` scope), the memory cap, fuel and the epoch deadline.
    fn new_store(
        &self,
        installation: Arc<Installation>,
        limits: &Limits,
        log: PluginLog,
        tape: Option<Source>,
    ) -> Result<Store<PluginState>, Outcome> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(log.stream("stdout"))
            .stderr(log.stream("stderr"))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        if let Some(source) = &tape {
            wasi.wall_clock(recording::WallClock(source.clone()))
                .monotonic_clock(recording::MonotonicClock {
                    source: source.clone(),
                    started: Instant::now(),
                })
                .secure_random(recording::Random {
                    source: source.clone(),
                    secure: true,
                })
                .insecure_random(recording::Random {
                    source: source.clone(),
                    secure: false,
                })
                .insecure_random_seed(match source {
                    Source::Record(recorder) => recorder.new_seed(),
                    Source::Replay(player) => player.insecure_seed(),
                });
        }
        files::preopen(
            &mut wasi,
            &self.services.files_root,
            &installation.id,
            installation.grants,
        )
        .map_err(|e| Outcome::HostFailure {
            message: format!("opening the installation's folder: {e}"),
        })?;
        let mut state = PluginState::new(wasi.build(), installation, self.services.clone(), log, *limits);
        state.tape = tape;
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);
        store.set_fuel(limits.fuel).map_err(|e| Outcome::HostFailure {
            message: e.to_string(),
        })?;
        let ticks = limits.timeout_ms.div_ceil(EPOCH_TICK.as_millis() as u64) + 1;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        Ok(store)
    }

    async fn run(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        limits: Limits,
        call: Call,
        log: PluginLog,
        tape: Option<Source>,
    ) -> (Outcome, u64, usize, Option<Answer>, Option<Duration>) {
        let mut store = match self.new_store(installation, &limits, log, tape) {
            Ok(store) => store,
            Err(outcome) => return (outcome, 0, 0, None, None),
        };
        // The epoch deadline stops guest code; the timeout also bounds time spent in host calls.
        let deadline = Duration::from_millis(limits.timeout_ms) + EPOCH_TICK * 2;
        let linked = &prepared.linked;
        let result = tokio::time::timeout(deadline, async {
            let instance = linked.instantiate(&mut store).await?;
            linked.call(&mut store, &instance, &call).await
        })
        .await;
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let mut answer = None;
        let outcome = match result {
            Err(_elapsed) => Outcome::Deadline,
            Ok(Ok(Ok(returned))) => match match &returned {
                Answer::Blocks(blocks) | Answer::Reply(ui::Reply::Show(blocks)) => ui::oversized(blocks),
                Answer::Reply(ui::Reply::Notice(text)) => ui::oversized_notice(text),
                Answer::Trigger(answer) => ui::unfit_answer(answer),
                Answer::Done => None,
            } {
                Some(message) => Outcome::LimitExceeded { message },
                None => {
                    answer = Some(returned);
                    Outcome::Ok
                }
            },
            Ok(Ok(Err(error))) => {
                let outcome = Outcome::from_plugin_error(error);
                match &outcome {
                    Outcome::PluginError { message, .. } if message.len() > limits.max_result_bytes => {
                        Outcome::LimitExceeded {
                            message: format!(
                                "the plugin returned {} bytes, more than the limit of {}",
                                message.len(),
                                limits.max_result_bytes
                            ),
                        }
                    }
                    // An interpreter (QuickJS, CPython) survives a refused memory growth and
                    // reports its own "out of memory" error: that is the memory limit too.
                    Outcome::PluginError { kind, .. } if kind == "internal" && store.data().memory.hit => {
                        Outcome::MemoryLimit
                    }
                    _ => outcome,
                }
            }
            Ok(Err(trap)) => Outcome::from_trap(&trap, store.data().memory.hit),
        };
        // A guest that ignored a refused call past its budget still broke its limits.
        let outcome = match (outcome, store.data().limit_hit.clone()) {
            (Outcome::Ok | Outcome::PluginError { .. }, Some(message)) => {
                answer = None;
                Outcome::LimitExceeded { message }
            }
            (outcome, _) => outcome,
        };
        (
            outcome,
            fuel_used,
            store.data().memory.peak,
            answer,
            store.data().retry_after,
        )
    }
}

impl Runtime {
    /// Calls `on-event` `count` times in one instance and returns each call's duration.
    ///
    /// Only for `bazaar bench plugin`, to show what per-call isolation costs: production never
    /// reuses an instance, because state would leak from one call (and tenant) to the next.
    #[doc(hidden)]
    pub async fn bench_reused_instance(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        event: &Event,
        count: usize,
    ) -> Result<Vec<Duration>, String> {
        let limits = Limits {
            fuel: u64::MAX / 2,
            timeout_ms: 3_600_000,
            ..Limits::EVENT
        };
        let mut store = self
            .new_store(
                installation,
                &limits,
                PluginLog::new(limits.max_log_bytes, limits.max_log_lines),
                None,
            )
            .map_err(|o| o.describe(&limits))?;
        store.set_epoch_deadline(u64::MAX / 2);
        let linked = &prepared.linked;
        let instance = linked.instantiate(&mut store).await.map_err(|e| e.to_string())?;
        linked
            .time_reused_on_event(&mut store, &instance, event, count)
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("{e:?}"))
    }
}

fn engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .memory_init_cow(true)
        // No component-model async in our WIT: turning it off makes every call cheaper.
        .concurrency_support(false)
        .max_wasm_stack(1 << 20);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(256)
        .total_core_instances(2048)
        .total_memories(256)
        .total_tables(2048)
        .total_stacks(256)
        .max_memory_size(Limits::MAX.memory_bytes)
        // Reset the first MiB of a memory with memset instead of giving pages back to the kernel:
        // with the SDK's 64 KiB guest stack a small plugin touches well under this, and a fresh
        // call then costs ~7 µs instead of ~19 µs with page faults (see `bazaar bench plugin`).
        .linear_memory_keep_resident(1 << 20)
        .table_keep_resident(64 << 10);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&config) {
        Ok(engine) => Ok(engine),
        Err(e) => {
            // Some hosts restrict virtual memory; the on-demand allocator still isolates calls.
            tracing::warn!(error = %e, "pooling allocator unavailable; allocating instances on demand");
            config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            Engine::new(&config)
        }
    }
}

fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("bazaar-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .ok();
}
