"""How the site's git history grows: ``--updates`` updates of one new day each into the
update benchmark's archive (150,000 events), with and without git's maintenance.

Setup: update.py's (``prepare``: the archive stored, related, built and committed), reused
from the same ``--workdir``. Then ``--updates`` runs of ``daybook update OUT --from D --to D``
(D the day after the archive's last, a real day of 17 events served by the MediaWiki API
stand-in; enrich's politeness off, as in update.py's first table), one after another.

``--maintenance off`` sets ``gc.auto=0`` in the site's repository for the series (git's own
switch: the ``git gc --auto`` each update runs then does nothing, as before daybook ran
it); ``on`` leaves daybook's default. After each update the benchmark waits for a
background gc git detached (``.git/gc.pid``) to end before the next update: updates come
hours apart, not back to back; that wait is printed as the gc's time.

Printed every ``--every`` updates and at the end: the update's wall time (and its index
step's, from the update's own report), the objects
(``git count-objects -v``: loose count and KiB, packs and their KiB) and ``.git``'s growth
since the series began.

Usage: python benchmarks/history.py --workdir DIR [--events 150000] [--updates 100]
                                    [--maintenance on|off] [--every 10] [--jobs 2]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from daybook.ingest.pull import PullSettings
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from standin_api import StandInAPI  # noqa: E402 - the tests' stand-in, not part of the package
from update import prepare, run, typical_day, update_command, wikitext  # noqa: E402 - beside this script


def objects(site: Path) -> dict[str, int]:
    """``git count-objects -v`` as numbers (sizes in KiB)."""
    out = subprocess.run(
        ["git", "count-objects", "-v"], cwd=site, capture_output=True, text=True, check=True
    ).stdout
    return {key: int(value) for key, value in (line.split(": ") for line in out.splitlines())}


def git_size(site: Path) -> int:
    """Bytes ``.git`` takes on disk (blocks, as du counts them)."""
    total = 0
    for folder, _, names in os.walk(site / ".git"):
        for name in names:
            with contextlib.suppress(FileNotFoundError):  # removed by a gc meanwhile
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
    return total


def wait_for_gc(site: Path) -> float:
    """Seconds until no gc git detached runs in the repository (0 if none)."""
    started = time.perf_counter()
    pid_file = site / ".git" / "gc.pid"
    while pid_file.exists():
        try:
            pid = int(pid_file.read_text(encoding="ascii").split()[0])
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, IndexError, ProcessLookupError):
            break  # gone, or a stale file git would ignore too
        time.sleep(0.2)
    return time.perf_counter() - started


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.1f} MiB"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--maintenance", choices=("on", "off"), default="on")
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}, {git}; work folder {work}; maintenance {args.maintenance}",
        flush=True,
    )
    api = StandInAPI().start()
    db, site = work / "archive.db", work / "site"
    try:
        prepare(work, args.events, args.jobs, api)
        day = typical_day()
        with Store(db) as store:
            last = store.stats().last_date
        assert last is not None
        if args.maintenance == "off":
            subprocess.run(["git", "config", "gc.auto", "0"], cwd=site, check=True)
        wait_for_gc(site)
        start_size, start = git_size(site), objects(site)
        print(
            f"start: .git {mib(start_size)}; loose {start['count']:,} objects ({start['size']:,} KiB),"
            f" {start['packs']} packs ({start['size-pack']:,} KiB); load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        walls: list[float] = []
        index: list[float] = []  # the update's own time for the index step
        gcs: list[float] = []
        for number in range(1, args.updates + 1):
            date = last + dt.timedelta(days=1)
            api.edit(PullSettings().title(date), wikitext(day, date))
            command = update_command(db, site, date, api, args.jobs, ["--per-host", "8", "--delay", "0"])
            seconds, _, _, output = run(command)
            walls.append(seconds)
            index.extend(float(x) for x in re.findall(r"\(commit: index\) ([\d.]+)", output))
            waited = wait_for_gc(site)
            if waited > 0.05:
                gcs.append(waited)
            last = date
            if number % args.every == 0 or number == args.updates:
                now = objects(site)
                size = git_size(site)
                print(
                    f"after {number}: .git {mib(size)} (+{mib(size - start_size)},"
                    f" {mib((size - start_size) / number)} an update); loose {now['count']:,} objects"
                    f" ({now['size']:,} KiB), {now['packs']} packs ({now['size-pack']:,} KiB);"
                    f" updates {min(walls[-args.every :]):.2f} to {max(walls[-args.every :]):.2f} s;"
                    f" background gcs so far {len(gcs)} ({sum(gcs):.0f} s); load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        walls.sort()
        index.sort()
        print(
            f"updates: median {walls[len(walls) // 2]:.2f} s, worst {walls[-1]:.2f} s;"
            f" index step median {index[len(index) // 2] if index else 0:.3f} s,"
            f" worst {index[-1] if index else 0:.3f} s;"
            f" background gcs: {len(gcs)}" + (f", {min(gcs):.0f} to {max(gcs):.0f} s each" if gcs else ""),
            flush=True,
        )
    finally:
        api.stop()
        if args.maintenance == "off":
            subprocess.run(["git", "config", "--unset", "gc.auto"], cwd=site, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
