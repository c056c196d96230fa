"""Copying a whole store to another, SQLite or PostgreSQL either way (``daybook copy``).

Table by table in the order of their foreign keys, in batches by primary key, each batch
one transaction inserting only what the destination lacks: a copy killed at any point
finishes when run again, with nothing twice. What the destination's triggers write as
rows arrive (the search index, the days changed for relate and publish) is made to match
the source at the end, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from daybook.store.backend import Connection
from daybook.store.base import StoreBase
from daybook.store.search import SearchMixin

# Every table of the schema, parents before children, with its primary key. The leases
# and hosts' turns of running enrich workers are not copied (they belong to those runs);
# ``TRIGGERED`` tables are copied last, replacing what the destination's triggers wrote.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("days", ("date",)),
    ("entities", ("id",)),
    ("events", ("id",)),
    ("event_entities", ("event_id", "entity_id")),
    ("sources", ("id",)),
    ("event_sources", ("event_id", "position")),
    ("story_events", ("line", "date", "position")),
    ("event_versions", ("event_id", "revision")),
    ("entity_info", ("title",)),
    ("source_responses", ("source_id",)),
    ("source_articles", ("source_id",)),
    ("related", ("event_id", "rank")),
    ("relation", ("id",)),
    ("relation_basis", ("event_id",)),
    ("relation_snapshot", ("part",)),
    ("portal_pages", ("date",)),
    ("robots", ("origin",)),
    ("publish_state", ("id",)),
    ("publish_changes", ("event_id",)),
)
TRIGGERED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("relate_days", ("change",)),
    ("publish_days", ("date",)),
    ("publish_events", ("event_id",)),
)
NOT_COPIED = frozenset({"enrich_leases", "host_turns", "search_docs", "event_search"})
# Rows per batch; fewer for the tables of large values (pages, the relation's snapshot).
BATCH = 2000
SMALL_BATCH = {"source_responses": 100, "relation_snapshot": 1, "portal_pages": 100}

Progress = Callable[[int], None]


def copy_store(
    source: StoreBase,
    target: SearchMixin,
    *,
    on_total: Progress | None = None,
    on_rows: Progress | None = None,
) -> int:
    """Copy every row of ``source`` that ``target`` lacks; the number of rows read."""
    tables = (*TABLES, *TRIGGERED)
    if on_total is not None:
        on_total(sum(_count(source, name) for name, _ in tables))
    done = 0
    for name, key in TABLES:
        done += _copy_table(source, target, name, key, on_rows)
    with target.transaction() as conn:
        for name, _ in TRIGGERED:
            conn.execute(f"DELETE FROM {name}")
        for name, key in TRIGGERED:
            done += _copy_rows(source, conn, name, key, on_rows)
        target.rebuild_search(conn)
        for name, column in (("entities", "id"), ("relate_days", "change")):
            target.backend.follow_identity(conn, name, column)
    return done


def _count(store: StoreBase, name: str) -> int:
    return int(store.conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])


def _copy_table(
    source: StoreBase, target: StoreBase, name: str, key: tuple[str, ...], on_rows: Progress | None
) -> int:
    """One table, a batch per transaction of the target."""
    done = 0
    for rows, insert in _batches(source, name, key):
        with target.transaction() as conn:
            conn.executemany(insert, rows)
        done += len(rows)
        if on_rows is not None:
            on_rows(len(rows))
    return done


def _copy_rows(
    source: StoreBase, conn: Connection, name: str, key: tuple[str, ...], on_rows: Progress | None
) -> int:
    """One table into an open transaction of the target."""
    done = 0
    for rows, insert in _batches(source, name, key):
        conn.executemany(insert, rows)
        done += len(rows)
        if on_rows is not None:
            on_rows(len(rows))
    return done


def _batches(
    source: StoreBase, name: str, key: tuple[str, ...]
) -> Iterator[tuple[list[tuple[object, ...]], str]]:
    """A table's rows in batches by its primary key, each with the statement inserting it."""
    after = None
    while True:
        rows, columns = _batch(source, name, key, after)
        if not rows:
            return
        yield rows, _insert(name, columns)
        after = tuple(rows[-1][columns.index(k)] for k in key)


def _batch(
    store: StoreBase, name: str, key: tuple[str, ...], after: tuple[object, ...] | None
) -> tuple[list[tuple[object, ...]], list[str]]:
    """The next rows of a table by its primary key (row values compare as both engines do)."""
    order = ", ".join(key)
    where = f" WHERE ({order}) > ({', '.join('?' * len(key))})" if after is not None else ""
    cursor = store.conn.execute(
        f"SELECT * FROM {name}{where} ORDER BY {order} LIMIT ?",
        [*(after or ()), SMALL_BATCH.get(name, BATCH)],
    )
    columns = [d[0] for d in cursor.description]
    return [tuple(row) for row in cursor.fetchall()], columns


def _insert(name: str, columns: list[str]) -> str:
    return (
        f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        " ON CONFLICT DO NOTHING"
    )
