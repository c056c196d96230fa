"""Export: the store as a research dataset (``daybook export``, issue 21).

``export(store, out, options)`` writes into ``out``:

- ``events.jsonl.gz``: one event a line, as ``daybook events --format jsonl`` writes it
  (which ``daybook ingest`` reads back);
- ``sources.jsonl.gz``: every source those events cite, with what enrich found;
- ``entities.jsonl.gz``: every entity they hold, with its events and dates;
- with ``wcep``, ``wcep.jsonl.gz``: the events in the layout of the WCEP dataset
  (Gholipour Ghalandari et al., 2020), each with the text of its cited articles, taken by
  trafilatura from the pages enrich kept;
- where pyarrow is installed (the ``parquet`` extra), a Parquet copy of each table, with
  the schema ``PARQUET_SCHEMAS`` gives;
- ``DATASHEET.md``: what the dataset holds and how it was made, its counts per year and
  category, known gaps, licences, every field with its type, daybook's version and the
  store's fingerprint;
- ``SHA256SUMS``: every other file's SHA-256, as ``sha256sum -c`` reads it.

Reproducible: gzip with no name and mtime 0, rows in a fixed order, no clock anywhere; the
same store exports the same bytes (Parquet: with the same pyarrow). Files are written to
a temporary name and renamed; ``out`` must be new, empty or an earlier export (every file
in it one an export writes): daybook replaces nothing it did not write.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daybook import __version__, urls
from daybook.datasheet import (  # the tables, and every field of each: the datasheet documents them
    DATASHEET,
    ENTITIES,
    EVENTS,
    FIELDS,
    SOURCES,
    SUMS,
    TABLES,
    WCEP,
    datasheet,
)
from daybook.errors import WriteError
from daybook.model import Event
from daybook.store import Store

__all__ = ["DATASHEET", "ENTITIES", "EVENTS", "FIELDS", "SOURCES", "SUMS", "TABLES", "WCEP"]


@dataclass(frozen=True)
class ExportOptions:
    """Which events to export (days inclusive; one category), and whether in WCEP's layout too."""

    start: dt.date | None = None
    end: dt.date | None = None
    category: str | None = None
    wcep: bool = False
    parquet: bool = True  # where pyarrow is installed


@dataclass
class ExportReport:
    """What an export wrote: each file and its size, and the rows of each table."""

    files: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    parquet: bool = False

    def summary(self) -> str:
        counts = ", ".join(f"{n} {table}" for table, n in self.rows.items())
        size = sum(self.files.values())
        extra = " (with Parquet)" if self.parquet else " (no Parquet: pyarrow is not installed)"
        return f"{counts}: {len(self.files)} files, {size:,} bytes{extra}"


def parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


# -- the rows --------------------------------------------------------------------


def select_events(store: Store, options: ExportOptions) -> list[Event]:
    found = store.events(start=options.start, end=options.end)
    if options.category is not None:
        found = [e for e in found if e.category == options.category]
    return found


def event_rows(events: Sequence[Event]) -> Iterator[dict[str, Any]]:
    for event in events:
        yield event.to_json()


def source_rows(store: Store, events: Sequence[Event]) -> Iterator[dict[str, Any]]:
    names = [name for name, _, _, _ in FIELDS[SOURCES]]
    for row in store.dataset_sources([e.id for e in events]):
        record = dict(zip(names, row, strict=True))
        record["archived"] = bool(record["archived"])
        record["page_kept"] = bool(record["page_kept"])
        record["outlet"] = record["outlet"] or ""
        yield record


def entity_rows(events: Sequence[Event]) -> Iterator[dict[str, Any]]:
    counts: Counter[str] = Counter()
    first: dict[str, dt.date] = {}
    last: dict[str, dt.date] = {}
    for event in events:  # in date order
        for title in dict.fromkeys(event.entities):
            counts[title] += 1
            first.setdefault(title, event.date)
            last[title] = event.date
    for title in sorted(counts):
        yield {
            "title": title,
            "wikipedia_url": urls.wikipedia_url(title),
            "events": counts[title],
            "first_date": first[title].isoformat(),
            "last_date": last[title].isoformat(),
        }


def article_text(body: bytes, url: str, content_type: str | None) -> str | None:
    """An article's main text, by trafilatura (None: it found none)."""
    import trafilatura  # heavy: only for --wcep

    from daybook.enrich.extract import decode_html

    text = trafilatura.extract(
        decode_html(body, content_type), url=url, include_comments=False, include_tables=False
    )
    return text or None


def wcep_rows(store: Store, events: Sequence[Event]) -> Iterator[dict[str, Any]]:
    """The events in WCEP's layout, each cited article with its text where a page is kept."""
    from daybook.enrich import unpack

    sources = {row["id"]: row for row in source_rows(store, events)}
    by_citation = store.citation_sources([e.id for e in events])
    texts: dict[str, str | None] = {}
    for event in events:
        articles = []
        for position, cited in enumerate(event.sources):
            source_id = by_citation.get((event.id, position))
            meta = sources.get(source_id or "", {})
            if source_id is not None and source_id not in texts:
                kept = store.kept_page(source_id) if meta.get("page_kept") else None
                text = None
                if kept is not None:
                    body, final_url, headers, _ = kept
                    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
                    text = article_text(unpack(body), final_url, content_type)
                texts[source_id] = text
            articles.append(
                {
                    "title": meta.get("title"),
                    "text": texts.get(source_id or ""),
                    "url": cited.url,
                    "time": meta.get("published"),
                    "origin": "WCEP",
                }
            )
        yield {
            "id": event.id,
            "date": event.date.isoformat(),
            "summary": event.text,
            "category": event.category,
            "story": list(event.story),
            "wiki_links": [urls.wikipedia_url(t) for t in event.entities],
            "reference_urls": [s.url for s in event.sources],
            "articles": articles,
        }


# -- the files ---------------------------------------------------------------------


def jsonl_gz(rows: Iterable[dict[str, Any]]) -> tuple[bytes, int]:
    """Rows as gzip'd JSON lines, the same bytes for the same rows (no name, mtime 0)."""
    buffer = io.BytesIO()
    count = 0
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=6) as gz:
        for row in rows:
            gz.write((json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
            count += 1
    return buffer.getvalue(), count


def parquet_schema(table: str) -> Any:
    """The Parquet schema of a table, from ``FIELDS``."""
    import pyarrow as pa

    scalar = {"string": pa.string(), "date32": pa.date32(), "int64": pa.int64(), "bool": pa.bool_()}

    def arrow(kind: str) -> Any:
        if kind in scalar:
            return scalar[kind]
        if kind.startswith("list<struct<"):
            members = kind.removeprefix("list<struct<").removesuffix(">>").split(", ")
            return pa.list_(pa.struct([(m.split(": ")[0], arrow(m.split(": ")[1])) for m in members]))
        if kind.startswith("list<"):
            return pa.list_(arrow(kind.removeprefix("list<").removesuffix(">")))
        raise ValueError(f"no Arrow type for {kind!r}")

    return pa.schema([(name, arrow(kind)) for name, _, kind, _ in FIELDS[table]])


def parquet_bytes(table: str, rows: Sequence[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema(table)
    dates = [name for name, _, kind, _ in FIELDS[table] if kind == "date32"]
    columns = {name: [r[name] for r in rows] for name in schema.names}
    for name in dates:
        columns[name] = [dt.date.fromisoformat(v) if v is not None else None for v in columns[name]]
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns, schema=schema), buffer, compression="zstd")
    return buffer.getvalue()


def _owned(name: str) -> bool:
    """A file name an export writes (or its temporary file)."""
    base = name.removeprefix(".").removesuffix(".tmp")
    stem = base.split(".", 1)[0]
    return base in (DATASHEET, SUMS) or (stem in TABLES and base.split(".", 1)[1] in ("jsonl.gz", "parquet"))


def check_folder(out: Path) -> None:
    """``out`` must be new, empty, or an earlier export: refused otherwise, naming a file."""
    if out.exists() and not out.is_dir():
        raise WriteError(f"{out}: not a folder")
    if out.is_dir():
        for entry in sorted(out.iterdir()):
            if not (_owned(entry.name) and entry.is_file()):
                raise WriteError(
                    f"{entry}: in the way (an export did not write it); export into a new or empty folder"
                )


def _write(out: Path, name: str, data: bytes) -> None:
    tmp = out / f".{name}.tmp"
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, out / name)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteError(f"{out / name}: cannot write ({exc.strerror or exc})") from exc


def export(store: Store, out: Path, options: ExportOptions | None = None) -> ExportReport:
    """Write the dataset of the events ``options`` select into ``out`` (see the module's doc)."""
    options = options or ExportOptions()
    check_folder(out)
    events = select_events(store, options)
    tables: dict[str, list[dict[str, Any]]] = {
        EVENTS: list(event_rows(events)),
        SOURCES: list(source_rows(store, events)),
        ENTITIES: list(entity_rows(events)),
    }
    if options.wcep:
        tables[WCEP] = list(wcep_rows(store, events))
    report = ExportReport(parquet=options.parquet and parquet_available())
    files: dict[str, bytes] = {}
    for table, rows in tables.items():
        files[f"{table}.jsonl.gz"], report.rows[table] = jsonl_gz(rows)
        if report.parquet:
            files[f"{table}.parquet"] = parquet_bytes(table, rows)
    files[DATASHEET] = datasheet(
        events,
        tables,
        start=options.start,
        end=options.end,
        category=options.category,
        fingerprint=store.fingerprint(),
        version=__version__,
        parquet=report.parquet,
    ).encode("utf-8")
    files[SUMS] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    ).encode("utf-8")
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if name != SUMS:
            _write(out, name, data)
    _write(out, SUMS, files[SUMS])  # last: present only once every file it lists is
    for stale in out.iterdir():  # an earlier export's table this one has not (no --wcep now)
        if stale.name not in files and _owned(stale.name):
            stale.unlink()
    report.files = {name: len(data) for name, data in sorted(files.items())}
    return report
