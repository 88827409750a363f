"""Requests that carry an account or key the tenant connected, as ``bazaar.toml`` declares under
``[[connections]]``. Scope: ``network``. Bazaar adds the credential, for the connection's hosts
only; the plugin never sees it. A host outside them, or a connection the tenant has not connected
(or must connect again), raises ``forbidden``.

    issue = connections.post_json("github", "https://api.github.com/repos/acme/web/issues",
                                  {"title": task.title})
"""

import json
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple, Union

from ._errors import host, interface
from .http import Response


@dataclass(frozen=True)
class Status:
    """Whether the tenant connected it, and the account, when the vendor said."""

    connected: bool
    account: Optional[str]


def send(
    name: str,
    method: str,
    url: str,
    headers: Sequence[Tuple[str, str]] = (),
    body: Union[bytes, str, None] = None,
) -> Response:
    """Sends one request through the connection ``name``."""
    wit = interface("connections")
    http = interface("http")
    data = body.encode("utf-8") if isinstance(body, str) else body
    request = http.Request(getattr(http.Method, method.upper()), url, list(headers), data)
    answer = host(lambda: wit.send(name, request))
    return Response(answer.status, list(answer.headers), bytes(answer.body))


def get(name: str, url: str, headers: Sequence[Tuple[str, str]] = ()) -> Response:
    """``GET url`` through the connection ``name``."""
    return send(name, "get", url, headers)


def post_json(name: str, url: str, value: Any, headers: Sequence[Tuple[str, str]] = ()) -> Response:
    """``POST url`` with ``value`` as JSON, through the connection ``name``."""
    return send(name, "post", url, [("content-type", "application/json"), *headers], json.dumps(value))


def status(name: str) -> Status:
    """Whether the tenant has connected ``name`` (never its credential)."""
    wit = interface("connections")
    answer = host(lambda: wit.status(name))
    return Status(answer.connected, answer.account)
