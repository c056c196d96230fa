"""Time ``relation.refresh`` in a 150,000-event store: the full relation, then one new day.

Setup, once per work folder (not timed): make_corpus's events stored a day at a time,
as ingest stores them (``stored.db``). Then, each in a fresh process as cron would run
it (wall time and peak RSS of that process):

- full: ``refresh(store, Settings(), full=True, workers=JOBS)`` on a copy of the store
  (``related.db``, kept for the runs below; reused with --reuse);
- new day: a copy of ``related.db`` gets one new day (the newest real day of 15 to 30
  events, on the day after the archive's last, with the ids that date gives them), then
  ``refresh(store, Settings(), workers=JOBS)``. At 150,000 events the 17 new ones move
  the weighted ranker's common threshold (1% of all events), as 17 new events do every
  sixth day or so, and a thousand lists are ranked again;
- the next day: another real day after it, then the same refresh (the usual day);
- day again: that day ingested again with one event fewer, then the same refresh;
- with --days N, N more days one after the other on one copy (the real days of 15 to
  30 events, newest first), each then refreshed: the snapshot gains a part a day and
  is packed whole again now and then (``relation.MAX_PARTS``), so this shows the
  spread, median and worst.

Usage: python benchmarks/relate_update.py [--events 150000] [--jobs 2] [--runs 3] [--days 0]
                                          [--workdir DIR] [--reuse] [--profile]
The work folder (default ../relate-bench beside the project) is kept: the setup takes
minutes. --profile prints cProfile's 25 top functions of each refresh (or TOP, sorted
by SORT: cumulative, tottime...).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import platform
import pstats
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from daybook.model import Day
from daybook.relate import Settings, refresh
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from make_corpus import build_corpus, moved, real_days, store_corpus  # noqa: E402 - beside this script


def prepare(work: Path, events: int) -> Path:
    """``stored.db``: the corpus stored a day at a time (made once)."""
    db = work / "stored.db"
    if (work / "stored").exists():
        return db
    for leftover in work.glob("stored.db*"):
        leftover.unlink()
    started = time.perf_counter()
    corpus = build_corpus(events)
    with Store(db) as store:
        store_corpus(store, corpus)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"setup: {events:,} events stored in {time.perf_counter() - started:.0f} s", flush=True)
    (work / "stored").write_text("ok", encoding="utf-8")
    return db


def copy_store(source: Path, target: Path) -> None:
    """A copy of a closed, checkpointed store (no WAL left beside it)."""
    for leftover in target.parent.glob(target.name + "*"):
        leftover.unlink()
    shutil.copyfile(source, target)


def checkpoint(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def new_days(db: Path, count: int) -> list[Day]:
    """The days after the store's last: the events of the newest real days of 15 to 30
    events, moved there."""
    typical = [d for d in reversed(real_days()) if 15 <= len(d.events) <= 30]
    with Store(db) as store:
        last = store.stats().last_date
    assert last is not None
    return [moved(typical[n % len(typical)], last + dt.timedelta(days=n + 1)) for n in range(count)]


def timed(db: Path, jobs: int, *extra: str) -> tuple[float, float, str]:
    """Refresh ``db`` in a fresh process: wall seconds, peak RSS MiB, the report."""
    command = [sys.executable, __file__, "--refresh", str(db), "--jobs", str(jobs), *extra]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{output}")
    return seconds, usage.ru_maxrss / 1024, output.strip()


def refresh_in_process(db: Path, jobs: int, full: bool, profile: bool) -> None:
    """The child: one refresh, its own time (imports excluded) and the report."""
    with Store(db) as store:
        profiler = cProfile.Profile() if profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        report = refresh(store, Settings(), full=full, workers=jobs)
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"refresh {seconds:.3f} s in process ({report.seconds:.3f} s by its report, CPU {cpu:.3f} s),"
        f" peak RSS {peak:.0f} MiB: {report.summary()}"
    )
    if profiler:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats(
            os.environ.get("SORT", "cumulative")
        ).print_stats(int(os.environ.get("TOP", "25")))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=0, help="then this many days one after the other")
    parser.add_argument("--workdir", type=Path, default=ROOT.parent / "relate-bench")
    parser.add_argument("--reuse", action="store_true", help="keep related.db from an earlier full run")
    parser.add_argument("--profile", action="store_true", help="cProfile the incremental refreshes")
    parser.add_argument("--refresh", type=Path, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--full", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.refresh:
        refresh_in_process(args.refresh, args.jobs, args.full, args.profile)
        return 0
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}; load {os.getloadavg()[0]:.2f}; work folder {work}"
    )
    stored = prepare(work, args.events)
    related, run = work / "related.db", work / "run.db"
    if not (args.reuse and related.exists()):
        copy_store(stored, related)
        seconds, rss, output = timed(related, args.jobs, "--full")
        checkpoint(related)
        print(f"full refresh:  {seconds:.2f} s wall, peak RSS {rss:.0f} MiB\n  {output}")
    first, second, *more = new_days(related, 2 + args.days)
    profile = ("--profile",) if args.profile else ()
    steps = [
        (f"new day of {len(first.events)} events", first),
        (f"the next day, {len(second.events)} events", second),
        ("that day again, one event fewer", Day(second.date, second.events[1:])),
    ]
    for number in range(1, args.runs + 1):
        copy_store(related, run)
        for name, day in steps:
            with Store(run) as store:
                store.replace_day(day, origin="bench", format="jsonl")
            load = os.getloadavg()[0]
            seconds, rss, output = timed(run, args.jobs, *profile)
            print(f"run {number}, {name} (load {load:.2f}): {seconds:.2f} s wall, peak RSS {rss:.0f} MiB")
            print("  " + output.replace("\n", "\n  "))
    if more:
        days_one_after_another(related, run, [first, second, *more], args.jobs)
    return 0


def days_one_after_another(related: Path, run: Path, days: list[Day], jobs: int) -> None:
    copy_store(related, run)
    walls = []
    for number, day in enumerate(days, start=1):
        with Store(run) as store:
            store.replace_day(day, origin="bench", format="jsonl")
        seconds, rss, output = timed(run, jobs)
        with sqlite3.connect(run) as conn:
            parts, size = conn.execute("SELECT count(*), sum(length(data)) FROM relation_snapshot").fetchone()
        walls.append(seconds)
        print(f"day {number}: {seconds:.2f} s wall, peak RSS {rss:.0f} MiB, snapshot {parts} parts"
              f" ({size / 2**20:.0f} MiB)\n  {output}")  # fmt: skip
    walls.sort()
    print(f"{len(days)} days: wall median {walls[len(walls) // 2]:.2f} s, worst {walls[-1]:.2f} s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
