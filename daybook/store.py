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
import itertools
import json
import os
import re
import sqlite3
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from daybook.errors import StoreError, UsageError
from daybook.model import Article, Day, Event, Source, normalize_url, url_key
from daybook.reconcile import reconcile
from daybook.relate import Item, Related

DEFAULT_PATH = Path("daybook.db")


def _sources_to_search(row: str) -> str:
    """In a trigger on source_articles (``row``: new or old): the search index takes again
    the ledes and titles of every event citing the source."""
    return f"""
        UPDATE event_search SET
            ledes = (SELECT group_concat(a.lede, char(10)) FROM event_sources es
                     JOIN source_articles a ON a.source_id = es.source_id
                     WHERE es.event_id = (SELECT event_id FROM search_docs WHERE doc = event_search.rowid)
                     AND a.outcome = 'ok'),
            titles = (SELECT group_concat(a.title, char(10)) FROM event_sources es
                      JOIN source_articles a ON a.source_id = es.source_id
                      WHERE es.event_id = (SELECT event_id FROM search_docs WHERE doc = event_search.rowid)
                      AND a.outcome = 'ok')
        WHERE rowid IN (SELECT d.doc FROM event_sources es JOIN search_docs d ON d.event_id = es.event_id
                        WHERE es.source_id = {row}.source_id);"""


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
    # 2: enrich (issue 3). Each source's page as fetched, and what was made of it.
    """
    CREATE TABLE source_responses (
        source_id TEXT PRIMARY KEY REFERENCES sources(id),
        status INTEGER NOT NULL,          -- HTTP status of the answer kept
        final_url TEXT NOT NULL,          -- after redirects; the snapshot's address when archived
        headers TEXT NOT NULL,            -- JSON list of [name, value], as received
        body BLOB NOT NULL,               -- zlib-compressed, for re-extraction (enrich --offline)
        archived INTEGER NOT NULL,        -- 1: a Wayback Machine snapshot stands in for a dead link
        fetched_at TEXT NOT NULL
    );
    CREATE TABLE source_articles (
        source_id TEXT PRIMARY KEY REFERENCES sources(id),
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed')),
        status TEXT NOT NULL,             -- '200', '404'..., or an error word: 'timeout', 'robots'...
        reason TEXT,                      -- for a failure: what happened, in a few words
        dead_status TEXT,                 -- when archived: why the live page was not used ('404', 'dns')
        final_url TEXT,
        archived INTEGER NOT NULL DEFAULT 0,
        title TEXT,
        lede TEXT,
        image TEXT,
        publisher TEXT,
        published TEXT,                   -- ISO date
        enriched_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX source_articles_by_outcome ON source_articles(outcome);
    """,
    # 3: relate (issue 4). Each event's related events, and what the lists were computed from.
    """
    CREATE TABLE related (
        event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        rank INTEGER NOT NULL,            -- 1 = most related
        related_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        score REAL NOT NULL,              -- shared entities (ranker shared) or summed weight (weighted)
        context TEXT NOT NULL,            -- JSON list of the shared entity titles, alphabetical
        PRIMARY KEY (event_id, rank)
    ) WITHOUT ROWID;
    CREATE INDEX related_by_related ON related(related_id);
    CREATE TABLE relation (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        settings TEXT NOT NULL,           -- JSON: ranker, k and the weighted ranker's tuning
        computed_at TEXT NOT NULL
    );
    -- The events as the lists were computed from them. No foreign key: a row outlives its
    -- event until the next relate, which diffs this against the events to update the lists.
    CREATE TABLE relation_basis (
        event_id TEXT PRIMARY KEY,
        date TEXT NOT NULL,
        entities TEXT NOT NULL,           -- JSON list of entity titles, in the event's order
        listed INTEGER NOT NULL           -- length of its list then (fewer rows now: damaged)
    ) WITHOUT ROWID;
    """,
    # 4: explore (issue 7). Full-text search over each event's text, its entities and story
    # lines, and its sources' ledes and titles. Ingest fills it a day at a time
    # (``Store._index_day``); these triggers keep it current as events go and enrich
    # records what a source says.
    f"""
    CREATE TABLE search_docs (
        doc INTEGER PRIMARY KEY,          -- the event's rowid in event_search (an alias, so VACUUM keeps it)
        event_id TEXT NOT NULL UNIQUE
    );
    CREATE VIRTUAL TABLE event_search USING fts5(
        text, names, ledes, titles,       -- names: entities and story lines, one per line
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER events_leave_search AFTER DELETE ON events BEGIN
        DELETE FROM event_search WHERE rowid = (SELECT doc FROM search_docs WHERE event_id = old.id);
        DELETE FROM search_docs WHERE event_id = old.id;
    END;
    CREATE TRIGGER articles_enter_search AFTER INSERT ON source_articles BEGIN
        {_sources_to_search("new")}
    END;
    CREATE TRIGGER articles_change_search AFTER UPDATE ON source_articles BEGIN
        {_sources_to_search("new")}
    END;
    CREATE TRIGGER articles_leave_search AFTER DELETE ON source_articles BEGIN
        {_sources_to_search("old")}
    END;
    -- The events already stored, in site order.
    INSERT INTO search_docs (event_id) SELECT id FROM events ORDER BY date, position;
    INSERT INTO event_search (rowid, text, names, ledes, titles)
    SELECT d.doc, e.text,
        coalesce((SELECT group_concat(n.title, char(10)) FROM event_entities ee
                  JOIN entities n ON n.id = ee.entity_id WHERE ee.event_id = e.id), '')
        || char(10) || coalesce((SELECT group_concat(value, char(10)) FROM json_each(e.story)), ''),
        (SELECT group_concat(a.lede, char(10)) FROM event_sources es
         JOIN source_articles a ON a.source_id = es.source_id WHERE es.event_id = e.id AND a.outcome = 'ok'),
        (SELECT group_concat(a.title, char(10)) FROM event_sources es
         JOIN source_articles a ON a.source_id = es.source_id WHERE es.event_id = e.id AND a.outcome = 'ok')
    FROM events e JOIN search_docs d ON d.event_id = e.id;
    """,
    # 5: update (issue 6). The portal's day pages as pulled from the MediaWiki API, and
    # what changed since an update last published the site. Each change is recorded in
    # the transaction that makes it (replace_day, and the triggers below for related lists
    # and sources' metadata) and cleared only once the site is committed, so an update
    # killed at any point leaves the next one all it needs to finish the job.
    """
    CREATE TABLE portal_pages (
        date TEXT PRIMARY KEY,            -- the portal day
        title TEXT NOT NULL,              -- its wiki page: 'Portal:Current events/2024 May 7'
        revision INTEGER NOT NULL,        -- MediaWiki revision id of the text kept
        saved_at TEXT NOT NULL,           -- when that revision was saved on the wiki (ISO 8601, UTC)
        wikitext TEXT NOT NULL,
        pulled_at TEXT NOT NULL,
        ingested INTEGER                  -- the revision whose events the store holds (NULL: none)
    );
    -- One row from the first `daybook update` on: from then on changes are recorded below.
    CREATE TABLE publish_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        relate_due INTEGER NOT NULL DEFAULT 0,   -- a day changed since the related lists did
        publishing INTEGER NOT NULL DEFAULT 0    -- an update was writing the site and had not committed
    );
    CREATE TABLE publish_days (date TEXT PRIMARY KEY) WITHOUT ROWID;        -- day pages to render again
    CREATE TABLE publish_events (event_id TEXT PRIMARY KEY) WITHOUT ROWID;  -- event pages to render again
    CREATE TABLE publish_changes (                                          -- for the commit message
        event_id TEXT PRIMARY KEY,
        change TEXT NOT NULL CHECK (change IN ('added', 'edited', 'removed'))
    ) WITHOUT ROWID;
    -- Every list relate writes (new or changed) gets a basis row.
    CREATE TRIGGER lists_to_publish AFTER INSERT ON relation_basis
    WHEN EXISTS (SELECT 1 FROM publish_state) BEGIN
        INSERT OR IGNORE INTO publish_events (event_id) VALUES (new.event_id);
    END;
    -- A source's metadata shows on its events' pages and on their day pages.
    CREATE TRIGGER articles_to_publish AFTER INSERT ON source_articles
    WHEN new.outcome = 'ok' AND EXISTS (SELECT 1 FROM publish_state) BEGIN
        INSERT OR IGNORE INTO publish_days (date)
        SELECT DISTINCT e.date FROM event_sources es JOIN events e ON e.id = es.event_id
        WHERE es.source_id = new.source_id;
    END;
    """,
    # 6: relate incrementally (issue 4). The relation as relate last saved it, which the
    # next refresh resumes from instead of reading every event and list, and the days
    # whose events changed since: triggers note them, whatever changes events.
    """
    CREATE TABLE relation_snapshot (
        part INTEGER PRIMARY KEY,         -- 0: the relation packed; 1, 2...: each refresh's changes
        format INTEGER NOT NULL,          -- relation.SNAPSHOT_FORMAT
        data BLOB NOT NULL                -- marshal of Relation.state() (and the settings) or .delta()
    );
    -- A new change number at each change (AUTOINCREMENT never reuses one): a refresh
    -- clears the days it saw, not one changed again meanwhile.
    CREATE TABLE relate_days (
        change INTEGER PRIMARY KEY AUTOINCREMENT,
        date TEXT NOT NULL UNIQUE
    );
    CREATE TRIGGER events_to_relate AFTER INSERT ON events BEGIN
        DELETE FROM relate_days WHERE date = new.date;
        INSERT INTO relate_days (date) VALUES (new.date);
    END;
    CREATE TRIGGER events_from_relate AFTER DELETE ON events BEGIN
        DELETE FROM relate_days WHERE date = old.date;
        INSERT INTO relate_days (date) VALUES (old.date);
    END;
    CREATE TRIGGER events_moved_relate AFTER UPDATE OF id, date ON events BEGIN
        DELETE FROM relate_days WHERE date IN (old.date, new.date);
        INSERT INTO relate_days (date) VALUES (old.date);
        INSERT OR IGNORE INTO relate_days (date) VALUES (new.date);
    END;
    """,
    # 7: enrich (issue 6). Each origin's robots.txt as last read, so that updates every
    # few hours ask a host for it once a day (RFC 9309 allows a day's caching).
    """
    CREATE TABLE robots (
        origin TEXT PRIMARY KEY,          -- scheme://host[:port]
        status INTEGER NOT NULL,          -- HTTP status of the answer (a 4xx allows everything)
        body BLOB NOT NULL,
        fetched_at TEXT NOT NULL          -- ISO 8601, UTC
    ) WITHOUT ROWID;
    """,
    # 8: update (issue 6). Event pages are rendered again when their related list changes
    # as a page shows it (which events, the shared entities), not at every list rewritten
    # (a score that moved shows nowhere): save_relation records those, not a trigger.
    """
    DROP TRIGGER IF EXISTS lists_to_publish;
    """,
    # 9: fidelity. An event nested under a sourced event follows it up; and the portal's
    # own rendering of each pulled revision, which update ingests (the wikitext stays).
    """
    ALTER TABLE events ADD COLUMN parent TEXT;  -- the id of the event this one follows up
    ALTER TABLE portal_pages ADD COLUMN html TEXT;  -- action=parse of the same revision
    """,
)


@dataclass(frozen=True)
class DayChange:
    """What replacing one day did: ids added, removed, and kept; ``edited``: those kept
    whose content changed (an edit reconciled to its old id, a source added...)."""

    date: dt.date
    added: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    edited: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.edited)


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


@dataclass(frozen=True)
class ArticleMeta:
    """What enrich kept of one cited source, as pages show it."""

    url: str  # as the citation gives it
    title: str | None
    lede: str | None
    image: str | None
    publisher: str | None
    archived_url: str | None  # the snapshot standing in for a dead link


@dataclass(frozen=True)
class SourceJob:
    """A source to enrich: its key, URL as first cited, outlet, and first day cited."""

    id: str
    url: str
    outlet: str
    date: dt.date | None


@dataclass(frozen=True)
class RawResponse:
    """A fetched page as the store keeps it; ``body`` is zlib-compressed."""

    status: int
    final_url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: str
    archived: bool = False


@dataclass(frozen=True)
class SourceRecord:
    """One source with its enrich result (status None: not enriched yet)."""

    url: str
    outlet: str
    status: int | str | None
    reason: str | None
    final_url: str | None
    archived: bool
    dead_status: int | str | None
    article: Article
    enriched_at: str | None

    def to_json(self) -> dict[str, object]:
        """The record as ``daybook sources --format jsonl`` writes it."""
        return {
            "url": self.url,
            "outlet": self.outlet,
            "status": self.status,
            "reason": self.reason,
            "final_url": self.final_url,
            "archived": self.archived,
            "dead_status": self.dead_status,
            "title": self.article.title,
            "lede": self.article.lede,
            "image": self.article.image,
            "publisher": self.article.publisher,
            "published": self.article.published,
            "enriched_at": self.enriched_at,
        }


@dataclass(frozen=True)
class RelatedEvent:
    """One entry of an event's stored related list, as ``daybook related`` prints it."""

    rank: int
    id: str
    date: dt.date
    text: str
    score: float
    context: tuple[str, ...]  # the shared entities, alphabetical

    def to_json(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "id": self.id,
            "date": self.date.isoformat(),
            "text": self.text,
            "score": self.score,
            "context": list(self.context),
        }


@dataclass(frozen=True)
class SearchRow:
    """One search match: the event, a snippet (matched words between MARK_START and MARK_END)
    and its bm25 score (lower is better)."""

    id: str
    date: dt.date
    text: str
    snippet: str
    score: float


MARK_START, MARK_END = "\x02", "\x03"  # around matched words in snippets; never in stored text

# One event's row of the search index (schema 4): text, names (entities, then story lines),
# and its sources' ledes and titles.
_SEARCH_ROW = (
    "SELECT d.doc, e.text,"
    " coalesce((SELECT group_concat(n.title, char(10)) FROM event_entities ee"
    "  JOIN entities n ON n.id = ee.entity_id WHERE ee.event_id = e.id), '')"
    " || char(10) || coalesce((SELECT group_concat(value, char(10)) FROM json_each(e.story)), ''),"
    " (SELECT group_concat(a.lede, char(10)) FROM event_sources es"
    "  JOIN source_articles a ON a.source_id = es.source_id WHERE es.event_id = e.id AND a.outcome = 'ok'),"
    " (SELECT group_concat(a.title, char(10)) FROM event_sources es"
    "  JOIN source_articles a ON a.source_id = es.source_id WHERE es.event_id = e.id AND a.outcome = 'ok')"
    " FROM events e JOIN search_docs d ON d.event_id = e.id"
)
# Column weights for bm25: the event's own words count most, then what it is about.
_SEARCH_WEIGHTS = "10.0, 4.0, 1.5, 1.5"


def _status(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


@dataclass(frozen=True)
class PortalPage:
    """One portal day's wiki page at one revision, as pulled from the MediaWiki API."""

    date: dt.date
    title: str
    revision: int
    saved_at: str  # when the revision was saved on the wiki (ISO 8601, UTC)
    wikitext: str
    html: str | None = None  # the wiki's rendering of the same revision (None: not kept)

    @property
    def format(self) -> str:
        """What its events are read from: the rendering if kept, else the wikitext."""
        return "wikitext" if self.html is None else "html"

    @property
    def origin(self) -> str:
        """The page and revision, as the store records where a day came from."""
        return f"{self.title} (revision {self.revision})"


@dataclass(frozen=True)
class PendingPublish:
    """What changed since an update last published the site (``Store.pending_publish``)."""

    dates: tuple[dt.date, ...]  # days whose pages to render again
    event_ids: tuple[str, ...]  # event pages to render again (their related lists changed)
    changes: tuple[tuple[str, str], ...]  # (event id, 'added' | 'edited' | 'removed')
    interrupted: bool  # an update was writing the site when it stopped

    @property
    def empty(self) -> bool:
        return not (self.dates or self.event_ids or self.changes or self.interrupted)

    def count(self, change: str) -> int:
        return sum(1 for _, c in self.changes if c == change)


# How a pending change of an event combines with a new one (None: nothing left to tell).
_MERGED: dict[tuple[str, str], str | None] = {
    ("added", "edited"): "added",
    ("added", "removed"): None,
    ("removed", "added"): "edited",
    ("edited", "removed"): "removed",
}


def resolve_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store path: the one given, else ``DAYBOOK_DB``, else ``./daybook.db``.

    A URL (``postgresql://...``) is refused: daybook stores are SQLite files.
    """
    given = os.fspath(path) if path else os.environ.get("DAYBOOK_DB") or os.fspath(DEFAULT_PATH)
    scheme = url_scheme(given)
    if scheme is not None:
        raise StoreError(f"unsupported store URL scheme {scheme!r}; daybook stores are SQLite files")
    return Path(given)


_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def url_scheme(value: str) -> str | None:
    """The scheme of a store given as a URL (``postgresql`` of ``postgresql://host/db``), else None."""
    match = _URL.match(value)
    return match[1] if match else None


# SQLite's primary result codes that mean the file or its disk, not daybook's SQL, is the trouble.
_UNUSABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PERM,
    }
)


def store_error(name: str, exc: sqlite3.Error) -> StoreError | None:
    """The one-line ``StoreError`` naming the file for what SQLite said about it; None for an
    error of daybook's own SQL (a constraint, a misuse), which should show as the bug it is."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == sqlite3.SQLITE_NOTADB or (primary is None and "not a database" in str(exc)):
        return StoreError(f"{name}: not a daybook store ({exc})")
    if primary == sqlite3.SQLITE_CORRUPT or (primary is None and "malformed" in str(exc)):
        return StoreError(f"{name}: the store is damaged ({exc}); restore it from a copy")
    if primary in _UNUSABLE:
        return StoreError(f"{name}: cannot use the store ({exc})")
    return None


class Store:
    """An open daybook store. Use as a context manager, or call ``close()``.

    ``create=False`` opens only an existing store, creating no file at all (the commands
    that read); ``create=True`` makes the store when there is none (those that add data).
    An SQLite error about the file itself, at open or later in a ``with`` block, becomes
    a ``StoreError`` naming the file.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        self.path = resolve_path(path)
        self.name = os.fspath(path) if path else os.fspath(self.path)  # as given, for messages
        if self.path.is_dir():
            raise StoreError(f"{self.name}: is a folder, not a daybook store")
        if create and not self.path.parent.exists():
            raise StoreError(f"{self.name}: folder {self.path.parent} does not exist")
        # mode=rw never creates the file (nor -wal, -shm): a mistyped path stays a mistake.
        uri = f"file:{urllib.parse.quote(os.fspath(self.path.absolute()))}?mode={'rwc' if create else 'rw'}"
        try:
            # Autocommit mode: transactions are explicit (``transaction()``), one per day.
            self.conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            if not create and not self.path.exists():
                raise self._missing() from None
            raise store_error(self.name, exc) or StoreError(f"{self.name}: cannot open ({exc})") from exc
        try:
            self._check_kind(create)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except BaseException as exc:
            self.conn.close()
            if isinstance(exc, sqlite3.Error) and (error := store_error(self.name, exc)) is not None:
                raise error from exc
            raise

    def _missing(self) -> StoreError:
        return StoreError(f"no daybook store at {self.name}; create one with daybook ingest")

    def _check_kind(self, create: bool) -> None:
        """Refuse, before anything is written, a database that is not daybook's (nor empty)."""
        if self.schema_version > 0:
            return
        if self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise StoreError(f"{self.name}: not a daybook store (an SQLite database of something else)")
        if not create:  # an empty file: no store yet
            raise self._missing()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self.close()
        # The one place an SQLite error met while using the store becomes a StoreError.
        if isinstance(exc, sqlite3.Error) and (error := store_error(self.name, exc)) is not None:
            raise error from exc

    def close(self) -> None:
        self.conn.close()

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.name}: schema version {version} is newer than this daybook knows "
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
        """Store ``day``, replacing whatever the store held for that date.

        An edited event keeps the id it had (``reconcile``), and so its page. A day
        whose events are those stored already is left as it is.
        """
        with self.transaction() as conn:
            return self._replace_day(conn, day, origin=origin, format=format)

    def _replace_day(self, conn: sqlite3.Connection, day: Day, *, origin: str, format: str) -> DayChange:
        """The one rule for files and pulled pages alike: a day whose events are those
        stored changes nothing (no event rewritten, so nothing queued for relate or
        publish)."""
        date = day.date.isoformat()
        digest = day_sha(day)
        row = conn.execute("SELECT content_sha FROM days WHERE date = ?", (date,)).fetchone()
        if row is not None and row[0] == digest:  # parsed as last time: not even reconciled
            kept = conn.execute("SELECT id FROM events WHERE date = ? ORDER BY position", (date,))
            return DayChange(day.date, added=(), removed=(), kept=tuple(r[0] for r in kept))
        before = {e.id: e for e in self.events(date=day.date)}
        events = reconcile(list(before.values()), day.events)
        if row is not None and list(events) == list(before.values()):
            # Parsed otherwise (another format, ids given) but the same events once reconciled.
            conn.execute(
                "UPDATE days SET origin = ?, format = ?, content_sha = ? WHERE date = ?",
                (origin, format, digest, date),
            )
            return DayChange(day.date, added=(), removed=(), kept=tuple(before))
        conn.execute("DELETE FROM events WHERE date = ?", (date,))
        conn.execute(
            "INSERT INTO days (date, origin, format, content_sha, ingested_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(date) DO UPDATE SET origin = excluded.origin, format = excluded.format,"
            " content_sha = excluded.content_sha, ingested_at = excluded.ingested_at",
            (date, origin, format, digest, _now()),
        )
        for position, event in enumerate(events):
            self._insert_event(conn, event, position)
        self._index_day(conn, date)
        after = {e.id for e in events}
        change = DayChange(
            date=day.date,
            added=tuple(e.id for e in events if e.id not in before),
            removed=tuple(sorted(before.keys() - after)),
            kept=tuple(e.id for e in events if e.id in before),
            edited=tuple(e.id for e in events if e.id in before and before[e.id] != e),
        )
        self._record_change(conn, change)
        return change

    def _insert_event(self, conn: sqlite3.Connection, event: Event, position: int) -> None:
        conn.execute(
            "INSERT INTO events (id, date, position, category, story, text, parent)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event.id, event.date.isoformat(), position, event.category,
             json.dumps(list(event.story), ensure_ascii=False), event.text, event.parent),
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
            f"SELECT e.id, e.date, e.category, e.story, e.text, e.parent FROM events e WHERE {where}"
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
                parent=parent,
            )
            for event_id, date_text, category, story, text, parent in rows
        ]

    def follow_ups(self, event_ids: Iterable[str]) -> dict[str, list[str]]:
        """The follow-ups (events naming it as ``parent``) of each of these events, in page order."""
        found: dict[str, list[str]] = {}
        rows = self.conn.execute(
            "SELECT parent, id FROM events WHERE parent IN (SELECT value FROM json_each(?))"
            " ORDER BY date, position",
            (json.dumps(list(event_ids)),),
        )
        for parent, ident in rows:
            found.setdefault(parent, []).append(ident)
        return found

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

    # -- publish: what pages need (issue 5) -----------------------------------

    def event_headlines(self, date: dt.date | None = None) -> Iterator[tuple[str, dt.date, str]]:
        """Every event's (or one day's) id, date and text, in site order (by day, then page order)."""
        if date is None:
            rows = self.conn.execute("SELECT id, date, text FROM events ORDER BY date, position")
        else:
            rows = self.conn.execute(
                "SELECT id, date, text FROM events WHERE date = ? ORDER BY position", (date.isoformat(),)
            )
        for ident, day, text in rows:
            yield ident, dt.date.fromisoformat(day), text

    def headlines_of_days(self, dates: Iterable[dt.date]) -> Iterator[tuple[str, dt.date, str]]:
        """As ``event_headlines``, for several days in one query."""
        keys = json.dumps(sorted({d.isoformat() for d in dates}))
        rows = self.conn.execute(
            "SELECT id, date, text FROM events WHERE date IN (SELECT value FROM json_each(?))"
            " ORDER BY date, position",
            (keys,),
        )
        for ident, day, text in rows:
            yield ident, dt.date.fromisoformat(day), text

    def event_texts(self, event_ids: Sequence[str]) -> Iterator[tuple[str, dt.date, str]]:
        """The id, date and text of each of these events that the store holds."""
        rows = self.conn.execute(
            "SELECT e.id, e.date, e.text FROM json_each(?) j JOIN events e ON e.id = j.value",
            (json.dumps(list(event_ids)),),
        )
        for ident, day, text in rows:
            yield ident, dt.date.fromisoformat(day), text

    def event_dates(self, event_ids: Iterable[str]) -> dict[str, dt.date]:
        """The day of each of these events that the store holds."""
        ids = list(event_ids)
        found: dict[str, dt.date] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            rows = self.conn.execute(
                f"SELECT id, date FROM events WHERE id IN ({','.join('?' * len(part))})", part
            )
            found.update((ident, dt.date.fromisoformat(day)) for ident, day in rows)
        return found

    def referrers(self, event_ids: Iterable[str]) -> set[str]:
        """The events whose stored related lists include any of these events."""
        ids = list(event_ids)
        found: set[str] = set()
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            rows = self.conn.execute(
                f"SELECT DISTINCT event_id FROM related WHERE related_id IN ({','.join('?' * len(part))})",
                part,
            )
            found.update(row[0] for row in rows)
        return found

    def day_counts(self) -> dict[dt.date, int]:
        """Every stored day with its number of events (zero for an empty day), oldest first."""
        rows = self.conn.execute(
            "SELECT d.date, count(e.id) FROM days d LEFT JOIN events e ON e.date = d.date"
            " GROUP BY d.date ORDER BY d.date"
        )
        return {dt.date.fromisoformat(day): count for day, count in rows}

    def article_metadata(self, event_ids: Iterable[str]) -> dict[str, list[ArticleMeta]]:
        """For each event, the enriched metadata of its sources, in citation order."""
        ids = list(event_ids)
        found: dict[str, list[ArticleMeta]] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            rows = self.conn.execute(
                "SELECT es.event_id, es.url, a.title, a.lede, a.image, a.publisher, a.archived, a.final_url"
                " FROM event_sources es JOIN source_articles a ON a.source_id = es.source_id"
                # "+": the planner would otherwise walk every 'ok' article by the outcome index.
                f" WHERE +a.outcome = 'ok' AND es.event_id IN ({','.join('?' * len(part))})"
                " ORDER BY es.event_id, es.position",
                part,
            )
            for event_id, url, title, lede, image, publisher, archived, final_url in rows:
                found.setdefault(event_id, []).append(
                    ArticleMeta(url, title, lede, image, publisher, final_url if archived else None)
                )
        return found

    # -- enrich: fetched pages and their metadata (issue 3) -------------------

    # The outlet of a source's first citation, and the day it was first cited (for s.id).
    _OUTLET = (
        "(SELECT es.outlet FROM event_sources es JOIN events e ON e.id = es.event_id"
        " WHERE es.source_id = s.id ORDER BY e.date, e.position, es.position LIMIT 1)"
    )
    _FIRST_DATE = (
        "(SELECT min(e.date) FROM event_sources es JOIN events e ON e.id = es.event_id"
        " WHERE es.source_id = s.id)"
    )

    def sources_to_enrich(self, *, refresh: bool = False, retry_failed: bool = False) -> list[SourceJob]:
        """Cited sources with no result yet; also failed ones if ``retry_failed``; all if ``refresh``."""
        rows = self.conn.execute(
            f"SELECT s.id, s.url, {self._OUTLET}, {self._FIRST_DATE}"
            " FROM sources s LEFT JOIN source_articles a ON a.source_id = s.id"
            " WHERE EXISTS (SELECT 1 FROM event_sources es WHERE es.source_id = s.id)"
            " AND (a.source_id IS NULL OR ? OR (? AND a.outcome = 'failed'))"
            " ORDER BY s.id",
            (refresh, retry_failed),
        )
        return [
            SourceJob(id=key, url=url, outlet=outlet or "", date=dt.date.fromisoformat(day) if day else None)
            for key, url, outlet, day in rows
        ]

    def save_page(self, source_id: str, response: RawResponse, article: Article, *, dead: str | None) -> None:
        """Keep a fetched page and its metadata (replacing earlier ones); ``dead``: see archived."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO source_responses"
                " (source_id, status, final_url, headers, body, archived, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (source_id, response.status, response.final_url, json.dumps(response.headers),
                 response.body, response.archived, response.fetched_at),
            )  # fmt: skip
            self._save_article(conn, source_id, response, article, dead=dead)

    def robots(self, origin: str, newer_than: dt.datetime) -> tuple[int, bytes] | None:
        """An origin's robots.txt as kept (status, body), if read since ``newer_than``."""
        row = self.conn.execute(
            "SELECT status, body FROM robots WHERE origin = ? AND fetched_at > ?",
            (origin, newer_than.astimezone(dt.UTC).isoformat(timespec="seconds")),
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def save_robots(self, origin: str, status: int, body: bytes) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO robots (origin, status, body, fetched_at) VALUES (?, ?, ?, ?)",
                (origin, status, body, _now()),
            )

    def save_failure(self, source_id: str, status: int | str, reason: str) -> None:
        """Record that a source could not be fetched, unless an earlier attempt succeeded."""
        with self.transaction() as conn:
            # A refresh that fails keeps the page fetched before: the web forgets, daybook need not.
            conn.execute(
                "INSERT INTO source_articles (source_id, outcome, status, reason, enriched_at)"
                " VALUES (?, 'failed', ?, ?, ?) ON CONFLICT(source_id) DO UPDATE SET"
                " status = excluded.status, reason = excluded.reason, enriched_at = excluded.enriched_at"
                " WHERE source_articles.outcome = 'failed'",
                (source_id, str(status), reason, _now()),
            )

    def response_count(self) -> int:
        """How many fetched pages the store keeps."""
        return int(self.conn.execute("SELECT count(*) FROM source_responses").fetchone()[0])

    def stored_responses(self) -> Iterator[tuple[SourceJob, RawResponse, str | None]]:
        """Every kept page with its source and why it was archived, for re-extraction."""
        query = "SELECT source_id FROM source_responses ORDER BY source_id"
        ids = [row[0] for row in self.conn.execute(query)]
        for key in ids:  # one at a time: bodies are large, and the caller writes between reads
            row = self.conn.execute(
                f"SELECT s.url, {self._OUTLET}, r.status, r.final_url,"
                " r.headers, r.body, r.archived, r.fetched_at, a.dead_status"
                " FROM source_responses r JOIN sources s ON s.id = r.source_id"
                " LEFT JOIN source_articles a ON a.source_id = r.source_id WHERE r.source_id = ?",
                (key,),
            ).fetchone()
            if row is None:
                continue
            url, outlet, status, final_url, headers, body, archived, fetched_at, dead = row
            job = SourceJob(id=key, url=url, outlet=outlet or "", date=None)
            pairs = tuple((str(k), str(v)) for k, v in json.loads(headers))
            yield job, RawResponse(status, final_url, pairs, body, fetched_at, bool(archived)), dead

    def _save_article(
        self,
        conn: sqlite3.Connection,
        source_id: str,
        response: RawResponse,
        article: Article,
        *,
        dead: str | None,
    ) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO source_articles (source_id, outcome, status, reason, dead_status,"
            " final_url, archived, title, lede, image, publisher, published, enriched_at)"
            " VALUES (?, 'ok', ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (source_id, str(response.status), dead, response.final_url, response.archived,
             article.title, article.lede, article.image, article.publisher, article.published, _now()),
        )  # fmt: skip

    def save_article(
        self, source_id: str, response: RawResponse, article: Article, *, dead: str | None
    ) -> None:
        """Replace a source's metadata only (``enrich --offline``: the page kept is unchanged)."""
        with self.transaction() as conn:
            self._save_article(conn, source_id, response, article, dead=dead)

    def source_records(self) -> list[SourceRecord]:
        """Every cited source with its enrich result, by URL."""
        rows = self.conn.execute(
            f"SELECT s.url, {self._OUTLET}, a.status, a.reason, a.final_url,"
            " a.archived, a.dead_status, a.title, a.lede, a.image, a.publisher, a.published, a.enriched_at"
            " FROM sources s LEFT JOIN source_articles a ON a.source_id = s.id"
            " WHERE EXISTS (SELECT 1 FROM event_sources es WHERE es.source_id = s.id) ORDER BY s.url"
        )
        return [
            SourceRecord(
                url=url,
                outlet=outlet or "",
                status=_status(status),
                reason=reason,
                final_url=final_url,
                archived=bool(archived),
                dead_status=_status(dead),
                article=Article(
                    title=title, lede=lede, image=image, publisher=publisher, published=published
                ),
                enriched_at=enriched_at,
            )
            for url, outlet, status, reason, final_url, archived, dead, title, lede, image, publisher,
            published, enriched_at in rows
        ]  # fmt: skip

    # -- relate: each event's related events (issue 4) -------------------------

    def relate_items(self, dates: Iterable[dt.date] | None = None) -> list[Item]:
        """Every stored event (or those of ``dates``) as relate sees it: id, date, entity titles in order."""
        where, params = "", list[str]()
        if dates is not None:  # one parameter, however many dates
            where = " WHERE e.date IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted({d.isoformat() for d in dates})))
        rows = self.conn.execute(
            "SELECT e.id, e.date, n.title FROM events e LEFT JOIN event_entities ee ON ee.event_id = e.id"
            f" LEFT JOIN entities n ON n.id = ee.entity_id{where} ORDER BY e.id, ee.position",
            params,
        )
        titles: dict[str, str] = {}  # one string per title, however many events hold it
        return [
            Item(
                ident,
                dt.date.fromisoformat(date),
                tuple(titles.setdefault(row[2], row[2]) for row in group if row[2] is not None),
            )
            for (ident, date), group in itertools.groupby(rows, key=lambda row: (row[0], row[1]))
        ]

    def relation_settings(self) -> dict[str, object] | None:
        """The settings the stored lists were computed with (None: never computed)."""
        row = self.conn.execute("SELECT settings FROM relation WHERE id = 1").fetchone()
        return dict(json.loads(row[0])) if row else None

    @contextlib.contextmanager
    def relate_reading(self) -> Iterator[None]:
        """One read transaction: what relate reads inside is of one moment, whatever
        another connection writes meanwhile."""
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def relation_snapshot(self) -> list[tuple[int, bytes]]:
        """The relation as relate last saved it, as (format, data) parts: the relation packed,
        then the changes each refresh since added. [] if there is none: never saved with
        the lists (as before schema 6), lists saved without one since, or parts missing."""
        rows = self.conn.execute("SELECT part, format, data FROM relation_snapshot ORDER BY part").fetchall()
        if [row[0] for row in rows] != list(range(len(rows))):
            return []
        return [(int(row[1]), bytes(row[2])) for row in rows]

    def relate_days(self) -> tuple[int, list[dt.date]]:
        """The days whose events changed since the snapshot, and the last change number
        (``save_relation(seen=)`` forgets the changes up to it)."""
        rows = self.conn.execute("SELECT change, date FROM relate_days ORDER BY date").fetchall()
        return max((row[0] for row in rows), default=0), [dt.date.fromisoformat(row[1]) for row in rows]

    def relate_event_count(self) -> int:
        """How many events the store holds."""
        return int(self.conn.execute("SELECT count(*) FROM events").fetchone()[0])

    def relation_basis(self) -> list[Item]:
        """The events the stored lists were computed from, as they were then."""
        titles: dict[str, str] = {}
        rows = self.conn.execute("SELECT event_id, date, entities FROM relation_basis")
        return [
            Item(ident, dt.date.fromisoformat(date), tuple(titles.setdefault(t, t) for t in json.loads(ents)))
            for ident, date, ents in rows
        ]

    def stored_related(self) -> Iterator[tuple[str, str, float]]:
        """Every stored list, as (event id, related id, score) rows: each list together, best first."""
        yield from self.conn.execute(
            "SELECT event_id, related_id, score FROM related ORDER BY event_id, rank"
        )

    def damaged_lists(self) -> list[str]:
        """Events whose stored list lost rows since it was computed (a day ingested again)."""
        rows = self.conn.execute(
            "SELECT b.event_id FROM relation_basis b LEFT JOIN"
            " (SELECT event_id, count(*) AS n FROM related GROUP BY event_id) r ON r.event_id = b.event_id"
            " WHERE coalesce(r.n, 0) != b.listed"
        )
        return [row[0] for row in rows]

    def save_relation(
        self,
        settings: Mapping[str, object],
        lists: Iterable[tuple[Item, Sequence[Related]]],
        *,
        dropped: Iterable[str] = (),
        replace: bool = False,
        snapshot: tuple[int, bytes] | None = None,
        snapshot_part: int = 0,
        seen: int | None = None,
    ) -> None:
        """Store ``lists`` (each replacing the event's list) and the events they were computed from.

        ``dropped``: events gone since (their lists went with them); ``replace``: these
        lists are all there is. ``snapshot``: (format, data) of the relation they make,
        as part ``snapshot_part``: 0 replaces every part, another follows the parts read
        (StoreError if another refresh saved meanwhile); without one, the parts kept are
        dropped (they no longer match). ``seen``: the last change of ``relate_days`` the
        lists account for. One transaction: readers see the old lists or the new, and
        the snapshot always matches the lists.

        A list's rows are written only where they differ from the stored ones (most of
        a list re-ranked keeps its entries, maybe with other scores): rows are the same
        as if all were written again, for a fraction of the index updates.
        """
        encoded: dict[str, str] = {}  # each title's JSON, made once
        contexts: dict[tuple[str, ...], str] = {}  # and each Context's: most recur

        def as_json(titles: tuple[str, ...]) -> str:
            for title in titles:
                if title not in encoded:
                    encoded[title] = json.dumps(title, ensure_ascii=False)
            return "[" + ", ".join(encoded[t] for t in titles) + "]"

        def context_json(titles: tuple[str, ...]) -> str:
            if (text := contexts.get(titles)) is None:
                text = contexts[titles] = as_json(titles)
            return text

        basis: list[tuple[str, str, str, int]] = []
        Row = tuple[str, int, str, float, str]

        def rows(written: Iterable[tuple[Item, Sequence[Related]]]) -> Iterator[Row]:
            for item, entries in written:
                basis.append((item.id, item.date.isoformat(), as_json(item.entities), len(entries)))
                for rank, entry in enumerate(entries, start=1):
                    yield item.id, rank, entry.id, entry.score, context_json(entry.context)

        if replace:
            # Rewriting every list, foreign keys are off (it takes a connection outside a
            # transaction): the bulk delete and insert are then 2x faster. Rows naming an
            # event another writer deleted meanwhile are swept before the commit instead.
            self.conn.execute("PRAGMA foreign_keys=OFF")
        try:
            with self.transaction() as conn:
                shown: set[str] | None = None  # lists changed as pages show them (None: all)
                if replace:
                    conn.execute("DELETE FROM related")
                    conn.execute("DELETE FROM relation_basis")
                    new_rows: Iterable[Row] = rows(lists)
                else:
                    lists = list(lists)
                    new_rows, shown = self._changed_rows(
                        conn, [item.id for item, _ in lists], list(rows(lists))
                    )
                conn.executemany("DELETE FROM relation_basis WHERE event_id = ?", ((i,) for i in dropped))
                conn.executemany(
                    "INSERT INTO related (event_id, rank, related_id, score, context) VALUES (?, ?, ?, ?, ?)",
                    new_rows,
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO relation_basis (event_id, date, entities, listed)"
                    " VALUES (?, ?, ?, ?)",
                    basis,
                )
                conn.execute(
                    "INSERT OR IGNORE INTO publish_events (event_id) SELECT value FROM json_each(?)"
                    " WHERE EXISTS (SELECT 1 FROM publish_state)",
                    (json.dumps(sorted(shown) if shown is not None else [row[0] for row in basis]),),
                )
                if replace:
                    conn.execute(
                        "DELETE FROM related WHERE event_id NOT IN (SELECT id FROM events)"
                        " OR related_id NOT IN (SELECT id FROM events)"
                    )
                conn.execute(
                    "INSERT OR REPLACE INTO relation (id, settings, computed_at) VALUES (1, ?, ?)",
                    (json.dumps(dict(settings), sort_keys=True), _now()),
                )
                parts = conn.execute("SELECT count(*) FROM relation_snapshot").fetchone()[0]
                if snapshot is None or snapshot_part == 0:
                    conn.execute("DELETE FROM relation_snapshot")
                elif snapshot_part != parts:
                    raise StoreError(f"{self.path}: the related lists were saved meanwhile; relate again")
                if snapshot is not None:
                    conn.execute(
                        "INSERT INTO relation_snapshot (part, format, data) VALUES (?, ?, ?)",
                        (snapshot_part, *snapshot),
                    )
                if seen is not None:
                    conn.execute("DELETE FROM relate_days WHERE change <= ?", (seen,))
        finally:
            if replace:
                self.conn.execute("PRAGMA foreign_keys=ON")

    def _changed_rows(
        self, conn: sqlite3.Connection, ids: list[str], rows: list[tuple[str, int, str, float, str]]
    ) -> tuple[list[tuple[str, int, str, float, str]], set[str]]:
        """Make the stored lists of events ``ids`` hold exactly ``rows``, but for the rows to
        insert, which are returned: a row of the same rank is updated where it differs
        (its related event's index entry only if that changed), extra ones deleted. Also
        returned: the events whose list changed other than in its scores."""
        stored: dict[tuple[str, int], tuple[str, float, str]] = {
            (event_id, rank): (related_id, score, context)
            for event_id, rank, related_id, score, context in conn.execute(
                "SELECT event_id, rank, related_id, score, context FROM related"
                " WHERE event_id IN (SELECT value FROM json_each(?))",
                (json.dumps(ids),),
            )
        }
        length: dict[str, int] = dict.fromkeys(ids, 0)
        inserts, rescored, replaced = [], [], []
        # A list that lost rows with an event deleted (a day ingested again) shows that
        # event no more, whatever it holds now: as long as it was (basis) > what is left.
        left = Counter(event_id for event_id, _ in stored)
        shown: set[str] = {
            event_id
            for event_id, listed in conn.execute(
                "SELECT event_id, listed FROM relation_basis"
                " WHERE event_id IN (SELECT value FROM json_each(?))",
                (json.dumps(ids),),
            )
            if listed != left[event_id]
        }
        for event_id, rank, related_id, score, context in rows:
            length[event_id] = rank
            old = stored.pop((event_id, rank), None)
            if old is None:
                inserts.append((event_id, rank, related_id, score, context))
                shown.add(event_id)
            elif old[0] != related_id:
                replaced.append((related_id, score, context, event_id, rank))
                shown.add(event_id)
            elif old[1:] != (score, context):
                rescored.append((score, context, event_id, rank))
                if old[2] != context:
                    shown.add(event_id)
        # The stored rows left are of ranks the lists no longer reach.
        extra = {event_id for event_id, _ in stored}
        shown |= extra
        conn.executemany(
            "DELETE FROM related WHERE event_id = ? AND rank > ?", ((i, length[i]) for i in sorted(extra))
        )
        conn.executemany(
            "UPDATE related SET score = ?, context = ? WHERE event_id = ? AND rank = ?", rescored
        )
        conn.executemany(
            "UPDATE related SET related_id = ?, score = ?, context = ? WHERE event_id = ? AND rank = ?",
            replaced,
        )
        return inserts, shown

    def related(self, event_id: str) -> list[RelatedEvent]:
        """An event's stored related events, best first."""
        if self.conn.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone() is None:
            raise UsageError(f"no event {event_id!r} in {self.path}; see `daybook events --format jsonl`")
        if self.relation_settings() is None:
            raise UsageError(f"{self.path} holds no related lists yet: run `daybook relate` first")
        rows = self.conn.execute(
            "SELECT r.rank, e.id, e.date, e.text, r.score, r.context FROM related r"
            " JOIN events e ON e.id = r.related_id WHERE r.event_id = ? ORDER BY r.rank",
            (event_id,),
        )
        return [
            RelatedEvent(rank, ident, dt.date.fromisoformat(date), text, score, tuple(json.loads(context)))
            for rank, ident, date, text, score, context in rows
        ]

    def related_lists(self, event_ids: Iterable[str]) -> dict[str, list[tuple[str, list[str]]]]:
        """For each event, its related events as (id, shared entities), best first (for pages)."""
        ids = list(event_ids)
        found: dict[str, list[tuple[str, list[str]]]] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            rows = self.conn.execute(
                "SELECT event_id, related_id, context FROM related"
                f" WHERE event_id IN ({','.join('?' * len(part))}) ORDER BY event_id, rank",
                part,
            )
            for event_id, related_id, context in rows:
                found.setdefault(event_id, []).append((related_id, json.loads(context)))
        return found

    # -- explore: entity and story pages, search (issue 7) ---------------------

    def _index_day(self, conn: sqlite3.Connection, date: str) -> None:
        """Put a day's events, just stored, in the search index (deleting them took them out)."""
        conn.execute(
            "INSERT INTO search_docs (event_id) SELECT id FROM events WHERE date = ? ORDER BY position",
            (date,),
        )
        conn.execute(
            f"INSERT INTO event_search (rowid, text, names, ledes, titles) {_SEARCH_ROW} WHERE e.date = ?",
            (date,),
        )

    def entity_titles(self) -> list[str]:
        """Every entity that some event holds."""
        rows = self.conn.execute(
            "SELECT title FROM entities n"
            " WHERE EXISTS (SELECT 1 FROM event_entities ee WHERE ee.entity_id = n.id)"
        )
        return [row[0] for row in rows]

    def story_names(self) -> list[str]:
        """Every story line some event is filed under, at any depth."""
        rows = self.conn.execute("SELECT DISTINCT j.value FROM events e, json_each(e.story) j")
        return [row[0] for row in rows]

    def event_threads(self) -> Iterator[tuple[str, dt.date, tuple[str, ...], tuple[str, ...]]]:
        """Every event's id, date, story lines and entities, in site order (by day, then page order)."""
        entities = {item.id: item.entities for item in self.relate_items()}
        stories: dict[str, tuple[str, ...]] = {}  # one tuple per story path, however many events share it
        rows = self.conn.execute("SELECT id, date, story FROM events ORDER BY date, position").fetchall()
        for ident, date, story in rows:
            if story not in stories:
                stories[story] = tuple(json.loads(story))
            yield ident, dt.date.fromisoformat(date), stories[story], entities.get(ident, ())

    def day_threads(
        self, dates: Iterable[dt.date]
    ) -> Iterator[tuple[str, dt.date, tuple[str, ...], tuple[str, ...]]]:
        """As ``event_threads``, for the events of some days only."""
        for date in sorted(set(dates)):
            rows = self.conn.execute(
                "SELECT e.id, e.story, n.title FROM events e LEFT JOIN event_entities ee"
                " ON ee.event_id = e.id LEFT JOIN entities n ON n.id = ee.entity_id"
                " WHERE e.date = ? ORDER BY e.position, ee.position",
                (date.isoformat(),),
            )
            for (ident, story), group in itertools.groupby(rows, key=lambda row: (row[0], row[1])):
                titles = tuple(row[2] for row in group if row[2] is not None)
                yield ident, date, tuple(json.loads(story)), titles

    def entity_thread(self, title: str) -> list[tuple[str, dt.date]]:
        """The events holding an entity, in site order: (id, date)."""
        rows = self.conn.execute(
            "SELECT e.id, e.date FROM entities n JOIN event_entities ee ON ee.entity_id = n.id"
            " JOIN events e ON e.id = ee.event_id WHERE n.title = ? ORDER BY e.date, e.position",
            (title,),
        )
        return [(ident, dt.date.fromisoformat(date)) for ident, date in rows]

    def story_thread(self, line: str, dates: Iterable[str]) -> list[tuple[str, dt.date]]:
        """The events of ``dates`` filed under a story line (at any depth), in site order."""
        found: list[tuple[str, dt.date]] = []
        for date in sorted(set(dates)):
            rows = self.conn.execute(
                "SELECT id FROM events WHERE date = ? AND EXISTS"
                " (SELECT 1 FROM json_each(events.story) j WHERE j.value = ?) ORDER BY position",
                (date, line),
            )
            day = dt.date.fromisoformat(date)
            found.extend((row[0], day) for row in rows)
        return found

    def co_entity_counts(self, event_ids: Sequence[str], exclude: str | None = None) -> dict[str, int]:
        """How many of these events hold each entity (``exclude`` left out)."""
        rows = self.conn.execute(
            "SELECT n.title, count(*) FROM json_each(?) j JOIN event_entities ee ON ee.event_id = j.value"
            " JOIN entities n ON n.id = ee.entity_id GROUP BY n.title",
            (json.dumps(list(event_ids)),),
        )
        return {title: count for title, count in rows if title != exclude}

    def entity_company(self, title: str) -> dict[str, int]:
        """How many of the events holding an entity hold each other entity."""
        rows = self.conn.execute(
            "SELECT n.title, count(*) FROM event_entities ee JOIN entities n ON n.id = ee.entity_id"
            " WHERE ee.event_id IN (SELECT h.event_id FROM entities x JOIN event_entities h"
            " ON h.entity_id = x.id WHERE x.title = ?) GROUP BY n.title",
            (title,),
        )
        return {name: count for name, count in rows if name != title}

    def search_documents(
        self, since: dt.date | None = None, skip: int = 0
    ) -> Iterator[tuple[str, dt.date, str, str, str, str]]:
        """What the search index holds of every event, in site order: id, date, text, names,
        ledes, titles; of the days from ``since`` on, less the first ``skip``."""
        rows = self.conn.execute(
            # CROSS JOIN keeps this order: the days first (an index), then their text; the
            # planner would otherwise walk the whole full-text table.
            "SELECT e.id, e.date, s.text, s.names, coalesce(s.ledes, ''), coalesce(s.titles, '')"
            " FROM events e CROSS JOIN search_docs d CROSS JOIN event_search s"
            " WHERE d.event_id = e.id AND s.rowid = d.doc AND e.date >= ? ORDER BY e.date, e.position",
            (since.isoformat() if since else "",),
        )
        for ident, date, text, names, ledes, titles in itertools.islice(rows, skip, None):
            yield ident, dt.date.fromisoformat(date), text, names, ledes, titles

    def search(
        self,
        match: str,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        entity: str | None = None,
        limit: int = 20,
    ) -> list[SearchRow]:
        """Events matching an FTS5 query, best first (bm25), the newer first on equal scores."""
        where, params = ["event_search MATCH ?"], [match]
        if start is not None:
            where.append("e.date >= ?")
            params.append(start.isoformat())
        if end is not None:
            where.append("e.date <= ?")
            params.append(end.isoformat())
        if entity is not None:
            where.append(
                "EXISTS (SELECT 1 FROM event_entities ee JOIN entities n ON n.id = ee.entity_id"
                " WHERE ee.event_id = e.id AND n.title = ? COLLATE NOCASE)"
            )
            params.append(entity)
        marks = f"'{MARK_START}', '{MARK_END}', '…', 24"
        try:
            rows = self.conn.execute(
                f"SELECT e.id, e.date, e.text, snippet(event_search, 0, {marks}),"
                f" snippet(event_search, 2, {marks}), bm25(event_search, {_SEARCH_WEIGHTS}) AS score"
                " FROM event_search JOIN search_docs d ON d.doc = event_search.rowid"
                f" JOIN events e ON e.id = d.event_id WHERE {' AND '.join(where)}"
                " ORDER BY score, e.date DESC, e.position LIMIT ?",
                [*params, limit],
            ).fetchall()
        except sqlite3.OperationalError as exc:  # the query language's syntax; search.py quotes every word
            raise UsageError(f"cannot search for {match!r}: {exc}") from exc
        return [
            SearchRow(
                ident,
                dt.date.fromisoformat(date),
                text,
                # The event's own words, unless only a lede matched.
                lede if MARK_START in (lede or "") and MARK_START not in in_text else in_text,
                score,
            )
            for ident, date, text, in_text, lede, score in rows
        ]

    # -- update: pulled portal pages, and what to publish (issue 6) -----------

    def portal_revisions(self, dates: Iterable[dt.date]) -> dict[dt.date, int]:
        """The revision kept of each of these days that has been pulled."""
        found: dict[dt.date, int] = {}
        for date in dates:
            row = self.conn.execute(
                "SELECT revision FROM portal_pages WHERE date = ?", (date.isoformat(),)
            ).fetchone()
            if row is not None:
                found[date] = int(row[0])
        return found

    def read_revisions(self, dates: Iterable[dt.date]) -> dict[dt.date, int]:
        """The portal revision each of these days' stored events were read from, where
        they came from a pulled page (a day ingested from a file has none)."""
        found: dict[dt.date, int] = {}
        for date in dates:
            row = self.conn.execute(
                "SELECT d.origin, p.title FROM days d JOIN portal_pages p ON p.date = d.date"
                " WHERE d.date = ?",
                (date.isoformat(),),
            ).fetchone()
            if row is None:
                continue
            # The day's origin names the revision its events came from (``PortalPage.origin``),
            # which may be older than the one pulled last, when that changed no event.
            origin, prefix = row[0], f"{row[1]} (revision "
            number = origin[len(prefix) : -1]
            if origin.startswith(prefix) and origin.endswith(")") and number.isdigit():
                found[date] = int(number)
        return found

    def save_portal_page(self, page: PortalPage) -> None:
        """Keep a pulled page; its events are stored by ``ingest_portal_page``."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO portal_pages (date, title, revision, saved_at, wikitext, html, pulled_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(date) DO UPDATE SET title = excluded.title,"
                " revision = excluded.revision, saved_at = excluded.saved_at,"
                " wikitext = excluded.wikitext, html = excluded.html, pulled_at = excluded.pulled_at",
                (
                    page.date.isoformat(),
                    page.title,
                    page.revision,
                    page.saved_at,
                    page.wikitext,
                    page.html,
                    _now(),
                ),
            )

    def portal_pages_to_ingest(self) -> list[PortalPage]:
        """Pulled pages whose revision's events the store does not hold yet, by date."""
        rows = self.conn.execute(
            "SELECT date, title, revision, saved_at, wikitext, html FROM portal_pages"
            " WHERE ingested IS NOT revision ORDER BY date"
        )
        return [PortalPage(dt.date.fromisoformat(d), t, r, s, w, h) for d, t, r, s, w, h in rows]

    def ingest_portal_page(self, page: PortalPage, day: Day) -> DayChange:
        """Store the events of a pulled page and mark its revision ingested, in one transaction.

        A day whose events are what the store holds already is left alone (a revision
        that changed nothing daybook keeps, such as a comment), as ``replace_day`` leaves it.
        """
        with self.transaction() as conn:
            conn.execute(
                "UPDATE portal_pages SET ingested = revision WHERE date = ?", (page.date.isoformat(),)
            )
            return self._replace_day(conn, day, origin=page.origin, format=page.format)

    def portal_page_read(self, page: PortalPage) -> None:
        """Mark a pulled revision ingested though it held no event to store (the day is left
        as it was), so that the next update does not read it again."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE portal_pages SET ingested = revision WHERE date = ?", (page.date.isoformat(),)
            )

    def start_publishing(self) -> None:
        """Record, from now on, what changes for ``daybook update`` to publish (the first
        time, the related lists are due: what was stored before went unrecorded)."""
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO publish_state (id, relate_due) VALUES (1, 1)")

    def _record_change(self, conn: sqlite3.Connection, change: DayChange) -> None:
        """Note a replaced day for the next update (once one has published from this store)."""
        if conn.execute("SELECT 1 FROM publish_state").fetchone() is None:
            return
        conn.execute("UPDATE publish_state SET relate_due = 1")
        conn.execute("INSERT OR IGNORE INTO publish_days (date) VALUES (?)", (change.date.isoformat(),))
        news = {
            **{i: "added" for i in change.added},
            **{i: "edited" for i in change.edited},
            **{i: "removed" for i in change.removed},
        }
        for event_id, new in news.items():
            row = conn.execute(
                "SELECT change FROM publish_changes WHERE event_id = ?", (event_id,)
            ).fetchone()
            merged = new if row is None else _MERGED.get((row[0], new), new)
            if merged is None:
                conn.execute("DELETE FROM publish_changes WHERE event_id = ?", (event_id,))
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO publish_changes (event_id, change) VALUES (?, ?)",
                    (event_id, merged),
                )

    def relate_due(self) -> bool:
        """Whether a day changed since the related lists were last brought up to date."""
        row = self.conn.execute("SELECT relate_due FROM publish_state").fetchone()
        return bool(row and row[0])

    def relate_done(self) -> None:
        """Note that the related lists are up to date with the stored days."""
        with self.transaction() as conn:
            conn.execute("UPDATE publish_state SET relate_due = 0")

    def pending_publish(self) -> PendingPublish:
        """What changed since an update last published the site."""
        row = self.conn.execute("SELECT publishing FROM publish_state").fetchone()
        return PendingPublish(
            dates=tuple(
                dt.date.fromisoformat(r[0])
                for r in self.conn.execute("SELECT date FROM publish_days ORDER BY date")
            ),
            event_ids=tuple(
                r[0] for r in self.conn.execute("SELECT event_id FROM publish_events ORDER BY event_id")
            ),
            changes=tuple(
                self.conn.execute("SELECT event_id, change FROM publish_changes ORDER BY event_id")
            ),
            interrupted=bool(row and row[0]),
        )

    def publishing(self) -> None:
        """Note that an update is writing the site: stopped before ``published``, the next
        one knows the site holds files its commit lacks."""
        with self.transaction() as conn:
            conn.execute("UPDATE publish_state SET publishing = 1")

    def published(self, done: PendingPublish) -> None:
        """Forget the changes ``done`` listed: the site shows them and git has them."""
        with self.transaction() as conn:
            conn.executemany(
                "DELETE FROM publish_days WHERE date = ?", ((d.isoformat(),) for d in done.dates)
            )
            conn.executemany("DELETE FROM publish_events WHERE event_id = ?", ((i,) for i in done.event_ids))
            conn.executemany("DELETE FROM publish_changes WHERE event_id = ? AND change = ?", done.changes)
            conn.execute("UPDATE publish_state SET publishing = 0")

    # -- the reader's pages: story neighbours, sources' dates ------------------

    def story_paths(self) -> Iterator[tuple[str, dt.date, tuple[str, ...]]]:
        """Every event with a story: id, date and story path, in site order."""
        paths: dict[str, tuple[str, ...]] = {}  # one tuple per path, however many events share it
        rows = self.conn.execute(
            "SELECT id, date, story FROM events WHERE story != '[]' ORDER BY date, position"
        )
        for ident, date, story in rows:
            if story not in paths:
                paths[story] = tuple(json.loads(story))
            yield ident, dt.date.fromisoformat(date), paths[story]

    def article_dates(self, event_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """For each event, the publication date enrich found for each source (URL -> ISO date)."""
        ids = list(event_ids)
        found: dict[str, dict[str, str]] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            rows = self.conn.execute(
                "SELECT es.event_id, es.url, a.published"
                " FROM event_sources es JOIN source_articles a ON a.source_id = es.source_id"
                " WHERE +a.outcome = 'ok' AND a.published IS NOT NULL"
                f" AND es.event_id IN ({','.join('?' * len(part))})",
                part,
            )
            for event_id, url, published in rows:
                found.setdefault(event_id, {})[url] = published
        return found


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def day_sha(day: Day) -> str:
    """A hash of a day's events, so a day ingested again unchanged can be told apart."""
    payload = json.dumps([e.to_json() for e in day.events], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
