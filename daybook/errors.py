"""The exceptions daybook raises.

Every error daybook raises on purpose derives from ``DaybookError``, so a caller
(the CLI above all) can catch one class and print one line::

    DaybookError
    ├── ParseError        a portal page (wikitext, HTML or JSONL) could not be read
    ├── StoreError        no store at the path, a URL given for one, a file that is not a
    │                     daybook store, a damaged one, or one newer than this code
    ├── UsageError        the caller asked for something that cannot be done (bad date, ...);
    │                     ``setting`` names the setting at fault, the command line its option
    ├── PullError         the MediaWiki API could not be reached, or gave an answer daybook cannot read
    ├── LockedError       another ``daybook update`` is running on the same store, or another
    │                     build or update is writing the same site
    ├── SiteFolderError   the output folder holds files daybook did not write (not a daybook site)
    ├── WriteError        a page could not be written, or was given two contents in one build
    ├── GitError          git failed on the site's repository (update, history)
    └── FetchError        a source page could not be fetched; ``word`` is the status stored
        ├── HTTPStatusError   the server answered with an error status (404, 429, 500...)
        ├── NetworkError      no answer: "dns", "refused", "timeout", "tls", "connection"
        ├── RefusedError      daybook would not ask: "robots", "private", "bad-url"
        └── ContentError      not an answer to keep: "not-html", "too-large", "redirects", "undecodable"

Enrich records a ``FetchError`` as the source's result and goes on with the next
URL; only the other errors stop a command.
"""

from __future__ import annotations


class DaybookError(Exception):
    """Base class of every error daybook raises on purpose."""


class ParseError(DaybookError):
    """A portal page could not be parsed; says which input, where and why. ``setting``
    names the setting that would settle it (``date``: the page names no day), which the
    command line shows as its own option."""

    def __init__(
        self, name: str, reason: str, line: int | None = None, *, setting: str | None = None
    ) -> None:
        self.name = name
        self.reason = reason
        self.line = line
        self.setting = setting
        where = f"{name}:{line}" if line is not None else name
        super().__init__(f"{where}: {reason}")


class StoreError(DaybookError):
    """The store cannot be opened or used as asked; names the file (``Store`` turns SQLite's
    errors about the file into this)."""


class UsageError(DaybookError):
    """The request itself is wrong (a malformed date, an unknown format...).

    ``setting`` names the setting at fault (``via``), ``detail`` what is wrong with it; the
    message is both (``via http://x/y: want an origin...``). Messages never name a command
    line option: the command line shows ``setting`` as its own (``--via``)."""

    def __init__(self, detail: str, *, setting: str | None = None) -> None:
        self.setting = setting
        self.detail = detail
        super().__init__(f"{setting} {detail}" if setting else detail)


class PullError(DaybookError):
    """The MediaWiki API could not be reached (after retries), or its answer made no sense."""


class LockedError(DaybookError):
    """Another ``daybook update`` holds the store's update lock, or another build the site's."""


class SiteFolderError(DaybookError):
    """The output folder is not daybook's to write: it holds files daybook did not write."""


class WriteError(DaybookError):
    """A page could not be written, or was given two different contents in one build."""


class GitError(DaybookError):
    """A git command failed on the site's repository; says which and what git said."""


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
