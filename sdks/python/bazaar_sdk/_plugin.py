"""The plugin's shape and the component's exports."""

import json
import traceback
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple, Type

from componentize_py_types import Err

from ._errors import PluginError
from . import log


@dataclass(frozen=True)
class Event:
    """Something that happened in the organization that installed the plugin."""

    id: str
    """Stable identifier: retries of the same delivery carry the same id."""
    kind: str
    """``resource.action``, for example ``task.completed``."""
    org_id: str
    subject_id: str
    """The id of the project or task the event is about."""
    occurred_at: str
    """RFC 3339 time."""
    payload_json: str
    """The resource right after the change, as JSON text; :meth:`payload` parses it."""

    def payload(self) -> Any:
        """The resource right after the change (a task or a project, as the REST API shows it)."""
        try:
            return json.loads(self.payload_json)
        except ValueError as e:
            raise PluginError.invalid(f"the event's payload is not JSON: {e}") from None

    def resource(self) -> str:
        """What the event is about: ``task`` for ``task.completed``."""
        return self.kind.split(".", 1)[0]


class Plugin:
    """What a plugin does; override the methods it needs."""

    def on_event(self, event: Event) -> None:
        """Handles one event. Raise ``PluginError.unavailable`` to have it retried later."""

    def validate_task(self, task: Any) -> None:
        """Checks a task (``id``, ``project_id``, ``title``, ``description``, ``status``,
        ``labels``, ``due_date``) before it is created or changed. Raise
        ``PluginError.invalid(message)`` to reject the change. Runs inside the person's request,
        with a small budget."""

    def render(self, context: Any) -> List[Any]:
        """The blocks (from :mod:`bazaar_sdk.ui`) to show where ``bazaar.toml``'s ``ui`` names;
        ``context.subject_id`` is the task or project shown. Runs inside the person's page load,
        with the hook budget. Export it with :func:`export_ui`."""
        return []

    def on_action(self, context: Any, action: str, values: Dict[str, str]) -> Any:
        """A person pressed one of the plugin's buttons. Return ``ui.notice(message)`` to show a
        message and render again, or ``ui.show(blocks)``."""
        raise PluginError.invalid(f"this plugin has no action `{action}`")

    def on_request(self, request: Any) -> Any:
        """A tool called one of ``bazaar.toml``'s ``triggers`` (``request.trigger``,
        ``request.method``, ``request.headers``, ``request.body``), and Bazaar checked its
        signature. Return ``triggers.json(...)`` or ``triggers.text(...)``. Runs with the hook
        budget. Export it with :func:`export_triggers`."""
        from . import triggers

        return triggers.text(404, f"this plugin has no trigger `{request.trigger}`")


def _traceback(error: BaseException) -> str:
    """The traceback without source lines: a component cannot read its source files, and
    trying would stop the call."""
    frames = [
        f'  File "{frame.f_code.co_filename}", line {line}, in {frame.f_code.co_name}'
        for frame, line in traceback.walk_tb(error.__traceback__)
    ]
    return "\n".join(["Traceback (most recent call last):", *frames, f"{type(error).__name__}: {error}"])


def _guard(body: Any) -> Any:
    try:
        return body()
    except PluginError as error:
        raise Err(error.to_wit()) from None
    except Exception as error:  # a bug of the plugin: reported, never a trap
        log.error(_traceback(error))
        raise Err(PluginError.internal(f"{type(error).__name__}: {error}").to_wit()) from None


def export(plugin: Plugin) -> Tuple[Type[Any], Type[Any]]:
    """The component's exports for ``plugin``: write ``Handler, Hooks = export(MyPlugin())`` in
    the module ``app``."""

    class Handler:
        def on_event(self, event: Any) -> None:
            _guard(
                lambda: plugin.on_event(
                    Event(
                        event.id,
                        event.kind,
                        event.org_id,
                        event.subject_id,
                        event.occurred_at,
                        event.payload,
                    )
                )
            )

    class Hooks:
        def validate_task(self, task: Any) -> None:
            _guard(lambda: plugin.validate_task(task))

    return Handler, Hooks


def export_ui(plugin: Plugin) -> Type[Any]:
    """The component's UI export for ``plugin``: write ``Extension = export_ui(MyPlugin())`` in
    the module ``app`` (beside ``Handler, Hooks = export(...)``) when ``bazaar.toml`` names
    places for UI."""

    class Extension:
        def render(self, context: Any) -> List[Any]:
            return _guard(lambda: plugin.render(context))

        def on_action(self, context: Any, action: str, values: List[Tuple[str, str]]) -> Any:
            return _guard(lambda: plugin.on_action(context, action, dict(values)))

    return Extension


def export_triggers(plugin: Plugin) -> Type[Any]:
    """The component's web-trigger export for ``plugin``: write
    ``Triggers = export_triggers(MyPlugin())`` in the module ``app`` when ``bazaar.toml`` declares
    ``[[triggers]]``."""

    class Triggers:
        def on_request(self, request: Any) -> Any:
            return _guard(lambda: plugin.on_request(request))

    return Triggers
