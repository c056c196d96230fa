"""Build a large corpus from the real shared portal days, for the relate benchmark.

The real days (../shared/data/portal-html and portal-html-2025, about 19,000 events)
are parsed as ``daybook ingest`` parses them, then copied onto earlier dates, one
whole span of the real data at a time, until the corpus holds the asked number of
events. A copy keeps its day's categories, stories, text and entities; only its date
(and so its id) changes. Entity counts therefore grow with the corpus, as in a real
archive where the same countries and wars come back year after year.

Usage: python benchmarks/make_corpus.py [--events 150000] [--out corpus.jsonl] [DATA_DIR ...]
Without --out it only prints what it built; with it, it writes daybook's JSONL
(``daybook ingest corpus.jsonl`` reads it).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from daybook.errors import ParseError
from daybook.ingest import discover, read_days
from daybook.model import Day, Event, event_id
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETS = [
    ROOT.parent / "shared" / "data" / "portal-html",
    ROOT.parent / "shared" / "data" / "portal-html-2025",
]


def real_days(sets: Iterable[Path] = DEFAULT_SETS) -> list[Day]:
    """Every readable real day, oldest first (a file that fails to parse is skipped)."""
    days: dict[dt.date, Day] = {}
    for path in discover(sets):
        try:
            for day in read_days(path):
                days[day.date] = day
        except ParseError as exc:  # skipped, as ingest would
            print(f"skipped {path}: {exc}", file=sys.stderr)
    return [days[d] for d in sorted(days)]


def moved(day: Day, date: dt.date) -> Day:
    """The same day's events on another date, with the ids that date gives them."""
    events = []
    for event in day.events:
        ident = event_id(date, event.category, event.story, event.text)
        if event.id.count("-") > 1:  # a repeated event keeps its ``-n`` suffix
            ident += "-" + event.id.rsplit("-", 1)[1]
        events.append(dataclasses.replace(event, id=ident, date=date))
    return Day(date=date, events=tuple(events))


def build_corpus(target: int, days: list[Day] | None = None) -> list[Event]:
    """``target`` events: the real days, then copies of them on earlier dates, newest first."""
    days = days if days is not None else real_days()
    if not days or not any(d.events for d in days):
        raise SystemExit("no real days to build a corpus from (is ../shared/data there?)")
    span = (days[-1].date - days[0].date).days + 1
    events: list[Event] = []
    generation = 0
    while len(events) < target:
        shift = dt.timedelta(days=span * generation)
        for day in reversed(days):
            copy = day if generation == 0 else moved(day, day.date - shift)
            events.extend(copy.events[: target - len(events)])
            if len(events) >= target:
                break
        generation += 1
    return events


def store_corpus(store: Store, events: Iterable[Event]) -> None:
    """Store the corpus a day at a time, as ingest stores days."""
    for date, day_events in itertools.groupby(sorted(events, key=lambda e: e.date), key=lambda e: e.date):
        store.replace_day(Day(date, tuple(day_events)), origin="make_corpus", format="jsonl")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000, help="corpus size (default 150000)")
    parser.add_argument("--out", type=Path, help="write the corpus as daybook JSONL here")
    parser.add_argument("sets", nargs="*", type=Path, help="portal day folders (default: the shared data)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    corpus = build_corpus(args.events, real_days(args.sets or DEFAULT_SETS))
    dates = sorted({e.date for e in corpus})
    print(f"events    {len(corpus)}")
    print(f"days      {len(dates)} ({dates[0]} to {dates[-1]})")
    print(f"entities  {len({x for e in corpus for x in e.entities})}")
    print(f"seconds   {time.perf_counter() - started:.1f}")
    if args.out:
        with args.out.open("w", encoding="utf-8") as out:
            for event in corpus:
                out.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")
        print(f"written   {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
