"""The weekly digest (issue 21): a page per ISO week in every format, the weekly feed, day
pages linking their week, and the week as an e-mail (``daybook digest``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import feedparser
import jsonschema
import pytest
from click.testing import CliRunner
from lxml import html
from sites import example_site

from daybook import urls
from daybook.cli import cli
from daybook.ingest import ingest_paths
from daybook.publish import digest
from daybook.render.pages import Link, ThreadEntry, WeekPage, WeekStory
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
W19 = "week/2024-W19"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_site(tmp_path_factory.mktemp("digest"))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("digest-db") / "d.db"
    with Store(path, create=True) as store:
        ingest_paths(store, [ROOT / "examples"])
    return path


def run(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), "digest", *args], obj={})
    return result.exit_code, result.output


def test_the_week_page_ranks_its_stories_in_every_format(site: Path) -> None:
    for ext in urls.FORMATS:
        assert (site / f"{W19}.{ext}").is_file()
    data = json.loads((site / f"{W19}.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads((ROOT / "daybook" / "schemas" / "week.json").read_text()))
    assert (data["week"], data["start"], data["end"]) == ("2024-W19", "2024-05-06", "2024-05-12")
    ranks = [(-s["events"], -s["sources"], s["name"]) for s in data["stories"]]
    assert ranks == sorted(ranks)
    assert data["stories"][0]["name"] == "2024 Rio Grande do Sul floods"
    assert data["events"] == sum(s["events"] for s in data["stories"])
    with Store(site.parent / "site.db") as store:
        week = store.events(start=dt.date(2024, 5, 6), end=dt.date(2024, 5, 12))
    assert data["events"] == len(week)
    for story in data["stories"]:
        assert 1 <= len(story["main_events"]) <= digest.MAIN_EVENTS
        for event in story["main_events"]:
            assert (site / event["href"].lstrip("/")).is_file()
        assert (site / story["href"].lstrip("/")).is_file()
    assert [d["text"] for d in data["days"]] == ["Monday 6", "Tuesday 7", "Wednesday 8"]
    page = html.fromstring((site / f"{W19}.html").read_bytes())
    assert [h.text_content() for h in page.xpath("//section[@class='week-story']/h2")] == [
        s["name"] for s in data["stories"]
    ]


def test_day_pages_link_their_week(site: Path) -> None:
    day = site / urls.day_path(dt.date(2024, 5, 7), "html")
    (link,) = html.fromstring(day.read_bytes()).xpath("//a[@class='week']")
    assert (day.parent / link.get("href")).resolve() == (site / f"{W19}.html").resolve()
    data = json.loads(day.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["week"] == {"text": "2024-W19", "href": f"/{W19}.json"}


def test_the_weekly_feed_parses_and_lists_the_week(site: Path) -> None:
    parsed = feedparser.parse((site / urls.WEEKLY_FEED).read_bytes())
    assert not parsed.bozo
    (entry,) = parsed.entries
    assert entry.link == urls.absolute(f"{W19}.html", urls.DEFAULT_BASE_URL)
    assert entry.title.startswith("The week 2024-W19: 2024 Rio Grande do Sul floods (5)")
    assert parsed.feed.id == urls.absolute(urls.WEEKLY_FEED, urls.DEFAULT_BASE_URL)
    listed = html.fromstring((site / f"{W19}.html").read_bytes())
    assert listed.xpath('//link[@rel="alternate"][@href="index.atom"]')


def test_the_email_of_the_week_has_no_script_nor_stylesheet(db: Path) -> None:
    code, text = run(
        db, "--week", "2024-W19", "--format", "email", "--base-url", "https://news.example.org/d"
    )
    assert code == 0
    assert len(text.encode("utf-8")) < digest.EMAIL_LIMIT
    tree = html.fromstring(text.encode("utf-8"))
    assert not tree.xpath("//script | //style | //link | //@*[starts-with(name(), 'on')]")
    assert "<script" not in text.lower() and "stylesheet" not in text.lower()
    hrefs = tree.xpath("//a/@href")
    assert hrefs and all(
        h.startswith(("https://news.example.org/d/", "https://creativecommons.org/")) for h in hrefs
    )
    assert tree.xpath("//h2")[0].text_content() == "2024 Rio Grande do Sul floods"
    assert all(e.get("style") for e in tree.xpath("//h1 | //h2 | //p | //ul | //a"))
    assert (
        run(db, "--week", "2024-W19", "--format", "email", "--base-url", "https://news.example.org/d")[1]
        == text
    )


def test_digest_writes_the_other_formats_and_refuses_bad_weeks(db: Path) -> None:
    code, text = run(db, "--week", "2024-W19", "--format", "json")
    assert code == 0 and json.loads(text)["week"] == "2024-W19"
    code, text = run(db, "--week", "2024-W19", "--format", "md")
    assert code == 0 and text.startswith("Formats:") and "# The week 2024-W19" in text
    for bad in ("2024-19", "2024-W54", "W19", "2023-W53"):
        code, text = run(db, "--week", bad)
        assert code == 2 and "--week" in text, (bad, text)
    code, text = run(db, "--week", "2024-W20")
    assert code == 1 and len(text.strip().splitlines()) == 1 and "2024-W20" in text


def test_a_huge_week_stays_under_the_mail_limit() -> None:
    entry = ThreadEntry(
        Link("A long headline about something that happened. " * 12, "news/2024/05/7/x"),
        "x",
        dt.date(2024, 5, 7),
    )
    stories = tuple(
        WeekStory(f"Story {n}", Link(f"Story {n}", f"story/s{n}"), 10, 20, (entry, entry, entry))
        for n in range(500)
    )
    page = WeekPage("week/2024-W19", 2024, 19, dt.date(2024, 5, 6), stories)
    text = digest.email_html(page, urls.DEFAULT_BASE_URL)
    assert len(text.encode("utf-8")) <= digest.EMAIL_LIMIT
    assert text.rstrip().endswith("</html>") and text.count("<h2") <= digest.EMAIL_STORIES


def test_parse_week() -> None:
    assert digest.parse_week("2024-W19") == (2024, 19)
    assert digest.parse_week("2020-w53") == (2020, 53)
    for bad in ("2024W19", "2024-W1", "2021-W53", "abcd-W10"):
        with pytest.raises(ValueError):
            digest.parse_week(bad)
