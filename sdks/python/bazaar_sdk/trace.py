"""The plugin's own steps in the call's trace (no scope), nested inside the call's span and
inside each other; a team exporting traces sees them beside the host's. At most 100 spans and 20
attributes each; past that, calls are ignored.

    with trace.span("fetch items", vendor="acme") as span:
        items = http.get(url).json()
        span.set("items", str(len(items)))
"""

from typing import Any

from ._errors import _BINDINGS


class Span:
    """An open span; it ends when the ``with`` block does."""

    def __init__(self, name: str, attributes: Any) -> None:
        self._wit = _BINDINGS.get("trace")
        self._handle = 0
        if self._wit is not None:
            self._handle = self._wit.enter(name, [(str(k), str(v)) for k, v in attributes.items()])

    def set(self, key: str, value: str) -> None:
        """Adds an attribute."""
        if self._wit is not None:
            self._wit.set_attribute(self._handle, key, value)

    def __enter__(self) -> "Span":
        return self

    def __exit__(self, *_: Any) -> None:
        if self._wit is not None:
            self._wit.exit(self._handle)


def span(name: str, **attributes: str) -> Span:
    """A span named ``name`` inside the innermost open one; use it in a ``with`` block."""
    return Span(name, attributes)
