"""Outbound HTTP to the hosts the app's manifest declares. Scope: ``network``. Never to private
addresses; calls, time and response size are capped per invocation."""

import json
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple, Union

from ._errors import host, interface


@dataclass(frozen=True)
class Response:
    """A response, whole."""

    status: int
    headers: List[Tuple[str, str]]
    body: bytes

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    def header(self, name: str) -> Optional[str]:
        """The first value of header ``name`` (any case), or ``None``."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    method: str,
    url: str,
    headers: Sequence[Tuple[str, str]] = (),
    body: Union[bytes, str, None] = None,
) -> Response:
    """Sends one request (``method`` is ``get``, ``post``, ``put``, ``patch`` or ``delete``)."""
    wit = interface("http")
    data = body.encode("utf-8") if isinstance(body, str) else body
    request = wit.Request(getattr(wit.Method, method.upper()), url, list(headers), data)
    answer = host(lambda: wit.send(request))
    return Response(answer.status, list(answer.headers), bytes(answer.body))


def get(url: str, headers: Sequence[Tuple[str, str]] = ()) -> Response:
    """``GET url``."""
    return send("get", url, headers)


def post_json(url: str, value: Any, headers: Sequence[Tuple[str, str]] = ()) -> Response:
    """``POST url`` with ``value`` as a JSON body."""
    return send("post", url, [("content-type", "application/json"), *headers], json.dumps(value))
