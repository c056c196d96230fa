"""How faithfully ingest reads the portal: every event the page shows, and no source lost
in a story name. Both shared HTML sets are ingested (as ``daybook ingest`` does, into a
fresh store) and compared, day by day, with an independent lxml count of the same pages
(tests/portal_count.py, which the whole-set test uses too).

Printed per set: days; events per day, ingested and counted (and the difference in all);
days whose counts differ; events citing a source, ingested and counted; events with
nested follow-ups (and the sourced items with items under them, counted); story names
that carry a source (the text of a sourced item used as a story name: should be 0).

Usage: python benchmarks/fidelity.py [DATA_DIR ...]   (default: ../shared/data/portal-html*)
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from portal_count import count_page  # noqa: E402

from daybook.ingest import ingest_paths  # noqa: E402
from daybook.ingest.outline import collapse, date_from_name  # noqa: E402
from daybook.model import Event  # noqa: E402
from daybook.store import Store  # noqa: E402

DEFAULT_SETS = [
    ROOT.parent / "shared" / "data" / "portal-html",
    ROOT.parent / "shared" / "data" / "portal-html-2025",
]


def measure(folder: Path) -> dict[str, float]:
    files = sorted(folder.glob("*.html"))
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "fidelity.db") as store:
        started = time.perf_counter()
        report = ingest_paths(store, files)
        seconds = time.perf_counter() - started
        events = store.events()
    if report.failures:
        raise SystemExit(f"{folder}: {len(report.failures)} files failed: {report.failures[0]}")
    by_day: dict[str, list[Event]] = {}
    for event in events:
        by_day.setdefault(event.date.isoformat(), []).append(event)
    parents = Counter(event.parent for event in events if event.parent)
    counted_events = counted_sourced = counted_nested = differing = sourced_story_names = 0
    for path in files:
        day = date_from_name(path.name)
        assert day is not None
        count = count_page(path.read_bytes())
        counted_events += count.events
        counted_sourced += count.sourced
        counted_nested += count.with_follow_ups
        ingested = by_day.get(day.isoformat(), [])
        differing += len(ingested) != count.events
        # A sourced item's text (its citation left out) as a story name: its event was lost.
        sourced = {collapse(text).rstrip(" :") for text in count.sourced_texts}
        names = {line for event in ingested for line in event.story}
        sourced_story_names += len(names & sourced)
    days = len(files)
    return {
        "days": days,
        "events": len(events),
        "counted": counted_events,
        "differing_days": differing,
        "sourced": sum(bool(e.sources) for e in events),
        "counted_sourced": counted_sourced,
        "with_follow_ups": len(parents),
        "follow_ups": sum(parents.values()),
        "counted_nested": counted_nested,
        "sourced_story_names": sourced_story_names,
        "seconds": seconds,
    }


def main(argv: list[str]) -> int:
    sets = [Path(a) for a in argv] or DEFAULT_SETS
    worst = 0.0
    for folder in sets:
        m = measure(folder)
        off = abs(m["events"] - m["counted"]) / m["counted"] * 100
        worst = max(worst, off)
        print(f"{folder.name}")
        print(f"  days                      {m['days']:.0f}  (ingested in {m['seconds']:.1f} s)")
        print(
            f"  events                    {m['events']:.0f} ingested, {m['counted']:.0f} counted by lxml"
            f"  ({off:.2f} % apart)"
        )
        print(
            f"  events per day            {m['events'] / m['days']:.2f} ingested,"
            f" {m['counted'] / m['days']:.2f} counted; {m['differing_days']:.0f} days differ"
        )
        print(f"  events citing a source    {m['sourced']:.0f} ingested, {m['counted_sourced']:.0f} counted")
        print(
            f"  events with follow-ups    {m['with_follow_ups']:.0f} ({m['follow_ups']:.0f} follow-ups);"
            f" {m['counted_nested']:.0f} sourced items with items under them counted"
        )
        print(f"  story names with a source {m['sourced_story_names']:.0f}")
    print(f"worst difference from the independent count: {worst:.2f} %")
    return 0 if worst <= 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
