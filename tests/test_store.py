"""The store: schema, migrations, replacing a day, queries."""

from __future__ import annotations

import datetime as dt
import os
import pwd
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pg_cluster
import psycopg
import pytest

from daybook.errors import StoreError
from daybook.model import Day, Event, Source, event_id, normalize_url, url_key
from daybook.store import MIGRATIONS, Store


def make_event(date: dt.date, text: str, entities: tuple[str, ...] = (), urls: tuple[str, ...] = ()) -> Event:
    story = ("Some story",)
    return Event(
        id=event_id(date, "Sports", story, text),
        date=date,
        category="Sports",
        story=story,
        text=text,
        entities=entities,
        sources=tuple(Source(outlet=f"Outlet {i}", url=u) for i, u in enumerate(urls)),
    )


D1, D2 = dt.date(2022, 3, 7), dt.date(2022, 3, 8)


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    """A new store on each backend (``db``: SQLite file, PostgreSQL database)."""
    with Store(db) as opened:
        yield opened


def test_new_store_is_at_latest_schema(store: Store) -> None:
    assert store.schema_version == len(MIGRATIONS)
    if store.backend.name == "sqlite":
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopened_store_keeps_its_schema_and_days(db: str) -> None:
    with Store(db) as store:
        store.replace_day(Day(D1, (make_event(D1, "A.", ("X",)),)), origin="x", format="jsonl")
    with Store(db, create=False) as store:
        assert store.schema_version == len(MIGRATIONS) and len(store.events()) == 1


def test_round_trip_keeps_every_field_in_order(store: Store) -> None:
    event = make_event(D1, "A happens.", ("Zeta", "Alpha"), ("https://b.example/2", "https://a.example/1"))
    store.replace_day(Day(D1, (event,)), origin="x", format="jsonl")
    assert store.events() == [event]
    assert store.events(date=D1) == [event]
    assert store.events(date=D2) == []


def test_replacing_a_day_leaves_other_days_alone(store: Store) -> None:
    a, b = make_event(D1, "A.", ("X",)), make_event(D2, "B.", ("X",))
    store.replace_day(Day(D1, (a,)), origin="x", format="jsonl")
    store.replace_day(Day(D2, (b,)), origin="x", format="jsonl")
    c = make_event(D1, "C.", ("Y",))
    change = store.replace_day(Day(D1, (c,)), origin="x", format="jsonl")
    assert change.added == (c.id,) and change.removed == (a.id,) and change.kept == ()
    assert [e.text for e in store.events()] == ["C.", "B."]
    stats = store.stats()
    assert (stats.days, stats.events, stats.entities) == (2, 2, 2)


def test_same_day_again_changes_nothing(store: Store) -> None:
    day = Day(D1, (make_event(D1, "A.", ("X",), ("https://a.example/",)),))
    store.replace_day(day, origin="x", format="jsonl")
    change = store.replace_day(day, origin="x", format="jsonl")
    assert not change.changed and change.kept == (day.events[0].id,)


def test_sources_are_one_row_per_normalized_url(store: Store) -> None:
    first = make_event(D1, "A.", (), ("https://news.example/a?utm_source=tw",))
    second = make_event(D2, "B.", (), ("HTTPS://NEWS.example/a#top",))
    store.replace_day(Day(D1, (first,)), origin="x", format="jsonl")
    store.replace_day(Day(D2, (second,)), origin="x", format="jsonl")
    assert store.conn.execute("SELECT count(*) FROM sources").fetchone()[0] == 1
    key = store.conn.execute("SELECT id FROM sources").fetchone()[0]
    assert key == url_key("https://news.example/a")
    # Each citation keeps the URL exactly as the portal gave it.
    assert store.events(date=D2)[0].sources[0].url == "HTTPS://NEWS.example/a#top"
    assert store.stats().events_with_sources == 2 and store.stats().sources == 1


def test_failed_day_rolls_back_whole(store: Store) -> None:
    good = make_event(D1, "A.")
    store.replace_day(Day(D1, (good,)), origin="x", format="jsonl")
    duplicate = make_event(D1, "B.")
    with pytest.raises(store.backend.errors):  # a duplicate id: the driver's integrity error
        store.replace_day(Day(D1, (duplicate, duplicate)), origin="x", format="jsonl")
    assert store.events() == [good]


def test_store_newer_than_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_garbage_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match=str(path)):
        Store(path)


def test_postgresql_store_newer_than_code_is_refused(postgres: pg_cluster.Cluster) -> None:
    url = postgres.new_database()
    Store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE daybook_schema SET version = %s", (len(MIGRATIONS) + 5,))
    with pytest.raises(StoreError, match="newer"):
        Store(url)


def test_postgresql_database_of_something_else_is_refused(postgres: pg_cluster.Cluster) -> None:
    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(StoreError, match="not a daybook store"):
        Store(url)


def test_missing_postgresql_database_is_one_line(postgres: pg_cluster.Cluster) -> None:
    with pytest.raises(StoreError, match="cannot open"):
        Store(postgres.url("no_such_db"))


def test_empty_postgresql_database_is_no_store_to_read(postgres: pg_cluster.Cluster) -> None:
    with pytest.raises(StoreError, match="no daybook store"):
        Store(postgres.new_database(), create=False)


def test_date_range_is_inclusive(store: Store) -> None:
    for day in (D1, D2, D2 + dt.timedelta(days=1)):
        store.replace_day(Day(day, (make_event(day, f"On {day}."),)), origin="x", format="jsonl")
    assert [e.date for e in store.events(start=D1, end=D2)] == [D1, D2]
    assert store.dates()[0] == D1


def test_normalize_url() -> None:
    assert (
        normalize_url("HTTPS://Example.COM:443/a/b?utm_source=x&id=3#frag") == "https://example.com/a/b?id=3"
    )
    assert normalize_url("http://x.example:8080") == "http://x.example:8080/"
    assert normalize_url("http://[broken") == "http://[broken"


def test_story_events_give_the_neighbours_the_whole_story_index_gives(tmp_path: Path) -> None:
    """An update's story neighbours (looked up in the store's index, filled with each day and
    by the migration for a store made before it) are those a full build finds reading every story."""
    from daybook.ingest import ingest_paths
    from daybook.publish.context import STORY_NEIGHBOURS, _StoryIndex

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "portal-html-2025"
    pages = sorted(shared.glob("2026-03-0*.html"))
    assert len(pages) >= 9
    with Store(tmp_path / "s.db") as store:
        assert not ingest_paths(store, pages).failures
        # As the migration fills it, for a store whose events came before the table.
        with store.transaction() as conn:
            conn.execute("DELETE FROM story_events")
            migration = next(m for m in MIGRATIONS if "CREATE TABLE story_events" in m)
            conn.execute("INSERT INTO story_events" + migration.split("INSERT INTO story_events", 1)[1])
        stories = _StoryIndex(store.story_paths())
        ids = [ident for ident, _, _ in store.story_paths()]
        assert len(ids) > 100
        for ident in ids:
            assert store.story_neighbours(ident, STORY_NEIGHBOURS) == stories.neighbours(ident)
        lines = list(stories.lines)[:40]
        dates = [D1, dt.date(2026, 3, 4), dt.date(2026, 3, 9)]
        assert store.story_around(lines, dates, STORY_NEIGHBOURS) == stories.around(lines, dates)
        # A day replaced: the table follows its events, as the in-memory index read afresh.
        store.replace_day(Day(dt.date(2026, 3, 4), ()), origin="t", format="jsonl")
        stories = _StoryIndex(store.story_paths())
        for ident in [ident for ident, _, _ in store.story_paths()]:
            assert store.story_neighbours(ident, STORY_NEIGHBOURS) == stories.neighbours(ident)


def test_the_throwaway_cluster_runs_unprivileged(postgres: pg_cluster.Cluster) -> None:
    """initdb and the server refuse root (CI runs as root): the cluster is then nobody's."""
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        data = Path(conn.execute("SELECT current_setting('data_directory')").fetchone()[0])
    owner = data.stat().st_uid
    assert owner != 0
    if os.geteuid() == 0:
        assert owner == pwd.getpwnam("nobody").pw_uid
    assert postgres.socket.is_relative_to(postgres.root)  # a socket in its own folder, no TCP port


def test_a_thread_read_in_part_is_the_whole_thread_s(store: Store) -> None:
    """An update reads a name's months, its count before a day and a slice of it: each
    as the whole thread (``entity_thread``, ``category_thread``) gives it."""
    days = [dt.date(2021, 12, 30) + dt.timedelta(days=3 * n) for n in range(30)]  # over three months
    for n, date in enumerate(days):
        events = tuple(make_event(date, f"Event {n}.{k}.", ("X", "Y") if k % 2 else ("Y",)) for k in range(3))
        store.replace_day(Day(date, events), origin="x", format="jsonl")
    for kind, name, whole in (
        ("entity", "X", store.entity_thread("X")),
        ("entity", "Y", store.entity_thread("Y")),
        ("category", "Sports", store.category_thread("Sports")),
    ):
        dates = [date for _, date in whole]
        months = sorted({(d.year, d.month) for d in dates})
        assert store.thread_months(kind, name) == [
            (y, m, sum(1 for d in dates if (d.year, d.month) == (y, m))) for y, m in months
        ]
        for day in (days[0], days[7], days[-1] + dt.timedelta(days=1)):
            assert store.thread_count_before(kind, name, day) == sum(1 for d in dates if d < day)
        for start, count in ((0, len(whole)), (5, 7), (len(whole) - 2, 2), (len(whole), 0)):
            assert store.thread_slice(kind, name, start, count) == whole[start : start + count]
    assert store.thread_months("entity", "Nobody") == []
    assert store.thread_slice("entity", "Nobody", 0, 5) == []
