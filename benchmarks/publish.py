"""Time ``build_site`` on a large corpus in all four formats, a rebuild with nothing
changed, and Hugo rendering the same pages from the Markdown daybook wrote.

The corpus is make_corpus.py's (150,000 events by default: the real shared days,
then copies of them on earlier dates), stored a day at a time in a fresh SQLite
store and related (weighted, k = 10) as ``daybook relate`` does. Then, each build in
a fresh process so its memory is its own:

- full build: every page in md, html, json and xml, feeds and sitemap: seconds,
  files written, pages/s (page objects: each is four files), files/s, peak RSS
  (and, with --tracemalloc, a second full build into another folder under
  tracemalloc for Python's own peak: slower, so not timed);
- rebuild: the same command again with nothing changed;
- Hugo: a Hugo site made of the Markdown pages daybook wrote under ``news/`` and the
  front page (event pages as pages; day, month, year and archive pages as the
  ``_index.md`` of their section), each with a title as front matter, and a minimal
  layout rendering ``.Content`` for pages and lists; ``hugo --quiet`` is timed
  alone (making the site is not), and the ratio daybook / Hugo printed.

Use a folder on a fast disk (--workdir; the default is a new folder beside the
project, removed at the end unless --keep): at 150,000 events a build writes some 800,000
files (8 GiB), and Hugo takes some 18 GiB of memory.
With --profile DIR a full build and its rebuild also run under cProfile (slower;
not timed): their top functions are printed and the stats saved in DIR.

With --rounds N, daybook's full build (each into a new folder) and Hugo run N times by
turns, and the median ratio is printed: on a shared machine the load then weighs on both.

Usage: python benchmarks/publish.py [--events 150000] [--jobs 2] [--workdir DIR] [--keep]
                                    [--tracemalloc] [--profile DIR] [--rounds N] [--store DB]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daybook.publish import BuildOptions, build_site
from daybook.publish.state import renderer_fingerprint
from daybook.relate import Settings, refresh
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024  # ru_maxrss is in KiB on Linux
# Files of the site that are not pages (one format only).
NOT_PAGES = (
    *("index_rss.xml", "index_atom.xml", "index_feed.json", "opinion_rss.xml", "sitemap"),
    *("assets/", "search"),  # the search page, its script and index
)

HUGO_CONFIG = """\
baseURL = "http://localhost:8000/"
# page.html rather than page/index.html: the same layout of files as daybook writes
uglyURLs = true
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
"""
HUGO_LAYOUT = """\
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><main>{{ .Content }}</main></body>
</html>
"""


@dataclass(frozen=True)
class Run:
    """One timed child process: its wall time, CPU time and peak RSS."""

    seconds: float
    cpu: float
    peak_mib: float
    result: dict[str, Any]


def run_child(command: list[str], cwd: Path | None = None) -> Run:
    """Run a command; its rusage alone (``wait4``), not that of earlier children."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen
    if proc.returncode != 0:
        raise SystemExit(f"{command[0]} failed with status {proc.returncode}")
    last = output.strip().splitlines()[-1] if output.strip() else "{}"
    result = json.loads(last) if last.startswith("{") else {}
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / MIB, result)


# -- the corpus ------------------------------------------------------------------


def make_store(db: Path, events: int, jobs: int) -> None:
    """The corpus stored a day at a time, then related, as ingest and relate do."""
    from make_corpus import build_corpus, store_corpus  # beside this script, not part of the package

    started = time.perf_counter()
    corpus = build_corpus(events)
    print(f"corpus                {len(corpus):,} events in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with Store(db) as store:
        store_corpus(store, corpus)
        print(f"store                 {store.stats().days:,} days in {time.perf_counter() - started:.1f} s")
        report = refresh(store, Settings(), workers=jobs)
        print(f"relate                {report.summary()}")


# -- one build, in a fresh process -----------------------------------------------


def measure_build(db: Path, out: Path, trace: bool, profile: Path | None) -> None:
    """Build the site; print the report as a JSON line for the parent."""
    if trace:
        tracemalloc.start()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    with Store(db) as store:
        if profiler is not None:
            profiler.enable()
        report = build_site(store, out, BuildOptions())
        if profiler is not None:
            profiler.disable()
    seconds = time.perf_counter() - started
    result: dict[str, float | str] = {
        "renderers": renderer_fingerprint(),
        "seconds": seconds,
        "written": len(report.written),
        "unchanged": report.unchanged,
        "removed": len(report.removed),
    }
    if trace:
        result["tracemalloc_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        print(f"== {profile.stem} build: top functions", file=sys.stderr)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
    print(json.dumps(result))


def build(db: Path, out: Path, *, trace: bool = False, profile: Path | None = None) -> Run:
    command = [sys.executable, __file__, "--measure", str(db), str(out)]
    if trace:
        command.append("--tracemalloc")
    if profile:
        command += ["--profile", str(profile)]
    return run_child(command)


def site_files(out: Path) -> tuple[int, int, int]:
    """Files, page files (the four formats of every page) and bytes of a built site."""
    files = pages = size = 0
    for dirpath, dirnames, filenames in os.walk(out):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            path = os.path.join(dirpath, name)
            files += 1
            size += os.stat(path).st_size
            if not os.path.relpath(path, out).startswith(NOT_PAGES):
                pages += 1
    return files, pages, size


# -- Hugo --------------------------------------------------------------------------


def title_of(markdown: str, fallback: str) -> str:
    """An event page's headline (its ``# `` line); other pages are titled by their path."""
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def make_hugo_site(out: Path, site: Path) -> int:
    """A Hugo site of daybook's Markdown pages (news and front page); returns the pages."""
    content = site / "content"
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "config.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for name in ("single.html", "list.html"):
        (site / "layouts" / "_default" / name).write_text(HUGO_LAYOUT, encoding="utf-8")
    sources = [out / "index.md", *sorted((out / "news").rglob("*.md"))]
    for source in sources:
        rel = source.relative_to(out)
        # A page's index.md is the list page of its folder: Hugo's _index.md.
        target = content / (rel.with_name("_index.md") if rel.name == "index.md" else rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        markdown = source.read_text(encoding="utf-8")
        front = json.dumps({"title": title_of(markdown, rel.with_suffix("").as_posix())}, ensure_ascii=False)
        target.write_text(f"{front}\n\n{markdown}", encoding="utf-8")
    return len(sources)


def hugo_version() -> str:
    return subprocess.run(["hugo", "version"], capture_output=True, text=True, check=True).stdout.split()[1]


# -- the run -----------------------------------------------------------------------


def print_build(label: str, run: Run, files: int, pages: int, size: int) -> None:
    seconds = run.result.get("seconds", run.seconds)
    print(f"{label:<22}{seconds:.1f} s (CPU {run.cpu:.1f} s, peak RSS {run.peak_mib:.0f} MiB)")
    print(
        f"{'':<22}{int(run.result.get('written', 0)):,} written, {int(run.result.get('unchanged', 0)):,}"
        f" unchanged, {int(run.result.get('removed', 0)):,} removed"
    )
    if files:
        print(
            f"{'':<22}{files:,} files ({size / 2**20:,.0f} MiB), {pages // 4:,} pages:"
            f" {pages / 4 / seconds:,.0f} pages/s, {files / seconds:,.0f} files/s"
        )


def bench(workdir: Path, events: int, jobs: int, trace: bool, profile: Path | None, rounds: int = 1) -> None:
    db, out = workdir / "bench.db", workdir / "site"
    print(f"machine               {platform.machine()}, {os.cpu_count()} CPUs,", end=" ")
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, Hugo {hugo_version()}")
    print(f"workdir               {workdir}")
    if db.exists():  # --store: an existing corpus store, related
        print(f"store                 {db} (given)")
    else:
        make_store(db, events, jobs)
    print(f"load                  {' '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min)")

    full = build(db, out)
    files, pages, size = site_files(out)
    print_build("daybook full build", full, files, pages, size)
    again = build(db, out)
    print_build("daybook rebuild", again, 0, 0, 0)
    full_seconds = full.result["seconds"]
    print(f"{'':<22}{again.result['seconds'] / full_seconds:.1%} of the full build")
    if trace:
        traced = build(db, workdir / "site-traced", trace=True)
        print(f"tracemalloc peak      {traced.result['tracemalloc_mib']:.0f} MiB (full build, untimed)")
    if full.result["renderers"] != again.result["renderers"]:
        print("WARNING               the renderers changed between the two builds: rerun for the rebuild")
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
        build(db, workdir / "site-profiled", profile=profile / "full.pstats")
        build(db, workdir / "site-profiled", profile=profile / "rebuild.pstats")
        print(
            f"profile               {profile}/{{full,rebuild}}.pstats (under cProfile, untimed; tops above)"
        )

    hugo_site = workdir / "hugo"
    started = time.perf_counter()
    hugo_pages = make_hugo_site(out, hugo_site)
    made = time.perf_counter() - started
    print(f"hugo site             {hugo_pages:,} Markdown pages made in {made:.1f} s (not timed)")
    ratios: list[float] = []
    for round_ in range(1, rounds + 1):
        if round_ > 1:  # daybook and Hugo by turns, each into a new folder: the load hits both alike
            shutil.rmtree(workdir / "site-again", ignore_errors=True)
            full = build(db, workdir / "site-again")
            full_seconds = full.result["seconds"]
            print_build(f"daybook, round {round_}", full, 0, 0, 0)
        shutil.rmtree(workdir / "hugo-public", ignore_errors=True)
        hugo = run_child(
            [
                "hugo",
                "--quiet",
                "--cacheDir",
                str(hugo_site / "cache"),
                "--destination",
                str(workdir / "hugo-public"),
            ],
            cwd=hugo_site,
        )
        rendered, _, hugo_size = site_files(workdir / "hugo-public")
        print(f"hugo --quiet          {hugo.seconds:.1f} s", end=" ")
        print(f"(CPU {hugo.cpu:.1f} s, peak RSS {hugo.peak_mib:.0f} MiB; load {os.getloadavg()[0]:.1f})")
        print(
            f"{'':<22}{rendered:,} HTML files ({hugo_size / 2**20:,.0f} MiB):"
            f" {rendered / hugo.seconds:,.0f} pages/s"
        )
        ratios.append(full_seconds / hugo.seconds)
        print(
            f"ratio daybook/hugo    {ratios[-1]:.2f} (wall time: daybook's four formats"
            f" of {pages // 4:,} pages against Hugo's HTML of {rendered:,});"
            f" CPU {full.cpu / hugo.cpu:.2f}"
        )
    if rounds > 1:
        print(
            f"ratio, {rounds} rounds    median {statistics.median(ratios):.2f}"
            f" ({', '.join(f'{r:.2f}' for r in ratios)})"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000, help="corpus size (default 150000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="relate processes")
    parser.add_argument("--workdir", type=Path, help="a new folder for the store and sites")
    parser.add_argument("--keep", action="store_true", help="keep the workdir")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure Python's peak allocations")
    parser.add_argument(
        "--profile", type=Path, help="also profile a build and a rebuild, stats saved in this folder"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="daybook full builds and Hugo runs, by turns (default 1)"
    )
    parser.add_argument("--store", type=Path, help="an existing related corpus store, copied (not timed)")
    parser.add_argument("--measure", nargs=2, type=Path, metavar=("DB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        db, out = args.measure
        measure_build(db, out, trace=args.tracemalloc, profile=args.profile)
        return 0
    if shutil.which("hugo") is None:
        raise SystemExit("hugo not found: apt-get install hugo (Debian's)")
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=False)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="daybook-bench-publish-", dir=ROOT.parent))
    started = dt.datetime.now()
    if args.store:
        shutil.copyfile(args.store, workdir / "bench.db")
    try:
        bench(workdir.resolve(), args.events, args.jobs, args.tracemalloc, args.profile, args.rounds)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"total                 {(dt.datetime.now() - started).total_seconds():.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
