"""Time ``daybook update`` bringing one new day into a 150,000-event archive, end to end.

Setup, once per work folder (not timed): make_corpus's 150,000 events stored a day at
a time, as ingest stores them; then a first ``daybook update`` whose days are not on
the wiki, which relates every event, builds the whole site and commits it to git: the
archive as a running site has it.

Timed, each in a fresh process (``daybook update OUT --from D --to D``, as cron would run
it): D is the day after the archive's last, served by the MediaWiki API stand-in
(tests/standin_api.py) as wikitext made from a real day; its sources are fetched from the
same stand-in (``--via``), so nothing touches the network. Each of ``--runs`` runs adds
the next day. Printed: wall time, CPU, peak RSS, and the update's own step times.

Usage: python benchmarks/update.py [--events 150000] [--runs 3] [--jobs 2]
                                   [--workdir DIR] [--keep] [--per-host N] [--delay S] [--api-delay S]
                                   [--profile PREFIX]
``--per-host``/``--delay``: enrich's politeness towards each source host (default:
daybook's, 2 requests in flight and 0.5 s between starts); ``--api-delay``: pull's towards
the wiki's API (default 0.5 s between the day's two requests, its wikitext and its rendering).
``--profile PREFIX``: each timed run under cProfile (its main thread), the figures written to
PREFIX.<run> (read them with ``python -m pstats``); the times printed then include its cost.
A work folder given with --workdir is kept and reused (the setup takes many minutes and
several GB: the site has some 800,000 files); the default, beside the project, is removed
at the end unless --keep.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from daybook.ingest.pull import PullSettings
from daybook.model import Day
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from make_corpus import build_corpus, real_days, store_corpus  # noqa: E402 - beside this script, not the package
from measure import run  # noqa: E402 - beside this script
from standin_api import StandInAPI  # noqa: E402 - the tests' stand-in, not part of the package

DAYBOOK = [sys.executable, "-m", "daybook"]


def wikitext(day: Day, date: dt.date) -> str:
    """A portal page for ``date`` holding ``day``'s events: categories, story lines as
    links, each event's entities linked after its text, its sources cited."""
    lines = [f"{{{{Current events|year={date.year}|month={date.month}|day={date.day}}}}}"]
    for category, events in itertools.groupby(day.events, key=lambda e: e.category):
        lines.append(f"'''{category}'''")
        for event in events:
            for depth, story in enumerate(event.story, start=1):
                lines.append("*" * depth + f"[[{story}]]")
            links = ", ".join(f"[[{e}]]" for e in event.entities if e not in event.story)
            # Fresh URLs (the archive holds the real day's): the day's sources are new to enrich.
            cites = " ".join(
                f"[{s.url}{'&' if '?' in s.url else '?'}day={date} ({s.outlet})]" for s in event.sources
            )
            text = event.text + (f" ({links})" if links else "")
            lines.append("*" * (len(event.story) + 1) + f"{text} {cites}".rstrip())
    return "\n".join(lines) + "\n"


def prepare(work: Path, events: int, jobs: int, api: StandInAPI) -> None:
    """The archive: a store of ``events`` events, related, built and committed."""
    db, out = work / "archive.db", work / "site"
    if (work / "prepared").exists():
        return
    shutil.rmtree(out, ignore_errors=True)  # what an earlier setup, stopped, left
    for leftover in work.glob("archive.db*"):  # the store, its lock, its sites' states
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    started = time.perf_counter()
    corpus = build_corpus(events)
    with Store(db) as store:
        store_corpus(store, corpus)
        last = store.stats().last_date
        # An archive's sources have been enriched: each gets a result with a lede (fetching
        # 150,000 pages from the stand-in would take an hour and time nothing of interest).
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO source_articles (source_id, outcome, status, final_url, title, lede,"
                " publisher, enriched_at) SELECT id, 'ok', '200', url, 'The report',"
                " 'What the report says, in a sentence or two, as its page describes it.', 'Outlet',"
                " '2026-01-01T00:00:00+00:00' FROM sources"
            )
    print(f"setup: {events:,} events stored in {time.perf_counter() - started:.0f} s", flush=True)
    assert last is not None
    started = time.perf_counter()
    run(update_command(db, out, last, api, jobs))  # the last day is not on the wiki: nothing pulled
    files = sum(len(names) for _, _, names in os.walk(out))
    took = time.perf_counter() - started
    print(f"setup: first update (relate, build, commit {files:,} files) in {took:.0f} s")
    (work / "prepared").write_text(last.isoformat(), encoding="utf-8")


def update_command(
    db: Path,
    out: Path,
    date: dt.date,
    api: StandInAPI,
    jobs: int,
    politeness: list[str] | None = None,
    profile: Path | None = None,
) -> list[str]:
    daybook = (
        DAYBOOK if profile is None else [sys.executable, "-m", "cProfile", "-o", str(profile), *DAYBOOK[1:]]
    )
    return [
        *daybook, "--db", str(db), "update", str(out), "--api", api.api,
        "--from", str(date), "--to", str(date),
        "--via", api.base, "--allow-private", "--wayback", "off", "--jobs", str(jobs),
        *(politeness or []),
    ]  # fmt: skip


def typical_day() -> Day:
    """The newest real day with 15 to 30 events: a day as the portal has them."""
    return next(d for d in reversed(real_days()) if 15 <= len(d.events) <= 30)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--per-host", type=int, help="enrich's requests in flight per host (default: daybook's)"
    )
    parser.add_argument(
        "--delay", type=float, help="enrich's seconds between starts per host (default: daybook's)"
    )
    parser.add_argument(
        "--api-delay",
        type=float,
        help="pull's seconds between requests to the wiki's API (default: daybook's)",
    )
    parser.add_argument("--profile", help="profile each timed run into PROFILE.<run> (cProfile)")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="update-bench-", dir=ROOT.parent))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}; work folder {work}"
    )
    api = StandInAPI().start()
    try:
        prepare(work, args.events, args.jobs, api)
        db, out = work / "archive.db", work / "site"
        day = typical_day()
        with Store(db) as store:
            last = store.stats().last_date
        assert last is not None
        print(f"new day: {len(day.events)} events, {sum(len(e.sources) for e in day.events)} sources"
              f" (the real {day.date}), into {args.events:,} events")  # fmt: skip
        for number in range(1, args.runs + 1):
            date = last + dt.timedelta(days=1)
            api.edit(PullSettings().title(date), wikitext(day, date))
            load = os.getloadavg()[0]
            politeness = [*(["--per-host", str(args.per_host)] if args.per_host else [])]
            politeness += ["--delay", str(args.delay)] if args.delay is not None else []
            politeness += ["--api-delay", str(args.api_delay)] if args.api_delay is not None else []
            profile = Path(f"{args.profile}.{number}") if args.profile else None
            command = update_command(db, out, date, api, args.jobs, politeness, profile)
            seconds, cpu, rss, output = run(command)
            print(
                f"\nrun {number} ({date}, load {load:.1f}): {seconds:.2f} s, CPU {cpu:.2f} s, {rss:.0f} MiB"
            )
            print("  " + output.strip().replace("\n", "\n  "))
            last = date
    finally:
        api.stop()
        if args.workdir is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
