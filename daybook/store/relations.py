"""Related lists: the events relate reads, the lists, settings and snapshot it writes."""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from daybook.errors import StoreError, UsageError
from daybook.model import (
    Item,
    Related,
    RelatedEvent,
)
from daybook.store.backend import Connection
from daybook.store.base import StoreBase, _now

# Entities relate leaves out: those the API marked disambiguation pages (schema 10).
_DISAMBIGUATION = "SELECT title FROM entity_info WHERE disambiguation = 1"
# The index of schema migration 3 that every related event's rows are found by; a full
# rewrite of the lists drops it and makes it again.
RELATED_INDEX = "CREATE INDEX related_by_related ON related(related_id)"


class RelationsMixin(StoreBase):
    """Related lists."""

    # -- relate: each event's related events (issue 4) -------------------------

    def relate_items(
        self, dates: Iterable[dt.date] | None = None, *, disambiguation: bool = False
    ) -> list[Item]:
        """Every stored event (or those of ``dates``) as relate sees it: id, date, entity titles in order.

        Disambiguation pages name no one thing: relate leaves them out (``disambiguation``
        True keeps them, for the pages that list an entity's events)."""
        where, params = "", list[str]()
        titles: dict[int | None, str] = {}
        if dates is not None:  # one parameter, however many dates
            where = f" WHERE e.date IN (SELECT value FROM {self.backend.json_each('?')})"
            params.append(json.dumps(sorted({d.isoformat() for d in dates})))
            # few events: their titles only
            titles.update(
                self.conn.execute(
                    "SELECT DISTINCT n.id, n.title FROM events e JOIN event_entities ee ON ee.event_id = e.id"
                    f" JOIN entities n ON n.id = ee.entity_id{where}",
                    params,
                )
            )
        else:
            # Every title read once (one string per title, however many events hold
            # it), not joined to each of the million rows: a third faster.
            titles.update(self.conn.execute("SELECT id, title FROM entities"))
        rows = self.conn.execute(
            "SELECT e.id, e.date, ee.entity_id FROM events e"
            f" LEFT JOIN event_entities ee ON ee.event_id = e.id{where} ORDER BY e.id, ee.position",
            params,
        )
        if not disambiguation:
            # Left out of the titles read, not in the SQL: a few titles, where a look-up per
            # row costs a third more.
            skip = {r[0] for r in self.conn.execute(_DISAMBIGUATION)}
            if skip:
                titles = {i: t for i, t in titles.items() if t not in skip}
        return [
            Item(
                ident,
                dt.date.fromisoformat(date),
                tuple([titles[row[2]] for row in group if row[2] in titles]),
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
        self.backend.begin_read()
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

    def has_relation_snapshot(self) -> bool:
        """Whether ``relation_snapshot`` has parts to give (their data not read)."""
        rows = self.conn.execute("SELECT part FROM relation_snapshot ORDER BY part").fetchall()
        return bool(rows) and [row[0] for row in rows] == list(range(len(rows)))

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
        snapshot: tuple[int, bytes] | Callable[[], tuple[int, bytes]] | None = None,
        snapshot_part: int = 0,
        seen: int | None = None,
    ) -> None:
        """Store ``lists`` (each replacing the event's list) and the events they were computed from.

        ``dropped``: events gone since (their lists went with them); ``replace``: these
        lists are all there is. ``snapshot``: (format, data) of the relation they make
        (or a function giving it once ``lists`` are written: their relation may be
        computed as they are read; with ``replace``, it is called in a thread of its
        own while the database indexes the rows, so it must not use the store), as part
        ``snapshot_part``: 0 replaces every part, another follows the parts read
        (StoreError if another refresh saved meanwhile);
        without one, the parts kept are dropped (they no longer match). ``seen``: the
        last change of ``relate_days`` the lists account for. One transaction: readers
        see the old lists or the new, and the snapshot always matches the lists.

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
                ident = item.id
                basis.append((ident, item.date.isoformat(), as_json(item.entities), len(entries)))
                # a list's rows made at once, each Context's JSON looked up inline (1.5 million rows)
                yield from [
                    (
                        ident,
                        rank,
                        entry.id,
                        entry.score,
                        contexts.get(entry.context) or context_json(entry.context),
                    )
                    for rank, entry in enumerate(entries, start=1)
                ]

        # Rewriting every list, foreign keys are off (on SQLite: it takes a connection outside
        # a transaction): the bulk delete and insert are then 2x faster. Rows naming an
        # event another writer deleted meanwhile are swept before the commit instead.
        with (
            self.backend.foreign_keys_off() if replace else contextlib.nullcontext(),
            self.transaction() as conn,
            concurrent.futures.ThreadPoolExecutor(1) as beside,
        ):
            shown: set[str] | None = None  # lists changed as pages show them (None: all)
            if replace:
                # The index on related events is made again after the rows are in: built
                # once from sorted rows, not updated 1.5 million times.
                conn.execute("DROP INDEX IF EXISTS related_by_related")
                conn.execute("DELETE FROM related")
                conn.execute("DELETE FROM relation_basis")
                new_rows: Iterable[Row] = rows(lists)
            else:
                lists = list(lists)
                new_rows, shown = self._changed_rows(conn, [item.id for item, _ in lists], list(rows(lists)))
            conn.executemany("DELETE FROM relation_basis WHERE event_id = ?", ((i,) for i in dropped))
            conn.executemany(
                "INSERT INTO related (event_id, rank, related_id, score, context) VALUES (?, ?, ?, ?, ?)",
                new_rows,
            )
            conn.executemany(
                "INSERT INTO relation_basis (event_id, date, entities, listed) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (event_id) DO UPDATE SET date = excluded.date,"
                " entities = excluded.entities, listed = excluded.listed",
                basis,
            )
            conn.execute(
                f"INSERT INTO publish_events (event_id) SELECT value FROM {self.backend.json_each('?')}"
                " WHERE EXISTS (SELECT 1 FROM publish_state) ON CONFLICT DO NOTHING",
                (json.dumps(sorted(shown) if shown is not None else [row[0] for row in basis]),),
            )
            if replace:
                if callable(snapshot):
                    # Packed while the database makes the index (its C code lets go of the
                    # GIL): a first run at 150,000 events then waits for the longer of the
                    # two, not for both one after the other (1.2 s and 1.3 s).
                    snapshot = beside.submit(snapshot).result
                conn.execute(RELATED_INDEX)
                # Events changed since ``seen`` have a later change number: only then can a
                # row name an event gone meanwhile (the sweep reads every row).
                changed_since = (
                    seen is None
                    or conn.execute("SELECT 1 FROM relate_days WHERE change > ? LIMIT 1", (seen,)).fetchone()
                )
                if changed_since:
                    conn.execute(
                        "DELETE FROM related WHERE event_id NOT IN (SELECT id FROM events)"
                        " OR related_id NOT IN (SELECT id FROM events)"
                    )
            conn.execute(
                "INSERT INTO relation (id, settings, computed_at) VALUES (1, ?, ?) ON CONFLICT (id)"
                " DO UPDATE SET settings = excluded.settings, computed_at = excluded.computed_at",
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
                    (snapshot_part, *(snapshot() if callable(snapshot) else snapshot)),
                )
            if seen is not None:
                conn.execute("DELETE FROM relate_days WHERE change <= ?", (seen,))

    def _changed_rows(
        self, conn: Connection, ids: list[str], rows: list[tuple[str, int, str, float, str]]
    ) -> tuple[list[tuple[str, int, str, float, str]], set[str]]:
        """Make the stored lists of events ``ids`` hold exactly ``rows``, but for the rows to
        insert, which are returned: a row of the same rank is updated where it differs
        (its related event's index entry only if that changed), extra ones deleted. Also
        returned: the events whose list changed other than in its scores."""
        stored: dict[tuple[str, int], tuple[str, float, str]] = {
            (event_id, rank): (related_id, score, context)
            for event_id, rank, related_id, score, context in conn.execute(
                "SELECT event_id, rank, related_id, score, context FROM related"
                f" WHERE event_id IN (SELECT value FROM {self.backend.json_each('?')})",
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
                f" WHERE event_id IN (SELECT value FROM {self.backend.json_each('?')})",
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
            raise UsageError(f"no event {event_id!r} in {self.path}")
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
        found: dict[str, list[tuple[str, list[str]]]] = {}
        for event_id, related_id, context in self.related_rows(event_ids):
            found.setdefault(event_id, []).append((related_id, json.loads(context)))
        return found

    def related_rows(self, event_ids: Iterable[str]) -> Iterator[tuple[str, str, str]]:
        """``related_lists`` as the store holds it: (event id, related id, shared entities
        as JSON), by event and rank. Digests read these (no JSON decoded)."""
        ids = list(event_ids)
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            yield from self.conn.execute(
                "SELECT event_id, related_id, context FROM related"
                f" WHERE event_id IN ({','.join('?' * len(part))}) ORDER BY event_id, rank",
                part,
            )
