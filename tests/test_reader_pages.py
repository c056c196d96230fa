"""What the HTML pages show a reader and tell machines: dates for people, navigation by
time, event pages (cover, sources, story neighbours), metadata; and their sizes."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sites
from lxml import html as lxml_html

from daybook import urls
from daybook.render import html


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sites.example_site(tmp_path_factory.mktemp("pages-example"))


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sites.real_month(tmp_path_factory.mktemp("pages-month"))


def parse(path: Path) -> Any:
    return lxml_html.parse(str(path)).getroot()


def json_ld(doc: Any) -> dict[str, Any]:
    scripts = doc.xpath("//script[@type='application/ld+json']/text()")
    assert len(scripts) == 1
    loaded: dict[str, Any] = json.loads(scripts[0])
    return loaded


def test_dates_for_people() -> None:
    assert html.long_date("2024-05-07") == "Tuesday 7 May 2024"
    assert html.short_date(dt.date(2024, 5, 7)) == "7 May"
    assert html.medium_date("2024-12-25") == "25 December 2024"
    assert html.label_long("2024-05-7") == "Tuesday 7 May 2024"
    assert html.label_long("Archive") == "Archive"


def test_relative_links_between_any_two_paths() -> None:
    assert (
        urls.relative("news/2024/05/7/index.html", "entity/brazil.html") == "../../../../entity/brazil.html"
    )
    assert urls.relative("news/2024/05/7/a.html", "news/2024/05/8/index.html") == "../8/index.html"
    assert urls.relative("news/2024/05/7/a.html", "news/2024/05/7/index.html") == "index.html"
    assert urls.relative("index.html", "search.html?q=a#r") == "search.html?q=a#r"
    assert urls.relative_link("index.html", "https://example.org/a") == "https://example.org/a"
    assert urls.relative_link("index.html", "//example.org/a") == "//example.org/a"
    assert urls.rooted("index.html", "https://example.org/archive/") == "/archive/index.html"


def test_day_page_shows_its_date_crumbs_categories_and_neighbours(example: Path) -> None:
    doc = parse(example / "news/2024/05/7/index.html")
    time = doc.xpath("//h1/time")[0]
    assert (time.get("datetime"), time.text) == ("2024-05-07", "Tuesday 7 May 2024")
    crumbs = doc.xpath("//nav[@class='crumbs']//li")
    assert [c.text_content() for c in crumbs] == ["Archive", "2024", "May", "7 May"]
    assert crumbs[-1].xpath("span/@aria-current") == ["page"]
    categories = [h.text_content() for h in doc.xpath("//h2[@class='category-name']")]
    day = json.loads((example / "news/2024/05/7/index.json").read_text(encoding="utf-8"))
    expected = {}
    for event in day["events"]:
        expected[event["category"]] = expected.get(event["category"], 0) + 1
    assert categories == [f"{c} ({n})" for c, n in expected.items()]
    assert doc.xpath("//head/link[@rel='prev']/@href") == ["../6/index.html"]
    assert doc.xpath("//head/link[@rel='next']/@href") == ["../8/index.html"]
    assert doc.xpath("//nav[@class='pager']/a[@rel='next']/@data-key") == ["j"]
    assert json_ld(doc)["@type"] == "CollectionPage"


def test_month_page_is_a_calendar_and_year_page_twelve(example: Path) -> None:
    month = parse(example / "news/2024/05/index.html")
    tables = month.xpath("//table[contains(@class, 'cal')]")
    assert len(tables) == 1
    linked = month.xpath("//td[@class='has']/a")
    assert [a.get("href") for a in linked] == ["6/index.html", "7/index.html", "8/index.html"]
    assert linked[1].text_content() == "7 May 5 events"  # what a screen reader reads
    assert len(month.xpath("//tbody/tr")) == 5  # May 2024 spans five weeks from Monday
    year = parse(example / "news/2024/index.html")
    assert len(year.xpath("//table[contains(@class, 'cal')]")) == 12
    assert year.xpath("//caption/a/@href") == ["05/index.html"]  # the one month with events


def test_event_page_for_readers(example: Path) -> None:
    page = next((example / "news/2024/05/7").glob("the-airport-of-porto-alegre*.html"))
    doc = parse(page)
    data = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    assert doc.xpath("//p[@class='dateline']/a/time/text()") == ["Tuesday 7 May 2024"]
    assert [a.text for a in doc.xpath("//nav[@class='story-path']//a")] == data["story"]
    # The story neighbours, oldest first, around this event.
    earlier = [e["date"] for e in data["earlier_in_story"]]
    later = [e["date"] for e in data["later_in_story"]]
    assert earlier and later and sorted([*earlier, data["date"], *later]) == [*earlier, data["date"], *later]
    listed = doc.xpath("//ol[@class='in-story']/li")
    assert len(listed) == len(earlier) + 1 + len(later)
    assert listed[len(earlier)].get("aria-current") == "page"
    assert data["previous_day"]["href"] == "/news/2024/05/6/index.json"
    assert doc.xpath("//nav[@class='pager']/a[@rel='prev']/@href") == ["../6/index.html"]
    ld = json_ld(doc)
    assert ld["@type"] == "NewsArticle" and ld["url"].endswith(data["path"].replace(".json", ".html"))


def test_every_event_of_a_real_month_lists_its_story_in_order(month: Path) -> None:
    for path in (month / "news").rglob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["kind"] != "event":
            continue
        dates = [e["date"] for e in data["earlier_in_story"]] + [data["date"]]
        dates += [e["date"] for e in data["later_in_story"]]
        assert dates == sorted(dates), path
        if not data["story"]:
            assert not data["earlier_in_story"] and not data["later_in_story"]


def test_cover_image_is_lazy_sized_and_credited() -> None:
    data = {
        "kind": "event",
        "path": "/news/2024/05/7/x.html",
        "formats": {f: f"/news/2024/05/7/x.{f}" for f in urls.FORMATS},
        "license": {"name": "CC BY-SA 4.0", "url": "https://creativecommons.org/licenses/by-sa/4.0/"},
        "source": "https://en.wikipedia.org/wiki/Portal:Current_events/2024_May_7",
        "id": "x",
        "date": "2024-05-07",
        "day": {"text": "2024-05-7", "href": "/news/2024/05/7/index.html"},
        "category": "Disasters and accidents",
        "story": [],
        "headline": "A flood.",
        "lede": "Water everywhere.",
        "sources": [
            {
                "outlet": "Wire",
                "url": "https://wire.example/a",
                "title": "The flood",
                "archived_url": None,
                "publisher": "Example Wire",
                "published": "2024-05-07",
            }
        ],
        "image": "https://wire.example/a.jpg",
        "image_credit": {"name": "Example Wire", "url": "https://wire.example/a"},
        "entities": [],
        "related": [],
        "entity_links": [],
        "story_links": [],
        "previous_day": None,
        "next_day": None,
        "earlier_in_story": [],
        "later_in_story": [],
        "parent": None,
        "parent_link": None,
        "follow_ups": [],
        "credits": [],
    }
    doc = lxml_html.fromstring(
        html.render("event.html", data, title="A flood.", description="Water everywhere.")
    )
    img = doc.xpath("//figure[@class='cover']/img")[0]
    assert img.get("loading") == "lazy" and img.get("width") and img.get("height")
    assert doc.xpath("//figure[@class='cover']/figcaption/a/@href") == ["https://wire.example/a"]
    source = doc.xpath("//ol[@class='sources']/li")[0]
    assert source.text_content() == "The flood Example Wire, 7 May 2024"
    assert doc.xpath("//meta[@property='og:image']/@content") == ["https://wire.example/a.jpg"]
    assert doc.xpath("//meta[@name='twitter:card']/@content") == ["summary_large_image"]


def test_metadata_canonical_open_graph_robots(example: Path) -> None:
    front = parse(example / "index.html")
    assert front.xpath("//link[@rel='canonical']/@href") == ["http://localhost:8000/index.html"]
    assert front.xpath("//meta[@property='og:url']/@content") == ["http://localhost:8000/index.html"]
    assert front.xpath("//meta[@property='og:title']/@content")
    entity = parse(example / "entity/porto-alegre.html")
    assert json_ld(entity)["@type"] == "Thing"
    robots = (example / "robots.txt").read_text(encoding="utf-8")
    assert "User-agent: *" in robots and "Sitemap: http://localhost:8000/sitemap.xml" in robots
    not_found = parse(example / "404.html")
    assert not_found.xpath("//meta[@name='robots']/@content") == ["noindex"]


def test_pages_and_stylesheet_stay_small(month: Path) -> None:
    stylesheet = next((month / "assets").glob("style.*.css"))
    assert stylesheet.stat().st_size < 20_000
    events = [p for p in (month / "news").rglob("*.html") if p.name != "index.html"]
    assert len(events) > 500
    biggest = max(events, key=lambda p: p.stat().st_size)
    assert biggest.stat().st_size < 40_000, biggest


def test_opinion_links_into_the_site_are_relative() -> None:
    body = "See [the day](/news/2024/05/7/index.html) and [the wire](https://wire.example/)."
    rendered = html._opinion_html(body, "opinion/2024/05/8/a/index.html", None)
    assert 'href="../../../../../news/2024/05/7/index.html"' in rendered
    assert 'href="https://wire.example/"' in rendered


def test_updates_keep_story_neighbours_as_a_full_build_makes_them(tmp_path: Path) -> None:
    """Events sharing only a story, never related (relate is not run, so no related list
    links them): one added in the middle, then removed; after each update, the site is what
    a full build makes."""
    from test_publish_update import files, thread_day

    from daybook.model import Day
    from daybook.publish import BuildOptions, build_site, update_site
    from daybook.store import Store

    options = BuildOptions(formats=("json", "md"))
    first = dt.date(2023, 1, 1)
    site, full = tmp_path / "site", tmp_path / "full"
    with Store(tmp_path / "s.db") as store:
        # More than the feeds' 100 newest events after the change: an update makes those again.
        for n in range(0, 240, 2):
            store.replace_day(thread_day(first + dt.timedelta(days=n), n, ()), origin="t", format="jsonl")
        build_site(store, site, options)
        middle = first + dt.timedelta(days=9)
        for day in (thread_day(middle, 9, ()), Day(middle, ())):
            store.replace_day(day, origin="t", format="jsonl")
            update_site(store, site, options, dates=[middle])
            shutil.rmtree(full, ignore_errors=True)
            build_site(store, full, options)
            assert files(site) == files(full)
            earlier = json.loads(
                next((site / "news/2023/01/7").glob("event-*.json")).read_text(encoding="utf-8")
            )
            assert ("event-number-9-" in json.dumps(earlier["later_in_story"])) == bool(day.events)
