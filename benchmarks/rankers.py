"""Compare the relate rankers on the real shared portal days and print a table.

For every ranker, over all real events (../shared/data/portal-html*):

- listed: events with at least one related event; mean length of a list;
- same story: of the related events of an event filed under a story, the share filed
  under the same innermost story (how often a list stays on the event's own story);
- dominated: lists where half or more of the entries share nothing with the event
  but one very common entity (held by over 1% of events: United States, Russia,
  COVID-19 pandemic...), the flooding the weighted ranker is built to stop;
- context: mean number of shared entities shown per related event;
- gap: median distance in days between an event and its related events;
- churn: lists changed (beside the day's own) when the newest day of 20 events or
  more is ingested again with one event fewer: the pages the update stage re-renders.

Usage: python benchmarks/rankers.py [--k 10] [DATA_DIR ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from make_corpus import DEFAULT_SETS, real_days

from daybook.model import Event
from daybook.relate import RANKERS, Item, Relation, Settings

VERY_COMMON_SHARE = 0.01


def measure(events: list[Event], settings: Settings) -> dict[str, float | str]:
    """The figures of one ranker over ``events``."""
    by_id = {e.id: e for e in events}
    items = [Item(e.id, e.date, e.entities) for e in events]
    started = time.perf_counter()
    relation = Relation(items, settings)
    seconds = time.perf_counter() - started
    counts = {x: relation.entity_count(x) for e in events for x in e.entities}
    very_common = {x for x, n in counts.items() if n > VERY_COMMON_SHARE * len(events)}
    listed = lengths = same = storied = dominated = context = 0
    by: dict[str, int] = {}  # the entity dominating each dominated list
    gaps: list[int] = []
    for event_id, entries in relation.entries():
        if not entries:
            continue
        event = by_id[event_id]
        listed += 1
        lengths += len(entries)
        flooding: dict[str, int] = {}
        for entry in entries:
            other = by_id[entry.id]
            context += len(entry.context)
            gaps.append(abs((other.date - event.date).days))
            if event.story:
                storied += 1
                same += bool(other.story) and other.story[-1] == event.story[-1]
            if len(entry.context) == 1 and entry.context[0] in very_common:
                flooding[entry.context[0]] = flooding.get(entry.context[0], 0) + 1
        for entity, n in flooding.items():
            if 2 * n >= len(entries):
                dominated += 1
                by[entity] = by.get(entity, 0) + 1
    by_day: dict[object, list[Event]] = {}
    for e in events:
        by_day.setdefault(e.date, []).append(e)
    last = max(d for d, evs in by_day.items() if len(evs) >= 20)  # a full day, not a stub
    day = by_day[last]
    started = time.perf_counter()
    change = relation.update(
        removed=[e.id for e in day], added=[Item(e.id, e.date, e.entities) for e in day[1:]]
    )
    update_seconds = time.perf_counter() - started
    return {
        "events": len(events),
        "listed": listed,
        "mean length": lengths / max(listed, 1),
        "same story %": 100 * same / max(storied, 1),
        "dominated lists": dominated,
        "  by": ", ".join(f"{e} {n}" for e, n in sorted(by.items(), key=lambda p: -p[1])[:4]) or "-",
        "mean context": context / max(lengths, 1),
        "median gap (days)": float(statistics.median(gaps)) if gaps else 0.0,
        "churn (lists)": len(change.changed) - (len(day) - 1),
        "full seconds": seconds,
        "update seconds": update_seconds,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--common-share", type=float, default=Settings().common_share, help="weighted only")
    parser.add_argument("--common-weight", type=int, default=Settings().common_weight, help="weighted only")
    parser.add_argument("sets", nargs="*", type=Path, help="portal day folders (default: the shared data)")
    args = parser.parse_args(argv)
    events = [e for day in real_days(args.sets or DEFAULT_SETS) for e in day.events]
    tuning = {"common_share": args.common_share, "common_weight": args.common_weight}
    rows = {
        ranker: measure(events, Settings(ranker=ranker, k=args.k, **(tuning if ranker == "weighted" else {})))
        for ranker in RANKERS
    }
    print(f"{'':<20}" + "".join(f"{r:>12}" for r in rows))
    for key in next(iter(rows.values())):
        if key == "  by":  # too wide for a column
            for ranker, row in rows.items():
                print(f"  {ranker} lists dominated by: {row[key]}")
            continue
        cells = "".join(
            f"{row[key]:>12.2f}" if isinstance(row[key], float) else f"{row[key]:>12}"
            for row in rows.values()
        )
        print(f"{key:<20}{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
