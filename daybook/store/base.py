"""The store's connection: opening (path or URL, kind, migrations), transactions, and the
driver's errors turned into ``StoreError``s naming the store. What differs between SQLite
and PostgreSQL is in ``backend``."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Self

from daybook.errors import StoreError
from daybook.store import schema
from daybook.store.backend import (
    POSTGRESQL_SCHEMES,
    Backend,
    Connection,
    PostgresBackend,
    SQLiteBackend,
    is_postgresql,
    safe_url,
    sqlite_error,
)

DEFAULT_PATH = Path("daybook.db")


def resolve_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store path: the one given, else ``DAYBOOK_DB``, else ``./daybook.db``.

    A URL other than ``postgresql://`` is refused by its scheme (use ``resolve_location``
    for a store that may be either kind).
    """
    given = resolve_location(path)
    if is_postgresql(given):
        raise StoreError(f"{safe_url(given)}: a PostgreSQL store, not a file")
    return Path(given)


def resolve_location(path: str | os.PathLike[str] | None = None) -> str:
    """The store as given (a path or a ``postgresql://`` URL), else ``DAYBOOK_DB``, else
    ``./daybook.db``; a URL of any other scheme is refused."""
    given = os.fspath(path) if path else os.environ.get("DAYBOOK_DB") or os.fspath(DEFAULT_PATH)
    scheme = url_scheme(given)
    if scheme is not None and scheme.lower() not in POSTGRESQL_SCHEMES:
        raise StoreError(
            f"unsupported store URL scheme {scheme!r}; daybook stores are SQLite files or postgresql:// URLs"
        )
    return given


_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def url_scheme(value: str) -> str | None:
    """The scheme of a store given as a URL (``postgresql`` of ``postgresql://host/db``), else None."""
    match = _URL.match(value)
    return match[1] if match else None


def store_error(name: str, exc: sqlite3.Error) -> StoreError | None:
    """The one-line ``StoreError`` naming the file for what SQLite said about it (None: a bug)."""
    return sqlite_error(name, exc)


def postgresql_home(url: str) -> Path:
    """Where the files kept beside a PostgreSQL store live (the update lock, the sites'
    states, as ``daybook.db.sites`` beside a file): ``$XDG_STATE_HOME/daybook/HOST-PORT-DB``."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or ["local"])[0]
    database = parts.path.lstrip("/") or (query.get("dbname") or [parts.username or "postgres"])[0]
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{host}-{parts.port or 5432}-{database}").strip("_")
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "daybook" / label


class StoreBase:
    """An open daybook store. Use as a context manager, or call ``close()``.

    ``create=False`` opens only an existing store, creating no file at all (the commands
    that read); ``create=True`` makes the store when there is none (those that add data).
    An error of the driver about the store itself, at open or later in a ``with`` block,
    becomes a ``StoreError`` naming the store.

    ``location`` is the store as given (a path or a URL), to open it again elsewhere;
    ``path`` is a file path: the store's for SQLite, for PostgreSQL the name beside which
    its files live (``postgresql_home``).
    """

    backend: Backend

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        self.location = resolve_location(path)
        # The host request slots this connection holds (``try_host_slot``): a session holding
        # an advisory lock is given it again, so each slot it holds is skipped, not retaken.
        self.host_slots_held: set[tuple[int, int]] = set()
        if is_postgresql(self.location):
            self._open_postgresql(create)
            return
        self.path = Path(self.location)
        self.name = os.fspath(path) if path else os.fspath(self.path)  # as given, for messages
        if self.path.is_dir():
            raise StoreError(f"{self.name}: is a folder, not a daybook store")
        if create and not self.path.parent.exists():
            raise StoreError(f"{self.name}: folder {self.path.parent} does not exist")
        try:
            backend = SQLiteBackend(self.path, create=create)
        except sqlite3.Error as exc:
            if not create and not self.path.exists():
                raise self._missing() from None
            raise store_error(self.name, exc) or StoreError(f"{self.name}: cannot open ({exc})") from exc
        self._set_up(backend, create)

    def _open_postgresql(self, create: bool) -> None:
        self.name = safe_url(self.location)
        self.path = postgresql_home(self.location)
        try:
            backend = PostgresBackend(self.location)
        except ImportError as exc:
            raise StoreError(f"{self.name}: PostgreSQL stores need psycopg ({exc})") from exc
        except Exception as exc:
            error = _pg_open_error(self.name, exc)
            if error is None:
                raise
            raise error from exc
        self._set_up(backend, create)

    def _set_up(self, backend: Backend, create: bool) -> None:
        self.backend = backend
        self.conn: Connection = backend.conn
        try:
            self._check_kind(create)
            backend.set_up()
            self._migrate()
        except BaseException as exc:
            backend.close()
            if isinstance(exc, backend.errors) and (error := backend.error(self.name, exc)) is not None:
                raise error from exc
            raise

    def _missing(self) -> StoreError:
        return StoreError(f"no daybook store at {self.name}; create one with daybook ingest")

    def _check_kind(self, create: bool) -> None:
        """Refuse, before anything is written, a database that is not daybook's (nor empty)."""
        if self.schema_version > 0:
            return
        if self.backend.has_other_tables():
            kind = "an SQLite" if self.backend.name == "sqlite" else "a PostgreSQL"
            raise StoreError(f"{self.name}: not a daybook store ({kind} database of something else)")
        if not create:  # an empty file: no store yet
            raise self._missing()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self.close()
        # The one place a driver error met while using the store becomes a StoreError.
        if isinstance(exc, self.backend.errors) and (error := self.backend.error(self.name, exc)) is not None:
            raise error from exc

    def close(self) -> None:
        self.backend.close()

    def check_pages(self) -> None:
        """Read every page of an SQLite store (``PRAGMA quick_check``), so that a damaged one
        is refused, naming the file, before a full build writes anything. (A PostgreSQL
        server checks its own pages.)"""
        if self.backend.name != "sqlite":
            return
        found = [str(row[0]) for row in self.conn.execute("PRAGMA quick_check(1)")]
        if found != ["ok"]:
            what = " ".join(found[0].replace("*** in database main ***", "").split())
            raise StoreError(f"{self.name}: the store is damaged ({what}); restore it from a copy")

    @property
    def schema_version(self) -> int:
        return self.backend.schema_version

    def _migrate(self) -> None:
        version = self.schema_version
        migrations = schema.MIGRATIONS  # read at each open (the tests replace it)
        if version > len(migrations):
            raise StoreError(
                f"{self.name}: schema version {version} is newer than this daybook knows "
                f"({len(migrations)}); upgrade daybook"
            )
        for number in range(version, len(migrations)):
            # One script per version, schema change and version bump in one transaction.
            self.backend.migrate(number)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        self.backend.begin()
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


def _pg_open_error(name: str, exc: BaseException) -> StoreError | None:
    """A connection refused, a database missing, a password wrong: one line naming the store."""
    module = type(exc).__module__
    if not module.startswith("psycopg"):
        return None
    text = str(exc).strip().splitlines()
    return StoreError(f"{name}: cannot open ({text[0] if text else type(exc).__name__})")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
