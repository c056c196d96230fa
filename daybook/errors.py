"""The exceptions daybook raises.

Every error daybook raises on purpose derives from ``DaybookError``, so a caller
(the CLI above all) can catch one class and print one line::

    DaybookError
    ├── ParseError        a portal page (wikitext, HTML or JSONL) could not be read
    ├── StoreError        the SQLite store is missing, newer than this code, or corrupt
    └── UsageError        the caller asked for something that cannot be done (bad date, ...)
"""

from __future__ import annotations


class DaybookError(Exception):
    """Base class of every error daybook raises on purpose."""


class ParseError(DaybookError):
    """A portal page could not be parsed; says which input, where and why."""

    def __init__(self, name: str, reason: str, line: int | None = None) -> None:
        self.name = name
        self.reason = reason
        self.line = line
        where = f"{name}:{line}" if line is not None else name
        super().__init__(f"{where}: {reason}")


class StoreError(DaybookError):
    """The store cannot be opened or used as asked."""


class UsageError(DaybookError):
    """The request itself is wrong (a malformed date, an unknown format...)."""
