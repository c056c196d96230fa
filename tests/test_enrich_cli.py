"""``daybook enrich`` and ``daybook sources`` from the command line, against a real
server on loopback; and a run killed with SIGKILL, then resumed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner
from standin_web import StandInWeb, events_jsonl, ground_truth, target_of, with_copy

from daybook.cli import cli
from daybook.enrich import POOL_THRESHOLD
from daybook.model import url_key

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {"url", "status", "final_url", "archived", "lede", "image", "publisher", "title", "published"}


@pytest.fixture(scope="module")
def web(shared_data: Path) -> Iterator[StandInWeb]:
    server = StandInWeb.with_articles().start()
    yield server
    server.stop()


def run(*args: str, db: Path, env: dict[str, str] | None = None) -> click.testing.Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], obj={}, env=env)


def ingest(db: Path, urls: list[str], date: str = "2019-11-19") -> None:
    path = db.parent / f"events-{date}.jsonl"
    path.write_text(events_jsonl(urls, date), encoding="utf-8")
    result = run("ingest", str(path), db=db)
    assert result.exit_code == 0, result.output


def local(web: StandInWeb, *extra: str) -> list[str]:
    return [
        "--via",
        web.base,
        "--allow-private",
        "--delay",
        "0",
        "--wayback",
        f"{web.base}/wayback/available",
        *extra,
    ]


def sources(db: Path) -> list[dict[str, object]]:
    result = run("sources", "--format", "jsonl", db=db)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


@pytest.mark.slow
def test_enrich_then_sources_jsonl(web: StandInWeb, tmp_path: Path) -> None:
    db = tmp_path / "daybook.db"
    cited = [*ground_truth().values(), "http://moved.test/fault/moved", "http://gone.test/fault/gone"]
    ingest(db, cited)
    result = run("enrich", *local(web), db=db)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "183 sources: 182 fetched, 0 archived, 1 failed (410 1)"

    found = sources(db)
    assert sorted(str(r["url"]) for r in found) == sorted(cited)
    for record in found:
        assert record.keys() >= REQUIRED
        assert isinstance(record["archived"], bool)
    by_url = {r["url"]: r for r in found}
    assert by_url["http://gone.test/fault/gone"]["status"] == 410
    moved = by_url["http://moved.test/fault/moved"]
    assert (moved["status"], moved["final_url"], moved["title"]) == (
        200,
        "http://moved.test/fault/target",
        "Moved here",
    )

    # Again: nothing left to fetch, and nothing is.
    before = len(web.seen)
    again = run("enrich", *local(web), db=db)
    assert (again.exit_code, again.output.strip()) == (0, "0 sources: 0 fetched, 0 archived, 0 failed")
    assert len(web.seen) == before

    # Offline: every kept page extracted again, no request made, the same results.
    offline = run("enrich", "--offline", db=db)
    assert (offline.exit_code, offline.output.strip()) == (0, "182 of 182 kept pages re-extracted")
    assert len(web.seen) == before
    assert [{k: v for k, v in r.items() if k != "enriched_at"} for r in sources(db)] == [
        {k: v for k, v in r.items() if k != "enriched_at"} for r in found
    ]

    table = run("sources", db=db)
    assert table.exit_code == 0 and "Moved here" in table.output


def test_wayback_endpoint_from_the_environment(web: StandInWeb, tmp_path: Path) -> None:
    db = tmp_path / "daybook.db"
    ingest(db, ["http://dead.test/fault/dead"], date="2018-05-04")
    env = {"DAYBOOK_WAYBACK": f"{web.base}/wayback/available"}
    result = run("enrich", "--via", web.base, "--allow-private", "--delay", "0", db=db, env=env)
    assert result.exit_code == 0, result.output
    assert "1 archived" in result.output
    (record,) = sources(db)
    assert record["archived"] is True and record["dead_status"] == 404
    assert str(record["final_url"]).startswith(f"{web.base}/web/20180504")


def test_retry_failed_and_refresh_flags(web: StandInWeb, tmp_path: Path) -> None:
    db = tmp_path / "daybook.db"
    ingest(db, ["http://gone.test/fault/gone?cli", "http://moved.test/fault/moved?cli"])
    assert run("enrich", *local(web), db=db).exit_code == 0
    retried = run("enrich", *local(web, "--retry-failed"), db=db)
    assert retried.output.strip() == "1 sources: 0 fetched, 0 archived, 1 failed (410 1)"
    refreshed = run("enrich", *local(web, "--refresh"), db=db)
    assert refreshed.output.strip() == "2 sources: 1 fetched, 0 archived, 1 failed (410 1)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--offline", "--refresh"], "--offline fetches nothing"),
        (["--via", "ftp://127.0.0.1:1"], "want an origin like http://127.0.0.1:8000"),
        (["--via", "http://127.0.0.1:1"], "--allow-private fetches it anyway"),
        (["--concurrency", "0"], "Invalid value for '--concurrency'"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    db = tmp_path / "daybook.db"
    ingest(db, ["http://a.test/x"])
    result = run("enrich", *args, db=db)
    assert result.exit_code != 0
    assert message in result.output
    if "Invalid value" not in message:
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1


@pytest.mark.slow
def test_kill_9_then_rerun_loses_nothing_and_duplicates_nothing(web: StandInWeb, tmp_path: Path) -> None:
    db = tmp_path / "daybook.db"
    # Twice the real pages: enough sources that extraction runs in worker processes.
    urls = [*ground_truth().values(), *(with_copy(u, 1) for u in ground_truth().values())]
    assert len(urls) >= POOL_THRESHOLD and len({url_key(u) for u in urls}) == len(urls)
    ingest(db, urls)
    command = [sys.executable, "-m", "daybook", "--db", str(db), "enrich", *local(web)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def stored() -> dict[str, str]:
        with sqlite3.connect(db) as conn:
            return dict(conn.execute("SELECT source_id, enriched_at FROM source_articles"))

    web.page_delay = 0.05  # slow enough to be caught in the middle
    try:
        slowly = [*command, "--concurrency", "4"]
        process = subprocess.Popen(slowly, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(stored()) < 40 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        web.page_delay = 0
    before = stored()
    assert 40 <= len(before) < len(urls)
    killed_at = time.monotonic()

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.startswith(f"{len(urls) - len(before)} sources: ")

    with sqlite3.connect(db) as conn:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT source_id) FROM source_articles"
        ).fetchone()
        pages = conn.execute("SELECT count(*) FROM source_responses").fetchone()[0]
        unresolved = conn.execute(
            "SELECT count(*) FROM sources s LEFT JOIN source_articles a ON a.source_id = s.id"
            " WHERE a.source_id IS NULL OR a.outcome != 'ok'"
        ).fetchone()[0]
    assert rows == distinct == pages == len(urls) and unresolved == 0
    after = stored()
    assert all(after[key] == stamp for key, stamp in before.items())  # kept, not redone
    # Nothing stored before the kill was asked for again.
    with sqlite3.connect(db) as conn:
        url_of = dict(conn.execute("SELECT id, url FROM sources"))
    asked_again = {target for _, target, at in web.seen if at > killed_at}
    assert not {target_of(url_of[key]) for key in before} & asked_again
