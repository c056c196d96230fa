"""The stored relation (daybook.relate, Store's relate queries) and the relate/related commands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner

from daybook.cli import cli
from daybook.model import Day, Event, event_id
from daybook.relate import Settings, refresh, relate, settings_json
from daybook.store import Store

D = dt.date(2022, 3, 7)


def event(offset: int, text: str, *entities: str) -> Event:
    date = D + dt.timedelta(days=offset)
    return Event(event_id(date, "War", (), text), date, "War", (), text, entities)


def make_day(offset: int, *events: Event) -> Day:
    return Day(D + dt.timedelta(days=offset), events)


WEEK = [
    make_day(
        0, event(0, "Shelling in Kharkiv.", "Kharkiv", "Ukraine"), event(0, "Talks in Ankara.", "Turkey")
    ),
    make_day(1, event(1, "Kharkiv power cut.", "Kharkiv"), event(1, "Kyiv curfew.", "Kyiv", "Ukraine")),
    make_day(
        2, event(2, "Kyiv drone attack.", "Kyiv", "Ukraine"), event(2, "Ankara meeting.", "Turkey", "Russia")
    ),
]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "t.db")
    for day in WEEK:
        store.replace_day(day, origin="test", format="jsonl")
    return store


def stored_lists(store: Store) -> dict[str, list[tuple[str, list[str]]]]:
    ids = [item.id for item in store.relate_items()]
    found = store.related_lists(ids)
    return {i: found.get(i, []) for i in ids}


def expected_lists(store: Store, settings: Settings) -> dict[str, list[tuple[str, list[str]]]]:
    lists = relate(store.relate_items(), settings)
    return {i: [(r.id, list(r.context)) for r in entries] for i, entries in lists.items()}


def test_first_refresh_computes_every_list(store: Store) -> None:
    report = refresh(store, Settings(ranker="shared"))
    assert report.full and report.events == 6 and len(report.changed) == 6
    assert stored_lists(store) == expected_lists(store, Settings(ranker="shared"))
    assert store.relation_settings() == settings_json(Settings(ranker="shared"))


@pytest.mark.parametrize("ranker", ["shared", "weighted"])
def test_a_day_ingested_again_is_applied_incrementally(store: Store, ranker: str) -> None:
    tuning = Settings(ranker=ranker, common_floor=1, common_share=0.3)  # type: ignore[arg-type]
    refresh(store, tuning)
    kharkiv = WEEK[0].events[0].id
    before = dict(stored_lists(store))
    tuesday = make_day(1, event(1, "Kharkiv metro hit.", "Kharkiv", "Ukraine"), WEEK[1].events[1])
    change = store.replace_day(tuesday, origin="test", format="jsonl")
    # The removed event is gone from every list at once, before any refresh.
    assert all(r != change.removed[0] for rows in stored_lists(store).values() for r, _ in rows)

    report = refresh(store, tuning)
    assert not report.full
    assert report.removed == change.removed
    assert stored_lists(store) == expected_lists(store, tuning)
    after = stored_lists(store)
    differing = {i for i in after if before.get(i) != after[i]}
    assert set(report.changed) == differing  # exactly the pages to render again
    assert kharkiv in differing  # another day's list gained the new event
    assert change.added[0] in differing and len(differing) < len(after)


def test_a_day_ingested_again_unchanged_touches_no_list(store: Store) -> None:
    refresh(store)
    expected = stored_lists(store)
    assert not store.replace_day(WEEK[1], origin="test", format="jsonl").changed
    assert stored_lists(store) == expected and store.relate_days()[1] == []
    report = refresh(store)
    assert not report.full and report.changed == () and report.removed == ()


def test_a_day_stored_again_repairs_the_lists_it_touched(store: Store) -> None:
    refresh(store)
    expected = stored_lists(store)
    # The same events in another order: stored again, so their rows cascade away.
    store.replace_day(make_day(1, *reversed(WEEK[1].events)), origin="test", format="jsonl")
    assert stored_lists(store) != expected
    report = refresh(store)
    assert not report.full and report.changed == () and report.removed == ()
    assert stored_lists(store) == expected


@pytest.mark.parametrize("meanwhile", [False, True])
def test_every_list_saved_names_only_stored_events(store: Store, meanwhile: bool) -> None:
    # Every list is written with foreign keys off; a day stored again after the events
    # were read (its events deleted) must leave no row naming one of the old ones.
    seen, _ = store.relate_days()
    items = store.relate_items()
    lists = relate(items, Settings(ranker="shared"))
    if meanwhile:
        store.replace_day(make_day(0, WEEK[0].events[0]), origin="test", format="jsonl")
    store.save_relation(
        settings_json(Settings(ranker="shared")),
        ((item, lists[item.id]) for item in items),
        replace=True,
        seen=seen,
    )
    ids = {item.id for item in store.relate_items()}
    rows = store.conn.execute("SELECT event_id, related_id FROM related").fetchall()
    assert (len(ids) < len(items)) == meanwhile
    assert sorted(rows) == sorted((i, r.id) for i in ids for r in lists[i] if r.id in ids)
    indexes = store.conn.execute(
        "SELECT name FROM sqlite_master WHERE tbl_name = 'related' AND type = 'index'"
    )
    assert "related_by_related" in {row[0] for row in indexes}


def test_new_settings_compute_every_list_again(store: Store) -> None:
    refresh(store, Settings(ranker="shared"))
    report = refresh(store, Settings(ranker="shared", k=1))
    assert report.full
    assert all(len(rows) <= 1 for rows in stored_lists(store).values())
    assert refresh(store, Settings(ranker="shared", k=1), full=True).full


# -- the commands ------------------------------------------------------------------


def run(*args: str, db: Path) -> click.testing.Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], obj={})


def test_relate_then_related_prints_the_list_in_order(store: Store) -> None:
    db = store.path
    store.close()
    result = run("relate", "--ranker", "shared", "--k", "3", db=db)
    assert result.exit_code == 0, result.output
    assert "6 changed" in result.output
    kharkiv = WEEK[0].events[0].id
    result = run("related", kharkiv, "--format", "jsonl", db=db)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["id"], r["date"], r["text"], r["context"]) for r in rows] == [
        (WEEK[2].events[0].id, "2022-03-09", "Kyiv drone attack.", ["Ukraine"]),
        (WEEK[1].events[1].id, "2022-03-08", "Kyiv curfew.", ["Ukraine"]),
        (WEEK[1].events[0].id, "2022-03-08", "Kharkiv power cut.", ["Kharkiv"]),
    ]
    assert "Kyiv drone attack." in run("related", kharkiv, db=db).output
    again = run("relate", "--ranker", "shared", "--k", "3", db=db)
    assert "updated" in again.output and "0 changed" in again.output


def test_related_refuses_an_unknown_event_or_a_store_never_related(store: Store) -> None:
    db = store.path
    store.close()
    result = run("related", WEEK[0].events[0].id, db=db)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "daybook relate" in result.output
    run("relate", db=db)
    result = run("related", "20220307-nope", db=db)
    assert result.exit_code == 1
    assert result.output.startswith("Error: no event '20220307-nope'") and result.output.count("\n") == 1
