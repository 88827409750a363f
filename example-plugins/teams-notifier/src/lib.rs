//! Posts new and completed tasks to a Microsoft Teams channel through its webhook (a Workflows
//! webhook or a legacy Incoming Webhook), as the message with one Adaptive Card both accept.

use bazaar_sdk::{Error, Event, Plugin, config, http, log};
use serde::Deserialize;

#[derive(Deserialize)]
struct TaskPayload {
    id: String,
    title: String,
}

/// The message for an event: a `message` whose one attachment is an Adaptive Card 1.4, or `None`
/// for events this plugin does not announce.
pub fn card(kind: &str, task_id: &str, title: &str) -> Option<serde_json::Value> {
    let (headline, color) = match kind {
        "task.created" => ("New task", "Accent"),
        "task.completed" => ("Task completed", "Good"),
        _ => return None,
    };
    Some(serde_json::json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    { "type": "TextBlock", "text": headline, "weight": "Bolder", "color": color, "size": "Medium" },
                    { "type": "TextBlock", "text": title, "wrap": true },
                    { "type": "TextBlock", "text": format!("Task {task_id}"), "isSubtle": true, "spacing": "None" }
                ]
            }
        }]
    }))
}

/// What the webhook's answer means: Workflows answer `202`, legacy connectors `200`; a removed
/// webhook (`404`, `410`) or a refused card (`400`) is final; throttling and server errors pass.
pub fn delivered(status: u16, body: &[u8]) -> Result<(), Error> {
    let said = String::from_utf8_lossy(body);
    match status {
        200..=299 => Ok(()),
        429 | 500..=599 => Err(Error::Unavailable(format!("Teams answered {status}: {said}"))),
        404 | 410 => Err(Error::Invalid(
            "the Teams webhook no longer exists: add a new one and paste its URL in the settings".into(),
        )),
        other => Err(Error::Invalid(format!(
            "Teams refused the card ({other}): {said}"
        ))),
    }
}

struct TeamsNotifier;

impl Plugin for TeamsNotifier {
    fn on_event(event: Event) -> Result<(), Error> {
        let task: TaskPayload = event.payload()?;
        let Some(card) = card(&event.kind, &task.id, &task.title) else {
            return Ok(());
        };
        let answer = http::post_json(&config::require("webhook_url")?, &card)?;
        delivered(answer.status, &answer.body)?;
        log::info(&format!("posted {} for task {}", event.kind, task.id));
        Ok(())
    }
}

bazaar_sdk::export_plugin!(TeamsNotifier);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_announce_new_and_completed_tasks_only() {
        let c = card("task.completed", "tsk_1", "Ship").unwrap();
        assert_eq!(
            c["attachments"][0]["content"]["body"][0]["text"],
            "Task completed"
        );
        assert_eq!(c["attachments"][0]["content"]["body"][1]["text"], "Ship");
        assert!(card("task.updated", "tsk_1", "Ship").is_none());
    }

    #[test]
    fn answers_are_classified() {
        assert!(delivered(202, b"").is_ok() && delivered(200, b"1").is_ok());
        assert!(matches!(delivered(429, b""), Err(Error::Unavailable(_))));
        assert!(matches!(delivered(502, b""), Err(Error::Unavailable(_))));
        assert!(matches!(delivered(404, b""), Err(Error::Invalid(m)) if m.contains("no longer exists")));
    }
}
