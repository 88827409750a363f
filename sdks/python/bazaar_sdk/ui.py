"""UI in Bazaar's pages: blocks the host renders itself (contract 0.2.0 on).

Name the places in ``bazaar.toml`` (``ui = ["project-card"]``), override ``render`` (and
``on_action`` for buttons) in your :class:`~bazaar_sdk.Plugin`, and export the UI too::

    Handler, Hooks = export(MyPlugin())
    Extension = export_ui(MyPlugin())

Every string is shown as text: no HTML or script of the plugin reaches the page. ``**bold**``,
``*italic*`` and ```code``` in :func:`text` are the only formatting.
"""

from typing import Any, Dict, Iterable, List, Tuple, Union

from ._errors import _BINDINGS, PluginError


def _wit() -> Any:
    wit = _BINDINGS.get("ui")
    if wit is None:
        raise PluginError.internal("this build has no UI: add `ui = [...]` to bazaar.toml and build again")
    return wit


def heading(text: str) -> Any:
    """A heading."""
    return _wit().Block_Heading(text)


def text(text: str) -> Any:
    """A paragraph; ``**bold**``, ``*italic*`` and ```code``` are shown as such."""
    return _wit().Block_Text(text)


def fields(pairs: Union[Dict[str, str], Iterable[Tuple[str, str]]]) -> Any:
    """Labels and their values, from a dict or pairs."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return _wit().Block_Fields([_wit().Field(str(k), str(v)) for k, v in items])


def table(columns: List[str], rows: List[List[str]]) -> Any:
    """A table: its column names, then its rows."""
    return _wit().Block_Table(_wit().Table(columns, [[str(c) for c in row] for row in rows]))


def bullets(items: Iterable[str]) -> Any:
    """A bulleted list."""
    return _wit().Block_Bullets([str(i) for i in items])


def divider() -> Any:
    """A divider."""
    return _wit().Block_Divider()


def button(label: str, action: str) -> Any:
    """A button that calls ``on_action`` with ``action``."""
    return _wit().Block_Button(_wit().Button(label, action, _wit().ButtonStyle.PRIMARY))


def notice(message: str) -> Any:
    """An action's reply: show this message, then render again."""
    return _wit().Reply_Notice(message)


def show(blocks: List[Any]) -> Any:
    """An action's reply: show these blocks instead."""
    return _wit().Reply_Show(blocks)
