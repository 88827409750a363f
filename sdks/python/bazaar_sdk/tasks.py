"""The organization's tasks. Reading needs ``tasks:read``; changes need ``tasks:write``. A task
has ``id``, ``project_id``, ``title``, ``description``, ``status``, ``labels``, ``due_date``
and ``created_at``."""

from typing import Any, List, Sequence

from ._errors import host, interface


def get(id: str) -> Any:
    """One task by id (``not-found`` if it is not the organization's)."""
    wit = interface("tasks")
    return host(lambda: wit.get(id))


def list_by_project(project_id: str, limit: int = 100) -> List[Any]:
    """Tasks of one project, newest first, at most ``limit`` (1 to 100)."""
    wit = interface("tasks")
    return host(lambda: wit.list_by_project(project_id, limit))


def create(project_id: str, title: str, description: str = "", labels: Sequence[str] = ()) -> Any:
    """Creates an open task in an active project; emits ``task.created``."""
    wit = interface("tasks_write")
    return host(lambda: wit.create(project_id, title, description, list(labels)))


def set_labels(id: str, labels: Sequence[str]) -> Any:
    """Replaces the labels of a task; emits ``task.updated``."""
    wit = interface("tasks_write")
    return host(lambda: wit.set_labels(id, list(labels)))


def complete(id: str) -> Any:
    """Marks a task completed; emits ``task.completed``."""
    wit = interface("tasks_write")
    return host(lambda: wit.complete(id))
