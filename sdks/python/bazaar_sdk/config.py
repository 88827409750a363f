"""This installation's configuration, as the tenant admin filled it in. Scope: none."""

from typing import Optional

from ._errors import PluginError, interface


def get(key: str) -> Optional[str]:
    """The value of one configuration field, or ``None`` when it is not set."""
    return interface("config").get(key)


def require(key: str) -> str:
    """The value of a field the plugin cannot work without: ``invalid`` when it is not set."""
    value = get(key)
    if not value:
        raise PluginError.invalid(f"the configuration field `{key}` is not set")
    return value
