//! Recordings: everything one invocation received from outside its sandbox, in order (the
//! answer of every host call, the clocks' readings, the random bytes), with its input, grants
//! and limits. Fed back in the same order, the same component makes the same calls and burns the
//! same fuel: `bazaar plugin replay` shows the outcome again, or where a new build diverges.
//!
//! A recording never holds a secret: a secret configuration value is recorded as a placeholder
//! of the same length (so that copying it costs the same fuel), and connection credentials never
//! enter the sandbox at all.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

use super::bindings::Error;
use super::limits::Limits;

/// The recording format this host writes and reads.
pub const FORMAT: u32 = 1;

/// One host call as the guest saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostAnswer {
    /// The WIT interface and function (`kv`, `get`).
    pub interface: String,
    pub function: String,
    /// The call's answer (`Ok` / `Err` of the WIT result), as JSON.
    pub answer: serde_json::Value,
    /// Set when the answer is a placeholder for a secret.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

/// What came into the sandbox, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tape {
    pub host_calls: Vec<HostAnswer>,
    /// `wasi:clocks/wall-clock.now`, as seconds and nanoseconds since the epoch (numbers any
    /// JSON reader keeps exactly).
    pub wall_clock: Vec<(u64, u32)>,
    /// `wasi:clocks/monotonic-clock.now`, in nanoseconds.
    pub monotonic_clock: Vec<u64>,
    /// Bytes of `wasi:random/random`, in the order they were drawn.
    pub random: Vec<u8>,
    /// Bytes of `wasi:random/insecure`.
    pub insecure_random: Vec<u8>,
    /// `wasi:random/insecure-seed`, as a decimal string (too large for a JSON number).
    #[serde(with = "decimal")]
    pub insecure_seed: u128,
}

/// Which export was called, and with what.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "export", rename_all = "kebab-case")]
pub enum Input {
    OnEvent {
        event: super::Event,
    },
    ValidateTask {
        task: super::Task,
    },
    Render {
        context: super::ui::Context,
    },
    OnAction {
        context: super::ui::Context,
        action: String,
        values: Vec<(String, String)>,
    },
    OnRequest {
        request: super::bindings::triggers::Inbound,
    },
}

impl Input {
    /// In words, for listings: `on-event task.created`.
    pub fn describe(&self) -> String {
        super::Call::from_input(self.clone()).describe()
    }
}

/// One invocation, enough to run it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recording {
    pub format: u32,
    pub component_sha256: String,
    /// The contract version the component is built against.
    pub contract: String,
    pub installation_id: String,
    pub app_id: String,
    pub org_id: String,
    /// The scopes the installation held.
    pub grants: Vec<String>,
    pub limits: Limits,
    pub input: Input,
    pub tape: Tape,
    /// What happened: the outcome's class, its message, the fuel it burned.
    pub outcome: String,
    pub message: String,
    pub fuel_used: u64,
}

/// The tape of a call being recorded, shared by the host functions and WASI's clocks and
/// random sources.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Tape>>);

impl Recorder {
    fn with<R>(&self, f: impl FnOnce(&mut Tape) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Records a host call's answer.
    pub fn host_call<T: Serialize>(
        &self,
        interface: &str,
        function: &str,
        answer: &Result<T, Error>,
        redacted: bool,
    ) {
        let answer = serde_json::to_value(answer).unwrap_or(serde_json::Value::Null);
        self.with(|tape| {
            tape.host_calls.push(HostAnswer {
                interface: interface.to_owned(),
                function: function.to_owned(),
                answer,
                redacted,
            })
        });
    }

    /// A fresh seed for `wasi:random/insecure-seed`, recorded.
    pub fn new_seed(&self) -> u128 {
        let seed = rand::random::<u128>();
        self.with(|tape| tape.insecure_seed = seed);
        seed
    }

    /// The tape so far.
    pub fn take(&self) -> Tape {
        self.with(std::mem::take)
    }
}

/// A recorded tape played back: each read takes the next value; the first one that does not
/// match what the guest asks for is the divergence.
#[derive(Clone)]
pub struct Player(Arc<Mutex<Playing>>);

struct Playing {
    tape: Tape,
    host_call: usize,
    wall: usize,
    monotonic: usize,
    random: usize,
    insecure: usize,
    divergence: Option<String>,
}

impl Player {
    pub fn new(tape: Tape) -> Player {
        Player(Arc::new(Mutex::new(Playing {
            tape,
            host_call: 0,
            wall: 0,
            monotonic: 0,
            random: 0,
            insecure: 0,
            divergence: None,
        })))
    }

    fn with<R>(&self, f: impl FnOnce(&mut Playing) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    pub fn insecure_seed(&self) -> u128 {
        self.with(|p| p.tape.insecure_seed)
    }

    /// The recorded answer of the next host call, if it is a call of `interface.function`.
    pub fn host_call<T: DeserializeOwned>(&self, interface: &str, function: &str) -> Result<T, Error> {
        self.with(|p| {
            let n = p.host_call;
            let Some(next) = p.tape.host_calls.get(n) else {
                return Err(p.diverge(format!(
                    "host call {}: the new build calls {interface}.{function}, the recording has no more calls",
                    n + 1
                )));
            };
            if next.interface != interface || next.function != function {
                let message = format!(
                    "host call {}: the new build calls {interface}.{function}, the recording has {}.{}",
                    n + 1,
                    next.interface,
                    next.function
                );
                return Err(p.diverge(message));
            }
            p.host_call += 1;
            let answer = next.answer.clone();
            serde_json::from_value::<Result<T, Error>>(answer).unwrap_or_else(|e| {
                Err(p.diverge(format!(
                    "host call {}: {interface}.{function}'s recorded answer does not fit: {e}",
                    n + 1
                )))
            })
        })
    }

    /// Where the run left the recording first, and the host calls the recording has but the
    /// run never made.
    pub fn divergence(&self) -> Option<String> {
        self.with(|p| {
            p.divergence.clone().or_else(|| {
                let left = p.tape.host_calls.len() - p.host_call;
                (left > 0).then(|| {
                    let next = &p.tape.host_calls[p.host_call];
                    format!(
                        "host call {}: the recording goes on with {}.{} ({left} calls in all), the new build made no more calls",
                        p.host_call + 1,
                        next.interface,
                        next.function
                    )
                })
            })
        })
    }
}

impl Playing {
    fn diverge(&mut self, message: String) -> Error {
        if self.divergence.is_none() {
            self.divergence = Some(message.clone());
        }
        Error::Internal(format!("replay diverged: {message}"))
    }

    fn bytes(&mut self, secure: bool, buf: &mut [u8]) {
        let (source, at) = if secure {
            (&self.tape.random, &mut self.random)
        } else {
            (&self.tape.insecure_random, &mut self.insecure)
        };
        let available = source.len().saturating_sub(*at).min(buf.len());
        buf[..available].copy_from_slice(&source[*at..*at + available]);
        buf[available..].fill(0);
        *at += available;
        if available < buf.len() && self.divergence.is_none() {
            self.divergence = Some(format!(
                "the new build draws more {} random bytes than the recording holds",
                if secure { "secure" } else { "insecure" }
            ));
        }
    }
}

/// Where a call's clocks and randomness come from.
#[derive(Clone)]
pub enum Source {
    /// The real ones, each value recorded.
    Record(Recorder),
    /// The recorded ones, in order.
    Replay(Player),
}

/// `wasi:clocks/wall-clock` for a recorded or replayed call.
pub struct WallClock(pub Source);

impl HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        let (secs, nanos) = match &self.0 {
            Source::Record(recorder) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                let reading = (now.as_secs(), now.subsec_nanos());
                recorder.with(|tape| tape.wall_clock.push(reading));
                reading
            }
            Source::Replay(player) => player.with(|p| {
                let value = p
                    .tape
                    .wall_clock
                    .get(p.wall)
                    .or(p.tape.wall_clock.last())
                    .copied()
                    .unwrap_or((0, 0));
                p.wall += 1;
                value
            }),
        };
        Duration::new(secs, nanos)
    }
}

/// `wasi:clocks/monotonic-clock` for a recorded or replayed call.
pub struct MonotonicClock {
    pub source: Source,
    pub started: std::time::Instant,
}

impl HostMonotonicClock for MonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        match &self.source {
            Source::Record(recorder) => {
                let now = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                recorder.with(|tape| tape.monotonic_clock.push(now));
                now
            }
            Source::Replay(player) => player.with(|p| {
                let value = p
                    .tape
                    .monotonic_clock
                    .get(p.monotonic)
                    .or(p.tape.monotonic_clock.last())
                    .copied()
                    .unwrap_or(0);
                p.monotonic += 1;
                value
            }),
        }
    }
}

/// `wasi:random/random` or `wasi:random/insecure` for a recorded or replayed call.
pub struct Random {
    pub source: Source,
    pub secure: bool,
}

impl rand_core::TryRng for Random {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut buf = [0u8; 4];
        self.try_fill_bytes(&mut buf)?;
        Ok(u32::from_le_bytes(buf))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut buf = [0u8; 8];
        self.try_fill_bytes(&mut buf)?;
        Ok(u64::from_le_bytes(buf))
    }

    fn try_fill_bytes(&mut self, buf: &mut [u8]) -> Result<(), Self::Error> {
        match &self.source {
            Source::Record(recorder) => {
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, buf);
                recorder.with(|tape| {
                    let stream = if self.secure {
                        &mut tape.random
                    } else {
                        &mut tape.insecure_random
                    };
                    stream.extend_from_slice(buf);
                });
            }
            Source::Replay(player) => player.with(|p| p.bytes(self.secure, buf)),
        }
        Ok(())
    }
}

/// A `u128` as a decimal string.
mod decimal {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tape_plays_back_in_order_and_names_the_first_call_that_differs() {
        let recorder = Recorder::default();
        recorder.host_call::<Option<Vec<u8>>>("kv", "get", &Ok(Some(b"7".to_vec())), false);
        recorder.host_call::<()>("kv", "set", &Err(Error::LimitExceeded("quota".into())), false);
        let tape = recorder.take();

        let player = Player::new(tape.clone());
        assert!(matches!(player.host_call::<Option<Vec<u8>>>("kv", "get"), Ok(Some(v)) if v == b"7"));
        assert!(matches!(player.host_call::<()>("kv", "set"), Err(Error::LimitExceeded(m)) if m == "quota"));
        assert_eq!(player.divergence(), None);

        let other = Player::new(tape.clone());
        assert!(other.host_call::<Option<String>>("config", "get").is_err());
        assert!(
            other
                .divergence()
                .unwrap()
                .contains("host call 1: the new build calls config.get, the recording has kv.get")
        );

        let short = Player::new(tape);
        let _ = short.host_call::<Option<Vec<u8>>>("kv", "get");
        assert!(short.divergence().unwrap().contains("goes on with kv.set"));
    }

    #[test]
    fn random_bytes_replay_exactly_and_running_out_is_a_divergence() {
        let recorder = Recorder::default();
        let mut recording = Random {
            source: Source::Record(recorder.clone()),
            secure: true,
        };
        let mut drawn = [0u8; 16];
        rand_core::TryRng::try_fill_bytes(&mut recording, &mut drawn).unwrap();
        let player = Player::new(recorder.take());
        let mut replaying = Random {
            source: Source::Replay(player.clone()),
            secure: true,
        };
        let mut again = [0u8; 16];
        rand_core::TryRng::try_fill_bytes(&mut replaying, &mut again).unwrap();
        assert_eq!(drawn, again);
        assert_eq!(player.divergence(), None);
        rand_core::TryRng::try_fill_bytes(&mut replaying, &mut again).unwrap();
        assert!(player.divergence().unwrap().contains("more secure random bytes"));
    }
}
