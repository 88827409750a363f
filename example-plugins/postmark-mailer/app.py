"""Postmark mailer, written in Python: emails someone when a task is completed, through
Postmark's Email API (``POST /email`` with ``X-Postmark-Server-Token``, which Bazaar adds from the
tenant's connection: the plugin never sees the token)."""

from typing import Any, Dict

from bazaar_sdk import Event, Plugin, PluginError, config, connections, export, log


def email(sender: str, to: str, task: Dict[str, Any]) -> Dict[str, Any]:
    """The body of Postmark's "send a single email" request for a completed task."""
    return {
        "From": sender,
        "To": to,
        "Subject": f"Completed: {task['title']}"[:2000],
        "TextBody": f"{task['title']}\n\nThis task was completed in Bazaar (task {task['id']}).",
        "MessageStream": "outbound",
        "Tag": "task-completed",
        "Metadata": {"task_id": task["id"], "project_id": task.get("project_id", "")},
    }


def check(status: int, body: Any) -> str:
    """What Postmark's answer means: its MessageID, or why not. 429 and 5xx pass (retried); a
    refused token is final until the tenant connects a new one."""
    if status == 200 and body.get("ErrorCode") == 0:
        return body.get("MessageID", "")
    if status == 429 or status >= 500:
        raise PluginError.unavailable(f"Postmark answered {status}")
    if status == 401:
        raise PluginError.forbidden("Postmark refused the server token (401): connect a valid one on the app's page")
    raise PluginError.invalid(f"Postmark refused the email ({status}, ErrorCode {body.get('ErrorCode')}): {body.get('Message')}")


class PostmarkMailer(Plugin):
    def on_event(self, event: Event) -> None:
        if event.kind != "task.completed":
            return
        task = event.payload()
        api = (config.get("api_url") or "https://api.postmarkapp.com").rstrip("/")
        answer = connections.post_json(
            "postmark",
            f"{api}/email",
            email(config.require("from"), config.require("to"), task),
            [("accept", "application/json")],
        )
        try:
            body = answer.json()
        except ValueError:
            body = {}
        message_id = check(answer.status, body)
        log.info(f"emailed {config.require('to')} about {task['id']} (Postmark message {message_id})")


Handler, Hooks = export(PostmarkMailer())
