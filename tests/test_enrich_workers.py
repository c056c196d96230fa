"""Several ``daybook enrich`` at once on one PostgreSQL store, against the loopback stand-in
web: the work is shared (each source fetched once), per-host politeness holds for all of
them together, and a worker killed with SIGKILL loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pg_cluster
import psycopg
import pytest
from click.testing import CliRunner
from standin_web import StandInWeb, events_jsonl, ground_truth, target_of, with_copy

from daybook.cli import cli
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
PER_HOST = 2
DELAY = 0.1

pytestmark = pytest.mark.slow


@pytest.fixture
def web(shared_data: Path) -> Iterator[StandInWeb]:
    server = StandInWeb.with_articles().start()
    yield server
    server.stop()


def sources_on_few_hosts() -> list[str]:
    """Many sources per host (copies of 30 pages, on as many hosts): workers compete for hosts."""
    by_host: dict[str, str] = {}
    for url in ground_truth().values():
        by_host.setdefault(urllib.parse.urlsplit(url).hostname or "", url)
    pages = sorted(by_host.values())[:30]
    return [with_copy(url, copy) for url in pages for copy in range(1, 7)]


def ingest(db: str, urls: list[str], folder: Path) -> None:
    path = folder / "events-2019-11-19.jsonl"
    path.write_text(events_jsonl(urls), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", db, "ingest", str(path)], obj={})
    assert result.exit_code == 0, result.output


def start_workers(db: str, web: StandInWeb, count: int, *extra: str) -> list[subprocess.Popen[bytes]]:
    command = [
        sys.executable, "-m", "daybook", "--db", db, "enrich", "--via", web.base, "--allow-private",
        "--wayback", "off", "--per-host", str(PER_HOST), "--delay", str(DELAY), "--concurrency", "8",
        *extra,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(count)
    ]


def results(db: str) -> dict[str, str]:
    with psycopg.connect(db) as conn:
        return dict(conn.execute("SELECT source_id, outcome FROM source_articles").fetchall())


def article_requests(web: StandInWeb) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    with web.lock:
        for _, target, _ in web.seen:
            if target != "/robots.txt":
                counts[target] += 1
    return counts


def test_three_workers_fetch_each_source_once_and_share_politeness(
    postgres: pg_cluster.Cluster, web: StandInWeb, tmp_path: Path
) -> None:
    db = postgres.new_database()
    urls = sources_on_few_hosts()
    ingest(db, urls, tmp_path)
    web.page_delay = 0.05  # requests overlap, as on the real web
    workers = start_workers(db, web, 3)
    outputs = [worker.communicate(timeout=300) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], [err.decode() for _, err in outputs]
    # Each worker's one line: together they did every source, none twice.
    done = [int(out.decode().split(" sources:")[0]) for out, _ in outputs]
    assert sum(done) == len(urls) and all(done), done
    assert set(results(db).values()) == {"ok"} and len(results(db)) == len(urls)
    requests = article_requests(web)
    assert requests == {target_of(url): 1 for url in urls}
    # Politeness for all workers together: never more than --per-host at once on a host,
    # and request starts to a host --delay apart: n requests span (n - 1) delays at least
    # (less a loaded machine's jitter at either end; three workers each keeping the delay
    # on its own would start three at once).
    assert max(web.most_at_once.values()) <= PER_HOST
    assert max(web.most_at_once.values()) == PER_HOST  # the limit was reached, so it was tested
    starts: dict[str, list[float]] = defaultdict(list)
    with web.lock:
        for host, target, at in web.seen:
            if target != "/robots.txt":
                starts[host].append(at)
    for host, times in starts.items():
        assert max(times) - min(times) >= (len(times) - 1) * DELAY - 0.1, (host, sorted(times))


def test_a_worker_holding_a_hosts_slot_takes_the_next_not_the_same(postgres: pg_cluster.Cluster) -> None:
    # PostgreSQL gives a session an advisory lock it already holds: a worker's second request
    # to a host once took its first one's slot, and a third worker the slot left free.
    db = postgres.new_database()
    with Store(db) as one, Store(db) as other:
        assert one.try_host_slot("example.org", 2) == 0
        assert one.try_host_slot("example.org", 2) == 1
        assert one.try_host_slot("example.org", 2) is None
        assert other.try_host_slot("example.org", 2) is None  # both slots are taken, by one worker
        one.release_host_slot("example.org", 0)
        assert other.try_host_slot("example.org", 2) == 0
        assert one.try_host_slot("example.org", 2) is None
        assert other.try_host_slot("example.org", 1) is None


def test_a_killed_worker_loses_nothing(postgres: pg_cluster.Cluster, web: StandInWeb, tmp_path: Path) -> None:
    db = postgres.new_database()
    urls = sources_on_few_hosts()
    ingest(db, urls, tmp_path)
    web.page_delay = 0.05
    workers = start_workers(db, web, 3, "--lease", "2")
    deadline = time.monotonic() + 120
    while len(results(db)) < 30 and time.monotonic() < deadline:
        time.sleep(0.02)
    workers[0].send_signal(signal.SIGKILL)
    assert workers[0].wait(timeout=10) == -signal.SIGKILL
    killed_at, before = time.monotonic(), results(db)
    assert 30 <= len(before) < len(urls)
    for worker in workers[1:]:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()
    after = results(db)
    assert len(after) == len(urls) and set(after.values()) == {"ok"}
    assert all(after[key] == outcome for key, outcome in before.items())
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM source_responses").fetchone()[0] == len(urls)
        assert conn.execute("SELECT count(*) FROM enrich_leases").fetchone()[0] == 0
        url_of = dict(conn.execute("SELECT id, url FROM sources").fetchall())
    # What was kept before the kill was not asked for again; only what the killed worker
    # had in flight (its leases lapsed, then others took them) was fetched a second time.
    with web.lock:
        asked_again = {target for _, target, at in web.seen if at > killed_at}
    assert not {target_of(url_of[key]) for key in before} & asked_again
    twice = [target for target, count in article_requests(web).items() if count > 1]
    assert len(twice) <= 16, twice  # at most the killed worker's window (2 x --concurrency)
    assert all(count <= 2 for count in article_requests(web).values())
    assert max(web.most_at_once.values()) <= PER_HOST
