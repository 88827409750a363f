"""The plugin's log, which the developer and the tenant admin can read. Scope: none."""

from ._errors import interface


def _write(level: str, message: str) -> None:
    wit = interface("log")
    wit.write(getattr(wit.Level, level), message)


def debug(message: str) -> None:
    _write("DEBUG", message)


def info(message: str) -> None:
    _write("INFO", message)


def warn(message: str) -> None:
    _write("WARN", message)


def error(message: str) -> None:
    _write("ERROR", message)
