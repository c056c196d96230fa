"""Measure the static site's search index on a large corpus: its size, and what a
reader downloads for one query.

The corpus is make_corpus.py's (150,000 events by default). Its events are turned
into the index's documents as a build does (text, entities and story lines, the page
path each event gets), without a store, and the index is built in memory. Then:

- build seconds, files, total bytes (and gzip-compressed, as a static host serves
  them), the manifest's size and the largest shard;
- for each query of QUERIES, the files ``StaticIndex`` reads, as search.js fetches
  them: manifest, one shard per word, the doc files of the 20 results shown; their
  bytes, raw and gzipped, and the median and largest over the queries.

Usage: python benchmarks/search_index.py [--events 150000]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import platform
import statistics
import sys
import time

from make_corpus import build_corpus

from daybook.context import day_refs
from daybook.model import Event
from daybook.search_index import SearchDoc, StaticIndex, build_index

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
            docs.append(SearchDoc(event.id, date, event.text, ref.stem, event.text, names))
    return docs


def kib(n: float) -> str:
    return f"{n / 1024:,.1f} KiB"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000)
    args = parser.parse_args(argv)
    docs = documents(build_corpus(args.events))
    started = time.perf_counter()
    files = build_index(docs)
    seconds = time.perf_counter() - started
    packed = {path: len(gzip.compress(data, 6)) for path, data in files.items()}
    shards = [len(data) for path, data in files.items() if "/t/" in path]
    print(f"machine     {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"events      {len(docs):,}")
    print(f"build       {seconds:.1f} s")
    print(f"files       {len(files):,} ({len(shards)} term shards, {len(files) - len(shards) - 1} doc files)")
    print(f"total       {kib(sum(map(len, files.values())))} ({kib(sum(packed.values()))} gzipped)")
    manifest = "search/manifest.json"
    print(f"manifest    {kib(len(files[manifest]))} ({kib(packed[manifest])} gzipped)")
    print(f"shards      largest {kib(max(shards))}, median {kib(statistics.median(shards))}")
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
