"""What the last build made each page from, and every file it wrote, kept beside the
store (never in the site: see ``folder``), so the next build renders only the pages
whose inputs changed, finds what it needs without reading the whole site, and removes
only files daybook wrote.

How it works: docs/ARCHITECTURE.md, "The site's state".
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from daybook import urls
from daybook.errors import SiteFolderError, WriteError
from daybook.publish import sitemap
from daybook.publish.folder import OLD_CACHE_NAME, SitePaths
from daybook.publish.writer import Writer, temporary_name

FORMAT = "2"  # 2: the state beside the store, with the files written (1: in the site, without)

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
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY) WITHOUT ROWID;  -- every file daybook wrote
CREATE TABLE IF NOT EXISTS feeds (                -- what each page's feed was made from
    path TEXT PRIMARY KEY,
    digest TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS page_groups (          -- what a day's or a name's pages were made from
    name TEXT PRIMARY KEY,        -- day:DATE, or KIND:NAME (entity, story, category)
    digest TEXT NOT NULL          -- ``inputs``: the inputs of its pages, digested (full builds only)
) WITHOUT ROWID;
"""


@functools.cache
def renderer_fingerprint() -> str:
    """A digest of the code that turns page objects into files: change a template or
    a renderer and every page is rendered again. Sources are named by their path in
    the package (``render/html.py``), so the digest does not depend on where it lies."""
    package = resources.files("daybook")
    digest = hashlib.blake2b(digest_size=16)
    for name in _renderer_sources(package):
        digest.update(name.encode())
        digest.update(package.joinpath(name).read_bytes())
    return digest.hexdigest()


def _renderer_sources(package: Traversable, folder: str = "render") -> list[str]:
    """The package-relative names of the renderers' sources (``render/``: code, templates, the
    editions' catalogues) and ``urls.py``."""
    names = ["urls.py"]
    todo = [folder]
    while todo:
        at = todo.pop()
        for entry in package.joinpath(at).iterdir():
            if entry.is_dir():
                todo.append(f"{at}/{entry.name}")
            elif entry.name.endswith((".py", ".html", ".css", ".json", ".po")):
                names.append(f"{at}/{entry.name}")
    return sorted(names)


def page_digest(kind: str, page: object, settings: str) -> str:
    """The digest of everything a page's files are made from."""
    text = f"{renderer_fingerprint()}\x1f{settings}\x1f{kind}\x1f{page!r}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _prefix_range(prefix: str) -> tuple[str, str]:
    """Bounds of the stems that start with ``prefix``, for an indexed range query."""
    return prefix, prefix + "\U0010ffff"


class SiteState:
    """The state of the site ``site``, opened for one build (whose caller holds the
    site's lock and has checked the folder is daybook's: ``folder``).

    ``full``: the build makes every page, so the state starts empty; what the last
    build recorded stays readable through ``previous`` (digests and event pages) and
    ``recorded`` (its files). It is also the writer's ledger (``writer.Ledger``).
    """

    def __init__(self, site: SitePaths, *, full: bool = False) -> None:
        self.site = site
        self.path = site.state
        self.path.parent.mkdir(parents=True, exist_ok=True)
        site.root.mkdir(parents=True, exist_ok=True)
        if not self.path.exists() and site.old_state.is_file():
            _adopt(site)
        _remove_old_state(site)
        # What a killed build wrote (and the temporary files it may have left), before the
        # journal takes this build's.
        self.recovered = _recover(site)
        self._journal = os.open(site.journal, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        self._journaled = bool(self.recovered)
        self.old: sqlite3.Connection | None = None
        last = _open_last(self.path)
        complete = last is not None and _meta(last, "format") == FORMAT and _meta(last, "complete") == "1"
        self.full = full or not complete
        self.previous: dict[str, tuple[str, str | None]] = {}
        self.previous_feeds: dict[str, str] = {}
        self.previous_groups: dict[str, str] = {}
        if not self.full and last is not None:
            self.conn = last
            self.conn.executescript(_SCHEMA)
            self.conn.execute("BEGIN IMMEDIATE")
            # An update makes some pages of a group and not others, and records no group's
            # inputs: the next full build makes every page (and records them again).
            self.conn.execute("DELETE FROM page_groups")
        else:
            # A full build makes its state in a file of its own; the last one is only read.
            self.old = last
            self.conn = _fresh(self._building)
            if last is not None:
                with contextlib.suppress(sqlite3.DatabaseError):
                    self.previous = {
                        s: (d, e) for s, d, e in last.execute("SELECT stem, digest, event_id FROM pages")
                    }
                with contextlib.suppress(sqlite3.DatabaseError):  # a state from before the table
                    self.previous_feeds = dict(last.execute("SELECT path, digest FROM feeds"))
                with contextlib.suppress(sqlite3.DatabaseError):  # a state from before the table
                    self.previous_groups = dict(last.execute("SELECT name, digest FROM page_groups"))
        source = self.old if self.full else self.conn
        self.previous_redirects: dict[str, str] = {}
        if source is not None:
            with contextlib.suppress(sqlite3.DatabaseError):
                self.previous_redirects = dict(source.execute("SELECT stem, event_id FROM redirects"))
        self._recorded: set[str] = set()  # a full build's pages so far (``has`` without a query)
        # A full build's rows of pages, feeds and groups not inserted yet (``_flush``): one
        # statement for many, not one per page (a fresh state is written, never read, until
        # a page is looked up by a query).
        self._pages: list[tuple[str, str, str | None]] = []
        self._feeds: list[tuple[str, str]] = []
        self._groups: list[tuple[str, str]] = []
        # Pages whose presence changed in this build (what the sitemap must follow).
        self.added: set[str] = set()
        self.removed: set[str] = set()

    @property
    def _building(self) -> Path:
        return self.path.with_name(self.path.name + ".new")

    # -- the files daybook wrote: the writer's ledger -------------------------------

    def owns(self, path: str) -> bool:
        """Whether the last build (or a killed one since) wrote this file."""
        if path in self.recovered:
            return True
        conn = self.old if self.full else self.conn
        if conn is None:
            return False
        try:
            return conn.execute("SELECT 1 FROM files WHERE path = ?", (path,)).fetchone() is not None
        except sqlite3.DatabaseError:  # a damaged state (or one without the table): owns nothing
            return False

    def claim(self, path: str) -> None:
        """Journal the path before its file is written (see ``folder``)."""
        line = memoryview(f"{path}\n".encode("utf-8", "surrogateescape"))
        while line:
            line = line[os.write(self._journal, line) :]
        self._journaled = True

    def recorded(self) -> Iterator[str]:
        """Every file the last build (or a killed one since) wrote."""
        conn = self.old if self.full else self.conn
        if conn is not None:
            with contextlib.suppress(sqlite3.DatabaseError):
                for (path,) in conn.execute("SELECT path FROM files ORDER BY path"):
                    yield path
        yield from sorted(self.recovered)

    def previous_files(self, prefix: str) -> list[str]:
        """The files under ``prefix`` the last build wrote (a full build's: its state's)."""
        if self.old is None:
            return []
        with contextlib.suppress(sqlite3.DatabaseError):
            rows = self.old.execute(
                "SELECT path FROM files WHERE path >= ? AND path < ?", _prefix_range(prefix)
            )
            return [path for (path,) in rows]
        return []

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
        if self.full:  # a full build's state starts empty: its pages are those recorded since
            return stem in self._recorded
        return self.conn.execute("SELECT 1 FROM pages WHERE stem = ?", (stem,)).fetchone() is not None

    def record(self, stem: str, digest: str, event_id: str | None = None, *, new: bool | None = None) -> None:
        """Note the page made from ``digest``; ``new``: whether the site had no page there
        (None: look it up)."""
        if new is None:
            new = not self.has(stem)
        if new:
            self.added.add(stem)
            self.removed.discard(stem)
        if self.full:
            self._recorded.add(stem)
            self._pages.append((stem, digest, event_id))
            if len(self._pages) >= _BATCH:
                self._flush()
            return
        self.conn.execute(
            "INSERT OR REPLACE INTO pages (stem, digest, event_id) VALUES (?, ?, ?)", (stem, digest, event_id)
        )

    def _flush(self) -> None:
        """Insert the rows a full build noted so far (before any query reads them)."""
        if self._pages:
            self.conn.executemany(
                "INSERT OR REPLACE INTO pages (stem, digest, event_id) VALUES (?, ?, ?)", self._pages
            )
            self._pages = []
        if self._feeds:
            self.conn.executemany(
                "INSERT INTO feeds (path, digest) VALUES (?, ?)"
                " ON CONFLICT (path) DO UPDATE SET digest = excluded.digest",
                self._feeds,
            )
            self._feeds = []
        if self._groups:
            self.conn.executemany(
                "INSERT INTO page_groups (name, digest) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET digest = excluded.digest",
                self._groups,
            )
            self._groups = []

    def forget(self, stem: str) -> None:
        """The page is gone from the site."""
        self._recorded.discard(stem)
        self._flush()
        if self.conn.execute("DELETE FROM pages WHERE stem = ?", (stem,)).rowcount:
            self.removed.add(stem)
            self.added.discard(stem)

    def pages_under(self, prefix: str) -> dict[str, str | None]:
        """The pages whose stem starts with ``prefix``: stem -> event id (event pages)."""
        self._flush()
        rows = self.conn.execute(
            "SELECT stem, event_id FROM pages WHERE stem >= ? AND stem < ?", _prefix_range(prefix)
        )
        return dict(rows)

    def event_stems(self, event_ids: Sequence[str]) -> dict[str, str]:
        """The page each of these events had at the last build: event id -> stem."""
        self._flush()
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
        self._flush()
        rows = self.conn.execute(
            "SELECT stem FROM pages WHERE stem >= ? AND stem < ? ORDER BY stem", _prefix_range(prefix)
        )
        return [row[0] for row in rows]

    def rest_stems(self) -> list[str]:
        """The stems of the sitemap's "site" section, sorted, and perhaps a few more (which
        ``sitemap.section`` sorts out): every stem but a news year's, an entity's or a
        story's, found by their shape without reading each of some 200,000 stems here."""
        self._flush()
        rows = self.conn.execute(
            "SELECT stem FROM pages WHERE NOT (stem GLOB 'news/[0-9][0-9][0-9][0-9]*'"
            " OR stem GLOB 'entity/?*' OR stem GLOB 'story/?*') ORDER BY stem"
        )
        return [row[0] for row in rows]

    def count(self) -> int:
        self._flush()
        return int(self.conn.execute("SELECT count(*) FROM pages").fetchone()[0])

    # -- feeds (``follow``): made only when what they show changed -----------------

    def feed_digest(self, path: str) -> str | None:
        """What the feed at ``path`` was last made from (None: not made before)."""
        if self.full:
            return self.previous_feeds.get(path)
        row = self.conn.execute("SELECT digest FROM feeds WHERE path = ?", (path,)).fetchone()
        return None if row is None else str(row[0])

    def record_feed(self, path: str, digest: str) -> None:
        if self.full:
            self._feeds.append((path, digest))
            return
        self.conn.execute(
            "INSERT INTO feeds (path, digest) VALUES (?, ?)"
            " ON CONFLICT (path) DO UPDATE SET digest = excluded.digest",
            (path, digest),
        )

    def forget_feed(self, path: str) -> None:
        self._flush()
        self.conn.execute("DELETE FROM feeds WHERE path = ?", (path,))

    # -- groups of pages (``inputs``): a day's, a name's -----------------------------

    def record_group(self, name: str, digest: str) -> None:
        """Note what the pages of a group (a day, a name) are made from in this full build."""
        if self.full:
            self._groups.append((name, digest))
            return
        self.conn.execute(
            "INSERT INTO page_groups (name, digest) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET digest = excluded.digest",
            (name, digest),
        )

    def keep_group(
        self,
        writer: Writer,
        group: str,
        made_from: str,
        pages: Sequence[tuple[str, str | None]],
        formats: Sequence[str],
        feeds: Sequence[str],
        emitted: set[str],
    ) -> bool:
        """Keep a group's pages (stem, event id: each in ``formats``) and feeds as the last
        full build made them, if it made them from the same inputs (``made_from``) and all
        their files are there (``writer.keep_all``); else keep nothing. Full builds only;
        ``emitted``: the pages this build made so far (a page made already is not kept)."""
        if not self.full or self.previous_groups.get(group) != made_from:
            return False
        digests = []
        for stem, event_id in pages:
            before = self.previous.get(stem)
            if before is None or before[1] != event_id or stem in emitted:
                return False
            digests.append(before[0])
        feed_digests = [self.previous_feeds.get(path) for path in feeds]
        if None in feed_digests:
            return False
        paths = [f"{stem}.{ext}" for stem, _ in pages for ext in formats]
        paths.extend(feeds)
        # A build killed since the last one may have written them from other inputs.
        if self.recovered and any(path in self.recovered for path in paths):
            return False
        if not writer.keep_all(paths):
            return False
        for (stem, event_id), made in zip(pages, digests, strict=True):
            self.record(stem, made, event_id)
            emitted.add(stem)
        for path, feed_digest in zip(feeds, feed_digests, strict=True):
            assert feed_digest is not None
            self.record_feed(path, feed_digest)
        self.record_group(group, made_from)
        return True

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

    def set_all_day_names(self, days: Iterable[tuple[str, Iterable[tuple[str, str]]]]) -> None:
        """The names of every day's events (a full build): all that the table holds."""
        self.conn.execute("DELETE FROM day_names")
        self.conn.executemany(
            "INSERT INTO day_names (date, kind, name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            ((date, kind, name) for date, names in days for kind, name in names),
        )

    def name_dates(self, kind: str, name: str) -> list[str]:
        """The days whose events hold a name, oldest first."""
        rows = self.conn.execute(
            "SELECT date FROM day_names WHERE kind = ? AND name = ? ORDER BY date", (kind, name)
        )
        return [row[0] for row in rows]

    # -- saving --------------------------------------------------------------------

    @property
    def editions(self) -> tuple[str, ...] | None:
        """The editions of the site at the last build (None: not recorded), for an update
        to make them all (``build --editions`` sets them)."""
        conn = self.old if self.full else self.conn
        found = None if conn is None else _meta(conn, "editions")
        return tuple(found.split(",")) if found else None

    def save(
        self, made: Iterable[str] = (), removed: Iterable[str] = (), *, editions: Sequence[str] = ()
    ) -> None:
        """Record this build: every file is written; ``made``: the files it wrote or kept
        (each once), ``removed``: those it removed (or found removed); ``editions``: the site's."""
        self._flush()
        meta = [("format", FORMAT), ("complete", "1"), ("site", self.site.key)]
        if editions:
            meta.append(("editions", ",".join(editions)))
        try:
            if self.full:  # sorted, not first copied to a set: a full build's 850,000 paths
                self.conn.executemany("INSERT INTO files (path) VALUES (?)", ((p,) for p in sorted(made)))
            else:
                made = set(made)
                gone = set(removed) - made
                self.conn.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in sorted(gone)))
                kept = made | {p for p in self.recovered if p not in gone and (self.site.root / p).is_file()}
                self.conn.executemany(
                    "INSERT OR IGNORE INTO files (path) VALUES (?)", ((p,) for p in sorted(kept))
                )
            for key, value in meta:
                self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
            self.conn.execute("COMMIT")
            if self.full:
                self._replace()
            else:
                self.conn.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, OSError) as exc:
            raise WriteError(f"{self.path}: cannot save the site's state ({exc})") from exc
        if self._journaled:  # the state records all the journal held
            os.ftruncate(self._journal, 0)
            self._journaled = False
        self.recovered = set()

    def _replace(self) -> None:
        """Put the state a full build made in place of the last, unless they hold the same."""
        same = self.old is not None and _same_content(self.conn, self.path)
        self.conn.close()
        if self.old is not None:
            self.old.close()
            self.old = None
        if same:
            self._building.unlink()
        else:
            _fsync(self._building)
            os.replace(self._building, self.path)
        self.full = False
        self.conn = sqlite3.connect(self.path, isolation_level=None)

    def close(self) -> None:
        """Close; what ``save`` did not commit is rolled back (or, for a full build, dropped)."""
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
        self.conn.close()
        if self.old is not None:
            self.old.close()
            self.old = None
        if self.full:
            self._building.unlink(missing_ok=True)
        os.close(self._journal)


_BATCH = 5000  # rows noted before they are inserted
_COMPARED = 10_000  # rows of two states compared at once


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.DatabaseError:
        return None
    return None if row is None else str(row[0])


def _open_last(path: Path) -> sqlite3.Connection | None:
    """The last build's state, or None (none yet, or damaged: start afresh with a full build)."""
    if not path.is_file():
        return None
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError:
        conn.close()
        return None
    return conn


def _fresh(path: Path) -> sqlite3.Connection:
    """A new state file, for a full build (renamed into place only when it is done)."""
    for suffix in ("", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    # Not the state until renamed: a crash leaves a file the next build starts afresh.
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.executescript(_SCHEMA)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def _same_content(conn: sqlite3.Connection, other: Path) -> bool:
    """Whether the database of ``conn`` holds the same schema and rows as ``other``."""
    conn.execute("ATTACH DATABASE ? AS other", (str(other),))
    try:

        def schema(db: str) -> list[tuple[str, ...]]:
            return conn.execute(
                f"SELECT type, name, tbl_name, sql FROM {db}.sqlite_master ORDER BY type, name"
            ).fetchall()

        tables = schema("main")
        if tables != schema("other"):
            return False
        for kind, name, _, _ in tables:
            if kind != "table":
                continue
            quoted = '"' + name.replace('"', '""') + '"'
            columns = conn.execute(f"PRAGMA main.table_info({quoted})").fetchall()
            # In key order (a table's own order: no sort), else in the order of every column;
            # two rows alike in that order (NULL keys) may come in either order, which can
            # only find equal tables different (and replace the state: harmless).
            keys = [c[1] for c in sorted(columns, key=lambda c: c[5]) if c[5]] or [c[1] for c in columns]
            order = ", ".join('"' + k.replace('"', '""') + '"' for k in keys)
            ours = conn.execute(f"SELECT * FROM main.{quoted} ORDER BY {order}")
            theirs = conn.execute(f"SELECT * FROM other.{quoted} ORDER BY {order}")
            try:
                while True:  # compared a batch of rows at a time (lists of tuples: in C)
                    batch = ours.fetchmany(_COMPARED)
                    if batch != theirs.fetchmany(_COMPARED):
                        return False
                    if not batch:
                        break
            finally:  # a query left unfinished holds the other database
                ours.close()
                theirs.close()
        return True
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.execute("DETACH DATABASE other")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _recover(site: SitePaths) -> set[str]:
    """The paths a killed build journaled (the files it may have written); their
    temporary files, which it may have left half written, are removed."""
    try:
        text = site.journal.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return set()
    paths = {line for line in text.split("\n") if line}
    for path in paths:
        folder, _, name = path.rpartition("/")
        with contextlib.suppress(OSError):
            (site.root / folder / temporary_name(name)).unlink()
    return paths


def _adopt(site: SitePaths) -> None:
    """Move the state an older daybook kept in the site (``OUT/.daybook-site.db``) beside the
    store, with the record of the files it wrote: every page in each format, and the feeds,
    sitemaps, assets and search index files there are (it removed all else at each build).
    Its format is older: the next build is a full one, which keeps what did not change."""
    moving = site.state.with_name(site.state.name + ".adopting")
    moving.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(site.old_state)
        try:
            target = sqlite3.connect(moving, isolation_level=None)
            try:
                source.backup(target)
                target.executescript(_SCHEMA)
                target.execute("BEGIN")
                exts = ",".join(f"('{ext}')" for ext in urls.FORMATS)
                target.execute(
                    f"WITH f(ext) AS (VALUES {exts})"
                    " INSERT OR IGNORE INTO files SELECT stem || '.' || ext FROM pages, f"
                )
                target.executemany(
                    "INSERT OR IGNORE INTO files (path) VALUES (?)", ((p,) for p in _old_extras(site.root))
                )
                target.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('complete', '0')")
                target.execute("COMMIT")
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.DatabaseError as exc:
        moving.unlink(missing_ok=True)
        raise SiteFolderError(
            f"{site.out}: the state an older daybook left there ({site.old_state.name}) cannot be read"
            f" ({exc}); build into a new or empty folder"
        ) from exc
    os.replace(moving, site.state)


# The search index's files (``search_index``): its manifest, doc files and term shards
# (of its base, t/, and of its recent part, r/).
_SEARCH_FILE = re.compile(r"manifest\.json|d/[0-9]+\.json|[tr]/[0-9a-f]{12}\.json")


def _old_extras(root: Path) -> Iterator[str]:
    """The files other than pages an older daybook wrote, as far as they are there and
    named as daybook names them (a file of the user's beside them is not taken for one)."""
    fixed = [
        urls.SEARCH_PAGE, urls.SEARCH_SCRIPT, urls.NEWS_RSS, urls.NEWS_ATOM, urls.NEWS_JSON_FEED,
        urls.OPINION_RSS, urls.SITEMAP, urls.STYLESHEET, urls.WEEKLY_FEED,
    ]  # fmt: skip
    yield from (path for path in fixed if (root / path).is_file())
    # The feed of an entity's, story's or category's page, beside that page (issue 21).
    for kind in ("entity", "story", "category"):
        for feed in (root / kind).glob(f"*.{urls.FEED_EXT}"):
            if feed.is_file() and any(feed.with_suffix(f".{ext}").is_file() for ext in urls.FORMATS):
                yield feed.relative_to(root).as_posix()
    sections = root.glob(urls.SITEMAP_SECTIONS)
    yield from (p.name for p in sections if sitemap.section_of_file(p.name) and p.is_file())
    search = root / urls.SEARCH_INDEX_DIR
    for path in search.rglob("*.json"):
        if _SEARCH_FILE.fullmatch(path.relative_to(search).as_posix()) and path.is_file():
            yield path.relative_to(root).as_posix()


def _remove_old_state(site: SitePaths) -> None:
    """Once the state is beside the store: the files an older daybook kept in the site."""
    if not site.state.exists():
        return
    for name in (site.old_state.name, f"{site.old_state.name}-journal", f"{site.old_state.name}-wal",
                 f"{site.old_state.name}-shm", OLD_CACHE_NAME):  # fmt: skip
        (site.root / name).unlink(missing_ok=True)
