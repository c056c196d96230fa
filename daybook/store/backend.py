"""The one place where SQL differs between the two kinds of store: SQLite (a file, the
embedded default) and PostgreSQL (``postgresql://user@host/db``, for big users and many
enrich workers).

The mixins write one SQL text for both, in SQLite's ``?`` placeholder style and in the
portable forms both engines take (``INSERT ... ON CONFLICT (...) DO ...``, ``RETURNING``,
standard functions). What cannot be written once comes from the store's ``Backend``:

- ``json_each(expr)``: the rows of a JSON list (column ``value``), for "one parameter,
  however many ids";
- ``lines(expr, order)``: values joined by newlines, in ``order``;
- ``unindexed(column)``: a column the planner must not use an index for (SQLite's ``+``);
- connection, transactions, the schema version, migrations (``schema.postgresql``
  translates a portable migration; ``schema.PG_MIGRATIONS`` holds the ones that cannot be
  translated: triggers and full-text search), and errors about the store itself.

Full-text search is the one feature written twice (``daybook/store/search.py`` asks
``backend.name``): FTS5 on SQLite, a ``tsvector`` with a GIN index on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sqlite3
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from daybook.errors import StoreError
from daybook.store import schema


class Cursor(Protocol):
    """What the mixins use of a query's result (an ``sqlite3.Cursor`` or psycopg's)."""

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the mixins use of a connection: ``?`` placeholders on both backends."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...


POSTGRESQL_SCHEMES = frozenset({"postgresql", "postgres"})


class Backend:
    """One kind of store: its connection and its SQL dialect."""

    name: str
    conn: Connection
    #: Exceptions of this backend's driver (a ``with Store`` turns those about the store into StoreError).
    errors: tuple[type[BaseException], ...]
    #: The driver's error for a search query it cannot parse.
    query_errors: tuple[type[BaseException], ...]

    def json_each(self, expr: str) -> str:
        """A table of the elements of the JSON list ``expr`` as text, column ``value``."""
        raise NotImplementedError

    def lines(self, expr: str, order: str) -> str:
        """An aggregate: the values of ``expr`` joined by newlines, in ``order``."""
        raise NotImplementedError

    def unindexed(self, column: str) -> str:
        """``column``, such that the planner will not look it up by an index."""
        return column

    #: The database's clock, in seconds since the epoch (one clock for all workers).
    clock: str

    def set_up(self) -> None:
        """Settings of the connection, once the store is known to be daybook's."""

    def close(self) -> None:
        raise NotImplementedError

    @property
    def in_transaction(self) -> bool:
        raise NotImplementedError

    def begin(self) -> None:
        """Begin a write transaction (one writer at a time, as SQLite has it)."""
        raise NotImplementedError

    def begin_read(self) -> None:
        """Begin a read transaction that sees one moment."""
        raise NotImplementedError

    @property
    def schema_version(self) -> int:
        raise NotImplementedError

    def has_other_tables(self) -> bool:
        """Whether the database holds tables though it holds no daybook schema."""
        raise NotImplementedError

    def migrate(self, number: int) -> None:
        """Run migration ``number`` (0-based) and record version ``number + 1``, in one transaction."""
        raise NotImplementedError

    @contextlib.contextmanager
    def foreign_keys_off(self) -> Iterator[None]:
        """Foreign keys unchecked for a bulk rewrite, where the backend allows it."""
        yield

    def error(self, name: str, exc: BaseException) -> StoreError | None:
        """The one-line ``StoreError`` for what the driver said about the store itself, or None."""
        raise NotImplementedError

    def follow_identity(self, conn: Connection, table: str, column: str) -> None:
        """After rows were inserted with their own numbers (a copy): the numbers the table
        gives next follow them. SQLite takes the largest plus one by itself."""


# -- SQLite --------------------------------------------------------------------

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


def sqlite_error(name: str, exc: sqlite3.Error) -> StoreError | None:
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


class SQLiteBackend(Backend):
    """A store file, through the standard library's sqlite3."""

    name = "sqlite"
    clock = "((julianday('now') - 2440587.5) * 86400.0)"
    errors = (sqlite3.Error,)
    query_errors = (sqlite3.OperationalError,)

    def __init__(self, path: Path, *, create: bool) -> None:
        # mode=rw never creates the file (nor -wal, -shm): a mistyped path stays a mistake.
        uri = f"file:{urllib.parse.quote(os.fspath(path.absolute()))}?mode={'rwc' if create else 'rw'}"
        # Autocommit mode: transactions are explicit (``Store.transaction()``), one per day.
        self.sqlite = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
        self.conn = self.sqlite

    def set_up(self) -> None:
        self.sqlite.execute("PRAGMA journal_mode=WAL")
        self.sqlite.execute("PRAGMA foreign_keys=ON")
        self.sqlite.execute("PRAGMA synchronous=NORMAL")

    def json_each(self, expr: str) -> str:
        return f"json_each({expr})"

    def lines(self, expr: str, order: str) -> str:
        # group_concat takes no ORDER BY before SQLite 3.44: the callers' joins walk a
        # primary key whose order is ``order``.
        return f"group_concat({expr}, char(10))"

    def unindexed(self, column: str) -> str:
        return f"+{column}"

    def close(self) -> None:
        self.sqlite.close()

    @property
    def in_transaction(self) -> bool:
        return self.sqlite.in_transaction

    def begin(self) -> None:
        self.sqlite.execute("BEGIN IMMEDIATE")

    def begin_read(self) -> None:
        self.sqlite.execute("BEGIN")

    @property
    def schema_version(self) -> int:
        return int(self.sqlite.execute("PRAGMA user_version").fetchone()[0])

    def has_other_tables(self) -> bool:
        return bool(self.sqlite.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])

    def migrate(self, number: int) -> None:
        script = schema.MIGRATIONS[number]
        try:
            self.sqlite.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number + 1};\nCOMMIT;"
            )
        except BaseException:
            if self.sqlite.in_transaction:
                self.sqlite.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def foreign_keys_off(self) -> Iterator[None]:
        # Only outside a transaction does SQLite take the pragma.
        self.sqlite.execute("PRAGMA foreign_keys=OFF")
        try:
            yield
        finally:
            self.sqlite.execute("PRAGMA foreign_keys=ON")

    def error(self, name: str, exc: BaseException) -> StoreError | None:
        return sqlite_error(name, exc) if isinstance(exc, sqlite3.Error) else None


# -- PostgreSQL ------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _pg_sql(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled). daybook's SQL holds
    no ``?`` in a string literal."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PgConnection:
    """A psycopg connection taking the mixins' SQL (``?`` placeholders) as it is."""

    def __init__(self, conn: Any) -> None:
        self.pg = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        if not parameters:
            return self.pg.execute(sql)  # type: ignore[no-any-return]
        return self.pg.execute(_pg_sql(sql), list(parameters))  # type: ignore[no-any-return]

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any:
        with self.pg.cursor() as cursor:
            cursor.executemany(_pg_sql(sql), [list(p) for p in parameters])


# The transaction-wide advisory lock every write transaction takes: writers one at a time,
# as on SQLite (BEGIN IMMEDIATE), so that a day's read-then-replace sees no other writer.
_WRITE_LOCK = 0x64617962  # "dayb"


class PostgresBackend(Backend):
    """A database on a PostgreSQL server, through psycopg 3."""

    name = "postgresql"
    clock = "extract(epoch from clock_timestamp())::float8"

    def __init__(self, url: str) -> None:
        import psycopg  # only PostgreSQL stores need it

        self.psycopg = psycopg
        self.errors = (psycopg.Error,)
        self.query_errors = (psycopg.errors.SyntaxError, psycopg.errors.InvalidParameterValue)
        # Autocommit: transactions are explicit, as on SQLite.
        self.pg = psycopg.connect(url, autocommit=True, connect_timeout=30)
        self.conn = _PgConnection(self.pg)

    def json_each(self, expr: str) -> str:
        return f"json_array_elements_text(CAST({expr} AS json))"

    def lines(self, expr: str, order: str) -> str:
        return f"string_agg({expr}, chr(10) ORDER BY {order})"

    def close(self) -> None:
        self.pg.close()

    @property
    def in_transaction(self) -> bool:
        return bool(self.pg.info.transaction_status != self.psycopg.pq.TransactionStatus.IDLE)

    def begin(self) -> None:
        self.pg.execute("BEGIN")
        self.pg.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))

    def begin_read(self) -> None:
        self.pg.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _has_version_table(self) -> bool:
        row = self.pg.execute("SELECT to_regclass('daybook_schema')").fetchone()
        return row is not None and row[0] is not None

    @property
    def schema_version(self) -> int:
        if not self._has_version_table():
            return 0
        row = self.pg.execute("SELECT version FROM daybook_schema").fetchone()
        return int(row[0]) if row else 0

    def has_other_tables(self) -> bool:
        row = self.pg.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchone()
        return bool(row and row[0])

    def migrate(self, number: int) -> None:
        script = schema.postgresql(number)
        self.begin()
        try:
            # Two migrations at once (two first opens) wait here for each other.
            self.pg.execute("CREATE TABLE IF NOT EXISTS daybook_schema (version INTEGER NOT NULL)")
            if self.schema_version == number:
                self.pg.execute(script)
                self.pg.execute("DELETE FROM daybook_schema")
                self.pg.execute("INSERT INTO daybook_schema (version) VALUES (%s)", (number + 1,))
        except BaseException:
            self.pg.execute("ROLLBACK")
            raise
        self.pg.execute("COMMIT")

    def follow_identity(self, conn: Connection, table: str, column: str) -> None:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
            f" coalesce(max({column}), 0) + 1, false) FROM {table}"
        )

    def error(self, name: str, exc: BaseException) -> StoreError | None:
        errors = self.psycopg.errors
        if isinstance(exc, self.psycopg.OperationalError | errors.InsufficientPrivilege):
            return StoreError(f"{name}: cannot use the store ({_first_line(exc)})")
        return None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def is_postgresql(location: str) -> bool:
    """Whether a store given as text is a PostgreSQL URL."""
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", location)
    return scheme is not None and scheme[1].lower() in POSTGRESQL_SCHEMES


def safe_url(url: str) -> str:
    """A PostgreSQL URL without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))
