"""Time the full relation over a large corpus, its peak memory, and one day's update.

The corpus is made by make_corpus.py from the real shared days (150,000 events by
default). It is handed as (id, date, entities) to a fresh process, so the figures
are those of relating alone, not of parsing the portal pages:

- full seconds: ``Relation(items)``, index and every list, in --jobs processes (and
  the CPU time they took: on a busy machine the wall time is longer than CPU / jobs);
- peak RSS: the measuring process (its items included) and the largest worker;
- tracemalloc peak (with --tracemalloc, one process, slower): Python allocations;
- update: a new day (the events of the newest day of 20 or more, on the next date),
  then that day ingested again with one event fewer, as ``daybook relate`` applies
  them: seconds and lists changed;
- with --store, the same through a SQLite store, as the command runs: load, compute
  and write every list; then, that day ingested again, the incremental refresh.

Usage: python benchmarks/relate.py [--events 150000] [--ranker weighted] [--jobs 2] [--tracemalloc] [--store]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from daybook.relate import DEFAULT_RANKER, RANKERS, Item, Relation, Settings

MIB = 1024  # ru_maxrss is in KiB on Linux


def write_items(path: Path, events: int, export: Path | None = None) -> None:
    """The corpus as (id, date, entities) lines; with ``export``, also as daybook JSONL."""
    from make_corpus import build_corpus  # the parser's memory stays in this process

    corpus = build_corpus(events)
    with path.open("w", encoding="utf-8") as out:
        for event in corpus:
            out.write(json.dumps([event.id, event.date.isoformat(), list(event.entities)]) + "\n")
    if export is not None:
        with export.open("w", encoding="utf-8") as out:
            for event in corpus:
                out.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")


def through_store(tmp: Path, ranker: str, jobs: int) -> None:
    """``daybook relate`` on a store of the corpus: every list, then after one day changed."""
    db, corpus = tmp / "bench.db", tmp / "corpus.jsonl"
    daybook = [sys.executable, "-m", "daybook", "--db", str(db)]
    subprocess.run([*daybook, "ingest", str(corpus)], check=True, stdout=subprocess.DEVNULL)
    relate = [sys.executable, __file__, "--refresh", str(db), "--ranker", ranker, "--jobs", str(jobs)]
    subprocess.run(relate, check=True)
    by_day: dict[str, list[str]] = {}
    for line in corpus.read_text(encoding="utf-8").splitlines():
        by_day.setdefault(json.loads(line)["date"], []).append(line)
    newest = max(d for d, lines in by_day.items() if len(lines) >= 20)
    (tmp / "day.jsonl").write_text("\n".join(by_day[newest][1:]) + "\n", encoding="utf-8")
    subprocess.run([*daybook, "ingest", str(tmp / "day.jsonl")], check=True, stdout=subprocess.DEVNULL)
    print(f"store: day            {newest} ingested again with one event fewer")
    subprocess.run(relate, check=True)


def refresh_store(db: Path, ranker: str, jobs: int) -> None:
    from daybook.relate import refresh
    from daybook.store import Store

    with Store(db) as store:
        report = refresh(store, Settings(ranker=ranker), workers=jobs)  # type: ignore[arg-type]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MIB
    print(f"store: relate         {report.summary()}; peak RSS {peak:.0f} MiB")


def read_items(path: Path) -> list[Item]:
    items = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            ident, date, entities = json.loads(line)
            items.append(Item(ident, dt.date.fromisoformat(date), tuple(entities)))
    return items


def cpu_seconds() -> float:
    """User and system CPU time of this process and its finished workers."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def measure(path: Path, ranker: str, jobs: int, trace: bool) -> None:
    items = read_items(path)
    gc.collect()
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MIB
    settings = Settings(ranker=ranker)  # type: ignore[arg-type]
    if trace:
        tracemalloc.start()
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    relation = Relation(items, settings, workers=jobs)
    full = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MIB
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / MIB
    listed = sum(1 for _, entries in relation.entries() if entries)

    by_day: dict[dt.date, list[Item]] = {}
    for item in items:
        by_day.setdefault(item.date, []).append(item)
    newest = max(d for d, events in by_day.items() if len(events) >= 20)  # a full day, not a stub
    tomorrow = max(by_day) + dt.timedelta(days=1)
    day = [Item(f"{tomorrow:%Y%m%d}-{n:012x}", tomorrow, i.entities) for n, i in enumerate(by_day[newest])]
    started = time.perf_counter()
    added = relation.update(added=day)
    add_seconds = time.perf_counter() - started
    started = time.perf_counter()
    replaced = relation.update(removed=[day[0].id])
    replace_seconds = time.perf_counter() - started

    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(f"machine               {machine}, Python {platform.python_version()}")
    print(f"load average          {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"events                {len(items)} ({listed} with a list)")
    print(f"ranker / k / jobs     {ranker} / {settings.k} / {jobs}")
    print(f"full seconds          {full:.2f} (CPU {cpu:.2f} s, all processes)")
    print(f"peak RSS MiB          {peak:.0f} (items alone {loaded:.0f}); largest worker {worker:.0f}")
    if traced is not None:
        print(f"tracemalloc peak MiB  {traced:.0f}")
    print(f"update: a new day     {len(day)} events (those of {newest}): {add_seconds:.2f} s, ", end="")
    print(f"{len(added.changed) - len(day)} other lists changed")
    print(f"update: day again     one event fewer: {replace_seconds:.2f} s, ", end="")
    print(f"{len(replaced.changed)} lists changed")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--ranker", choices=RANKERS, default=DEFAULT_RANKER)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--store", action="store_true", help="also time `daybook relate` on a store")
    parser.add_argument("--items", type=Path, help=argparse.SUPPRESS)  # the measuring process
    parser.add_argument("--refresh", type=Path, help=argparse.SUPPRESS)  # a store's relate
    args = parser.parse_args(argv)
    if args.items:
        measure(args.items, args.ranker, args.jobs, args.tracemalloc)
        return 0
    if args.refresh:
        refresh_store(args.refresh, args.ranker, args.jobs)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "items.jsonl"
        started = time.perf_counter()
        write_items(path, args.events, Path(tmp) / "corpus.jsonl" if args.store else None)
        print(f"corpus seconds        {time.perf_counter() - started:.1f} (make_corpus, not timed below)")
        command = [
            sys.executable,
            __file__,
            "--items",
            str(path),
            "--ranker",
            args.ranker,
            "--jobs",
            str(args.jobs),
        ]
        subprocess.run(command + ["--tracemalloc"] * args.tracemalloc, check=True)
        if args.store:
            through_store(Path(tmp), args.ranker, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
