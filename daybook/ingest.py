"""Ingest: portal day files (wikitext, rendered HTML, daybook JSONL) into the store.

Reading and parsing are per file; a file that fails is reported and skipped while
the rest are stored, each day in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daybook.errors import ParseError
from daybook.model import Day, Event, Source, event_id
from daybook.portal import date_from_name
from daybook.portal_html import parse_portal_html
from daybook.store import DayChange, PortalPage, Store
from daybook.wikitext import parse_wikitext

WIKITEXT_SUFFIXES = frozenset({".wiki", ".wikitext", ".txt"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSONL_SUFFIXES = frozenset({".jsonl"})
KNOWN_SUFFIXES = WIKITEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES


@dataclass
class IngestReport:
    """What one ingest run did."""

    files: int = 0
    changes: list[DayChange] = field(default_factory=list)
    failures: list[ParseError] = field(default_factory=list)

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


def read_days(path: Path) -> list[Day]:
    """Parse one file into the days it holds (one, or several for JSONL)."""
    name = str(path)
    if not path.exists():
        raise ParseError(name, "no such file or folder")
    kind = file_format(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(name, f"cannot read: {exc.strerror or exc}") from exc
    date = date_from_name(path.name)
    if kind == "html":
        return [parse_portal_html(data, name=name, date=date)]
    text = _decode_utf8(data, name)
    if kind == "wikitext":
        return [parse_wikitext(text, name=name, date=date)]
    return days_from_jsonl(text, name=name)


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
    if not isinstance(text, str) or not text.strip():
        raise fail("missing or empty 'text'")
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
    return Event(
        id=ident,
        date=date,
        category=category,
        story=tuple(story),
        text=text,
        entities=tuple(dict.fromkeys(entities)),
        sources=tuple(Source(outlet=s["outlet"], url=s["url"]) for s in sources),
    )


def iter_days(files: Iterable[Path]) -> Iterator[tuple[Path, list[Day] | ParseError]]:
    """Each file with its parsed days, or the error that stopped it."""
    for path in files:
        try:
            yield path, read_days(path)
        except ParseError as error:
            yield path, error


def ingest_paths(
    store: Store,
    paths: Iterable[str | Path],
    *,
    on_file: Callable[[Path], None] | None = None,
) -> IngestReport:
    """Ingest files and folders into ``store``; every day replaces what the store had.

    A file that cannot be parsed is recorded in the report and skipped.
    """
    files = discover(paths)
    report = IngestReport(files=len(files))
    for path, result in iter_days(files):
        if isinstance(result, ParseError):
            report.failures.append(result)
        else:
            for day in result:
                report.changes.append(store.replace_day(day, origin=str(path), format=file_format(path)))
        if on_file is not None:
            on_file(path)
    return report


def ingest_pulled(store: Store, *, on_page: Callable[[PortalPage], None] | None = None) -> IngestReport:
    """Ingest every pulled portal page whose revision the store does not hold yet: the
    same rule as for files (``Store.replace_day``'s), each page marked ingested with its
    events. A page that cannot be parsed is recorded in the report and skipped."""
    pages = store.portal_pages_to_ingest()
    report = IngestReport(files=len(pages))
    for page in pages:
        try:
            day = parse_wikitext(page.wikitext, name=page.origin, date=page.date)
        except ParseError as error:  # one unreadable page must not hold back the others
            report.failures.append(error)
        else:
            report.changes.append(store.ingest_portal_page(page, day))
        if on_page is not None:
            on_page(page)
    return report
