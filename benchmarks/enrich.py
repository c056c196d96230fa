"""Enrich thousands of source URLs from a local server and print pages/s and where the time goes.

The 181 pages of articles-scrapinghub, repeated under distinct query strings and host
names (``--copies`` of each, spread over ``--hosts`` names per site), are cited by
events in a fresh store and enriched through ``--via`` from the stand-in server
(tests/standin_web.py), run in its own process as the web would be.

Usage: python benchmarks/enrich.py [--copies 12] [--hosts 3] [--per-host 2] [--concurrency 32]
                                   [--delay 0.5] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zlib
from collections.abc import Callable
from pathlib import Path

from daybook.enrich import enrich, interleave
from daybook.enrich.extract import extract_article
from daybook.ingest import days_from_jsonl
from daybook.model import Article
from daybook.net.fetch import Fetcher, FetchSettings
from daybook.store import RawResponse, Store

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "articles-scrapinghub"


def cited_urls(copies: int, hosts: int) -> list[str]:
    """Each page ``copies`` times: ``copy=N`` added to its query, its host one of ``hosts`` names."""
    truth = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    urls = []
    for entry in truth.values():
        parts = urllib.parse.urlsplit(entry["url"])
        for copy in range(copies):
            host = parts.netloc if copy % hosts == 0 else f"h{copy % hosts}.{parts.netloc}"
            query = f"{parts.query}&copy={copy}" if parts.query else f"copy={copy}"
            urls.append(urllib.parse.urlunsplit((parts.scheme, host, parts.path, query, "")))
    return urls


def fill(store: Store, urls: list[str]) -> None:
    lines = [
        json.dumps({"date": "2019-11-19", "category": "Bench", "text": f"Event {n}",
                    "sources": [{"outlet": "Outlet", "url": url}]})
        for n, url in enumerate(urls)
    ]  # fmt: skip
    for day in days_from_jsonl("\n".join(lines)):
        store.replace_day(day, origin="bench", format="jsonl")


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fetch_only(settings: FetchSettings, urls: list[str]) -> tuple[float, float]:
    """Seconds and client CPU seconds to fetch every URL, extracting nothing."""

    async def main() -> None:
        window = asyncio.Semaphore(settings.concurrency * 4)
        async with Fetcher(settings) as fetcher:

            async def one(url: str) -> None:
                async with window:
                    await fetcher.fetch(url)

            await asyncio.gather(*(one(u) for u in urls))

    cpu, started = self_cpu(), time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - started, self_cpu() - cpu


def per_page_costs(store: Store) -> dict[str, float]:
    """Milliseconds per page of each CPU step, on the 181 pages, one at a time, one CPU."""
    gzipped = [p.read_bytes() for p in sorted((DATA / "html").glob("*.html.gz"))]
    bodies = [gzip.decompress(g) for g in gzipped]
    keys = [row[0] for row in store.conn.execute("SELECT id FROM sources LIMIT 181")]
    costs: dict[str, float] = {}

    def timed(name: str, step: Callable[[int], object]) -> None:
        started = time.perf_counter()
        for n in range(len(bodies)):
            step(n)
        costs[name] = (time.perf_counter() - started) / len(bodies) * 1000

    timed("gunzip answer", lambda n: gzip.decompress(gzipped[n]))
    timed("extract", lambda n: extract_article(bodies[n], url="https://bench.example/a", outlet="Outlet"))
    timed("zlib (plain answers only)", lambda n: zlib.compress(bodies[n], 1))
    timed(
        "store write",
        lambda n: store.save_page(
            keys[n], RawResponse(200, "https://x", (), gzipped[n], "2019-11-19T00:00:00+00:00"),
            Article(title="t"), dead=None,
        ),
    )  # fmt: skip
    return costs


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=12)
    parser.add_argument("--hosts", type=int, default=3, help="host names per site")
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=None, help="extraction processes (default: auto)")
    args = parser.parse_args(argv)

    urls = cited_urls(args.copies, args.hosts)
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "standin_web.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        base = server.stdout.readline().strip()
        settings = FetchSettings(
            via=base,
            allow_private=True,
            per_host=args.per_host,
            concurrency=args.concurrency,
            delay=args.delay,
            wayback=None,
        )
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.db") as store:
            fill(store, urls)
            hosts = {urllib.parse.urlsplit(u).hostname for u in urls}
            server_cpu, cpu = cpu_of(server.pid), self_cpu()
            started = time.perf_counter()
            report = enrich(store, settings, workers=args.workers)
            elapsed = time.perf_counter() - started
            client_cpu, server_cpu = self_cpu() - cpu, cpu_of(server.pid) - server_cpu
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            pool_cpu = children.ru_utime + children.ru_stime
            db_mib = (Path(tmp) / "bench.db").stat().st_size / 2**20 + sum(
                p.stat().st_size for p in Path(tmp).glob("bench.db-*")
            ) / 2**20

            fetch_cpu0 = cpu_of(server.pid)
            fetch_seconds, fetch_client_cpu = fetch_only(settings, interleave_urls(urls))
            fetch_server_cpu = cpu_of(server.pid) - fetch_cpu0
            costs = per_page_costs(store)
    finally:
        server.terminate()
        server.wait()

    pages = report.fetched + report.archived
    workers = args.workers if args.workers is not None else "auto"
    fetch_rate = len(urls) / fetch_seconds
    print(f"urls             {len(urls)} over {len(hosts)} host names ({args.copies} copies of 181 pages)")
    print(
        f"settings         per-host {args.per_host}, concurrency {args.concurrency}, delay {args.delay:g} s"
    )
    print(f"                 extraction workers {workers}, {os.cpu_count()} CPUs")
    print(f"result           {report.summary()}")
    print(f"seconds          {elapsed:.2f}")
    print(f"pages/s          {pages / elapsed:.0f}   (fetch + extract + store, end to end)")
    # The machine may be shared: what the run cost in CPU does not depend on who else ran.
    cpu_total = client_cpu + pool_cpu + server_cpu
    cores = os.cpu_count() or 1
    print(f"CPU per page     {cpu_total / pages * 1000:.1f} ms (client, workers and server together)")
    print(f"pages/s at most  {cores * pages / cpu_total:.0f}   (all {cores} CPUs ours, no other load)")
    print(f"store            {db_mib:.0f} MiB")
    print("where the time goes (CPU seconds during the run)")
    print(f"  client process {client_cpu:6.2f}   (event loop: HTTP, gunzip, robots.txt, store writes)")
    print(
        f"  worker procs   {pool_cpu:6.2f}   (extraction, with their start-up; 0 when extracting in threads)"
    )
    print(f"  server process {server_cpu:6.2f}   (the stand-in web, sharing the same CPUs)")
    print(
        f"fetch only       {fetch_rate:.0f} pages/s, client CPU {fetch_client_cpu:.2f} s, server CPU ", end=""
    )
    print(f"{fetch_server_cpu:.2f} s   (the same URLs again, nothing extracted or stored)")
    print("per page, one CPU: " + ", ".join(f"{k} {v:.2f} ms" for k, v in costs.items()))
    return 0 if pages == len(urls) else 1


def interleave_urls(urls: list[str]) -> list[str]:
    from daybook.store import SourceJob

    return [j.url for j in interleave(SourceJob(id=u, url=u, outlet="", date=None) for u in urls)]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
