"""The one error type that crosses the boundary, and the conversions to and from the WIT's."""

import importlib
from typing import Any, Callable, Literal, TypeVar

from componentize_py_types import Err

ErrorKind = Literal["forbidden", "not-found", "invalid", "limit-exceeded", "unavailable", "internal"]

_CASES = {
    "forbidden": "Error_Forbidden",
    "not-found": "Error_NotFound",
    "invalid": "Error_Invalid",
    "limit-exceeded": "Error_LimitExceeded",
    "unavailable": "Error_Unavailable",
    "internal": "Error_Internal",
}

T = TypeVar("T")


class PluginError(Exception):
    """A failure: raised by a capability call, or raised by a plugin to say why it failed.

    Raise ``PluginError.unavailable(...)`` to have a delivery retried later; any other kind is
    final. Any other exception a plugin raises is reported as ``internal``, with its message.
    """

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message

    def __repr__(self) -> str:
        return f"PluginError({self.kind!r}, {self.message!r})"

    @classmethod
    def forbidden(cls, message: str) -> "PluginError":
        """The installation was not granted the scope a call needs."""
        return cls("forbidden", message)

    @classmethod
    def not_found(cls, message: str) -> "PluginError":
        """The thing asked for does not exist."""
        return cls("not-found", message)

    @classmethod
    def invalid(cls, message: str) -> "PluginError":
        """The input was refused; a hook raising it rejects the person's change with ``message``."""
        return cls("invalid", message)

    @classmethod
    def limit_exceeded(cls, message: str) -> "PluginError":
        """A per-call limit was reached."""
        return cls("limit-exceeded", message)

    @classmethod
    def unavailable(cls, message: str) -> "PluginError":
        """A passing failure: the delivery is retried later."""
        return cls("unavailable", message)

    @classmethod
    def internal(cls, message: str) -> "PluginError":
        """A failure of the plugin itself."""
        return cls("internal", message)

    def to_wit(self) -> Any:
        return getattr(interface("types"), _CASES[self.kind])(self.message)


def _kind_of(value: Any) -> ErrorKind:
    name = type(value).__name__
    for kind, case in _CASES.items():
        if case == name:
            return kind  # type: ignore[return-value]
    return "internal"


def host(call: Callable[[], T]) -> T:
    """Calls a host function, turning the error it returns into a :class:`PluginError`."""
    try:
        return call()
    except Err as err:
        raise PluginError(_kind_of(err.value), str(getattr(err.value, "value", err.value))) from None


_SCOPES = {
    "kv": "storage",
    "projects": "projects:read",
    "projects_write": "projects:write",
    "tasks": "tasks:read",
    "tasks_write": "tasks:write",
    "http": "network",
    "connections": "network",
}


def _load(name: str) -> Any:
    try:
        return importlib.import_module(f"wit_world.imports.{name}")
    except ModuleNotFoundError:
        return None


# Imported now, while the build snapshots the interpreter: a component reads no files when it
# runs, so a module not imported at build time cannot be imported in a call.
_BINDINGS = {name: _load(name) for name in ["log", "config", "types", "ui", "trace", *_SCOPES]}


def interface(name: str) -> Any:
    """The bindings of one imported interface (``kv``), or ``forbidden`` when the manifest's
    scopes do not grant it and the build therefore left it out."""
    bindings = _BINDINGS.get(name)
    if bindings is None:
        scope = _SCOPES.get(name, "?")
        wit = name.replace("_", "-")
        if name == "connections" and _BINDINGS.get("http") is not None:
            raise PluginError.forbidden(
                "`bazaar:platform/connections` needs a [[connections]] entry in this plugin's "
                "bazaar.toml: declare the connection and build again"
            )
        raise PluginError.forbidden(
            f"`bazaar:platform/{wit}` needs the `{scope}` scope, which this plugin's bazaar.toml "
            "does not ask for: add it to its [[scopes]] and build again"
        )
    return bindings
