"""The network's settings and defaults, apart from the code that uses them: the command
line shows them in its help without importing httpx (a cheap start for every command).

``daybook.net.fetch`` (enrich's fetching) and ``daybook.ingest.pull`` (the MediaWiki API)
take these; the defaults are polite to news sites and to the wiki.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from dataclasses import dataclass

from daybook import __version__
from daybook.errors import UsageError

DEFAULT_WAYBACK = "https://archive.org/wayback/available"
USER_AGENT = f"daybook/{__version__} (news archive of the Wikipedia Current Events Portal; python-httpx)"

# The wiki pull and entities ask (daybook.ingest.pull, daybook.ingest.entities).
DEFAULT_API = "https://en.wikipedia.org/w/api.php"
DEFAULT_API_DELAY = 0.5  # seconds between the starts of two requests to the wiki's API
DEFAULT_TITLE_PATTERN = "Portal:Current events/{year} {month_name} {day}"
ENGLISH_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
DEFAULT_MAX_AGE = dt.timedelta(days=30)  # an entity's answer older than this is asked again

# Seconds a source stays leased to an enrich worker that stopped renewing (died): then others take it.
DEFAULT_LEASE = 60.0


@dataclass(frozen=True, kw_only=True)
class FetchSettings:
    """How enrich fetches. The defaults are polite to news sites."""

    user_agent: str = USER_AGENT
    concurrency: int = 32  # requests in flight, all hosts together
    per_host: int = 2  # requests in flight to one host
    delay: float = 0.5  # seconds between request starts to one host
    timeout: float = 20.0  # seconds one attempt may take, connecting to last byte
    retries: int = 2  # attempts after the first, on a timeout, 5xx, 429 or refused connection
    backoff: float = 1.0  # seconds before the first retry; doubles with each
    max_wait: float = 60.0  # the longest wait between attempts (a Retry-After's too)
    max_redirects: int = 10
    max_bytes: int = 5 * 1024 * 1024  # larger bodies are refused ("too-large")
    allow_private: bool = False  # connect to private, loopback and link-local addresses
    via: str | None = None  # http://host:port: send every request there instead
    wayback: str | None = DEFAULT_WAYBACK  # availability API for dead links; None: never look

    def __post_init__(self) -> None:
        for name in ("concurrency", "per_host", "max_bytes"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name.replace('_', '-')} must be at least 1")
        for name in ("delay", "timeout", "retries", "backoff", "max_wait", "max_redirects"):
            if getattr(self, name) < 0:
                raise UsageError(f"{name.replace('_', '-')} cannot be negative")
        if self.via is not None:
            parts = urllib.parse.urlsplit(self.via)
            if parts.scheme != "http" or not parts.hostname or parts.path.strip("/") or parts.query:
                raise UsageError(f"{self.via}: want an origin like http://127.0.0.1:8000", setting="via")
        if self.wayback is not None and urllib.parse.urlsplit(self.wayback).scheme not in ("http", "https"):
            raise UsageError(f"{self.wayback}: want an http(s) URL", setting="wayback")
