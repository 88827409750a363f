//! The plugin host: one wasmtime engine, components compiled once per content hash, and every
//! call in a fresh, isolated instance under fuel, memory, time and I/O limits.

pub mod audit;
pub mod bindings;
pub mod cache;
pub mod files;
pub mod limits;
pub mod outcome;
pub mod output;
pub mod state;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::WasiCtxBuilder;

pub use bindings::{Event, Task};
pub use limits::Limits;
pub use outcome::{Outcome, Report};
pub use state::{HostServices, Installation};

use bindings::{Plugin, PluginPre};
use cache::ComponentCache;
use output::PluginLog;
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
    #[error("the plugin engine could not start: {0}")]
    Engine(String),
}

/// A component ready to instantiate: compiled, linked, with its import list.
pub struct Prepared {
    pub sha256: String,
    pub imports: Vec<String>,
    /// Each import's rule, mapped once here so that a call checks its grants without parsing.
    rules: Vec<(String, crate::policy::ImportRule)>,
    pre: PluginPre<PluginState>,
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
enum Call {
    OnEvent(Event),
    ValidateTask(Task),
}

/// The process's plugin host.
pub struct Runtime {
    engine: Engine,
    linker: Linker<PluginState>,
    cache: ComponentCache,
    services: Arc<HostServices>,
    prepared: Mutex<HashMap<String, Arc<Prepared>>>,
}

impl Runtime {
    /// Starts the engine (and its epoch ticker thread); compiled components go to `cache_dir`.
    pub fn new(services: HostServices, cache_dir: Option<PathBuf>) -> Result<Self, RuntimeError> {
        let engine = engine().map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::<PluginState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        Plugin::add_to_linker::<PluginState, HasSelf<PluginState>>(&mut linker, |state| state)
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        start_epoch_ticker(&engine);
        Ok(Runtime {
            engine,
            linker,
            cache: ComponentCache::new(cache_dir),
            services: Arc::new(services),
            prepared: Mutex::default(),
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
        let pre = PluginPre::new(instance_pre).map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
        let imports: Vec<String> = audit.imports.into_iter().map(|i| i.name).collect();
        let prepared = Arc::new(Prepared {
            sha256: audit.sha256.clone(),
            rules: crate::policy::rules_of(imports.iter().map(String::as_str)),
            imports,
            pre,
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
    #[tracing::instrument(skip_all, fields(installation = %installation.id, event = %event.id, kind = %event.kind))]
    pub async fn on_event(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        limits: Limits,
        event: Event,
    ) -> Report {
        self.invoke(prepared, installation, limits, Call::OnEvent(event))
            .await
    }

    /// Runs the plugin's `validate-task` hook in a fresh instance.
    #[tracing::instrument(skip_all, fields(installation = %installation.id, task = %task.id))]
    pub async fn validate_task(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        limits: Limits,
        task: Task,
    ) -> Report {
        self.invoke(prepared, installation, limits, Call::ValidateTask(task))
            .await
    }

    async fn invoke(
        &self,
        prepared: &Prepared,
        installation: Arc<Installation>,
        limits: Limits,
        call: Call,
    ) -> Report {
        let limits = limits.capped();
        let log = PluginLog::new(limits.max_log_bytes, limits.max_log_lines);
        let started = Instant::now();
        let (outcome, fuel_used) = match self.admit(prepared, &installation, &limits, &call) {
            Err(message) => (Outcome::Refused { message }, 0),
            Ok(()) => self.run(prepared, installation, limits, call, log.clone()).await,
        };
        let kept = log.take();
        let report = Report {
            message: outcome.describe(&limits),
            outcome,
            fuel_used,
            duration_us: started.elapsed().as_micros() as u64,
            log: kept.lines,
            log_dropped_bytes: kept.dropped_bytes,
            log_dropped_lines: kept.dropped_lines,
        };
        tracing::debug!(
            outcome = report.outcome.class(),
            fuel = report.fuel_used,
            us = report.duration_us,
            "plugin call"
        );
        report
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
        };
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
    ) -> Result<Store<PluginState>, Outcome> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(log.stream("stdout"))
            .stderr(log.stream("stderr"))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        files::preopen(
            &mut wasi,
            &self.services.files_root,
            &installation.id,
            installation.grants,
        )
        .map_err(|e| Outcome::HostFailure {
            message: format!("opening the installation's folder: {e}"),
        })?;
        let state = PluginState::new(wasi.build(), installation, self.services.clone(), log, *limits);
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
    ) -> (Outcome, u64) {
        let mut store = match self.new_store(installation, &limits, log) {
            Ok(store) => store,
            Err(outcome) => return (outcome, 0),
        };

        // The epoch deadline stops guest code; the timeout also bounds time spent in host calls.
        let deadline = Duration::from_millis(limits.timeout_ms) + EPOCH_TICK * 2;
        let result = tokio::time::timeout(deadline, async {
            let plugin = prepared.pre.instantiate_async(&mut store).await?;
            match call {
                Call::OnEvent(event) => {
                    plugin
                        .bazaar_platform_handler()
                        .call_on_event(&mut store, &event)
                        .await
                }
                Call::ValidateTask(task) => {
                    plugin
                        .bazaar_platform_hooks()
                        .call_validate_task(&mut store, &task)
                        .await
                }
            }
        })
        .await;
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let outcome = match result {
            Err(_elapsed) => Outcome::Deadline,
            Ok(Ok(Ok(()))) => Outcome::Ok,
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
            (Outcome::Ok | Outcome::PluginError { .. }, Some(message)) => Outcome::LimitExceeded { message },
            (outcome, _) => outcome,
        };
        (outcome, fuel_used)
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
            )
            .map_err(|o| o.describe(&limits))?;
        store.set_epoch_deadline(u64::MAX / 2);
        let plugin = prepared
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| e.to_string())?;
        let mut durations = Vec::with_capacity(count);
        for _ in 0..count {
            let started = Instant::now();
            let result = plugin
                .bazaar_platform_handler()
                .call_on_event(&mut store, event)
                .await;
            durations.push(started.elapsed());
            result.map_err(|e| e.to_string())?.map_err(|e| format!("{e:?}"))?;
        }
        Ok(durations)
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
