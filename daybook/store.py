"""The SQLite event store: schema, migrations, transactions and queries.

The only module that talks SQL. One day is the unit of change: ingesting a day
replaces that day's events in one transaction and leaves every other day alone.
Sources and entities outlive the events that cite them, so metadata fetched for a
source (enrich) survives a day being ingested again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from daybook.errors import StoreError
from daybook.model import Day, Event, Source, normalize_url, url_key

DEFAULT_PATH = Path("daybook.db")

# Each entry upgrades the schema by one version (PRAGMA user_version). Never edit a
# released entry: append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE days (
        date TEXT PRIMARY KEY,            -- ISO date of the portal day
        origin TEXT NOT NULL,             -- file or page the day was read from
        format TEXT NOT NULL,             -- wikitext | html | jsonl
        content_sha TEXT NOT NULL,        -- hash of the events, to tell real changes
        ingested_at TEXT NOT NULL
    );
    CREATE TABLE events (
        id TEXT PRIMARY KEY,
        date TEXT NOT NULL REFERENCES days(date) ON DELETE CASCADE,
        position INTEGER NOT NULL,        -- order on the day's page
        category TEXT NOT NULL,
        story TEXT NOT NULL,              -- JSON list, outermost first
        text TEXT NOT NULL
    );
    CREATE INDEX events_by_date ON events(date, position);
    CREATE TABLE entities (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL UNIQUE        -- canonical Wikipedia article title
    );
    CREATE TABLE event_entities (
        event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        entity_id INTEGER NOT NULL REFERENCES entities(id),
        position INTEGER NOT NULL,
        PRIMARY KEY (event_id, entity_id)
    ) WITHOUT ROWID;
    CREATE INDEX event_entities_by_entity ON event_entities(entity_id, event_id);
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,              -- hash of the normalized URL (model.url_key)
        url TEXT NOT NULL,                -- the URL as first cited
        normalized_url TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE event_sources (
        event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        source_id TEXT NOT NULL REFERENCES sources(id),
        outlet TEXT NOT NULL,             -- the outlet as this citation names it
        url TEXT NOT NULL,                -- the URL exactly as this citation gives it
        PRIMARY KEY (event_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX event_sources_by_source ON event_sources(source_id);
    """,
)


@dataclass(frozen=True)
class DayChange:
    """What replacing one day did: ids added, removed, and kept (content unchanged)."""

    date: dt.date
    added: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


@dataclass(frozen=True)
class Stats:
    """What the store holds."""

    days: int
    events: int
    events_with_sources: int
    sources: int
    entities: int
    first_date: dt.date | None
    last_date: dt.date | None

    def to_json(self) -> dict[str, int | str | None]:
        return {
            "days": self.days,
            "events": self.events,
            "events_with_sources": self.events_with_sources,
            "sources": self.sources,
            "entities": self.entities,
            "first_date": self.first_date.isoformat() if self.first_date else None,
            "last_date": self.last_date.isoformat() if self.last_date else None,
        }


def resolve_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store path: the one given, else ``DAYBOOK_DB``, else ``./daybook.db``."""
    if path:
        return Path(path)
    return Path(os.environ.get("DAYBOOK_DB") or DEFAULT_PATH)


class Store:
    """An open daybook store. Use as a context manager, or call ``close()``."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = resolve_path(path)
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a daybook store")
        if not self.path.parent.exists():
            raise StoreError(f"{self.path}: folder {self.path.parent} does not exist")
        try:
            # Autocommit mode: transactions are explicit (``transaction()``), one per day.
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable daybook store ({exc})") from exc

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this daybook knows "
                f"({len(MIGRATIONS)}); upgrade daybook"
            )
        for number in range(version, len(MIGRATIONS)):
            # One script per version, schema change and version bump in one transaction.
            try:
                self.conn.executescript(
                    f"BEGIN IMMEDIATE;\n{MIGRATIONS[number]}\nPRAGMA user_version = {number + 1};\nCOMMIT;"
                )
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- writing -------------------------------------------------------------

    def replace_day(self, day: Day, *, origin: str, format: str) -> DayChange:
        """Store ``day``, replacing whatever the store held for that date."""
        date = day.date.isoformat()
        with self.transaction() as conn:
            old = {row[0] for row in conn.execute("SELECT id FROM events WHERE date = ?", (date,))}
            kept = [e.id for e in day.events if e.id in old]
            conn.execute("DELETE FROM events WHERE date = ?", (date,))
            conn.execute(
                "INSERT INTO days (date, origin, format, content_sha, ingested_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(date) DO UPDATE SET origin = excluded.origin, format = excluded.format,"
                " content_sha = excluded.content_sha, ingested_at = excluded.ingested_at",
                (date, origin, format, day_sha(day), dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
            )
            for position, event in enumerate(day.events):
                self._insert_event(conn, event, position)
        new = {e.id for e in day.events}
        return DayChange(
            date=day.date,
            added=tuple(e.id for e in day.events if e.id not in old),
            removed=tuple(sorted(old - new)),
            kept=tuple(kept),
        )

    def _insert_event(self, conn: sqlite3.Connection, event: Event, position: int) -> None:
        conn.execute(
            "INSERT INTO events (id, date, position, category, story, text) VALUES (?, ?, ?, ?, ?, ?)",
            (event.id, event.date.isoformat(), position, event.category,
             json.dumps(list(event.story), ensure_ascii=False), event.text),
        )  # fmt: skip
        for index, title in enumerate(event.entities):
            entity_id = conn.execute(
                "INSERT INTO entities (title) VALUES (?) ON CONFLICT(title) DO UPDATE SET title = title"
                " RETURNING id",
                (title,),
            ).fetchone()[0]
            conn.execute(
                "INSERT OR IGNORE INTO event_entities (event_id, entity_id, position) VALUES (?, ?, ?)",
                (event.id, entity_id, index),
            )
        for index, source in enumerate(event.sources):
            key = url_key(source.url)
            conn.execute(
                "INSERT OR IGNORE INTO sources (id, url, normalized_url) VALUES (?, ?, ?)",
                (key, source.url, normalize_url(source.url)),
            )
            conn.execute(
                "INSERT INTO event_sources (event_id, position, source_id, outlet, url)"
                " VALUES (?, ?, ?, ?, ?)",
                (event.id, index, key, source.outlet, source.url),
            )

    # -- reading -------------------------------------------------------------

    def dates(self) -> list[dt.date]:
        """Every stored day, oldest first."""
        return [dt.date.fromisoformat(r[0]) for r in self.conn.execute("SELECT date FROM days ORDER BY date")]

    def events(
        self,
        *,
        date: dt.date | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        ids: Iterable[str] | None = None,
    ) -> list[Event]:
        """Stored events in page order, for one day, a date range (inclusive), given ids, or all."""
        where, params = "1", []
        if date is not None:
            start = end = date
        if start is not None:
            where += " AND e.date >= ?"
            params.append(start.isoformat())
        if end is not None:
            where += " AND e.date <= ?"
            params.append(end.isoformat())
        if ids is not None:
            id_list = list(ids)
            where += f" AND e.id IN ({','.join('?' * len(id_list))})"
            params.extend(id_list)
        rows = self.conn.execute(
            f"SELECT e.id, e.date, e.category, e.story, e.text FROM events e WHERE {where}"
            " ORDER BY e.date, e.position",
            params,
        ).fetchall()
        entities: dict[str, list[str]] = {}
        for event_id, title in self.conn.execute(
            "SELECT ee.event_id, n.title FROM events e JOIN event_entities ee ON ee.event_id = e.id"
            f" JOIN entities n ON n.id = ee.entity_id WHERE {where} ORDER BY ee.event_id, ee.position",
            params,
        ):
            entities.setdefault(event_id, []).append(title)
        sources: dict[str, list[Source]] = {}
        for event_id, outlet, url in self.conn.execute(
            "SELECT es.event_id, es.outlet, es.url FROM events e JOIN event_sources es ON es.event_id = e.id"
            f" WHERE {where} ORDER BY es.event_id, es.position",
            params,
        ):
            sources.setdefault(event_id, []).append(Source(outlet=outlet, url=url))
        return [
            Event(
                id=event_id,
                date=dt.date.fromisoformat(date_text),
                category=category,
                story=tuple(json.loads(story)),
                text=text,
                entities=tuple(entities.get(event_id, ())),
                sources=tuple(sources.get(event_id, ())),
            )
            for event_id, date_text, category, story, text in rows
        ]

    def stats(self) -> Stats:
        """Counts of what the store holds (sources and entities: those events cite)."""

        def one(sql: str) -> int:
            return int(self.conn.execute(sql).fetchone()[0])

        first, last = self.conn.execute("SELECT min(date), max(date) FROM days").fetchone()
        return Stats(
            days=one("SELECT count(*) FROM days"),
            events=one("SELECT count(*) FROM events"),
            events_with_sources=one("SELECT count(DISTINCT event_id) FROM event_sources"),
            sources=one("SELECT count(DISTINCT source_id) FROM event_sources"),
            entities=one("SELECT count(DISTINCT entity_id) FROM event_entities"),
            first_date=dt.date.fromisoformat(first) if first else None,
            last_date=dt.date.fromisoformat(last) if last else None,
        )


def day_sha(day: Day) -> str:
    """A hash of a day's events, so a day ingested again unchanged can be told apart."""
    payload = json.dumps([e.to_json() for e in day.events], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
