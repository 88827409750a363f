"""Write Bazaar plugins in Python.

A plugin is a class with ``on_event`` and/or ``validate_task``, exported from the module
``app`` with :func:`export`::

    from bazaar_sdk import Event, Plugin, export, log, tasks

    class Triage(Plugin):
        def on_event(self, event: Event) -> None:
            if event.kind == "task.created":
                log.info(f"new task: {tasks.get(event.subject_id).title}")

    Handler, Hooks = export(Triage())

It runs in a fresh sandbox for every call and reaches the platform only through the capability
modules (``kv``, ``projects``, ``tasks``, ``http``, ...), and only those whose scope the
manifest (``bazaar.toml``) asks for: ``bazaar plugin build`` makes the component import exactly
the interfaces of those scopes; calling another one raises ``PluginError`` of kind
``forbidden``.
"""

from ._errors import PluginError
from ._plugin import Event, Plugin, export, export_triggers, export_ui
from . import config, connections, http, kv, log, projects, tasks, trace, triggers, ui

__all__ = [
    "Event",
    "Plugin",
    "PluginError",
    "config",
    "connections",
    "export",
    "export_triggers",
    "export_ui",
    "http",
    "kv",
    "log",
    "projects",
    "tasks",
    "trace",
    "triggers",
    "ui",
]
