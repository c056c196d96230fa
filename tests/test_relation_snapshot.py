"""The relation's snapshot in the store: refresh resumes it and gives exactly what working
from the tables gives, falls back when it cannot, and never leaves it out of step."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from daybook.errors import StoreError
from daybook.model import Day, Event, event_id
from daybook.relate import Settings, refresh, relate, settings_json
from daybook.relate import rank as relate_module
from daybook.relate import stage as relation_module
from daybook.store import MIGRATIONS, Store
from daybook.store import schema as store_schema

D = dt.date(2022, 3, 7)
TITLES = ["Ukraine", "Russia", "Kharkiv", "Kyiv", "Gaza", "Iran", "Alpha", "Beta"]
TUNING = Settings(k=3, common_share=0.3, common_floor=1)
SRC = {"origin": "test", "format": "jsonl"}


def event(offset: int, text: str, *entities: str) -> Event:
    date = D + dt.timedelta(days=offset)
    return Event(event_id(date, "War", (), text), date, "War", (), text, entities)


def day(offset: int, *events: tuple[str, tuple[str, ...]]) -> Day:
    """A day of events by text: the same text on the same day is the same event (kept, or
    edited if its entities differ)."""
    return Day(D + dt.timedelta(days=offset), tuple(event(offset, text, *ents) for text, ents in events))


def stored_lists(store: Store) -> dict[str, list[tuple[str, list[str]]]]:
    ids = [item.id for item in store.relate_items()]
    found = store.related_lists(ids)
    return {i: found.get(i, []) for i in ids}


def scored_lists(store: Store) -> dict[str, list[tuple[str, float, str]]]:
    """Every event's stored list with the scores: what a changed list differs in."""
    lists: dict[str, list[tuple[str, float, str]]] = {item.id: [] for item in store.relate_items()}
    for ident, related_id, score, context in store.conn.execute(
        "SELECT event_id, related_id, score, context FROM related ORDER BY event_id, rank"
    ):
        lists[ident].append((related_id, score, context))
    return lists


def expected_lists(store: Store, tuning: Settings) -> dict[str, list[tuple[str, list[str]]]]:
    lists = relate(store.relate_items(), tuning)
    return {i: [(r.id, list(r.context)) for r in entries] for i, entries in lists.items()}


def rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """What the tables keep of the lists, and the pages to publish (not when they were
    computed, nor the snapshot)."""
    conn = store.conn
    return {
        "related": conn.execute("SELECT * FROM related ORDER BY event_id, rank").fetchall(),
        "basis": conn.execute("SELECT * FROM relation_basis ORDER BY event_id").fetchall(),
        "settings": conn.execute("SELECT settings FROM relation").fetchall(),
        "publish": conn.execute("SELECT event_id FROM publish_events ORDER BY event_id").fetchall(),
    }


def parts(store: Store) -> list[int]:
    return [row[0] for row in store.conn.execute("SELECT part FROM relation_snapshot ORDER BY part")]


@pytest.fixture
def week(db: str) -> Iterator[Store]:
    """Three days of events, in a store on each backend."""
    with Store(db) as store:
        store.replace_day(
            day(0, ("Shelling in Kharkiv.", ("Kharkiv", "Ukraine")), ("Talks.", ("Turkey",))), **SRC
        )
        store.replace_day(
            day(1, ("Kharkiv power cut.", ("Kharkiv",)), ("Kyiv curfew.", ("Kyiv", "Ukraine"))), **SRC
        )
        store.replace_day(
            day(2, ("Kyiv drone attack.", ("Kyiv", "Ukraine")), ("Gaza.", ("Gaza", "Iran"))), **SRC
        )
        yield store


# -- the snapshot path equals the tables' path ------------------------------------

entities = st.lists(st.sampled_from(TITLES), max_size=3).map(lambda ts: tuple(dict.fromkeys(ts)))
# A day's events: texts t0..t5, so that a day ingested again keeps, edits and drops some.
days = st.tuples(
    st.integers(0, 6), st.lists(st.tuples(st.sampled_from([f"t{n}" for n in range(6)]), entities), max_size=5)
).map(lambda d: day(d[0], *dict(d[1]).items()))
tunings = st.builds(
    Settings,
    ranker=st.sampled_from(["shared", "weighted"]),
    k=st.integers(1, 3),
    common_share=st.sampled_from([0.2, 0.5]),
    common_floor=st.integers(1, 3),
)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(
    st.lists(days, min_size=1, max_size=6),
    st.lists(st.lists(days, max_size=3), max_size=5),
    tunings,
    st.sampled_from([0.0, 0.5, 10.0]),  # share of parts to the base
    st.sampled_from([0.125, 1.0]),  # share of dropped slots compacted
)
# A delta after one that placed a day among the others: resuming ranked the slots again
# from 0, not from the low that delta's successors count from (they were judged unfit).
@example(
    first=[day(0)],
    rounds=[[day(0, ("t0", ()))], [day(1, ("t0", ()))], [day(0)], [day(0, ("t0", ()))]],
    tuning=Settings(ranker="shared", k=1, common_share=0.2, common_floor=1),
    share=10.0,
    compact=0.125,
)
def test_resuming_the_snapshot_gives_what_the_tables_give(
    first: list[Day], rounds: list[list[Day]], tuning: Settings, share: float, compact: float
) -> None:
    # Two stores, the same days: one refreshes from its snapshot, the other (its snapshot
    # dropped each time) from the tables, as before there was one. Their refreshes must
    # report and store the same, and the pages to publish (lists_to_publish) too.
    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.object(relation_module, "PARTS_SHARE", share),
        mock.patch.object(relate_module, "COMPACT_SHARE", compact),
    ):
        resumed, tables = Store(Path(tmp) / "a.db"), Store(Path(tmp) / "b.db")
        for store in (resumed, tables):
            for d in first:
                store.replace_day(d, **SRC)
            assert refresh(store, tuning).full
            store.start_publishing()
        for batch in rounds:
            before = scored_lists(resumed)
            for store in (resumed, tables):
                for d in batch:
                    store.replace_day(d, **SRC)
            tables.conn.execute("DELETE FROM relation_snapshot")
            with mock.patch.object(Store, "relation_basis", side_effect=AssertionError("read the tables")):
                report = refresh(resumed, tuning)
            other = refresh(tables, tuning)
            assert (report.changed, report.removed, report.events) == (
                other.changed,
                other.removed,
                other.events,
            )
            assert not report.full and not other.full
            assert rows(resumed) == rows(tables)
            assert stored_lists(resumed) == expected_lists(resumed, tuning)
            after = scored_lists(resumed)
            differing = {i for i in after if before.get(i) != after[i]}
            on_the_days = {e.id for d in batch for e in d.events}
            assert differing <= set(report.changed) <= differing | on_the_days
            assert set(report.removed) == before.keys() - after.keys()
            assert parts(resumed) and not resumed.conn.execute("SELECT * FROM relate_days").fetchall()
        resumed.close()
        tables.close()


# -- a store from before the snapshot ----------------------------------------------


def test_a_store_migrated_from_version_5_relates_from_its_tables_once(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with mock.patch.object(store_schema, "MIGRATIONS", MIGRATIONS[:5]), Store(db) as store:  # daybook then
        assert store.schema_version == 5
        # Today's code writes an event's parent, which daybook then had no column for: the
        # column is there while it writes, and gone before the store is opened as it is now.
        store.conn.execute("ALTER TABLE events ADD COLUMN parent TEXT")
        # Likewise the entities' table (schema 10), which ingest and relate read.
        store.conn.execute(
            "CREATE TABLE entity_info (title TEXT PRIMARY KEY, target TEXT, disambiguation INT)"
        )
        # And the story lines' table (schema 11), which ingest writes.
        store.conn.execute(
            "CREATE TABLE story_events (line TEXT, date TEXT, position INT, event_id TEXT, innermost INT)"
        )
        for offset in range(3):
            store.replace_day(day(offset, ("a", ("Kyiv", "Ukraine")), ("b", ("Kyiv",))), **SRC)
        # As refresh did then: the lists and their basis (save_relation needs the snapshot's
        # table, for a moment), no snapshot.
        lists = relate(store.relate_items(), TUNING)
        store.conn.execute("CREATE TABLE relation_snapshot (part INTEGER PRIMARY KEY)")
        store.save_relation(
            settings_json(TUNING), ((item, lists[item.id]) for item in store.relate_items()), replace=True
        )
        store.conn.execute("DROP TABLE relation_snapshot")
        # A day changed after, its rows gone with it: noted nowhere but in the basis.
        store.replace_day(day(1, ("a", ("Kyiv", "Russia")), ("c", ("Ukraine",))), **SRC)
        store.conn.execute("ALTER TABLE events DROP COLUMN parent")
        store.conn.execute("DROP TABLE entity_info")
        store.conn.execute("DROP TABLE story_events")
    with Store(db) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.relation_snapshot() == [] and store.relate_days() == (0, [])
        report = refresh(store, TUNING)  # from the tables: the basis tells the change
        assert not report.full and report.changed and report.removed
        assert stored_lists(store) == expected_lists(store, TUNING)
        assert parts(store) == [0]
        store.replace_day(day(4, ("d", ("Kyiv", "Russia"))), **SRC)
        with mock.patch.object(Store, "relation_basis", side_effect=AssertionError("read the tables")):
            assert not refresh(store, TUNING).full  # from the snapshot now
        assert stored_lists(store) == expected_lists(store, TUNING)


# -- a snapshot that cannot be resumed ---------------------------------------------


def damage_base(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE relation_snapshot SET data = substr(data, 1, length(data) / 2) WHERE part = 0")


def damage_delta(conn: sqlite3.Connection) -> None:
    conn.execute(
        "UPDATE relation_snapshot SET data = ? WHERE part = (SELECT max(part) FROM relation_snapshot)",
        (b"\x00",),
    )


def other_format(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE relation_snapshot SET format = format + 1")


def a_gap(conn: sqlite3.Connection) -> None:
    conn.execute(
        "UPDATE relation_snapshot SET part = part + 1 WHERE part = (SELECT max(part) FROM relation_snapshot)"
    )


def garbage(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE relation_snapshot SET data = ?", (random.Random(5).randbytes(5000),))


def swapped_lists(conn: sqlite3.Connection) -> None:
    # Well formed, but of other settings: the refresh must not take it for these.
    data = relation_module.pack(relation_module.Relation([], Settings(k=7)))
    conn.execute("UPDATE relation_snapshot SET data = ? WHERE part = 0", (data,))


@pytest.mark.parametrize("damage", [damage_base, damage_delta, other_format, a_gap, garbage, swapped_lists])
def test_a_snapshot_that_cannot_be_resumed_is_made_again_from_the_tables(
    week: Store, damage: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relation_module, "PARTS_SHARE", 100.0)  # a small store's changes are not small
    refresh(week, TUNING)
    week.replace_day(day(3, ("x", ("Kyiv",))), **SRC)
    refresh(week, TUNING)  # a second part, the changes
    assert parts(week) == [0, 1]
    assert callable(damage)
    damage(week.conn)
    week.replace_day(day(1, ("Kharkiv power cut.", ("Kharkiv", "Russia"))), **SRC)
    report = refresh(week, TUNING)
    assert not report.full and report.removed
    assert stored_lists(week) == expected_lists(week, TUNING)
    assert parts(week) == [0]  # made again, whole
    week.replace_day(day(4, ("y", ("Kharkiv",))), **SRC)
    with mock.patch.object(Store, "relation_basis", side_effect=AssertionError("read the tables")):
        refresh(week, TUNING)
    assert stored_lists(week) == expected_lists(week, TUNING)


def test_lists_saved_without_a_snapshot_drop_it(week: Store) -> None:
    refresh(week, TUNING)
    week.save_relation(settings_json(TUNING), [])
    assert week.relation_snapshot() == []


def test_parts_are_packed_into_one_when_they_grow(week: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relation_module, "PARTS_SHARE", 100.0)
    refresh(week, TUNING)
    with mock.patch.object(relation_module, "MAX_PARTS", 3):
        for offset in range(3, 8):
            week.replace_day(day(offset, ("x", ("Kyiv", "Ukraine"))), **SRC)
            refresh(week, TUNING)
            assert len(parts(week)) <= 3
    assert parts(week) in ([0], [0, 1], [0, 1, 2])
    assert stored_lists(week) == expected_lists(week, TUNING)


def test_nothing_changed_reads_no_snapshot(week: Store) -> None:
    refresh(week, TUNING)
    with mock.patch.object(relation_module, "resume", side_effect=AssertionError("resumed")):
        report = refresh(week, TUNING)
    assert (report.changed, report.removed, report.full, report.events) == ((), (), False, 6)
    with mock.patch.object(Store, "relation_snapshot", side_effect=AssertionError("read")):
        assert refresh(week, TUNING).changed == ()
    week.conn.execute("DELETE FROM relation_snapshot WHERE part = 0")  # no snapshot fit to resume
    assert not week.has_relation_snapshot()
    assert refresh(week, TUNING).events == 6


# -- what changes meanwhile, and a refresh stopped half way ------------------------


def test_a_day_changed_while_relating_is_applied_by_the_next_refresh(week: Store) -> None:
    refresh(week, TUNING)
    week.replace_day(day(1, ("Kharkiv power cut.", ("Kharkiv", "Russia"))), **SRC)
    real = Store.relate_event_count

    def meanwhile(store: Store) -> int:  # another writer, once the refresh has read what changed
        count = real(store)
        with Store(store.location) as other:
            other.replace_day(day(2, ("Kyiv drone attack.", ("Kyiv", "Gaza"))), **SRC)
        return count

    with mock.patch.object(Store, "relate_event_count", meanwhile):
        refresh(week, TUNING)
    assert week.relate_days()[1] == [D + dt.timedelta(days=2)]  # still to apply
    assert stored_lists(week) != expected_lists(week, TUNING)
    refresh(week, TUNING)
    assert stored_lists(week) == expected_lists(week, TUNING)
    assert week.relate_days()[1] == []


def test_a_snapshot_saved_meanwhile_is_not_extended(week: Store) -> None:
    refresh(week, TUNING)
    week.replace_day(day(3, ("x", ("Kyiv",))), **SRC)
    with pytest.raises(StoreError, match="saved meanwhile"):
        week.save_relation(settings_json(TUNING), [], snapshot=(1, b""), snapshot_part=2)


def test_a_refresh_that_fails_while_saving_leaves_the_store_as_it_was(week: Store) -> None:
    refresh(week, TUNING)
    week.start_publishing()
    week.replace_day(day(1, ("Kharkiv power cut.", ("Kharkiv", "Russia"))), **SRC)
    before = rows(week), week.relation_snapshot(), week.relate_days()
    real = week.conn

    class Failing:  # the connection, failing at the snapshot: the lists are written by then
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            if sql.startswith("INSERT INTO relation_snapshot"):
                raise OSError("disk full")
            return real.execute(sql, *args)

    week.conn = Failing()  # type: ignore[assignment]
    with pytest.raises(OSError, match="disk full"):
        refresh(week, TUNING)
    week.conn = real
    assert (rows(week), week.relation_snapshot(), week.relate_days()) == before
    report = refresh(week, TUNING)
    assert report.removed and stored_lists(week) == expected_lists(week, TUNING)


KILLED = """
import os, sys
from daybook.relate import Settings
from daybook.relate import refresh, settings_json
from daybook.store import MIGRATIONS, Store
store = Store(sys.argv[1])
real = store.conn.execute
def execute(sql, *args):
    if sql.startswith("INSERT INTO relation_snapshot"):
        os._exit(9)  # killed inside the transaction, the lists written
    return real(sql, *args)
class Conn:
    def __getattr__(self, name):
        return execute if name == "execute" else getattr(store.conn_real, name)
store.conn_real = store.conn
store.conn = Conn()
refresh(store, Settings(k=3, common_share=0.3, common_floor=1))
"""


def test_a_refresh_killed_while_saving_leaves_the_store_as_it_was(week: Store) -> None:
    refresh(week, TUNING)
    week.replace_day(day(1, ("Kharkiv power cut.", ("Kharkiv", "Russia"))), **SRC)
    before = rows(week), week.relation_snapshot(), week.relate_days()
    killed = subprocess.run([sys.executable, "-c", KILLED, week.location], check=False)
    assert killed.returncode == 9
    assert (rows(week), week.relation_snapshot(), week.relate_days()) == before
    report = refresh(week, TUNING)
    assert report.removed and stored_lists(week) == expected_lists(week, TUNING)
