"""Enrich end to end against a real server on loopback: the 181 real pages and every
fault, each case checked in what the store keeps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ftfy.badness
import pytest
from standin_web import StandInWeb, events_jsonl, ground_truth

from daybook.enrich import EnrichReport, enrich, reextract, unpack
from daybook.enrich.extract import has_entity
from daybook.ingest import days_from_jsonl
from daybook.net.fetch import FetchSettings
from daybook.store import SourceRecord, Store

FAULTS = {
    "slow": "http://slow.test/fault/slow",
    "flaky": "http://flaky.test/fault/flaky",
    "ratelimited": "http://ratelimited.test/fault/ratelimited",
    "loop": "http://loop.test/fault/loop-a",
    "moved": "http://moved.test/fault/moved",
    "huge": "http://huge.test/fault/huge",
    "huge-stream": "http://huge-stream.test/fault/huge-stream",
    "gzip-bomb": "http://gzip-bomb.test/fault/gzip-bomb",
    "binary": "http://binary.test/fault/binary",
    "binary-as-html": "http://binary-as-html.test/fault/binary-as-html",
    "cp1252": "http://cp1252.test/fault/cp1252",
    "mojibake": "https://mojibake.test/fault/mojibake",
    "robots": "http://robots.test/private/page.html",
    "dead": "http://dead.test/fault/dead",
    "gone": "http://gone.test/fault/gone",
    "missing": "http://missing.test/no/such/page",
}
DEAD_DAY = "2019-06-01"  # the day that cites the dead link: its snapshot should be nearest it

# Every test reads the module's `run`: the whole stand-in web enriched, several seconds.
pytestmark = pytest.mark.slow


@dataclass
class Run:
    web: StandInWeb
    db: Path
    report: EnrichReport
    records: dict[str, SourceRecord]


def settings(web: StandInWeb) -> FetchSettings:
    # Short timeouts and waits keep the suite fast; the faults are the same.
    return FetchSettings(
        via=web.base,
        allow_private=True,
        delay=0,
        timeout=1.0,
        retries=1,
        backoff=0.05,
        wayback=f"{web.base}/wayback/available",
    )


def fill(store: Store, urls: list[str], date: str = "2019-11-19") -> None:
    for day in days_from_jsonl(events_jsonl(urls, date)):
        store.replace_day(day, origin="test", format="jsonl")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Run]:
    web = StandInWeb.with_articles().start()
    db = tmp_path_factory.mktemp("enrich") / "daybook.db"
    with Store(db) as store:
        fill(store, [*ground_truth().values(), *(u for k, u in FAULTS.items() if k != "dead")])
        fill(store, [FAULTS["dead"]], DEAD_DAY)
        report = enrich(store, settings(web), workers=0)
        records = {r.url: r for r in store.source_records()}
    yield Run(web, db, report, records)
    web.stop()


def record(run: Run, name: str) -> SourceRecord:
    return run.records[FAULTS[name]]


def path(name: str) -> str:
    return "/" + FAULTS[name].split("/", 3)[3]


def test_every_source_has_exactly_one_result(run: Run) -> None:
    assert len(run.records) == 181 + len(FAULTS)
    assert all(r.status is not None for r in run.records.values())
    assert run.report.total == len(run.records)
    assert run.report.fetched + run.report.archived + sum(run.report.failed.values()) == run.report.total


def test_real_pages_are_fetched_at_their_original_urls(run: Run) -> None:
    for url in ground_truth().values():
        found = run.records[url]
        assert (found.status, found.final_url, found.archived) == (200, url, False)


def test_real_pages_coverage_and_clean_text(run: Run) -> None:
    real = [run.records[url].article for url in ground_truth().values()]
    assert sum(1 for a in real if a.lede) / len(real) >= 0.90
    assert sum(1 for a in real if a.title or a.publisher) / len(real) >= 0.95
    for found in run.records.values():
        for text in (found.article.title, found.article.lede, found.article.publisher):
            if text is not None:
                assert not ftfy.badness.is_bad(text) and not has_entity(text) and "\ufffd" not in text, text


def test_portal_outlet_stands_in_for_a_missing_publisher(run: Run) -> None:
    assert record(run, "flaky").article.publisher == "Portal Outlet"


def test_slow_page_times_out_after_retries(run: Run) -> None:
    found = record(run, "slow")
    assert found.status == "timeout"
    assert run.web.count(path("slow")) == 2  # one retry


def test_500_then_200_is_retried(run: Run) -> None:
    found = record(run, "flaky")
    assert (found.status, found.article.title) == (200, "Flaky but fine")
    assert run.web.count(path("flaky")) == 2


def test_429_waits_for_retry_after(run: Run) -> None:
    found = record(run, "ratelimited")
    assert (found.status, found.article.title) == (200, "Rate limited")
    first, second = run.web.hits(path("ratelimited"))
    assert second[2] - first[2] >= 0.95  # Retry-After: 1


def test_redirect_loop_gives_up_after_ten(run: Run) -> None:
    assert record(run, "loop").status == "redirects"
    assert run.web.count("/fault/loop-a") + run.web.count("/fault/loop-b") == 11


def test_redirect_is_followed_and_the_url_kept_as_cited(run: Run) -> None:
    found = record(run, "moved")
    assert found.url == FAULTS["moved"]
    assert (found.status, found.final_url) == (200, "http://moved.test/fault/target")


def test_50mb_bodies_are_refused(run: Run) -> None:
    assert record(run, "huge").status == "too-large"
    assert record(run, "huge-stream").status == "too-large"
    assert record(run, "gzip-bomb").status == "too-large"  # counted decoded


def test_gzipped_answers_are_kept_as_sent(run: Run, shared_data: Path) -> None:
    key, url = next(iter(ground_truth().items()))
    with Store(run.db) as store:
        (body,) = store.conn.execute(
            "SELECT r.body FROM source_responses r JOIN sources s ON s.id = r.source_id WHERE s.url = ?",
            (url,),
        ).fetchone()
    assert body == (shared_data / "articles-scrapinghub" / "html" / f"{key}.html.gz").read_bytes()


def test_binary_files_are_refused(run: Run) -> None:
    assert record(run, "binary").status == "not-html"
    assert record(run, "binary-as-html").status == "not-html"


def test_cp1252_bytes_declared_utf8(run: Run) -> None:
    found = record(run, "cp1252")
    assert found.article.title == "Caf\u00e9 owners \u2014 a test"
    assert found.article.lede == (
        "Caf\u00e9 owners say \u201cno\u201d to the plan \u2013 again,"
        " and the mayor\u2019s office is listening."
    )


def test_mojibake_and_entities_in_og_description(run: Run) -> None:
    found = record(run, "mojibake")
    assert found.article.lede == "It\u2019s the mayor's plan \u2013 and it's \"final\", aides say."
    assert found.article.publisher == "The Daily Test"
    assert found.final_url == FAULTS["mojibake"]  # https as cited, though via sent it over http


def test_robots_txt_is_obeyed(run: Run) -> None:
    found = record(run, "robots")
    assert found.status == "robots"
    assert run.web.count(path("robots")) == 0
    assert len([h for h in run.web.hits("/robots.txt") if h[0] == "robots.test"]) == 1


def test_dead_link_is_replaced_by_its_nearest_snapshot(run: Run) -> None:
    found = record(run, "dead")
    assert found.archived is True
    assert (found.status, found.dead_status) == (200, 404)
    assert found.final_url == f"{run.web.base}/web/{DEAD_DAY.replace('-', '')}120000/{FAULTS['dead']}"
    assert found.article.title == "Archived story"
    assert found.article.image == "http://dead.test/img/cover.jpg"  # relative to the original
    asked = [h for h in run.web.seen if h[1].startswith("/wayback/available")]
    assert any(f"timestamp={DEAD_DAY.replace('-', '')}" in h[1] for h in asked)
    snapshot = next(h[1] for h in run.web.seen if h[1].startswith("/web/"))
    assert snapshot.startswith("/web/20190601120000id_/")  # id_: the page as archived, no banner


def test_dead_links_without_snapshot_keep_their_status(run: Run) -> None:
    assert (record(run, "gone").status, record(run, "gone").archived) == (410, False)
    assert (record(run, "missing").status, record(run, "missing").archived) == (404, False)


def test_summary_counts_failures_by_reason(run: Run) -> None:
    assert run.report.archived == 1
    assert run.report.failed["too-large"] == 3
    assert run.report.failed["not-html"] == 2
    assert run.report.failed["404"] == 1
    summary = run.report.summary()
    assert "1 archived" in summary and "too-large 3" in summary


def test_rerun_fetches_nothing_and_offline_reextracts(run: Run) -> None:
    before = len(run.web.seen)
    with Store(run.db) as store:
        again = enrich(store, settings(run.web), workers=0)
        assert again.total == 0
        assert len(run.web.seen) == before
        redone = reextract(store)
        assert redone.extracted == store.response_count() == 181 + 6
        assert len(run.web.seen) == before
        assert {r.url: r for r in store.source_records()}.keys() == run.records.keys()
        kept = dict(store.conn.execute("SELECT source_id, body FROM source_responses"))
    assert all(unpack(body).lstrip().lower().startswith((b"<", b"\xef")) for body in kept.values())


def test_retry_failed_and_refresh(run: Run, tmp_path: Path) -> None:
    with Store(tmp_path / "d.db") as store:
        fill(store, [FAULTS["gone"], FAULTS["moved"]])
        first = enrich(store, settings(run.web), workers=0)
        assert (first.fetched, sum(first.failed.values())) == (1, 1)
        gone, moved = run.web.count(path("gone")), run.web.count("/fault/target")
        retried = enrich(store, settings(run.web), workers=0, retry_failed=True)
        assert retried.total == 1 and run.web.count(path("gone")) == gone + 1
        assert run.web.count("/fault/target") == moved
        refreshed = enrich(store, settings(run.web), workers=0, refresh=True)
        assert refreshed.total == 2 and run.web.count("/fault/target") == moved + 1


def test_robots_txt_is_read_once_a_day_across_runs(run: Run, tmp_path: Path) -> None:
    with Store(tmp_path / "r.db") as store:
        fill(store, [FAULTS["robots"]])
        robots = len([h for h in run.web.hits("/robots.txt") if h[0] == "robots.test"])
        enrich(store, settings(run.web), workers=0)
        enrich(store, settings(run.web), workers=0, retry_failed=True)  # the same rules, kept
        assert len([h for h in run.web.hits("/robots.txt") if h[0] == "robots.test"]) == robots + 1
        assert [r.status for r in store.source_records()] == ["robots"]
        assert store.robots("http://robots.test", dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))


def test_failed_refresh_keeps_the_good_result(run: Run, tmp_path: Path) -> None:
    with Store(tmp_path / "e.db") as store:
        fill(store, [FAULTS["moved"]])
        enrich(store, settings(run.web), workers=0)
        down = FetchSettings(via="http://127.0.0.1:9", allow_private=True, retries=0, wayback=None)
        report = enrich(store, down, workers=0, refresh=True)
        assert report.failed == {"refused": 1}
        (kept,) = store.source_records()
    assert (kept.status, kept.article.title) == (200, "Moved here")


def test_extraction_in_worker_processes_matches(run: Run, tmp_path: Path) -> None:
    urls = list(ground_truth().values())[:12]
    with Store(tmp_path / "w.db") as store:
        fill(store, urls)
        report = enrich(store, settings(run.web), workers=2)
        assert report.fetched == 12
        pooled = {r.url: r.article for r in store.source_records()}
    assert pooled == {url: run.records[url].article for url in urls}
