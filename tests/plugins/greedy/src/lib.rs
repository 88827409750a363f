//! A plugin that spends host-side budgets on purpose, chosen by the event kind: each behaviour
//! ignores the host's refusals and returns `Ok`, which must not hide that it broke its limits.

use bazaar_sdk::{Error, Event, Plugin, config, http, kv, log};

struct Greedy;

impl Plugin for Greedy {
    fn on_event(event: Event) -> Result<(), Error> {
        match event.kind.as_str() {
            // 100 k storage reads; every one past the host-call budget is refused, ignored.
            "test.kv-storm" => {
                for n in 0..100_000 {
                    let _ = kv::get(&format!("key-{}", n % 10));
                }
                Ok(())
            }
            // 100 k configuration reads: counted like any host call.
            "test.config-storm" => {
                for _ in 0..100_000 {
                    std::hint::black_box(config::get("channel"));
                }
                Ok(())
            }
            // Millions of empty log lines and printed newlines: capped in lines, not only bytes.
            "test.empty-lines" => {
                for _ in 0..3_000_000 {
                    log::info("");
                }
                for _ in 0..3_000_000 {
                    println!();
                }
                Ok(())
            }
            // A declared host whose name resolves to loopback: egress refused, as `forbidden`.
            "test.http-loopback" => {
                let url = config::require("url")?;
                match http::get(&url) {
                    Err(e) => Err(e),
                    Ok(response) => Err(Error::Internal(format!("reached it: {}", response.status))),
                }
            }
            other => Err(Error::Invalid(format!("unknown test kind {other}"))),
        }
    }
}

bazaar_sdk::export_plugin!(Greedy);
