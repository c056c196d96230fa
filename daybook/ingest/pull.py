"""Pull: the portal's day pages from the MediaWiki Action API, kept in the store.

How it works: docs/ARCHITECTURE.md, "Pulling portal pages".
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, NamedTuple

import httpx

from daybook.errors import PullError, UsageError
from daybook.net.retry import busy, retry_after, retry_wait
from daybook.net.settings import (
    DEFAULT_API,
    DEFAULT_API_DELAY,
    DEFAULT_TITLE_PATTERN,
    ENGLISH_MONTHS,
    USER_AGENT,
)
from daybook.store import PortalPage, Store

BATCH = 50  # titles per request: the API's limit for clients without the apihighlimits right
# Errors the API answers when it is busy rather than when the request is wrong: wait and retry.
BUSY_CODES = frozenset({"maxlag", "ratelimited", "readonly", "internal_api_error_DBQueryTimeoutError"})


@dataclass(frozen=True, kw_only=True)
class PullSettings:
    """Where and how to pull. The defaults are English Wikipedia's, and polite."""

    api: str = DEFAULT_API
    #: the day page's title; ``{year}``, ``{month}``, ``{day}`` (numbers, so ``{month:02d}``
    #: works) and ``{month_name}`` (from ``month_names``) are filled in
    title_pattern: str = DEFAULT_TITLE_PATTERN
    month_names: tuple[str, ...] = ENGLISH_MONTHS
    user_agent: str = USER_AGENT
    maxlag: int = 5  # seconds of replica lag beyond which the API should refuse (5: its advice)
    delay: float = DEFAULT_API_DELAY  # seconds between request starts
    timeout: float = 30.0  # seconds one attempt may take
    retries: int = 4  # attempts after the first
    backoff: float = 1.0  # seconds before the first retry without Retry-After; doubles with each
    max_wait: float = 120.0  # the longest wait between attempts

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.api)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{self.api}: want the URL of api.php, like {DEFAULT_API}", setting="api")
        if len(self.month_names) != 12:
            raise UsageError(f"month names: want 12, not {len(self.month_names)}")
        try:
            self.title(dt.date(2024, 5, 7))
        except (KeyError, IndexError, ValueError) as exc:
            raise UsageError(
                f"title pattern {self.title_pattern!r}: {exc};"
                " use {year}, {month}, {day} and {month_name}"
            ) from None
        for name in ("delay", "timeout", "retries", "backoff", "max_wait", "maxlag"):
            if getattr(self, name) < 0:
                raise UsageError(f"{name.replace('_', '-')} cannot be negative")

    def title(self, date: dt.date) -> str:
        """The wiki page of one portal day."""
        return self.title_pattern.format(
            year=date.year, month=date.month, day=date.day, month_name=self.month_names[date.month - 1]
        )


@dataclass
class PullReport:
    """What one pull did."""

    asked: int = 0
    pulled: list[dt.date] = field(default_factory=list)  # new revisions kept
    unchanged: int = 0
    missing: list[dt.date] = field(default_factory=list)  # no such page on the wiki (yet)
    failed: list[tuple[dt.date, str]] = field(default_factory=list)  # answers not kept, and why
    requests: int = 0

    def summary(self) -> str:
        days = f"{self.asked} day{'' if self.asked == 1 else 's'}"
        line = f"{days}: {len(self.pulled)} pulled, {self.unchanged} unchanged"
        if self.missing:
            line += f", {len(self.missing)} not on the wiki"
        if self.failed:
            reasons = "; ".join(f"{day}: {why}" for day, why in self.failed)
            line += f", {len(self.failed)} not kept ({reasons})"
        return line


class Revision(NamedTuple):
    """A page's latest revision as the API gives it; ``text`` is None when not asked for."""

    title: str
    revision: int
    saved_at: str
    text: str | None


class MediaWiki:
    """A client of the Action API for the latest revision of pages; use as a context manager.

    ``transport`` replaces the network (tests); ``sleep`` is how it waits (tests pass
    one that does not).
    """

    def __init__(
        self,
        settings: PullSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or PullSettings()
        self.requests = 0
        self._sleep = sleep
        self._last_start: float | None = None
        self._client = httpx.Client(
            headers={"User-Agent": self.settings.user_agent},
            timeout=self.settings.timeout,
            transport=transport,
            follow_redirects=True,
        )

    def __enter__(self) -> MediaWiki:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._client.close()

    def latest(self, titles: Sequence[str], *, text: bool) -> dict[str, Revision]:
        """The latest revision of each title that exists, keyed by the title as asked."""
        found: dict[str, Revision] = {}
        for start in range(0, len(titles), BATCH):
            chunk = titles[start : start + BATCH]
            params = {
                "action": "query",
                "prop": "revisions",
                "rvprop": "ids|timestamp|content" if text else "ids|timestamp",
                "rvslots": "main",
                "titles": "|".join(chunk),
                "format": "json",
                "formatversion": "2",
                "maxlag": str(self.settings.maxlag),
            }
            names: dict[str, str] = {}
            pages: dict[str, Revision] = {}
            for query in self._queries(params):
                names.update((n["from"], n["to"]) for n in query.get("normalized", []))
                for page in query.get("pages", []):
                    if page.get("invalid"):
                        reason = page.get("invalidreason", "invalid title")
                        raise UsageError(f"{page.get('title')!r} is not a page title here: {reason}")
                    revision = _revision(page, text=text)
                    if revision is not None:
                        pages[revision.title] = revision
            for title in chunk:
                if (revision := pages.get(names.get(title, title))) is not None:
                    found[title] = revision
        return found

    def rendered(self, revision: int) -> str:
        """The wiki's own HTML of one revision (``action=parse``); PullError when the answer
        is an error, empty, or the rendering of another revision."""
        answer = self._get(
            {
                "action": "parse",
                "oldid": str(revision),
                "prop": "text|revid",
                "format": "json",
                "formatversion": "2",
                "maxlag": str(self.settings.maxlag),
            }
        )
        parsed = answer.get("parse")
        text = parsed.get("text") if isinstance(parsed, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise PullError(f"revision {revision}: the rendered page is empty")
        if parsed is not None and parsed.get("revid") not in (None, revision):
            raise PullError(f"revision {revision}: rendered revision {parsed.get('revid')} instead")
        return text

    def query(self, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Each part of the answer to ``action=query`` with ``params`` (JSON, format
        version 2, ``maxlag`` sent), politely, following ``continue``."""
        fixed = {"action": "query", "format": "json", "formatversion": "2"}
        fixed["maxlag"] = str(self.settings.maxlag)
        return self._queries({**fixed, **params})

    def _queries(self, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Each part of a query's answer, following ``continue`` (large pages come in parts)."""
        more: dict[str, str] = {}
        while True:
            answer = self._get({**params, **more})
            query = answer.get("query", {})
            if not isinstance(query, dict):
                raise PullError(f"{self.settings.api}: an answer with no query in it")
            yield query
            more = answer.get("continue") or {}
            if not more:
                return

    def _get(self, params: dict[str, str]) -> dict[str, Any]:
        settings = self.settings
        for attempt in range(settings.retries + 1):
            self._wait_turn()
            wait: float | None = None
            try:
                response = self._client.get(settings.api, params=params)
            except httpx.TransportError as exc:  # refused, timed out, no DNS: worth another try
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code != 200 and not busy(response.status_code):
                    raise PullError(f"{settings.api}: HTTP {response.status_code}")
                wait = retry_after(response.headers.get("Retry-After"))
                if response.status_code == 200:
                    try:
                        answer = response.json()
                    except ValueError:
                        raise PullError(f"{settings.api}: the answer is not JSON; is this api.php?") from None
                    error = answer.get("error") if isinstance(answer, dict) else "not an object"
                    if error is None:
                        return dict(answer)
                    code, info = _error(error)
                    if code not in BUSY_CODES:
                        raise PullError(f"{settings.api}: {code}: {info}")
                    problem = f"{code}: {info}"
                else:
                    problem = f"HTTP {response.status_code}"
            if attempt == settings.retries:
                raise PullError(f"{settings.api}: {problem} (gave up after {attempt + 1} attempts)")
            self._sleep(retry_wait(wait, attempt, backoff=settings.backoff, max_wait=settings.max_wait))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _wait_turn(self) -> None:
        """One request at a time, at least ``delay`` seconds between their starts."""
        now = time.monotonic()
        if self._last_start is not None and now < self._last_start + self.settings.delay:
            self._sleep(self._last_start + self.settings.delay - now)
        self._last_start = time.monotonic()
        self.requests += 1


def _error(error: object) -> tuple[str, str]:
    if isinstance(error, dict):
        return str(error.get("code", "unknown")), str(error.get("info", ""))
    return "unknown", str(error)


def _revision(page: dict[str, Any], *, text: bool) -> Revision | None:
    """A page's revision from the answer, or None for a missing page; its ``text`` is
    None unless asked for and there."""
    revisions = page.get("revisions")
    if page.get("missing") or not revisions:
        return None
    latest = revisions[0]
    content = latest.get("slots", {}).get("main", {}).get("content") if text else None
    if not isinstance(content, str) or not content.strip():
        content = None  # not asked for, or hidden, null or blank: never a day's text
    return Revision(page["title"], int(latest["revid"]), str(latest["timestamp"]), content)


def recent_days(count: int, today: dt.date | None = None) -> list[dt.date]:
    """Today (by UTC) and the ``count - 1`` days before, oldest first."""
    if count < 1:
        raise UsageError(f"wants 1 or more, not {count}", setting="days")
    today = today or dt.datetime.now(dt.UTC).date()
    return [today - dt.timedelta(days=n) for n in reversed(range(count))]


def date_range(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from ``start`` to ``end``, both included."""
    if end < start:
        raise UsageError(f"{end} is before the first day, {start}", setting="to")
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def pull(
    store: Store,
    dates: Iterable[dt.date],
    settings: PullSettings | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PullReport:
    """Keep the latest revision of each day's page in ``store``, fetching only what changed.

    Each page is committed as it comes, so a pull stopped halfway keeps what it got.
    """
    settings = settings or PullSettings()
    days = sorted(set(dates))
    titles = {settings.title(day): day for day in days}
    kept = store.portal_revisions(days)
    report = PullReport(asked=len(days))
    with MediaWiki(settings, transport=transport, sleep=sleep) as wiki:
        known = wiki.latest([t for t, day in titles.items() if day in kept], text=False)
        wanted = [
            t
            for t, day in titles.items()
            if day not in kept or (t in known and known[t].revision != kept[day])
        ]
        fetched = wiki.latest(wanted, text=True)
        rendered: dict[str, str | PullError] = {}
        for title, page in fetched.items():
            if page.text is not None:
                try:
                    rendered[title] = wiki.rendered(page.revision)
                except PullError as error:  # that day's answer is no page: the others still count
                    rendered[title] = error
        report.requests = wiki.requests
    for title, day in titles.items():
        found = fetched.get(title)
        html = rendered.get(title)
        if found is not None and found.text is not None and isinstance(html, str):
            store.save_portal_page(PortalPage(day, title, found.revision, found.saved_at, found.text, html))
            report.pulled.append(day)
        elif found is not None:
            why = "the wikitext is empty" if found.text is None else str(html)
            report.failed.append((day, why.removeprefix(f"{settings.api}: ")))
        elif title in known and title not in wanted:
            report.unchanged += 1
        else:
            report.missing.append(day)
    return report
