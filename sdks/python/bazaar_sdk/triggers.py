"""Inbound web triggers: a tool calling the plugin back at the URL Bazaar gives each trigger
``bazaar.toml`` declares under ``[[triggers]]``. Bazaar has checked the request's signature (or
shared secret) before ``Plugin.on_request`` runs; export it with :func:`bazaar_sdk.export_triggers`.

    def on_request(self, request):
        if triggers.header(request, "x-github-event") == "ping":
            return triggers.text(200, "pong")
        event = triggers.body_json(request)
        return triggers.json(200, {"seen": event["action"]})
"""

import importlib
import json as _json
from typing import Any, Optional

from ._errors import PluginError


def _load() -> Any:
    try:
        return importlib.import_module("wit_world.exports.triggers")
    except ModuleNotFoundError:
        return None


# Imported while the build snapshots the interpreter (see _errors._BINDINGS).
_WIT = _load()


def header(request: Any, name: str) -> Optional[str]:
    """The value of header ``name`` (names are lowercase), or ``None``."""
    return next((v for k, v in request.headers if k.lower() == name.lower()), None)


def body_json(request: Any) -> Any:
    """The request's body parsed as JSON."""
    try:
        return _json.loads(bytes(request.body))
    except ValueError as e:
        raise PluginError.invalid(f"the request's body is not JSON: {e}") from None


def _answer(status: int, content_type: str, body: bytes) -> Any:
    if _WIT is None:
        raise PluginError.internal("this plugin declares no [[triggers]] in bazaar.toml")
    return _WIT.Answer(status, [("content-type", content_type)], body)


def json(status: int, value: Any) -> Any:
    """An answer with ``value`` as JSON."""
    return _answer(status, "application/json", _json.dumps(value).encode("utf-8"))


def text(status: int, body: str) -> Any:
    """An answer with plain ``body``."""
    return _answer(status, "text/plain; charset=utf-8", body.encode("utf-8"))
