"""The organization's projects. Reading needs ``projects:read``; ``create`` needs
``projects:write``. A project has ``id``, ``name``, ``description``, ``status`` and
``created_at``."""

from typing import Any, List

from ._errors import host, interface


def get(id: str) -> Any:
    """One project by id (``not-found`` if it is not the organization's)."""
    wit = interface("projects")
    return host(lambda: wit.get(id))


def list(limit: int = 100) -> List[Any]:
    """Active projects, newest first, at most ``limit`` (1 to 100)."""
    wit = interface("projects")
    return host(lambda: wit.list_active(limit))


def create(name: str, description: str = "") -> Any:
    """Creates an active project; emits ``project.created``."""
    wit = interface("projects_write")
    return host(lambda: wit.create(name, description))
