"""Reading the store ahead in a thread (``daybook.publish.ahead``): what an update reads
of each name comes out in order, as read directly, over a connection of the thread's own;
an error is raised where its result is taken; a missing store is not created."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from daybook.errors import StoreError
from daybook.model import Day, Event, Source, event_id
from daybook.publish import ahead
from daybook.publish.ahead import read_ahead
from daybook.store import Store

TITLES = [f"Entity {n}" for n in range(40)]


def _event(date: dt.date, position: int, entities: tuple[str, ...]) -> Event:
    text = f"Event {position} of {date}."
    return Event(
        id=event_id(date, "Politics", (), text),
        date=date,
        category="Politics",
        story=(),
        text=text,
        entities=entities,
        sources=(Source("Outlet", f"https://example.org/{date}/{position}"),),
    )


@pytest.fixture
def location(db: str) -> str:
    """A store of 30 days whose events hold overlapping runs of the 40 entities."""
    with Store(db) as store:
        for number in range(30):
            date = dt.date(2024, 1, 1) + dt.timedelta(days=number)
            events = tuple(
                _event(date, k, tuple(TITLES[(number + k + j) % 40] for j in range(3))) for k in range(4)
            )
            store.replace_day(Day(date, events), origin="test", format="jsonl")
    return db


def _read(store: Store, title: str) -> tuple[str, list[tuple[str, dt.date]], dict[str, int], str]:
    return title, store.entity_thread(title), store.entity_company(title), threading.current_thread().name


def test_reads_come_in_order_as_read_directly_from_another_thread(location: str) -> None:
    with Store(location) as store:
        direct = [_read(store, title)[:3] for title in TITLES]
    with read_ahead(location, TITLES, _read) as reads:
        ahead_of = list(reads)
    assert [read[:3] for read in ahead_of] == direct
    assert {thread for *_, thread in ahead_of} != {threading.current_thread().name}


def test_an_error_is_raised_where_its_result_is_taken(location: str) -> None:
    def read(store: Store, title: str) -> int:
        if title == TITLES[5]:
            raise ValueError(f"cannot read {title}")
        return len(store.entity_thread(title))

    taken = []
    with pytest.raises(ValueError, match="cannot read Entity 5"), read_ahead(location, TITLES, read) as reads:
        for count in reads:
            taken.append(count)
    assert len(taken) == 5


def test_leaving_early_reads_no_more_than_the_depth_ahead(location: str) -> None:
    asked: list[str] = []

    def read(store: Store, title: str) -> str:
        asked.append(title)
        return title

    with read_ahead(location, TITLES, read) as reads:
        assert next(reads) == TITLES[0]
    assert len(asked) <= ahead.DEPTH + 1
    assert asked == TITLES[: len(asked)]


def test_a_missing_store_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with (
        pytest.raises(StoreError, match="no daybook store"),
        read_ahead(str(missing), TITLES, _read) as reads,
    ):
        next(reads)
    assert not missing.exists()
