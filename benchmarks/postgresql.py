"""The same daybook on PostgreSQL against SQLite: ingest, relate and build times on a
make_corpus corpus, and enrich throughput with 1, 2 and 4 workers sharing one
PostgreSQL store against the loopback stand-in web (politeness on, many hosts).

PostgreSQL is a throwaway cluster (tests/pg_cluster.py: initdb in a temporary folder,
Unix socket, fsync off as the tests run it; as root it runs as ``nobody``).

Usage: python benchmarks/postgresql.py [--events 150000] [--workers 1,2,4]
       [--copies 8] [--hosts 60] [--skip-store] [--skip-enrich]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import pg_cluster  # noqa: E402
from enrich import cited_urls  # noqa: E402
from make_corpus import build_corpus  # noqa: E402

DAYBOOK = [sys.executable, "-m", "daybook"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def timed(*args: str) -> float:
    """Seconds one daybook command takes (in a process of its own, as a user runs it)."""
    started = time.perf_counter()
    done = subprocess.run([*DAYBOOK, *args], env=ENV, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"daybook {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return time.perf_counter() - started


def store_times(cluster: pg_cluster.Cluster, events: int, work: Path) -> None:
    corpus = work / "corpus.jsonl"
    with corpus.open("w", encoding="utf-8") as out:
        for event in build_corpus(events):
            out.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")
    print(f"\nstore: {events} events (make_corpus), one process per command, wall seconds")
    print(f"{'backend':<12}{'ingest':>10}{'relate':>10}{'build':>10}")
    for name, db in (("sqlite", str(work / "bench.db")), ("postgresql", cluster.new_database("bench"))):
        ingest = timed("--db", db, "ingest", str(corpus))
        relate = timed("--db", db, "relate")
        build = timed("--db", db, "build", str(work / f"site-{name}"))
        print(f"{name:<12}{ingest:>10.1f}{relate:>10.1f}{build:>10.1f}", flush=True)
    same = subprocess.run(
        ["diff", "-rq", str(work / "site-sqlite"), str(work / "site-postgresql")], check=False
    )
    print("sites byte for byte the same" if same.returncode == 0 else "SITES DIFFER")


def enrich_throughput(
    cluster: pg_cluster.Cluster, counts: list[int], copies: int, hosts: int, work: Path
) -> None:
    urls = cited_urls(copies, hosts)
    lines = [
        json.dumps({"date": "2019-11-19", "category": "Bench", "text": f"Event {n}",
                    "sources": [{"outlet": "Outlet", "url": url}]})
        for n, url in enumerate(urls)
    ]  # fmt: skip
    jsonl = work / "sources.jsonl"
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    template = cluster.new_database("template")
    timed("--db", template, "ingest", str(jsonl))
    names = {urllib_host(u) for u in urls}
    web = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "standin_web.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert web.stdout is not None
        base = web.stdout.readline().strip()
        print(f"\nenrich: {len(urls)} sources on {len(names)} hosts, stand-in web on loopback, politeness")
        print("on (--per-host 2, --delay 0.5, robots.txt), --concurrency 32 per worker")
        print(f"{'store':<12}{'workers':>8}{'seconds':>10}{'sources/s':>11}")
        lite = str(work / "enrich.db")
        timed("--db", lite, "ingest", str(jsonl))
        command = [*DAYBOOK, "--db", lite, "enrich", "--via", base, "--allow-private", "--wayback", "off"]
        started = time.perf_counter()
        subprocess.run(command, env=ENV, capture_output=True, check=True)
        seconds = time.perf_counter() - started
        print(f"{'sqlite':<12}{1:>8}{seconds:>10.1f}{len(urls) / seconds:>11.1f}", flush=True)
        for count in counts:
            db = cluster.new_database(f"enrich{count}_")
            copy_database(cluster, template, db)
            command = [*DAYBOOK, "--db", db, "enrich", "--via", base, "--allow-private", "--wayback", "off"]
            started = time.perf_counter()
            workers = [
                subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(count)
            ]
            for worker in workers:
                _, err = worker.communicate()
                if worker.returncode != 0:
                    raise SystemExit(f"an enrich worker failed: {err.decode()[-500:]}")
            seconds = time.perf_counter() - started
            print(f"{'postgresql':<12}{count:>8}{seconds:>10.1f}{len(urls) / seconds:>11.1f}", flush=True)
    finally:
        web.terminate()


def urllib_host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or ""


def copy_database(cluster: pg_cluster.Cluster, template: str, db: str) -> None:
    """``db`` made again as a copy of ``template`` (the same sources, nothing enriched)."""
    import psycopg

    name, source = (urllib.parse.urlsplit(url).path.lstrip("/") for url in (db, template))
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--copies", type=int, default=8, help="copies of each stand-in page")
    parser.add_argument("--hosts", type=int, default=60, help="host names per page's copies")
    parser.add_argument("--skip-store", action="store_true")
    parser.add_argument("--skip-enrich", action="store_true")
    args = parser.parse_args(argv)
    # Stopped (a timeout), the cluster and the temporary folder still go.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    print(f"load (1, 5, 15 min): {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="daybook-bench-") as folder, pg_cluster.cluster() as cluster:
        work = Path(folder)
        if not args.skip_enrich:
            enrich_throughput(
                cluster, [int(n) for n in args.workers.split(",")], args.copies, args.hosts, work
            )
        if not args.skip_store:
            store_times(cluster, args.events, work)
    print(f"load (1, 5, 15 min): {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
