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
- with --store, ``daybook relate`` on a SQLite store of the corpus, each run a fresh
  process timed end to end (start-up, reading the store, computing, writing every
  list): the first run, a second with nothing changed, and one after that day was
  ingested again with one event fewer; with the CPU time of the command and its
  workers, the peak RSS of its largest process and the peak of the summed PSS of it
  and its workers (the memory they take together, shared pages counted once).

Usage: python benchmarks/relate.py [--events 150000] [--ranker weighted] [--jobs 2] [--tracemalloc]
                                   [--store [--store-only] [--workdir DIR]]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import shutil
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


def through_store(tmp: Path, ranker: str, jobs: int, workdir: Path | None) -> None:
    """``daybook relate`` on a store of the corpus, each run a fresh process: every list,
    the same with nothing changed, then after one day changed."""
    corpus = tmp / "corpus.jsonl"
    base = (workdir or tmp) / "ingested.db"
    # -P: the daybook of PYTHONPATH or the installed one, not one in the working folder
    # (which -m would put first): before and after can be timed by one script
    daybook = [sys.executable, "-P", "-m", "daybook", "--db"]
    if not base.exists():  # with --workdir, made once (ingesting takes minutes)
        for leftover in base.parent.glob("ingested.db*"):
            leftover.unlink()
        started = time.perf_counter()
        subprocess.run([*daybook, str(base), "ingest", str(corpus)], check=True, stdout=subprocess.DEVNULL)
        print(f"store: ingest         {time.perf_counter() - started:.1f} s (not timed below)")
    db = tmp / "bench.db"
    shutil.copyfile(base, db)
    relate = [*daybook, str(db), "relate", "--ranker", ranker, "--jobs", str(jobs)]
    for run in ("first run", "second run"):
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        seconds, cpu, rss, pss, said = run_measured(relate)
        print(
            f"store: {run:14s} {seconds:.2f} s end to end (CPU {cpu:.1f} s); peak RSS {rss:.0f} MiB", end=""
        )
        print(f" (largest process), {pss:.0f} MiB (all processes, PSS); load {load}")
        print(f"                      {said}")
    lines = corpus.read_text(encoding="utf-8").splitlines() if corpus.exists() else []
    by_day: dict[str, list[str]] = {}
    for line in lines:
        by_day.setdefault(json.loads(line)["date"], []).append(line)
    if by_day:
        newest = max(d for d, day in by_day.items() if len(day) >= 20)
        (tmp / "day.jsonl").write_text("\n".join(by_day[newest][1:]) + "\n", encoding="utf-8")
        subprocess.run(
            [*daybook, str(db), "ingest", str(tmp / "day.jsonl")], check=True, stdout=subprocess.DEVNULL
        )
        seconds, cpu, rss, pss, said = run_measured(relate)
        print(f"store: day again      {newest} with one event fewer: {seconds:.2f} s end to end, ", end="")
        print(f"peak RSS {rss:.0f} MiB; {said}")


def run_measured(command: list[str]) -> tuple[float, float, float, float, str]:
    """Run ``command``: its wall seconds, CPU seconds (with its workers), the peak RSS of
    its largest process, the peak of the summed PSS of it and its workers (sampled every
    20 ms: pages they share are counted once), and the last line it printed."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak_pss = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak_pss = max(peak_pss, tree_pss(process.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    out = process.stdout.read().strip() if process.stdout else ""
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode})")
    # wait4 counts the workers the command waited for: their CPU, and the largest RSS of all
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / MIB, peak_pss / MIB, out


def tree_pss(pid: int) -> int:
    """The summed PSS (KiB) of a process and its children, 0 once it is gone."""
    total = 0
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return 0
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


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
    parser.add_argument(
        "--workdir",
        type=Path,
        help="with --store: keep the ingested store here and reuse it (ingest takes minutes)",
    )
    parser.add_argument("--store-only", action="store_true", help="with --store: skip the in-memory figures")
    parser.add_argument("--items", type=Path, help=argparse.SUPPRESS)  # the measuring process
    args = parser.parse_args(argv)
    if args.items:
        measure(args.items, args.ranker, args.jobs, args.tracemalloc)
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
        if not args.store_only:
            subprocess.run(command + ["--tracemalloc"] * args.tracemalloc, check=True)
        if args.store:
            through_store(Path(tmp), args.ranker, args.jobs, args.workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
