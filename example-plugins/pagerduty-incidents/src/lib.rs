//! Pages on-call for each urgent task through PagerDuty's Events API v2 (`trigger` with a
//! `dedup_key` per task, so a retried delivery or a later update adds to the same incident), and
//! resolves the incident when the task is completed. A PagerDuty v3 webhook (trigger
//! `pagerduty`, `X-PagerDuty-Signature` checked by Bazaar) completes the task when its incident
//! is resolved there.

use bazaar_sdk::triggers::{self, Answer, Inbound};
use bazaar_sdk::{Error, Event, Plugin, config, http, log, tasks};
use serde::Deserialize;

const DEDUP_PREFIX: &str = "bazaar-";

#[derive(Deserialize)]
struct TaskPayload {
    id: String,
    title: String,
    #[serde(default)]
    project_id: String,
    #[serde(default)]
    labels: Vec<String>,
}

/// The dedup key of a task's incident, and back.
pub fn dedup_key(task_id: &str) -> String {
    format!("{DEDUP_PREFIX}{task_id}")
}

/// The Events API v2 body: `trigger` with a payload, or `resolve`.
pub fn event(
    routing_key: &str,
    action: &str,
    task_id: &str,
    title: &str,
    project_id: &str,
) -> serde_json::Value {
    let mut body = serde_json::json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key(task_id),
    });
    if action == "trigger" {
        let summary: String = title.chars().take(1024).collect();
        body["payload"] = serde_json::json!({
            "summary": summary,
            "source": "bazaar",
            "severity": "critical",
            "component": project_id,
            "custom_details": { "task_id": task_id, "project_id": project_id },
        });
        body["client"] = serde_json::json!("Bazaar");
    }
    body
}

/// What PagerDuty's answer means: `202` accepted; `429` and 5xx pass (retried); `400` is a
/// refused event (a wrong integration key among them), final.
pub fn accepted(status: u16, body: &[u8]) -> Result<(), Error> {
    let answer: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    match status {
        200..=299 => Ok(()),
        429 => Err(Error::Unavailable("PagerDuty's rate limit: retried later".into())),
        500..=599 => Err(Error::Unavailable(format!("PagerDuty answered {status}"))),
        _ => Err(Error::Invalid(format!(
            "PagerDuty refused the event ({status}): {} {}",
            answer["message"].as_str().unwrap_or_default(),
            answer["errors"]
        ))),
    }
}

/// The task whose incident a v3 webhook says was resolved, if it is one of this plugin's.
pub fn resolved_task(body: &[u8]) -> Result<Option<String>, Error> {
    let hook: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Error::Invalid(format!("not a PagerDuty webhook: {e}")))?;
    if hook["event"]["event_type"] != "incident.resolved" {
        return Ok(None);
    }
    Ok(hook["event"]["data"]["incident_key"]
        .as_str()
        .and_then(|key| key.strip_prefix(DEDUP_PREFIX))
        .map(str::to_owned))
}

struct PagerdutyIncidents;

impl Plugin for PagerdutyIncidents {
    fn on_event(event: Event) -> Result<(), Error> {
        let task: TaskPayload = event.payload()?;
        let label = config::get("label")
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "urgent".into());
        if !task.labels.contains(&label) {
            return Ok(());
        }
        let action = match event.kind.as_str() {
            "task.created" | "task.updated" => "trigger",
            "task.completed" => "resolve",
            _ => return Ok(()),
        };
        let url = config::get("events_url")
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "https://events.pagerduty.com/v2/enqueue".into());
        let body = event_body(&task, action)?;
        let answer = http::post_json(&url, &body)?;
        accepted(answer.status, &answer.body)?;
        log::info(&format!("{action} sent for task {}", task.id));
        Ok(())
    }

    fn on_request(request: Inbound) -> Result<Answer, Error> {
        let Some(task) = resolved_task(&request.body)? else {
            return Ok(triggers::text(202, "nothing to do"));
        };
        match tasks::complete(&task) {
            Ok(_) => Ok(triggers::json(200, &serde_json::json!({ "completed": task }))),
            Err(Error::NotFound(_)) => Ok(triggers::text(202, "the task no longer exists")),
            Err(e) => Err(e),
        }
    }
}

fn event_body(task: &TaskPayload, action: &str) -> Result<serde_json::Value, Error> {
    Ok(event(
        &config::require("routing_key")?,
        action,
        &task.id,
        &task.title,
        &task.project_id,
    ))
}

bazaar_sdk::export_plugin!(PagerdutyIncidents);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_carry_a_payload_and_resolves_only_the_key() {
        let t = event("R0UT1NGKEY", "trigger", "tsk_1", "DB down", "prj_1");
        assert_eq!(t["dedup_key"], "bazaar-tsk_1");
        assert_eq!(t["payload"]["severity"], "critical");
        assert_eq!(t["payload"]["source"], "bazaar");
        let r = event("R0UT1NGKEY", "resolve", "tsk_1", "DB down", "prj_1");
        assert!(r.get("payload").is_none());
    }

    #[test]
    fn answers_and_webhooks_are_read() {
        assert!(accepted(202, br#"{"status":"success"}"#).is_ok());
        assert!(matches!(accepted(429, b""), Err(Error::Unavailable(_))));
        assert!(matches!(
            accepted(400, br#"{"message":"Event object is invalid"}"#),
            Err(Error::Invalid(_))
        ));
        let hook = br#"{"event":{"event_type":"incident.resolved","data":{"incident_key":"bazaar-tsk_9"}}}"#;
        assert_eq!(resolved_task(hook).ok().flatten().as_deref(), Some("tsk_9"));
        let other =
            br#"{"event":{"event_type":"incident.acknowledged","data":{"incident_key":"bazaar-tsk_9"}}}"#;
        assert_eq!(resolved_task(other).ok().flatten(), None);
    }
}
