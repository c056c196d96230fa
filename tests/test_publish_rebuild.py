"""A full build over a site already built keeps the days and names whose inputs did not
change without making their pages (``publish.inputs``); whatever changed is made again,
so the site is byte for byte a fresh build's."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daybook import urls
from daybook.ingest import ingest_paths
from daybook.publish import BuildOptions, build_site, digest, explore, search_index, update_site
from daybook.publish import build as build_module
from daybook.publish.folder import locate
from daybook.publish.state import _same_content
from daybook.publish.writer import WriteReport
from daybook.relate import Settings, refresh
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
OLDEST = "2024-05-06"  # of the three example days: kept unless a change touches it
MUDSLIDE = "20240506-335e45158db3"  # an event of that day, related to none
MUDSLIDE_STEM = (
    "news/2024/05/6/a-mudslide-buries-part-of-a-highway-in-meizhou-guangdong-china-after-days-of-heavy-rain"
    "-at-least-nine-people-are-reported-dead"
)
FLOODS = "20240506-67e9cc5bc7fe"  # one with a related list and an entity shared across days


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """The example days, built once into ``tmp_path / "site"``; the front page and feeds
    show the two newest days only, so the oldest day's pages may be kept."""
    monkeypatch.setattr(build_module, "FRONT_DAYS", 2)
    monkeypatch.setattr(build_module, "FEED_EVENTS", 1)
    store = Store(tmp_path / "site.db")
    assert not ingest_paths(store, [ROOT / "examples"]).failures
    refresh(store, Settings(), workers=1)
    build_site(store, tmp_path / "site", jobs=1)
    yield store
    store.close()


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The event pages (their ids) and thread pages (their names) a build makes objects of."""
    found: dict[str, list[str]] = {"event": [], "thread": []}
    event_page, thread_pages = build_module.event_page, explore.thread_pages

    def counted_event(event: Any, *args: Any, **kwargs: Any) -> Any:
        found["event"].append(event.id)
        return event_page(event, *args, **kwargs)

    def counted_thread(kind: str, name: str, *args: Any, **kwargs: Any) -> Any:
        found["thread"].append(f"{kind}:{name}")
        return thread_pages(kind, name, *args, **kwargs)

    monkeypatch.setattr(build_module, "event_page", counted_event)
    monkeypatch.setattr(explore, "thread_pages", counted_thread)
    return found


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def rebuild_as_fresh(store: Store, tmp_path: Path, moved: str | None = None) -> WriteReport:
    """Build the site again, and check it is byte for byte a fresh build of the store
    (with, if an event's address ``moved``, a redirect there in every format)."""
    report = build_site(store, tmp_path / "site", jobs=1)
    new = tmp_path / f"fresh-{len(list(tmp_path.glob('fresh-*')))}"  # never built before
    build_site(store, new, jobs=1)
    again, fresh = tree(tmp_path / "site"), tree(new)
    redirects = [f"{moved}.{ext}" for ext in ("html", "json", "md", "xml")] if moved else []
    assert sorted(again) == sorted([*fresh, *redirects])
    # The sitemap lists the redirects too.
    assert [p for p in fresh if again[p] != fresh[p] and not (moved and p == "sitemap.xml")] == []
    return report


def day_ids(store: Store, date: str) -> set[str]:
    return {row[0] for row in store.conn.execute("SELECT id FROM events WHERE date = ?", (date,))}


def test_a_rebuild_with_nothing_changed_makes_only_the_newest_days(
    site: Store, tmp_path: Path, made: dict[str, list[str]]
) -> None:
    report = rebuild_as_fresh(site, tmp_path)
    assert not report.written and not report.removed
    newest = day_ids(site, "2024-05-08") | day_ids(site, "2024-05-07")
    # The fresh build made every page; the rebuild, the newest days' event pages alone.
    assert sorted(made["event"]) == sorted([*newest, *newest, *day_ids(site, OLDEST)])
    assert len(made["thread"]) == len(set(made["thread"]))  # the fresh build's, once each
    made["event"].clear()
    made["thread"].clear()
    assert not build_site(site, tmp_path / "site", jobs=1).written
    assert set(made["event"]) == newest and made["thread"] == []


@pytest.fixture
def indexed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The docs of each search index a build makes (none: it kept the last one)."""
    found: list[int] = []
    build_index_state = search_index.build_index_state

    def counted(conn: Any, docs: Any) -> Any:
        docs = list(docs)
        found.append(len(docs))
        return build_index_state(conn, docs)

    monkeypatch.setattr(search_index, "build_index_state", counted)
    return found


def test_a_rebuild_with_nothing_changed_keeps_the_search_index(
    site: Store, tmp_path: Path, indexed: list[int]
) -> None:
    index = tmp_path / "site" / urls.SEARCH_INDEX_DIR
    before = {p: p.stat().st_mtime_ns for p in index.rglob("*")}
    assert not build_site(site, tmp_path / "site", jobs=1).written
    assert indexed == [] and {p: p.stat().st_mtime_ns for p in index.rglob("*")} == before
    # Kept again (the state of the index came along with its files), and as a fresh build makes it.
    rebuild_as_fresh(site, tmp_path)
    (events,) = site.conn.execute("SELECT count(*) FROM events").fetchone()
    assert indexed == [events]  # the fresh build's alone


def test_a_search_index_file_gone_makes_the_index_again(
    site: Store, tmp_path: Path, indexed: list[int]
) -> None:
    (tmp_path / "site" / urls.SEARCH_INDEX_DIR / "manifest.json").unlink()
    report = rebuild_as_fresh(site, tmp_path)
    assert report.written == [f"{urls.SEARCH_INDEX_DIR}/manifest.json"] and len(indexed) == 2


def test_an_edited_event_makes_its_pages_again(site: Store, tmp_path: Path) -> None:
    site.conn.execute("UPDATE events SET text = 'A mudslide buries a road.' WHERE id = ?", (MUDSLIDE,))
    report = rebuild_as_fresh(site, tmp_path, moved=MUDSLIDE_STEM)
    assert "news/2024/05/6/a-mudslide-buries-a-road.html" in report.written
    assert "news/2024/05/6/index.html" in report.written


def test_an_edited_event_makes_the_pages_listing_it_again(site: Store, tmp_path: Path) -> None:
    # An event of another day on the floods event's related list (the oldest day's, else kept).
    (listed, old) = site.conn.execute(
        "SELECT r.related_id, e.text FROM related r JOIN events e ON e.id = r.related_id"
        " WHERE r.event_id = ? AND e.date != ? ORDER BY r.rank LIMIT 1",
        (FLOODS, OLDEST),
    ).fetchone()
    site.conn.execute("UPDATE events SET text = ? WHERE id = ?", (old + " Again.", listed))
    (date,) = site.conn.execute("SELECT date FROM events WHERE id = ?", (listed,)).fetchone()
    moved = f"news/2024/05/{int(date[-2:])}/{urls.slugify(old)}"
    report = rebuild_as_fresh(site, tmp_path, moved=moved)
    assert [p for p in report.written if p.startswith("news/2024/05/6/the-death-toll")]


def test_a_changed_related_list_makes_the_event_page_again(site: Store, tmp_path: Path) -> None:
    (stem,) = site.conn.execute("SELECT text FROM events WHERE id = ?", (FLOODS,)).fetchone()
    site.conn.execute("DELETE FROM related WHERE event_id = ? AND rank = 1", (FLOODS,))
    report = rebuild_as_fresh(site, tmp_path)
    assert [p for p in report.written if p.startswith("news/2024/05/6/the-death-toll")], stem


def test_a_renamed_slug_makes_the_pages_linking_it_again(site: Store, tmp_path: Path) -> None:
    site.conn.execute(
        "UPDATE entities SET title = 'Rio Grande do Sul (state)' WHERE title = 'Rio Grande do Sul'"
    )
    report = rebuild_as_fresh(site, tmp_path)
    assert "entity/rio-grande-do-sul-state.html" in report.written
    assert "entity/rio-grande-do-sul.html" in report.removed
    assert [p for p in report.written if p.startswith("news/2024/05/6/the-death-toll")]


def test_a_changed_source_lede_makes_the_pages_showing_it_again(site: Store, tmp_path: Path) -> None:
    (source,) = site.conn.execute(
        "SELECT source_id FROM event_sources WHERE event_id = ? ORDER BY position", (MUDSLIDE,)
    ).fetchone()
    site.conn.execute(
        "INSERT INTO source_articles (source_id, outcome, status, title, lede, enriched_at)"
        " VALUES (?, 'ok', '200', 'Mudslide', 'A highway is buried.', '2024-05-07T00:00:00Z')",
        (source,),
    )
    report = rebuild_as_fresh(site, tmp_path)
    assert f"{MUDSLIDE_STEM}.html" in report.written
    assert "news/2024/05/6/index.html" in report.written  # the day page shows the lede too
    site.conn.execute("UPDATE source_articles SET lede = 'Part of a highway is buried.'")
    report = rebuild_as_fresh(site, tmp_path)
    assert f"{MUDSLIDE_STEM}.html" in report.written


def test_a_kept_day_whose_file_is_gone_is_made_again(site: Store, tmp_path: Path) -> None:
    (tmp_path / "site" / "news/2024/05/6/index.json").unlink()
    report = rebuild_as_fresh(site, tmp_path)
    assert report.written == ["news/2024/05/6/index.json"]


def test_a_kept_name_whose_file_is_gone_is_made_again(site: Store, tmp_path: Path) -> None:
    feed = urls.feed_path("entity/rio-grande-do-sul")
    for path in ("entity/rio-grande-do-sul.md", feed):
        (tmp_path / "site" / path).unlink()
    report = rebuild_as_fresh(site, tmp_path)
    assert sorted(report.written) == sorted(["entity/rio-grande-do-sul.md", feed])


def test_the_state_keeps_a_digest_per_day_and_name(site: Store, tmp_path: Path) -> None:
    states = list((tmp_path).rglob("*.db"))
    groups: set[str] = set()
    for path in states:
        with sqlite3.connect(path) as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'page_groups'").fetchone():
                groups |= {row[0] for row in conn.execute("SELECT name FROM page_groups")}
    assert {f"day:{OLDEST}", "entity:Rio Grande do Sul", "category:Disasters and accidents"} <= groups


def test_a_file_a_killed_build_wrote_is_made_again(site: Store, tmp_path: Path) -> None:
    # A build killed after writing the oldest day's page from other inputs: it is in the
    # journal, so the day is made again, though its inputs are the last full build's.
    page = tmp_path / "site" / "news/2024/05/6/index.md"
    page.write_text("written by a build that was killed\n", encoding="utf-8")
    locate(site.path, tmp_path / "site").journal.write_text("news/2024/05/6/index.md\n", encoding="utf-8")
    report = rebuild_as_fresh(site, tmp_path)
    assert report.written == ["news/2024/05/6/index.md"]


def test_a_changed_chinese_name_makes_both_editions_pages_again(site: Store, tmp_path: Path) -> None:
    # The Chinese edition's page of an entity is at the slug of its Chinese name; the
    # English page links it (its alternate), so both are made again when the name changes.
    site.conn.execute(
        "INSERT INTO entity_info (title, qid, zh_title, asked_at)"
        " VALUES ('Rio Grande do Sul', 'Q40030', '南大河州', '2024-05-08T00:00:00Z')"
    )
    options = BuildOptions(editions=("en", "zh"))
    build_site(site, tmp_path / "site", options, jobs=1)
    site.conn.execute("UPDATE entity_info SET zh_title = '南里奥格兰德州'")
    report = build_site(site, tmp_path / "site", options, jobs=1)
    build_site(site, tmp_path / "fresh", options, jobs=1)
    again, fresh = tree(tmp_path / "site"), tree(tmp_path / "fresh")
    assert sorted(again) == sorted(fresh)
    assert [p for p in fresh if again[p] != fresh[p]] == []
    assert "entity/rio-grande-do-sul.html" in report.written  # its alternate moved
    assert [p for p in report.written if p.startswith("zh/news/2024/05/6/the-death-toll")]


@pytest.mark.parametrize(
    "change",
    [
        None,
        "UPDATE pages SET digest = 'y' WHERE stem = 'b'",
        "INSERT INTO pages (stem, digest) VALUES ('c', 'x')",
        "DELETE FROM pages WHERE stem = 'a'",
        "UPDATE loose SET v = 2.5",
        "INSERT INTO loose (v) VALUES (NULL)",
    ],
)
def test_a_state_is_the_same_as_another_only_if_every_row_is(tmp_path: Path, change: str | None) -> None:
    for name in ("a.db", "b.db"):
        with contextlib.closing(sqlite3.connect(tmp_path / name)) as conn, conn:
            conn.execute("CREATE TABLE pages (stem TEXT PRIMARY KEY, digest TEXT NOT NULL) WITHOUT ROWID")
            conn.execute("CREATE TABLE loose (v)")  # no key: its rows in the order of every column
            conn.executemany("INSERT INTO pages VALUES (?, 'x')", [("a",), ("b",)])
            conn.executemany("INSERT INTO loose VALUES (?)", [(None,), (2,), (2,)])
            if change and name == "b.db":
                conn.execute(change)
    conn = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    try:
        assert _same_content(conn, tmp_path / "b.db") is (change is None)
        assert _same_content(conn, tmp_path / "b.db") is (change is None)  # the other detached again
    finally:
        conn.close()


def test_a_week_is_kept_unless_its_days_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made: dict[str, list[str]]
) -> None:
    monkeypatch.setattr(build_module, "FRONT_DAYS", 2)
    monkeypatch.setattr(build_module, "FEED_EVENTS", 1)
    monkeypatch.setattr(digest, "FEED_WEEKS", 1)  # the feed shows the newest week: that one is made
    earlier = {
        "date": "2024-04-29",  # a week before the example's
        "category": "Sports",
        "story": [],
        "text": "A team wins a final.",
        "entities": ["Shared"],
        "sources": [],
    }
    corpus = tmp_path / "earlier.jsonl"
    corpus.write_text(json.dumps(earlier) + "\n", encoding="utf-8")
    weeks: list[int] = []
    week_page = digest.week_page

    def counted(*args: Any) -> Any:
        weeks.append(args[-2])
        return week_page(*args)

    monkeypatch.setattr(digest, "week_page", counted)
    with Store(tmp_path / "site.db") as store:
        assert not ingest_paths(store, [ROOT / "examples", corpus]).failures
        refresh(store, Settings(), workers=1)
        build_site(store, tmp_path / "site", jobs=1)
        weeks.clear()
        assert not rebuild_as_fresh(store, tmp_path).written
        assert weeks == [19, 18, 19]  # the rebuild made the newest week; the fresh build, both
        weeks.clear()
        store.conn.execute("UPDATE events SET text = 'A team wins the final.' WHERE date = '2024-04-29'")
        report = rebuild_as_fresh(store, tmp_path, moved="news/2024/04/29/a-team-wins-a-final")
    assert "week/2024-W18.html" in report.written and weeks == [18, 19, 18, 19]


def test_a_build_after_an_update_makes_every_page_object(
    site: Store, tmp_path: Path, made: dict[str, list[str]]
) -> None:
    # An update makes some of a group's pages and not others: it leaves no group digest, so
    # a day changed by an update and changed back is made again, not kept as before it.
    (old,) = site.conn.execute("SELECT text FROM events WHERE id = ?", (MUDSLIDE,)).fetchone()
    site.conn.execute("UPDATE events SET text = 'A mudslide buries a road.' WHERE id = ?", (MUDSLIDE,))
    update_site(site, tmp_path / "site", dates=[dt.date(2024, 5, 6)])
    site.conn.execute("UPDATE events SET text = ? WHERE id = ?", (old, MUDSLIDE))
    made["event"].clear()
    report = rebuild_as_fresh(site, tmp_path, moved="news/2024/05/6/a-mudslide-buries-a-road")
    assert f"{MUDSLIDE_STEM}.html" in report.written
    every = [row[0] for row in site.conn.execute("SELECT id FROM events")]
    assert sorted(made["event"]) == sorted(every * 2)  # the rebuild's and the fresh build's
