//! `bazaar bench plugin`: what one plugin call costs in a fresh isolated instance (production),
//! beside one reused instance and the same work in native Rust.
//!
//! The calls of each kind run sequentially on one core, interleaved in rounds so that a change
//! in the machine's speed during the run touches every kind alike. Run it from a release build:
//! `cargo run --release -- bench plugin`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use bazaar::platform::ScopeSet;
use bazaar::runtime::{Event, Installation, Limits, Outcome, Prepared};
use bazaar::sandbox::{EventFile, Sandbox, SandboxRun};

/// The word-count plugin's workload, compiled natively from the plugin's own source file.
#[path = "../../../../tests/plugins/word-count/src/workload.rs"]
mod word_count;

/// The benchmark's event: a 905-byte `task.created` payload with a paragraph of text.
const DEFAULT_EVENT: &str = include_str!("../../../../tests/plugins/word-count/event.json");

/// How many rounds the calls of each kind are split into.
const ROUNDS: usize = 10;

/// One thing to measure: a component, the event it gets, and the same work natively when known.
pub struct Workload {
    pub name: String,
    pub component: Vec<u8>,
    pub event: EventFile,
    /// The plugin's logic as native Rust, the yardstick; `None` for a partner's own component.
    pub native: Option<fn(&str) -> bool>,
}

impl Workload {
    /// The workloads `bench plugin` runs when given no component: the realistic word count
    /// (the headline figure) and the parse-only call (the floor of what a call costs).
    pub fn defaults() -> anyhow::Result<Vec<Workload>> {
        Ok(vec![
            Workload {
                name: "word-count: parse the event, count its words, log a JSON summary".into(),
                component: workspace_component("test_plugin_word_count", "test-plugin-word-count")?,
                event: default_event()?,
                native: Some(|payload| word_count::summarize(payload).is_ok()),
            },
            Workload {
                name: "parse-event: parse the event, check its id".into(),
                component: workspace_component("test_plugin_parse_event", "test-plugin-parse-event")?,
                event: default_event()?,
                native: Some(parse_and_check),
            },
        ])
    }

    /// A partner's component with an event file (the benchmark's event when `event` is `None`).
    pub fn from_files(component: &Path, event: Option<&Path>) -> anyhow::Result<Workload> {
        let bytes = std::fs::read(component).with_context(|| format!("reading {}", component.display()))?;
        let event = match event {
            None => default_event()?,
            Some(path) => EventFile::read(path)?,
        };
        Ok(Workload {
            name: component.display().to_string(),
            component: bytes,
            event,
            native: None,
        })
    }
}

fn default_event() -> anyhow::Result<EventFile> {
    serde_json::from_str(DEFAULT_EVENT).context("the benchmark's built-in event")
}

/// A component built by this workspace's `plugin` profile (`file` without `.wasm`), with the
/// command that builds it when it is missing.
pub fn workspace_component(file: &str, package: &str) -> anyhow::Result<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm32-wasip2/plugin")
        .join(format!("{file}.wasm"));
    std::fs::read(&path).with_context(|| {
        format!(
            "reading {}; build it with `cargo build --target wasm32-wasip2 --profile plugin -p {package}`, or pass --component",
            path.display()
        )
    })
}

/// The parse-event plugin's logic, natively.
fn parse_and_check(payload: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .is_some_and(|v| matches!(v.get("id"), Some(serde_json::Value::String(_))))
}

/// What was measured for one workload.
#[derive(Debug, Clone)]
pub struct PluginBenchReport {
    pub event_bytes: usize,
    /// Fresh isolated calls as production makes them: recorded for replay.
    pub fresh: Percentiles,
    /// The same, with recording off: what recording costs.
    pub fresh_unrecorded: Percentiles,
    /// Recorded and traced: every span exported over OTLP.
    pub fresh_traced: Percentiles,
    pub reused: Percentiles,
    pub native: Option<Percentiles>,
}

/// Median, p99 and calls per second of a series of sequential calls.
#[derive(Debug, Clone, Copy)]
pub struct Percentiles {
    pub median_us: f64,
    pub p99_us: f64,
    pub calls_per_second: f64,
}

impl Percentiles {
    fn of(mut durations: Vec<Duration>) -> Self {
        durations.sort();
        let total: Duration = durations.iter().sum();
        let at = |q: f64| durations[((durations.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
        Percentiles {
            median_us: at(0.5),
            p99_us: at(0.99),
            calls_per_second: durations.len() as f64 / total.as_secs_f64(),
        }
    }
}

/// A kind of call `bench plugin --only` makes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CallKind {
    /// A fresh isolated instance per call, recorded, as production calls.
    Fresh,
    /// One instance called again and again.
    Reused,
    /// The workload as native Rust.
    Native,
}

/// A sandbox for `workload`, its component prepared, an installation granted what it imports
/// (as one that consented to its manifest), and its event.
async fn set_up(workload: &Workload) -> anyhow::Result<(Sandbox, Arc<Prepared>, Arc<Installation>, Event)> {
    let sandbox = Sandbox::new(false, None).await?;
    let prepared = sandbox.runtime.prepare(&workload.component)?;
    // Granted what it imports, as an installation that consented to its manifest.
    let needs = bazaar::runtime::audit::audit(&workload.component)?.required_scopes;
    let run = SandboxRun {
        grants: ScopeSet::parse_text(&needs.join(" "))?,
        config: Default::default(),
        allowed_hosts: Vec::new(),
        allow_private_network: false,
        limits: Limits::EVENT,
        connections: Vec::new(),
    };
    let installation = sandbox.installation(&run);
    let event = sandbox.event(workload.event.clone());
    Ok((sandbox, prepared, installation, event))
}

/// Makes `iterations` calls of one kind only, one after another.
pub async fn run_only(workload: &Workload, iterations: usize, kind: CallKind) -> anyhow::Result<Percentiles> {
    let (sandbox, prepared, installation, event) = set_up(workload).await?;
    let durations = match kind {
        CallKind::Fresh => {
            let mut durations = Vec::with_capacity(iterations);
            for _ in 0..iterations {
                durations.push(fresh_call(&sandbox, &prepared, &installation, &event).await?);
            }
            durations
        }
        CallKind::Reused => sandbox
            .runtime
            .bench_reused_instance(&prepared, installation, &event, iterations)
            .await
            .map_err(|e| anyhow::anyhow!("the reused instance failed: {e}"))?,
        CallKind::Native => {
            let work = workload
                .native
                .context("a partner's component has no native workload to compare with")?;
            (0..iterations)
                .map(|_| {
                    let started = Instant::now();
                    std::hint::black_box(work(std::hint::black_box(&event.payload)));
                    started.elapsed()
                })
                .collect()
        }
    };
    Ok(Percentiles::of(durations))
}

/// Runs `iterations` calls of each kind, after a warm-up, in interleaved rounds.
pub async fn run(
    workload: &Workload,
    iterations: usize,
    tracing: &super::tracing_switch::TracingSwitch,
) -> anyhow::Result<PluginBenchReport> {
    let (sandbox, prepared, installation, event) = set_up(workload).await?;
    for _ in 0..(iterations / 10).max(1) {
        fresh_call(&sandbox, &prepared, &installation, &event).await?;
    }
    if let Some(native) = workload.native
        && !native(&event.payload)
    {
        bail!("the native workload refused the event");
    }

    let per_round = iterations.div_ceil(ROUNDS).max(1);
    let mut fresh = Vec::with_capacity(per_round * ROUNDS);
    let mut unrecorded = Vec::with_capacity(per_round * ROUNDS);
    let mut traced = Vec::with_capacity(per_round * ROUNDS);
    let mut reused = Vec::with_capacity(per_round * ROUNDS);
    let mut native = Vec::with_capacity(per_round * ROUNDS);
    for _ in 0..ROUNDS {
        for _ in 0..per_round {
            fresh.push(fresh_call(&sandbox, &prepared, &installation, &event).await?);
        }
        sandbox.runtime.set_recording(false);
        for _ in 0..per_round {
            unrecorded.push(fresh_call(&sandbox, &prepared, &installation, &event).await?);
        }
        sandbox.runtime.set_recording(true);
        tracing.set(true);
        for _ in 0..per_round {
            traced.push(fresh_call(&sandbox, &prepared, &installation, &event).await?);
        }
        tracing.set(false);
        reused.extend(
            sandbox
                .runtime
                .bench_reused_instance(&prepared, installation.clone(), &event, per_round)
                .await
                .map_err(|e| anyhow::anyhow!("the reused instance failed: {e}"))?,
        );
        if let Some(work) = workload.native {
            for _ in 0..per_round {
                let started = Instant::now();
                let ok = work(std::hint::black_box(&event.payload));
                native.push(started.elapsed());
                std::hint::black_box(ok);
            }
        }
    }
    Ok(PluginBenchReport {
        event_bytes: event.payload.len(),
        fresh: Percentiles::of(fresh),
        fresh_unrecorded: Percentiles::of(unrecorded),
        fresh_traced: Percentiles::of(traced),
        reused: Percentiles::of(reused),
        native: workload.native.map(|_| Percentiles::of(native)),
    })
}

/// One production call: a fresh instance with the event limits; anything but `ok` stops the run.
async fn fresh_call(
    sandbox: &Sandbox,
    prepared: &Prepared,
    installation: &Arc<Installation>,
    event: &Event,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let report = sandbox
        .runtime
        .on_event(prepared, installation.clone(), Limits::EVENT, event.clone())
        .await;
    let took = started.elapsed();
    if report.outcome != Outcome::Ok {
        bail!(
            "the plugin call failed: {} - {}",
            report.outcome.class(),
            report.message
        );
    }
    Ok(took)
}

/// Prints one workload's figures and the ratios the aims are written in.
pub fn print(workload: &Workload, iterations: usize, report: &PluginBenchReport) {
    println!("{}", workload.name);
    println!(
        "  {}-byte event, {iterations} sequential calls of each kind (one core):",
        report.event_bytes
    );
    let mut rows = vec![
        ("fresh isolated instance", report.fresh),
        ("fresh, not recorded", report.fresh_unrecorded),
        ("fresh, traced over OTLP", report.fresh_traced),
        ("one reused instance", report.reused),
    ];
    if let Some(native) = report.native {
        rows.push(("native Rust, same code", native));
    }
    for (name, p) in rows {
        println!(
            "    {name:<24} median {:>8.2} µs   p99 {:>8.2} µs   {:>10.0} calls/s",
            p.median_us, p.p99_us, p.calls_per_second
        );
    }
    let fresh = report.fresh;
    let mut ratios = vec![
        format!("fresh/reused {:.2}×", fresh.median_us / report.reused.median_us),
        format!("fresh p99/median {:.2}×", fresh.p99_us / fresh.median_us),
        format!(
            "recording costs {:+.1} %",
            (fresh.median_us / report.fresh_unrecorded.median_us - 1.0) * 100.0
        ),
        format!(
            "tracing costs {:+.1} %",
            (report.fresh_traced.median_us / fresh.median_us - 1.0) * 100.0
        ),
    ];
    if let Some(native) = report.native {
        ratios.insert(
            0,
            format!("fresh/native {:.2}×", fresh.median_us / native.median_us),
        );
    }
    println!("    {}", ratios.join("   "));
}
