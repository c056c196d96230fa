"""Time an update's commit on a site of 1.6 million files: ``SiteRepo.stage`` + ``commit``
(git's index) against ``SiteRepo.commit_paths`` (its tree made without the index, then the
index entries of the changed paths alone set: that step is printed apart).

Setup, once per work folder (not timed): a site of ``--files`` small files laid out as
daybook lays one out (``news/YYYY/MM/D/<slug>.{md,html,json,xml}`` and the day's index,
month and year archives, ``entity/<slug>.*`` with some ``entity/<slug>/page/N.*``,
``story/<slug>.*``, ``search/t/*.json``, ``search/d/*.json``, front page, feeds,
sitemaps), made a repository by ``SiteRepo.init`` and committed whole (``git add -A``
with the split index, ``write-tree``): loose objects, as a first ``daybook update``
leaves them. Folder and repository are kept for the next run (the setup takes minutes).

Timed, each run in a fresh process, on a change like an update's (``--changed`` paths
over ``--folders`` folders: a new day, events edited or removed in other days, entity,
story, search, archive and front pages, feeds, a sitemap; written to disk before, not
timed): (a) ``stage(paths)`` + ``commit``, (b) ``commit_paths``, alternately, each on a
change of its own; both leave the index HEAD's. ``sync_index`` (a no-op but for a site
whose index an older daybook left behind) is timed apart. Then the blobs of one change
written two ways into an empty object folder: ``git hash-object -w --stdin-paths``
against daybook's own loose-object writer. Printed: seconds of the call, of the
process, its peak RSS and its gits'.

Usage: python benchmarks/commit.py [--files 1600000] [--runs 3] [--changed 1500]
                                   [--folders 400] [--workdir /work/commit-bench]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from daybook.site_repo import SiteRepo

FORMATS = ("md", "html", "json", "xml")
EVENTS_PER_DAY = 18
WORDS = [
    "storm", "flood", "minister", "election", "court", "army", "rebels", "talks", "ceasefire", "protest",
    "police", "president", "parliament", "vote", "border", "missile", "strike", "earthquake", "fire",
    "rescue", "trade", "tariff", "bank", "market", "oil", "gas", "summit", "treaty", "union", "health",
    "vaccine", "outbreak", "drought", "harvest", "festival", "ship", "port", "rail",
]  # fmt: skip


def slug(rng: random.Random, number: int, words: tuple[int, int] = (4, 20)) -> str:
    return "-".join(rng.choice(WORDS) for _ in range(rng.randint(*words))) + f"-{number}"


class Content:
    """File bodies: some 300 to 3,000 bytes of page text, unique to the path and the round."""

    def __init__(self) -> None:
        rng = random.Random(1)
        self.pool = " ".join(rng.choice(WORDS) for _ in range(200_000)).encode()
        self.rng = random.Random(2)

    def __call__(self, path: str, round_: int = 0) -> bytes:
        size = self.rng.randint(300, 3000)
        start = self.rng.randrange(len(self.pool) - size)
        head = f"<!doctype html><title>{path} ({round_})</title>\n".encode()
        return head + self.pool[start : start + size]


def layout(files: int) -> tuple[list[dt.date], list[str]]:
    """The days of the news part, and every other path, for a site of about ``files`` files."""
    rng = random.Random(3)
    others = [f"index.{e}" for e in FORMATS] + ["index_rss.xml", "index_atom.xml", "index_feed.json"]
    entities = files // 10 // 4
    for number in range(entities):
        name = slug(rng, number, (1, 4))
        others += [f"entity/{name}.{e}" for e in FORMATS]
        if number % 20 == 0:
            others += [f"entity/{name}/page/{p}.{e}" for p in (2, 3) for e in FORMATS]
    others += [f"story/{slug(rng, n, (2, 6))}.{e}" for n in range(files // 50 // 4) for e in FORMATS]
    others += [f"search/t/{n:012x}.json" for n in range(322)]
    others += [f"search/d/{n}.json" for n in range(files // 170)]
    others += [f"sitemap-{n}.xml" for n in range(1, files // 40_000 + 2)]
    per_day = (EVENTS_PER_DAY + 1) * len(FORMATS)
    days = max(1, (files - len(others)) // per_day)
    first = dt.date(2026, 1, 1) - dt.timedelta(days=days)
    return [first + dt.timedelta(days=n) for n in range(days)], others


def day_dir(date: dt.date) -> str:
    return f"news/{date.year:04d}/{date.month:02d}/{date.day}"


def event_files(site: Path, date: dt.date) -> list[str]:
    folder = day_dir(date)
    return sorted(f"{folder}/{n}" for n in os.listdir(site / folder) if not n.startswith("index."))


def write(site: Path, paths: list[str], content: Content, round_: int = 0) -> None:
    for path in paths:
        target = site / path
        try:
            target.write_bytes(content(path, round_))
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content(path, round_))


def prepare(work: Path, files: int) -> Path:
    """The site and its first commit, made unless an earlier run made them."""
    site = work / f"site-{files}"
    if (work / f"prepared-{files}").exists():
        return site
    shutil.rmtree(site, ignore_errors=True)
    started = time.perf_counter()
    days, others = layout(files)
    rng, content = random.Random(4), Content()
    written = 0
    for date in days:
        names = [slug(rng, n) for n in range(EVENTS_PER_DAY)]
        paths = [f"{day_dir(date)}/{n}.{e}" for n in [*names, "index"] for e in FORMATS]
        write(site, paths, content)
        written += len(paths)
    months = sorted({(d.year, d.month) for d in days})
    archives = [f"news/{y:04d}/{m:02d}/index.{e}" for y, m in months for e in FORMATS]
    archives += [f"news/{y:04d}/index.{e}" for y in sorted({y for y, _ in months}) for e in FORMATS]
    write(site, [*archives, *others], content)
    written += len(archives) + len(others)
    print(f"setup: {written:,} files written in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    repo = SiteRepo(site)
    repo.init()
    repo.stage(None)
    repo.commit("first build")
    objects = subprocess.run(
        ["git", "count-objects", "-v"], cwd=site, capture_output=True, text=True, check=True
    ).stdout
    print(f"setup: committed in {time.perf_counter() - started:.0f} s; " + " ".join(objects.split()))
    (work / f"prepared-{files}").write_text(f"{written}\n", encoding="utf-8")
    return site


def change(site: Path, changed: int, folders: int, round_: int, content: Content) -> list[str]:
    """Write a change like an update's to disk; its paths (written and removed)."""
    rng = random.Random(100 + round_)
    years = sorted(p.name for p in (site / "news").iterdir())
    last_year = site / "news" / years[-1]
    last_month = sorted(p.name for p in last_year.iterdir() if p.is_dir())[-1]
    last_day = max(int(p.name) for p in (last_year / last_month).iterdir() if p.is_dir())
    last = dt.date(int(years[-1]), int(last_month), last_day)
    new = last + dt.timedelta(days=1)
    names = [slug(rng, 10_000 + n) for n in range(EVENTS_PER_DAY)]
    paths = [f"{day_dir(new)}/{n}.{e}" for n in [*names, "index"] for e in FORMATS]
    paths += [f"{day_dir(new).rsplit('/', 1)[0]}/index.{e}" for e in FORMATS]  # the month
    paths += [f"news/{new.year:04d}/index.{e}" for e in FORMATS] + [f"index.{e}" for e in FORMATS]
    paths += ["index_rss.xml", "index_atom.xml", "index_feed.json", "sitemap-1.xml"]
    entity = sorted(os.listdir(site / "entity"))
    paths += [f"entity/{n}" for n in rng.sample(entity, 60) if n.endswith(FORMATS)]
    paths += [f"story/{n}" for n in rng.sample(sorted(os.listdir(site / "story")), 8)]
    paths += [f"search/t/{n}" for n in rng.sample(sorted(os.listdir(site / "search/t")), 20)]
    paths += [f"search/d/{n}" for n in rng.sample(sorted(os.listdir(site / "search/d")), 2)]
    dates = [last - dt.timedelta(days=n) for n in range(1, 3000)]
    others = [d for d in rng.sample(dates, min(len(dates), folders - 10)) if (site / day_dir(d)).is_dir()]
    removed: list[str] = []
    per_folder = max(1, (changed - len(paths)) // max(1, len(others)))
    for number, date in enumerate(others):
        events = event_files(site, date)
        if number % 6 == 0 and len(events) > 8:  # an event gone: its files removed, the day's index edited
            gone = events[:4]
            removed += [f"{day_dir(date)}/{n.rsplit('/', 1)[-1]}" for n in gone]
            paths += [f"{day_dir(date)}/index.{e}" for e in FORMATS][: max(0, per_folder - 4)]
        else:
            paths += [e for e in rng.sample(events, min(per_folder, len(events)))]
    write(site, paths, content, round_)
    for path in removed:
        (site / path).unlink()
    return sorted(set(paths + removed))


# -- the timed process ---------------------------------------------------------------


def timed(mode: str, site: Path, paths: list[str], extra: str = "") -> dict[str, float]:
    """Run one mode in a fresh process; its figures."""
    listing = site.parent / "paths.json"
    listing.write_text(json.dumps(paths), encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, str(site), str(listing), extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, _ = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{mode} failed: {output}")
    figures: dict[str, float] = json.loads(output)
    figures["process"] = time.perf_counter() - started
    return figures


def peak_rss() -> float:
    """This process's peak RSS in MiB (VmHWM: ru_maxrss would be the parent's, kept across exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def child(mode: str, site: Path, listing: Path, extra: str) -> None:
    import resource

    paths: list[str] = json.loads(listing.read_text(encoding="utf-8"))
    repo = SiteRepo(site)
    repo._identity_args(repo._git_binary())  # the identity looked up, as any earlier git call would
    started, cpu = time.perf_counter(), os.times()
    index = 0.0
    if mode == "old":
        repo.stage(paths)
        result = repo.commit("old path")
        assert result is not None
    elif mode == "new":
        result = repo.commit_paths(paths, "index-free")
        assert result is not None
        index = repo.index_seconds
    elif mode == "sync":
        repo.sync_index()
    elif mode == "hash-object":
        env = {**os.environ, "GIT_OBJECT_DIRECTORY": extra}
        existing = "".join(f"{p}\n" for p in paths if (site / p).is_file())
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin-paths"], cwd=site, input=existing, text=True,
            capture_output=True, check=True, env=env,
        )  # fmt: skip
    elif mode == "python-blobs":
        from daybook.site_repo import _ObjectWriter

        writer = _ObjectWriter(site, os.fsencode(extra))
        for path in paths:
            if (site / path).is_file():
                writer.write(b"blob", (site / path).read_bytes())
    seconds, done = time.perf_counter() - started, os.times()
    own = done.user + done.system - cpu.user - cpu.system
    gits = done.children_user + done.children_system - cpu.children_user - cpu.children_system
    git_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    figures = {"seconds": seconds, "index": index, "cpu_own": own, "cpu_git": gits}
    figures |= {"rss": peak_rss(), "git_rss": git_rss}
    print(json.dumps(figures))


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--child":
        child(argv[1], Path(argv[2]), Path(argv[3]), argv[4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_600_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--changed", type=int, default=1500)
    parser.add_argument("--folders", type=int, default=400)
    parser.add_argument("--workdir", type=Path, default=Path("/work/commit-bench"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" {git}; work folder {args.workdir}",
        flush=True,
    )
    site = prepare(args.workdir, args.files)
    tracked = subprocess.run(
        ["git", "ls-files", "--stage"], cwd=site, capture_output=True, check=True
    ).stdout.count(b"\n")
    print(f"site: {tracked:,} files in the index", flush=True)
    content = Content()
    round_ = int(time.time())  # a change never made before, whatever earlier runs made

    def report(label: str, figures: dict[str, float], paths: int, load: float) -> None:
        print(
            f"{label}: {figures['seconds']:.3f} s"
            + (f" (of which the index {figures['index']:.3f} s)" if figures.get("index") else "")
            + f", CPU {figures['cpu_own']:.2f} s + git's"
            f" {figures['cpu_git']:.2f} s (process {figures['process']:.2f} s); peak RSS"
            f" {figures['rss']:.0f} MiB, git's {figures['git_rss']:.0f} MiB; {paths:,} paths,"
            f" load {load:.1f}",
            flush=True,
        )

    for number in range(1, args.runs + 1):
        load = os.getloadavg()[0]
        report(f"run {number} sync_index", timed("sync", site, []), 0, load)
        for mode, label in (("old", "(a) stage + commit"), ("new", "(b) commit_paths")):
            round_ += 1
            paths = change(site, args.changed, args.folders, round_, content)
            folders = len({p.rsplit("/", 1)[0] for p in paths})
            print(f"run {number}: {len(paths):,} paths changed in {folders} folders", flush=True)
            report(f"run {number} {label}", timed(mode, site, paths), len(paths), os.getloadavg()[0])
    round_ += 1
    paths = change(site, args.changed, args.folders, round_, content)
    timed("sync", site, [])
    repo = SiteRepo(site)
    repo.stage(paths)
    repo.commit("blobs")
    for mode in ("hash-object", "python-blobs"):
        objects = args.workdir / f"objects-{mode}"
        shutil.rmtree(objects, ignore_errors=True)
        objects.mkdir()
        report(f"blobs by {mode}", timed(mode, site, paths, str(objects)), len(paths), os.getloadavg()[0])
        shutil.rmtree(objects)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
