"""Ingest: portal day files (wikitext, rendered HTML, daybook JSONL) into the store.

Reading and parsing are per file; a file that fails is reported and skipped while
the rest are stored, each day in its own transaction. A file that holds no event (an
empty capture) stores nothing and is reported as skipped, with why: it never replaces
the events a day had.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lxml.etree
import lxml.html

from daybook.errors import ParseError, UsageError
from daybook.ingest.html import parse_portal_html
from daybook.ingest.outline import date_from_name
from daybook.ingest.reconcile import reconcile
from daybook.ingest.wikitext import parse_wikitext
from daybook.model import Day, Event, Source, event_id
from daybook.store import DayChange, PortalPage, Store

WIKITEXT_SUFFIXES = frozenset({".wiki", ".wikitext", ".txt"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSONL_SUFFIXES = frozenset({".jsonl"})
KNOWN_SUFFIXES = WIKITEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES

# Why an input held no event.
EMPTY_BODY = "empty body"  # nothing in the file, or an HTML page with an empty <body>
NULL_CAPTURE = "null capture"  # the e-mail edition's "null" where the day's content should be
ONLY_HEADER = "only the header"  # a wikitext page with its template and no bullet
NO_EVENTS = "no events"  # anything else that reads as a portal page and lists no event

# The e-mail service wrote a bare "null" in the content cell when it had no copy of the day.
_NULL_CELL = re.compile(rb">\s*null\s*<")
_BULLET = re.compile(r"^[ \t]*\*", re.MULTILINE)


@dataclass(frozen=True)
class Skipped:
    """An input that held no event: nothing was stored, and ``kept`` events of its day stay."""

    name: str
    reason: str  # EMPTY_BODY, NULL_CAPTURE, ONLY_HEADER or NO_EVENTS
    date: dt.date | None = None  # the day it names, when it names one
    kept: int = 0  # events the store holds for that day, left as they were

    def __str__(self) -> str:
        text = f"{self.name}: {self.reason}; skipped"
        if self.kept:
            text += f", the store keeps its {self.kept} event{'s' if self.kept != 1 else ''} of {self.date}"
        return text


def skipped(store: Store, name: str, reason: str, date: dt.date | None) -> Skipped:
    """An input with no event, with the events its day keeps in the store (files and pulls alike)."""
    return Skipped(name, reason, date, len(store.events(date=date)) if date else 0)


@dataclass(frozen=True)
class Reading:
    """One file read: the days it holds with events, or why it holds none."""

    days: list[Day]
    empty: str | None = None  # why there is no event (EMPTY_BODY...); None when there are some
    date: dt.date | None = None  # the day the file names (its name, the page, or the caller)


@dataclass
class IngestReport:
    """What one ingest run did."""

    files: int = 0
    changes: list[DayChange] = field(default_factory=list)
    failures: list[ParseError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unrendered: Counter[str] = field(default_factory=Counter)  # wikitext templates not rendered

    def unrendered_summary(self) -> str | None:
        """One line naming the templates shown only as their parameters, most used first."""
        if not self.unrendered:
            return None
        names = ", ".join(f"{name} ({count})" for name, count in self.unrendered.most_common())
        return f"templates not rendered (shown as their parameters): {names}"

    @property
    def days(self) -> int:
        return len(self.changes)

    @property
    def events(self) -> int:
        return sum(len(c.added) + len(c.kept) for c in self.changes)


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """The files to ingest: named files as given, folders searched for known types, sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in KNOWN_SUFFIXES)
            )
        else:
            found.append(path)
    return found


def plan(paths: Iterable[str | Path], *, date: dt.date | None = None) -> list[Path]:
    """The files to ingest (``discover``), checked against ``date`` before any is read.

    A date given names the day of one page: it takes one wikitext or HTML file.
    """
    files = discover(paths)
    if date is not None:
        if len(files) != 1:
            raise UsageError(f"names the day of one page: give one file, not {len(files)}", setting="date")
        if files[0].suffix.lower() in JSONL_SUFFIXES:
            raise UsageError("does not apply to JSONL: each event carries its own date", setting="date")
    return files


def file_format(path: Path) -> str:
    """``wikitext``, ``html`` or ``jsonl``, from the file's suffix."""
    suffix = path.suffix.lower()
    if suffix in WIKITEXT_SUFFIXES:
        return "wikitext"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    known = ", ".join(sorted(KNOWN_SUFFIXES))
    raise ParseError(str(path), f"unknown file type {suffix or '(none)'!r}; expected one of {known}")


def read_days(path: Path, *, date: dt.date | None = None) -> list[Day]:
    """Parse one file into the days it holds with events (one, or several for JSONL;
    none for an empty capture). ``date``, if given, is the page's day."""
    return read_file(path, date=date).days


def read_file(path: Path, *, date: dt.date | None = None) -> Reading:
    """Read one file: its days with events, or why it has none.

    The page's day is ``date`` if given, else the one its name carries, else its own.
    """
    name = str(path)
    if not path.exists():
        raise ParseError(name, "no such file or folder")
    kind = file_format(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(name, f"cannot read: {exc.strerror or exc}") from exc
    date = date or date_from_name(path.name)
    if not data.lstrip(b"\xef\xbb\xbf").strip():
        return Reading([], EMPTY_BODY, date)
    try:
        days = _parse(kind, data, name, date)
    except ParseError as error:
        if kind == "html" and _blank_body(data):
            return Reading([], EMPTY_BODY, date)
        if date is None and error.reason.startswith("no date"):
            # The parsers' own words speak to a caller of their date= argument.
            raise ParseError(
                name,
                "no date in its name or its content: name the file like 2022-03-07.html, or give its date",
                setting="date",
            ) from error
        raise
    if any(day.events for day in days):
        return Reading([day for day in days if day.events])
    if kind == "html" and _NULL_CELL.search(data):
        why = NULL_CAPTURE
    elif kind == "wikitext":
        why = wikitext_emptiness(data.decode("utf-8", "replace"))
    else:
        why = NO_EVENTS
    return Reading([], why, days[0].date if days else date)


def wikitext_emptiness(text: str) -> str:
    """Why a wikitext page that gave no event has none: ONLY_HEADER, or NO_EVENTS."""
    return NO_EVENTS if _BULLET.search(text) else ONLY_HEADER


def _parse(kind: str, data: bytes, name: str, date: dt.date | None) -> list[Day]:
    if kind == "html":
        return [parse_portal_html(data, name=name, date=date)]
    text = _decode_utf8(data, name)
    if kind == "wikitext":
        return [parse_wikitext(text, name=name, date=date)]
    return days_from_jsonl(text, name=name)


def _blank_body(data: bytes) -> bool:
    """Whether an HTML page shows no text at all (a capture of nothing)."""
    try:
        root = lxml.html.document_fromstring(data)
    except (lxml.etree.LxmlError, ValueError):
        return False
    body = root.find("body")
    return body is None or not body.text_content().strip()


def _decode_utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(
            name, f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}", line
        ) from exc


def days_from_jsonl(text: str, *, name: str = "<jsonl>") -> list[Day]:
    """Days from daybook's own JSONL export (``daybook events --format jsonl``)."""
    by_date: dict[dt.date, list[Event]] = {}
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ParseError(name, f"invalid JSON: {exc.msg}", number) from exc
        event = event_from_json(obj, name=name, line=number)
        if event.id in seen:
            raise ParseError(name, f"duplicate event id {event.id!r}", number)
        seen.add(event.id)
        by_date.setdefault(event.date, []).append(event)
    if not by_date:
        raise ParseError(name, "no events in JSONL file")
    return [Day(date=date, events=tuple(events)) for date, events in sorted(by_date.items())]


def event_from_json(obj: Any, *, name: str = "<json>", line: int | None = None) -> Event:
    """One event from its JSON form (``Event.to_json``), checked field by field."""

    def fail(reason: str) -> ParseError:
        return ParseError(name, reason, line)

    if not isinstance(obj, dict):
        raise fail("expected a JSON object per line")
    try:
        date = dt.date.fromisoformat(obj["date"])
    except (KeyError, TypeError, ValueError) as exc:
        raise fail("missing or invalid 'date' (want YYYY-MM-DD)") from exc
    text, category = obj.get("text"), obj.get("category", "")
    story, entities, sources = obj.get("story", []), obj.get("entities", []), obj.get("sources", [])
    if not isinstance(text, str) or (not text.strip() and not sources):
        raise fail("missing or empty 'text'")  # a bullet citing a source is an event, text or not
    if not isinstance(category, str):
        raise fail("'category' must be a string")
    for key, value in (("story", story), ("entities", entities)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f"{key!r} must be a list of strings")
    if not isinstance(sources, list) or not all(
        isinstance(s, dict) and isinstance(s.get("outlet"), str) and isinstance(s.get("url"), str)
        for s in sources
    ):
        raise fail("'sources' must be a list of {outlet, url} objects")
    ident = obj.get("id") or event_id(date, category, tuple(story), text)
    if not isinstance(ident, str):
        raise fail("'id' must be a string")
    parent = obj.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise fail("'parent' must be an event id or null")
    return Event(
        id=ident,
        date=date,
        category=category,
        story=tuple(story),
        text=text,
        entities=tuple(dict.fromkeys(entities)),
        sources=tuple(Source(outlet=s["outlet"], url=s["url"]) for s in sources),
        parent=parent,
    )


def iter_days(files: Iterable[Path]) -> Iterator[tuple[Path, list[Day] | ParseError]]:
    """Each file with its parsed days (those with events), or the error that stopped it."""
    for path in files:
        try:
            yield path, read_days(path)
        except ParseError as error:
            yield path, error


def ingest_paths(
    store: Store,
    paths: Iterable[str | Path],
    *,
    date: dt.date | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> IngestReport:
    """Ingest files and folders into ``store``; every day replaces what the store had.

    ``date`` is the day of the one page given (``plan``), for a page whose name and
    content carry none. A file that cannot be parsed is recorded in the report and
    skipped; so is one that holds no event, which leaves its day as the store had it
    (an empty capture must not wipe a day out).
    """
    files = plan(paths, date=date)
    report = IngestReport(files=len(files))
    for path in files:
        try:
            reading = read_file(path, date=date)
        except ParseError as error:
            report.failures.append(error)
        else:
            if reading.empty is not None:
                report.skipped.append(skipped(store, str(path), reading.empty, reading.date))
            for day in reading.days:
                report.unrendered.update(dict(day.unrendered))
                report.changes.append(
                    store.replace_day(day, origin=str(path), format=file_format(path), match=reconcile)
                )
        if on_file is not None:
            on_file(path)
    return report


def parse_pulled(page: PortalPage) -> Day:
    """A pulled page's events: from the wiki's rendering when the store has it, else
    (pages pulled before renderings were kept) from the wikitext."""
    if page.html is not None:
        return parse_portal_html(page.html, name=page.origin, date=page.date)
    return parse_wikitext(page.wikitext, name=page.origin, date=page.date)


def ingest_pulled(store: Store, *, on_page: Callable[[PortalPage], None] | None = None) -> IngestReport:
    """Ingest every pulled portal page whose revision the store does not hold yet: the
    same rule as for files (``Store.replace_day``'s), each page marked ingested with its
    events. A page that cannot be parsed is recorded in the report and skipped."""
    pages = store.portal_pages_to_ingest()
    report = IngestReport(files=len(pages))
    for page in pages:
        try:
            day = parse_pulled(page)
        except ParseError as error:  # one unreadable page must not hold back the others
            report.failures.append(error)
        else:
            report.unrendered.update(dict(day.unrendered))
            if day.events:
                report.changes.append(store.ingest_portal_page(page, day, match=reconcile))
            else:  # a page not filled in yet, or blanked: the day stays as stored
                why = wikitext_emptiness(page.wikitext)
                report.skipped.append(skipped(store, page.origin, why, page.date))
                store.portal_page_read(page)
        if on_page is not None:
            on_page(page)
    return report
