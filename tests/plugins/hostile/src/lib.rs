//! A plugin that misbehaves on purpose, chosen by the event kind, to test the sandbox's limits.
//! `test.ok` is its one healthy behaviour: parse the payload and return.

use bazaar_sdk::ui::{self, Block, Context};
use bazaar_sdk::{Error, Event, Plugin, config, log};

struct Hostile;

/// Calls this instance has served: a plugin that hoped to keep state between calls in a global.
static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Recursion that cannot be turned into a loop: every frame keeps a buffer alive.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth as u8; 512]);
    recurse(depth + 1) + u64::from(frame[depth as usize % 512])
}

/// Bytes no Rust string may hold, as a buggy or hostile guest in any language can hand over.
#[allow(unsafe_code)]
fn not_utf8() -> String {
    // SAFETY: deliberately not UTF-8, and never read as a string here: the host must refuse it
    // when it lifts the result.
    unsafe { String::from_utf8_unchecked(vec![b'o', b'k', 0xff, 0xfe]) }
}

impl Plugin for Hostile {
    fn on_event(event: Event) -> Result<(), Error> {
        // Test kinds choose the behaviour; for real events (delivery tests), a project's name does.
        let mode = if event.kind.starts_with("test.") {
            event.kind.clone()
        } else {
            let payload: serde_json::Value = event.payload()?;
            payload["name"].as_str().unwrap_or_default().to_owned()
        };
        match mode.as_str() {
            "test.ok" => {
                let value: serde_json::Value = event.payload()?;
                if value.is_object() {
                    Ok(())
                } else {
                    Err(Error::Invalid("payload is not an object".into()))
                }
            }
            "test.loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "test.alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "test.recurse" => Err(Error::Internal(format!("{}", recurse(std::hint::black_box(0))))),
            "test.huge-error" => Err(Error::Internal("x".repeat(8 << 20))),
            "test.log-flood" => {
                for n in 0..1_000_000 {
                    log::info(&format!("flood line {n}"));
                }
                Ok(())
            }
            "test.stdout-flood" => {
                for n in 0..1_000_000 {
                    println!("printed line {n}");
                }
                Ok(())
            }
            "test.panic" => panic!("the plugin gave up"),
            "test.sleep" => {
                // Blocks in the host (WASI clocks), where fuel and epochs do not tick.
                std::thread::sleep(std::time::Duration::from_secs(30));
                Ok(())
            }
            "test.ambient" => {
                // What a plugin can learn of its host without any capability: nothing.
                let env: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                let args: Vec<String> = std::env::args().collect();
                let mut stdin = String::new();
                let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut stdin);
                if env.is_empty() && args.is_empty() && stdin.is_empty() {
                    Ok(())
                } else {
                    Err(Error::Internal(format!(
                        "env {env:?}, args {args:?}, stdin {} bytes",
                        stdin.len()
                    )))
                }
            }
            "test.count" => {
                let calls = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                log::info(&format!("call {calls} of this instance"));
                Ok(())
            }
            "test.unavailable" => Err(Error::Unavailable("try again later".into())),
            other => Err(Error::Invalid(format!("unknown test kind {other}"))),
        }
    }

    /// UI that misbehaves: on a task panel the installation's `render` setting chooses how, or
    /// else the subject id; the settings page always gets the markup-laden heading.
    fn render(context: Context) -> Result<Vec<Block>, Error> {
        let mode = match context.surface {
            ui::Surface::TaskPanel => config::get("render").unwrap_or(context.subject_id),
            _ => context.subject_id,
        };
        match mode.as_str() {
            "ui.loop" => {
                log::warn("rendering forever");
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "ui.huge" => Ok((0..2_000).map(|i| ui::text(format!("block {i}"))).collect()),
            "ui.big-text" => Ok(vec![ui::text("x".repeat(1 << 20))]),
            "ui.panic" => panic!("the panel gave up"),
            "ui.bad-utf8" => Ok(vec![ui::heading(not_utf8())]),
            _ => Ok(vec![ui::heading("<script>alert('hostile')</script>")]),
        }
    }
}

bazaar_sdk::export_plugin!(Hostile);
