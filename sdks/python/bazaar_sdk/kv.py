"""A key-value store private to this installation, deleted on uninstall. Scope: ``storage``.

Keys are at most 256 bytes, values at most 64 KiB, within the installation's quota."""

import json
from typing import Any, List, Optional

from ._errors import host, interface


def get(key: str) -> Optional[bytes]:
    """The bytes stored under ``key``, or ``None``."""
    wit = interface("kv")
    return host(lambda: wit.get(key))


def set(key: str, value: bytes) -> None:
    """Stores ``value`` under ``key``, replacing what was there."""
    wit = interface("kv")
    host(lambda: wit.set(key, value))


def delete(key: str) -> None:
    """Removes ``key``; removing a missing key is not an error."""
    wit = interface("kv")
    host(lambda: wit.delete(key))


def list_keys(prefix: str, limit: int = 100) -> List[str]:
    """Keys that start with ``prefix``, sorted, at most ``limit`` (1 to 1000)."""
    wit = interface("kv")
    return host(lambda: wit.list_keys(prefix, limit))


def get_json(key: str) -> Any:
    """The JSON value stored under ``key``, or ``None``."""
    value = get(key)
    return None if value is None else json.loads(value.decode("utf-8"))


def set_json(key: str, value: Any) -> None:
    """Stores ``value`` under ``key`` as JSON."""
    set(key, json.dumps(value, separators=(",", ":")).encode("utf-8"))
