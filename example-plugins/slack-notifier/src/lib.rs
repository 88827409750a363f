//! Posts task events to a Slack-style incoming-webhook URL taken from the installation's config.

use bazaar_sdk::{Error, Event, Plugin, config, http, log};
use serde::Deserialize;

#[derive(Deserialize)]
struct TaskPayload {
    title: String,
    status: String,
}

/// The message posted for an event, or None for events this plugin does not announce.
pub fn message(kind: &str, task_title: &str) -> Option<String> {
    let verb = match kind {
        "task.created" => "New task",
        "task.completed" => "Done",
        "task.reopened" => "Reopened",
        _ => return None,
    };
    Some(format!("{verb}: {task_title}"))
}

struct SlackNotifier;

impl Plugin for SlackNotifier {
    fn on_event(event: Event) -> Result<(), Error> {
        let task: TaskPayload = event.payload()?;
        let Some(text) = message(&event.kind, &task.title) else {
            return Ok(());
        };
        let url = config::require("webhook_url")?;
        let response = http::post_json(&url, &serde_json::json!({ "text": text }))?;
        match response.status {
            200..=299 => {
                log::info(&format!("posted \"{text}\" (task is {})", task.status));
                Ok(())
            }
            429 | 500..=599 => Err(Error::Unavailable(format!(
                "webhook answered {}",
                response.status
            ))),
            status => Err(Error::Invalid(format!(
                "webhook refused the message with {status}"
            ))),
        }
    }
}

bazaar_sdk::export_plugin!(SlackNotifier);

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn announces_task_changes_only() {
        assert_eq!(message("task.created", "Ship").as_deref(), Some("New task: Ship"));
        assert_eq!(message("task.completed", "Ship").as_deref(), Some("Done: Ship"));
        assert_eq!(message("project.created", "Ship"), None);
    }
}
