"""Measure the static site's search index on a large corpus: its size, and what a
reader downloads for one query.

The corpus is make_corpus.py's (150,000 events by default). Its events are turned
into the index's documents as a build does (text, entities and story lines, the page
path each event gets), without a store, and the index is built in memory. Then:

- build seconds, files, total bytes (and gzip-compressed, as a static host serves
  them), the manifest's size and the largest shard;
- for each query of QUERIES, the files ``StaticIndex`` reads, as search.js fetches
  them: manifest, one shard per word, the doc files of the 20 results shown; their
  bytes, raw and gzipped, and the median and largest over the queries;
- updates with their state in a SQLite file on disk (--state, not under /tmp, which
  may be memory): the full build into a fresh state without the last full day, then,
  each in a fresh connection to it, that day appended (what a daily update does), and
  that day replaced by an edited one (an event gone, the others' texts changed). For
  each: seconds (the update, then the commit), the term rows and shards read, the
  files written and deleted, by folder (t/: the base's shards, r/: the recent part's,
  d/: doc files). Each result is checked against a full build. All this twice: with a
  recent part of RECENT_SPAN docs, and with none (RECENT_SPAN 1: every doc in the
  base, the layout before the recent part); then the day whose docs cross a multiple
  of RECENT_SPAN, appended (the base folds the docs up to it).

Usage: python benchmarks/search_index.py [--events 150000] [--state DIR] [--segment-mod M]
       [--recent-span N]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import gzip
import itertools
import json
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from make_corpus import build_corpus

from daybook.model import Event
from daybook.publish import search_index
from daybook.publish.context import day_refs
from daybook.publish.search_index import SearchDoc, StaticIndex, build_index, build_index_state, update_index

QUERIES = [
    "kharkiv",
    "earthquake",
    "president",
    "election results",
    "covid vaccine",
    "supreme court ruling",
    "wildfire california",
    "liz truss resigns",
    "zaporizhzhia nuclear plant",
    "ukrain",
]


def documents(events: list[Event]) -> list[SearchDoc]:
    """The corpus as the index holds it, in site order, each with its page's path."""
    events = sorted(events, key=lambda e: e.date)  # stable: page order kept within a day
    docs = []
    for date, day in itertools.groupby(events, key=lambda e: e.date):
        day_events = list(day)
        refs = day_refs(date, [(e.id, e.text) for e in day_events])
        for event, ref in zip(day_events, refs, strict=True):
            names = "\n".join([*event.entities, *event.story])
            # Enriched sources' titles and ledes fill a doc row's snippet text (at most
            # MORE_CHARS): stood in for by the event's words, for every event citing a source.
            more = " ".join([event.text] * 3) if event.sources else ""
            docs.append(SearchDoc(event.id, date, event.text, ref.stem, event.text, names, more))
    return docs


def kib(n: float) -> str:
    return f"{n / 1024:,.1f} KiB"


def split_last_day(docs: list[SearchDoc], least: int = 10) -> tuple[list[SearchDoc], list[SearchDoc]]:
    """The docs before the last day of at least ``least`` events, and that day's (later
    days, smaller, are left out)."""
    days = [list(day) for _, day in itertools.groupby(docs, key=lambda d: d.date)]
    at = max(n for n, day in enumerate(days) if len(day) >= least)
    return [d for day in days[:at] for d in day], days[at]


def edited(day: list[SearchDoc]) -> list[SearchDoc]:
    """The day as an update might find it again: its second event gone, the others'
    texts changed (a word added, the last sentence dropped)."""
    return [
        dataclasses.replace(d, text="Updated: " + d.text.rsplit(".", 2)[0] + ".")
        for n, d in enumerate(day)
        if n != 1
    ]


def by_folder(paths: Iterable[str]) -> str:
    """How many of ``paths`` each folder of the index holds: ``t 12, r 3, d 3, manifest 1``."""
    counts = collections.Counter(path.split("/")[1] if path.count("/") > 1 else "manifest" for path in paths)
    return ", ".join(f"{folder} {counts[folder]}" for folder in ("t", "r", "d", "manifest") if counts[folder])


def timed_update(path: Path, changed: int, docs: list[SearchDoc], label: str) -> dict[str, bytes]:
    """One update of the state at ``path`` to ``docs``, the first ``changed`` of them as
    they were, in a fresh connection; the files written, and deleted (as empty)."""
    start = changed // search_index.CHUNK * search_index.CHUNK
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    update = update_index(conn, start, docs[start:], len(docs))
    seconds = time.perf_counter() - started
    conn.commit()
    commit = time.perf_counter() - started - seconds
    conn.close()
    written = sum(map(len, update.files.values()))
    print(
        f"{label:11} {seconds:.3f} s (+ commit {commit:.3f} s); read {update.terms_read:,} term rows,"
        f" {update.shards_read} shards ({kib(update.shard_bytes_read)}); wrote {len(update.files)} files"
        f" ({kib(written)}), deleted {len(update.removed)}"
    )
    print(f"{'':11} written: {by_folder(update.files)}; deleted: {by_folder(update.removed) or 'none'}")
    return {**update.files, **dict.fromkeys(update.removed, b"")}


def fresh_state(folder: Path, docs: list[SearchDoc]) -> tuple[Path, dict[str, bytes]]:
    """A state on disk of a full build of ``docs``; its path, and the files."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "search-state.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    files = build_index_state(conn, docs)
    conn.commit()
    conn.close()
    seconds = time.perf_counter() - started
    size = kib(path.stat().st_size)
    print(f"state       full build of {len(docs):,} docs into {path}: {seconds:.1f} s, {size}")
    return path, files


def apply(files: dict[str, bytes], changes: dict[str, bytes]) -> None:
    for name, data in changes.items():
        if data:
            files[name] = data
        else:
            del files[name]


def updates(docs: list[SearchDoc], folder: Path) -> None:
    """The full build into a state on disk, then one day appended, then replaced."""
    before, day = split_last_day(docs)
    span = search_index.RECENT_SPAN
    print(f"recent part {span} docs: the docs from {search_index.recent_from(len(before)):,} on")
    path, files = fresh_state(folder, before)
    for label, now in (("append day", before + day), ("replace day", before + edited(day))):
        apply(files, timed_update(path, len(before), now, label))
        assert files == build_index(now), label


def fold(docs: list[SearchDoc], folder: Path) -> None:
    """The full build of the docs before the last two days up to one crossing a multiple
    of RECENT_SPAN; then the first of those days appended (a recent part nearly full),
    then the day crossing it (the base folds the recent part in)."""
    span = search_index.RECENT_SPAN
    days = [len(list(day)) for _, day in itertools.groupby(docs, key=lambda d: d.date)]
    bounds = list(itertools.pairwise([0, *itertools.accumulate(days)]))
    at = max(n for n, (s, e) in enumerate(bounds) if n and e // span > s // span and e - s >= 2)
    (before, start), (_, end) = bounds[at - 1], bounds[at]
    print(f"fold        the day of docs {start:,} to {end - 1:,} crosses {end // span * span:,}")
    path, files = fresh_state(folder, docs[:before])
    apply(files, timed_update(path, before, docs[:start], "append day"))
    apply(files, timed_update(path, start, docs[:end], "append fold"))
    assert files == build_index(docs[:end]), "fold"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--state", type=Path, default=Path("/work/search-bench"))
    parser.add_argument("--segment-mod", type=int, default=search_index.SEGMENT_MOD)
    parser.add_argument("--recent-span", type=int, default=search_index.RECENT_SPAN)
    args = parser.parse_args(argv)
    search_index.SEGMENT_MOD = args.segment_mod
    search_index.RECENT_SPAN = args.recent_span
    docs = documents(build_corpus(args.events))
    started = time.perf_counter()
    files = build_index(docs)
    seconds = time.perf_counter() - started
    packed = {path: len(gzip.compress(data, 6)) for path, data in files.items()}
    shards = [len(data) for path, data in files.items() if "/t/" in path or "/r/" in path]
    recent = sum(1 for path in files if "/r/" in path)
    firsts = [first for first, _ in json.loads(files["search/manifest.json"])["shards"]]
    segments = sum(1 for n, first in enumerate(firsts) if n == 0 or search_index._starts_segment(first))
    print(f"machine     {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"events      {len(docs):,}")
    print(f"build       {seconds:.1f} s")
    doc_files = len(files) - len(shards) - 1
    print(f"files       {len(files):,} ({len(shards)} term shards, {recent} recent, {doc_files} doc files)")
    print(f"total       {kib(sum(map(len, files.values())))} ({kib(sum(packed.values()))} gzipped)")
    manifest = "search/manifest.json"
    print(f"manifest    {kib(len(files[manifest]))} ({kib(packed[manifest])} gzipped)")
    print(f"shards      largest {kib(max(shards))}, median {kib(statistics.median(shards))}")
    print(f"segments    {segments} (a term in {search_index.SEGMENT_MOD} starts one)")
    fetched_raw, fetched_gz = [], []
    for query in QUERIES:
        index = StaticIndex(lambda name: files[f"search/{name}"])
        hits = index.search(query)
        raw = sum(index.fetched.values())
        gz = sum(packed[f"search/{name}"] for name in index.fetched)
        fetched_raw.append(raw)
        fetched_gz.append(gz)
        count = len(index.fetched)
        print(f"query       {query!r:30} {len(hits):2} hits, {count:2} files, {kib(raw)} ({kib(gz)} gz)")
    median_raw, median_gz = statistics.median(fetched_raw), statistics.median(fetched_gz)
    print(f"per query   median {kib(median_raw)} ({kib(median_gz)} gz), largest {kib(max(fetched_raw))}")
    updates(docs, args.state)
    search_index.RECENT_SPAN = 1  # no recent part: the layout before it
    updates(docs, args.state)
    search_index.RECENT_SPAN = args.recent_span
    fold(docs, args.state)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
