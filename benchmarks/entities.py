"""What entities as the wiki knows them (issue 15) cost: relate's read of the events with
the entities' table filled, the merge of many redirects, and the Chinese edition's build.

On the real shared days (``../shared/data/portal-html``, rendered, ingested into a fresh
store):

- relate_items: every event as relate reads it, best of 3, with no entity known, then with
  every entity known (a QID each, 1% disambiguation pages, as ``daybook entities`` leaves it);
- merge: 1% of the entities answered as redirects to another entity of the store, in
  batches of 50 as ``daybook entities`` saves them (their events, search rows, days noted);
- build: the site in English alone, then in English and Chinese (``--editions en,zh``), full
  builds into fresh folders, HTML only.

Usage: python benchmarks/entities.py [--days 200]
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

from daybook.ingest import ingest_paths
from daybook.model import EntityInfo
from daybook.publish import BuildOptions, build_site
from daybook.store import Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "portal-html"
ASKED = "2026-12-06T00:00:00+00:00"


def best_of(runs: int, work: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=200, help="how many of the shared days")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory() as tmp:
        days = Path(tmp) / "days"
        days.mkdir()
        for page in sorted(DATA.glob("*.html"))[: args.days]:
            (days / page.name).symlink_to(page)
        with Store(Path(tmp) / "b.db") as store:
            ingest_paths(store, [days])
            events = len(store.relate_items())
            titles = sorted(store.entity_titles())
            print(f"{len(store.dates())} days, {events} events, {len(titles)} entities")
            bare = best_of(3, store.relate_items)
            store.save_entity_info(
                [
                    EntityInfo(t, qid=f"Q{i + 1}", disambiguation=i % 100 == 0, asked_at=ASKED)
                    for i, t in enumerate(titles)
                ]
            )
            known = best_of(3, store.relate_items)
            print(f"relate_items: {bare:.3f} s with no entity known, {known:.3f} s with every one known")
            aliases = [(t, titles[i + 1]) for i, t in enumerate(titles[:-1]) if i % 100 == 50]
            start = time.perf_counter()
            merged = 0
            for at in range(0, len(aliases), 50):
                batch = [EntityInfo(a, target=b, asked_at=ASKED) for a, b in aliases[at : at + 50]]
                merged += len(store.save_entity_info(batch))
            seconds = time.perf_counter() - start
            each = seconds / max(merged, 1) * 1000
            print(f"merge: {merged} redirects merged in {seconds:.2f} s ({each:.1f} ms each)")
            for editions in (("en",), ("en", "zh")):
                out = Path(tmp) / "-".join(editions)
                start = time.perf_counter()
                report = build_site(store, out, BuildOptions(formats=("html",), editions=editions))
                print(
                    f"build --editions {','.join(editions)}: {time.perf_counter() - start:.1f} s,"
                    f" {len(report.written)} files"
                )


if __name__ == "__main__":
    main()
