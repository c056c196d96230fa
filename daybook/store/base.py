"""The store's connection: opening (path, kind, migrations), transactions, and SQLite's
errors turned into ``StoreError``s naming the file."""

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

DEFAULT_PATH = Path("daybook.db")


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


class StoreBase:
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

    def __enter__(self) -> Self:
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
        migrations = schema.MIGRATIONS  # read at each open (the tests replace it)
        if version > len(migrations):
            raise StoreError(
                f"{self.name}: schema version {version} is newer than this daybook knows "
                f"({len(migrations)}); upgrade daybook"
            )
        for number in range(version, len(migrations)):
            # One script per version, schema change and version bump in one transaction.
            try:
                self.conn.executescript(
                    f"BEGIN IMMEDIATE;\n{migrations[number]}\nPRAGMA user_version = {number + 1};\nCOMMIT;"
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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
