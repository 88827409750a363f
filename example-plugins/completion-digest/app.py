"""Completion digest: what got done in each project, written in Python. Its card on each
project's page shows the count and the latest completed tasks."""

from typing import Any, Dict, List

from bazaar_sdk import Event, Plugin, export, export_ui, kv, log, ui

KEEP = 20


def record(digest: Dict[str, Any], event_id: str, title: str) -> bool:
    """Adds one completed task to ``digest``; False when the event was already counted."""
    if event_id in digest["events"]:
        return False
    digest["total"] += 1
    digest["recent"] = ([title] + digest["recent"])[:KEEP]
    digest["events"] = ([event_id] + digest["events"])[:KEEP]
    return True


class CompletionDigest(Plugin):
    def on_event(self, event: Event) -> None:
        if event.kind != "task.completed":
            return
        task = event.payload()
        key = f"digest/{task['project_id']}"
        digest = kv.get_json(key) or {"total": 0, "recent": [], "events": []}
        if record(digest, event.id, task["title"]):
            kv.set_json(key, digest)
            log.info(f"{digest['total']} tasks completed; latest: {task['title']}")

    def render(self, context: Any) -> List[Any]:
        digest = kv.get_json(f"digest/{context.subject_id}")
        if not digest:
            return [ui.text("No task completed here yet.")]
        return [
            ui.fields({"Completed": str(digest["total"])}),
            ui.text("Latest:"),
            ui.bullets(digest["recent"][:5]),
        ]


Handler, Hooks = export(CompletionDigest())
Extension = export_ui(CompletionDigest())
