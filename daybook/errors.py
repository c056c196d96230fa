"""The exceptions daybook raises.

Every error daybook raises on purpose derives from ``DaybookError``, so a caller
(the CLI above all) can catch one class and print one line::

    DaybookError
    ├── ParseError        a portal page (wikitext, HTML or JSONL) could not be read
    ├── StoreError        the SQLite store is missing, newer than this code, or corrupt
    ├── UsageError        the caller asked for something that cannot be done (bad date, ...)
    └── FetchError        a source page could not be fetched; ``word`` is the status stored
        ├── HTTPStatusError   the server answered with an error status (404, 429, 500...)
        ├── NetworkError      no answer: "dns", "refused", "timeout", "tls", "connection"
        ├── RefusedError      daybook would not ask: "robots", "private", "bad-url"
        └── ContentError      an answer daybook will not keep: "not-html", "too-large", "redirects"

Enrich records a ``FetchError`` as the source's result and goes on with the next
URL; only the other errors stop a command.
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


class FetchError(DaybookError):
    """A source page could not be fetched; ``word`` names why, ``url`` says which."""

    def __init__(self, url: str, word: str, detail: str) -> None:
        self.url = url
        self.word = word
        self.detail = detail
        super().__init__(f"{url}: {detail}")

    @property
    def status(self) -> int | str:
        """What ``daybook sources`` shows: the HTTP status, or the error word."""
        return self.word


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, url: str, status: int, *, retry_after: float | None = None) -> None:
        self.http_status = status
        self.retry_after = retry_after  # seconds the server asked us to wait (Retry-After)
        super().__init__(url, str(status), f"HTTP {status}")

    @property
    def status(self) -> int | str:
        return self.http_status


class NetworkError(FetchError):
    """No usable answer: the name did not resolve, the connection failed or timed out."""


class RefusedError(FetchError):
    """daybook declined to fetch: robots.txt disallows it, a private address, not http(s)."""


class ContentError(FetchError):
    """The answer is not one to keep: not HTML, over the size cap, or endless redirects."""
