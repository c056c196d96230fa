"""Follow (issue 21): every entity, story and category page has its own Atom feed, linked
from the page and listed in the sitemap, and an update rewrites only the feeds of what
it touches."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html
from sites import example_site, real_month

from daybook import urls
from daybook.ingest import ingest_paths
from daybook.publish import build_site, follow, update_site
from daybook.publish.names import NameIndex
from daybook.relate import Settings, refresh
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("entity", "story", "category")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_site(tmp_path_factory.mktemp("follow"))


def main_pages(site: Path) -> list[Path]:
    """Every entity, story and category main page (not the further parts)."""
    return sorted(p for kind in KINDS for p in (site / kind).glob("*.html"))


def check_feeds(site: Path) -> int:
    """Every thread's feed parses cleanly and matches its page: returns how many there are."""
    pages = main_pages(site)
    assert {p.parent.name for p in pages} == set(KINDS)
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    for page in pages:
        stem = page.relative_to(site).with_suffix("").as_posix()
        feed_file = site / urls.feed_path(stem)
        parsed = feedparser.parse(feed_file.read_bytes())
        assert not parsed.bozo, (feed_file, parsed.get("bozo_exception"))
        data = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        assert parsed.feed.title == f"{data['name']} · daybook"
        assert 0 < len(parsed.entries) <= follow.FEED_SIZE
        assert len(parsed.entries) == min(data["total"], follow.FEED_SIZE)
        dates = [e.published_parsed[:3] for e in parsed.entries]
        assert dates == sorted(dates, reverse=True), "newest first"
        for entry in parsed.entries:
            target = entry.link.removeprefix(urls.DEFAULT_BASE_URL + "/")
            assert (site / target).is_file(), entry.link
            event = json.loads((site / target).with_suffix(".json").read_text(encoding="utf-8"))
            assert entry.title == event["headline"]
            related = [link.href for link in entry.links if link.rel == "related"]
            assert related == [s["url"] for s in event["sources"]]
        # Linked from the page (head and a visible link) and listed in the sitemap.
        tree = html.fromstring(page.read_bytes())
        (alternate,) = tree.xpath(
            '//link[@rel="alternate"][@type="application/atom+xml"][contains(@href, ".atom")]'
        )
        assert (page.parent / alternate.get("href")).resolve() == feed_file.resolve()
        (visible,) = tree.xpath('//a[@class="follow"]')
        assert visible.text == "Follow" and visible.get("href") == alternate.get("href")
        assert f"<loc>{urls.absolute(urls.feed_path(stem), urls.DEFAULT_BASE_URL)}</loc>" in sitemap
        assert f"]({urls.link(urls.feed_path(stem))})" in page.with_suffix(".md").read_text(encoding="utf-8")
    return len(pages)


def test_every_example_feed_parses_and_is_linked(site: Path) -> None:
    assert check_feeds(site) > 20
    # A category page lists its events newest first, in every format.
    data = json.loads((site / "category" / "armed-conflicts-and-attacks.json").read_text(encoding="utf-8"))
    assert data["kind"] == "category" and data["feed"]["href"] == "/category/armed-conflicts-and-attacks.atom"
    dates = [e["date"] for e in data["events"]]
    assert dates == sorted(dates, reverse=True) and data["total"] == len(dates)


def test_feeds_escape_markup_and_drop_what_xml_cannot_hold() -> None:
    entry = follow.FollowEntry(
        "x", 'A <b>"quoted"</b> & \x0bodd headline', "news/2024/05/7/x", dt.date(2024, 5, 7),
        (("Outlet & Co", 'https://e.org/?a=1&b="2"'),),
    )  # fmt: skip
    text = follow.thread_feed("entity", "C++ & <C>", "entity/c", [entry], "https://example.org/a")
    etree.fromstring(text.encode("utf-8"))  # well-formed
    parsed = feedparser.parse(text)
    assert not parsed.bozo
    assert parsed.feed.title == "C++ & <C> · daybook"
    assert parsed.entries[0].title == 'A <b>"quoted"</b> & odd headline'
    assert parsed.entries[0].links[1].href == 'https://e.org/?a=1&b="2"'
    assert parsed.entries[0].link == "https://example.org/a/news/2024/05/7/x.html"


def test_a_feed_holds_the_latest_fifty_events_newest_first() -> None:
    first = dt.date(2024, 1, 1)
    entries = [
        follow.FollowEntry(f"e{n}", f"Event {n}", f"news/e{n}", first + dt.timedelta(days=n), ())
        for n in range(70)
    ]
    parsed = feedparser.parse(follow.thread_feed("story", "S", "story/s", entries, urls.DEFAULT_BASE_URL))
    assert [e.title for e in parsed.entries] == [f"Event {n}" for n in range(69, 19, -1)]
    assert parsed.feed.updated.startswith("2024-03-10")


@pytest.mark.slow
def test_every_feed_of_a_real_month_parses(tmp_path: Path) -> None:
    assert check_feeds(real_month(tmp_path)) > 500


def test_an_update_adding_a_day_rewrites_only_the_feeds_that_day_touches(tmp_path: Path) -> None:
    days = tmp_path / "days"
    days.mkdir()
    for name in ("2024-05-06.wiki", "2024-05-07.html"):
        shutil.copy(ROOT / "examples" / name, days / name)
    out = tmp_path / "site"
    with Store(tmp_path / "a.db") as store:
        ingest_paths(store, [days])
        refresh(store, Settings(), workers=1)
        build_site(store, out)
        before = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.atom")}
        ingest_paths(store, [ROOT / "examples" / "2024-05-08.wiki"])
        changed = refresh(store, Settings(), workers=1).changed
        report = update_site(store, out, dates=[dt.date(2024, 5, 8)], event_ids=changed)
        may_8 = store.events(date=dt.date(2024, 5, 8))
        names = NameIndex(store.entity_titles(), store.story_names())
    touched = {
        *(names.entity_stem(t) for e in may_8 for t in e.entities),
        *(names.story_stem(line) for e in may_8 for line in e.story),
        *(urls.category_stem(urls.slugify(e.category)) for e in may_8),
    }
    expected = {urls.feed_path(stem) for stem in touched if stem is not None}
    written = {p for p in report.written if p.endswith("." + urls.FEED_EXT) and p != urls.WEEKLY_FEED}
    assert written == expected
    assert urls.WEEKLY_FEED in report.written, "May 8 is in the week of May 6 and 7"
    after = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.atom")}
    before.pop(urls.WEEKLY_FEED), after.pop(urls.WEEKLY_FEED)
    assert {p for p in after if before.get(p) != after[p]} == expected
    assert set(before) < set(after), "no feed lost; the new names' feeds added"
    # The untouched feeds are byte for byte what they were; the touched ones lead with May 8.
    for path in expected:
        parsed = feedparser.parse(after[path])
        assert not parsed.bozo and parsed.entries[0].published.startswith("2024-05-08")


def test_a_rebuild_makes_only_the_feeds_whose_events_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed's digest (its latest events and their sources, and the code) is kept in the
    site's state, as a page's is: a rebuild with nothing changed renders no feed, and one
    whose file is gone is made again."""
    out = tmp_path / "site"
    with Store(tmp_path / "a.db") as store:
        ingest_paths(store, [ROOT / "examples" / "2024-05-06.wiki"])
        refresh(store, Settings(), workers=1)
        build_site(store, out, jobs=1)
        feeds = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.atom"))
        before = {p: (out / p).read_bytes() for p in feeds}
        made: list[str] = []
        real = follow.thread_feed

        def counted(kind: str, name: str, stem: str, *args: object, **kwargs: object) -> str:
            made.append(stem)
            return real(kind, name, stem, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(follow, "thread_feed", counted)
        report = build_site(store, out, jobs=1)
        assert report.written == [] and made == ["week/index"], "only the weekly feed is made"
        gone = next(p for p in feeds if p.startswith("entity/"))
        (out / gone).unlink()
        made.clear()
        report = build_site(store, out, jobs=1)
        assert report.written == [gone] and made == [gone.removesuffix(".atom"), "week/index"]
    assert {p: (out / p).read_bytes() for p in feeds} == before
