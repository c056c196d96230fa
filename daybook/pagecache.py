"""What the last build made each page from, kept beside the site, so the next build
renders only the pages whose inputs changed and finds what it needs without
reading the whole site.

The state is a SQLite file in the output folder (hidden: the site never serves it,
git never commits it). It holds, for every page (its path without extension), a
digest of the page object, the formats, the base URL and the renderers' own source
(``pages``), and for an event page its event id, so a page whose event got a new slug
becomes a redirect (``redirects``). The explore stage keeps there every entity's and
story's slug (``names``) and which names each day's events hold (``day_names``); the
static search index keeps its own tables (``search_index``).

A build runs in one transaction, committed by ``save`` after every file is written:
a build killed halfway leaves the state of the last finished build, whose pages the
next build then finds changed and renders again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

STATE_NAME = ".daybook-site.db"
OLD_CACHE_NAME = ".daybook-pages.json"  # what builds before the state kept; removed
FORMAT = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pages (
    stem TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    event_id TEXT                 -- an event page's event
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pages_by_event ON pages(event_id) WHERE event_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS redirects (stem TEXT PRIMARY KEY, event_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS names (
    kind TEXT NOT NULL,           -- entity or story
    name TEXT NOT NULL,
    base TEXT NOT NULL,           -- the name's own slug; names sharing one are told apart by a tag
    slug TEXT NOT NULL,           -- its page's slug
    events INTEGER NOT NULL,      -- events holding it at the last build
    PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS names_by_base ON names(kind, base);
CREATE INDEX IF NOT EXISTS names_by_slug ON names(kind, slug);
CREATE TABLE IF NOT EXISTS day_names (
    date TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (date, kind, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS day_names_by_name ON day_names(kind, name);
"""


@functools.cache
def renderer_fingerprint() -> str:
    """A digest of the code that turns page objects into files: change a template or
    a renderer and every page is rendered again."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=16)
    sources = sorted([*package.joinpath("render").rglob("*"), package / "pages.py", package / "urls.py"])
    for source in sources:
        if source.is_file() and source.suffix in (".py", ".html", ".css", ".json"):
            digest.update(source.name.encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()


def page_digest(kind: str, page: object, settings: str) -> str:
    """The digest of everything a page's files are made from."""
    text = f"{renderer_fingerprint()}\x1f{settings}\x1f{kind}\x1f{page!r}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _prefix_range(prefix: str) -> tuple[str, str]:
    """Bounds of the stems that start with ``prefix``, for an indexed range query."""
    return prefix, prefix + "\U0010ffff"


class SiteState:
    """The state of the site in ``out``, opened for one build.

    ``full``: the build makes every page, so the state starts empty; what the last
    build recorded stays readable through ``previous`` (digests and event pages).
    """

    def __init__(self, out: Path, *, full: bool = False) -> None:
        self.path = out / STATE_NAME
        out.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None)
            self.conn.executescript(_SCHEMA)
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError:  # a damaged state: start afresh with a full build
            self.conn = self._recreate()
        self.complete = self._meta("format") == FORMAT and self._meta("complete") == "1"
        self.full = full or not self.complete
        self.previous: dict[str, tuple[str, str | None]] = {}
        self.previous_redirects = dict(self.conn.execute("SELECT stem, event_id FROM redirects"))
        if self.full:
            self.previous = {s: (d, e) for s, d, e in self.conn.execute("SELECT * FROM pages")}
            for table in ("pages", "redirects", "names", "day_names", "meta"):
                self.conn.execute(f"DELETE FROM {table}")
        # Pages whose presence changed in this build (what the sitemap must follow).
        self.added: set[str] = set()
        self.removed: set[str] = set()

    def _recreate(self) -> sqlite3.Connection:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.executescript(_SCHEMA)
        conn.execute("BEGIN IMMEDIATE")
        return conn

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # -- pages -------------------------------------------------------------------

    def digest(self, stem: str) -> str | None:
        """What the page was last built from (None: not built before)."""
        if self.full:
            found = self.previous.get(stem)
            return None if found is None else found[0]
        row = self.conn.execute("SELECT digest FROM pages WHERE stem = ?", (stem,)).fetchone()
        return None if row is None else str(row[0])

    def has(self, stem: str) -> bool:
        """Whether the site has a page at ``stem`` (as this build left it so far)."""
        return self.conn.execute("SELECT 1 FROM pages WHERE stem = ?", (stem,)).fetchone() is not None

    def record(self, stem: str, digest: str, event_id: str | None = None, *, new: bool | None = None) -> None:
        """Note the page made from ``digest``; ``new``: whether the site had no page there
        (None: look it up)."""
        if new is None:
            new = not self.has(stem)
        if new:
            self.added.add(stem)
            self.removed.discard(stem)
        self.conn.execute(
            "INSERT OR REPLACE INTO pages (stem, digest, event_id) VALUES (?, ?, ?)", (stem, digest, event_id)
        )

    def forget(self, stem: str) -> None:
        """The page is gone from the site."""
        if self.conn.execute("DELETE FROM pages WHERE stem = ?", (stem,)).rowcount:
            self.removed.add(stem)
            self.added.discard(stem)

    def pages_under(self, prefix: str) -> dict[str, str | None]:
        """The pages whose stem starts with ``prefix``: stem -> event id (event pages)."""
        rows = self.conn.execute(
            "SELECT stem, event_id FROM pages WHERE stem >= ? AND stem < ?", _prefix_range(prefix)
        )
        return dict(rows)

    def event_stems(self, event_ids: Sequence[str]) -> dict[str, str]:
        """The page each of these events had at the last build: event id -> stem."""
        rows = self.conn.execute(
            "SELECT p.event_id, p.stem FROM json_each(?) j JOIN pages p ON p.event_id = j.value",
            (json.dumps(list(event_ids)),),
        )
        return dict(rows)

    def previous_events(self) -> dict[str, str]:
        """Every event page of the last build: stem -> event id (full builds only)."""
        return {s: e for s, (_, e) in self.previous.items() if e is not None}

    def stems(self, prefix: str = "") -> list[str]:
        """Every page's stem that starts with ``prefix``, sorted."""
        rows = self.conn.execute(
            "SELECT stem FROM pages WHERE stem >= ? AND stem < ? ORDER BY stem", _prefix_range(prefix)
        )
        return [row[0] for row in rows]

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM pages").fetchone()[0])

    # -- redirects ---------------------------------------------------------------

    def redirects(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT stem, event_id FROM redirects"))

    def set_redirect(self, stem: str, event_id: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO redirects (stem, event_id) VALUES (?, ?)", (stem, event_id))

    def drop_redirect(self, stem: str) -> None:
        self.conn.execute("DELETE FROM redirects WHERE stem = ?", (stem,))

    # -- explore: which names each day's events hold -----------------------------

    def day_names(self, dates: Iterable[str]) -> set[tuple[str, str]]:
        """(kind, name) of every name the events of these days held at the last build."""
        found: set[tuple[str, str]] = set()
        for date in dates:
            found.update(self.conn.execute("SELECT kind, name FROM day_names WHERE date = ?", (date,)))
        return found

    def set_day_names(self, date: str, names: Iterable[tuple[str, str]]) -> None:
        self.conn.execute("DELETE FROM day_names WHERE date = ?", (date,))
        self.conn.executemany(
            "INSERT OR IGNORE INTO day_names (date, kind, name) VALUES (?, ?, ?)",
            ((date, kind, name) for kind, name in names),
        )

    def name_dates(self, kind: str, name: str) -> list[str]:
        """The days whose events hold a name, oldest first."""
        rows = self.conn.execute(
            "SELECT date FROM day_names WHERE kind = ? AND name = ? ORDER BY date", (kind, name)
        )
        return [row[0] for row in rows]

    # -- saving --------------------------------------------------------------------

    def save(self) -> None:
        """Commit this build's record: the site's files are all written."""
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('format', ?)", (FORMAT,))
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('complete', '1')")
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN IMMEDIATE")
        old = self.path.with_name(OLD_CACHE_NAME)
        old.unlink(missing_ok=True)

    def close(self) -> None:
        """Close; what ``save`` did not commit is rolled back."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()
