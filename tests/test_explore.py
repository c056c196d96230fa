"""Explore: entity and story pages in every format, their parts, charts and links."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from conftest import RealSite
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html

from daybook.ingest import ingest_paths
from daybook.publish import BuildOptions, build_site, names
from daybook.publish.explore import PAGE_SIZE, monthly_dates, parts, thread_pages
from daybook.relate import Settings, refresh
from daybook.render import chart
from daybook.render.pages import Link, ThreadEntry
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "daybook" / "schemas"
NS = {"d": "https://daybook.dev/ns/page/1"}
FORMATS = ("md", "html", "json", "xml")


def schema(kind: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((SCHEMAS / f"{kind}.json").read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("explore")
    with Store(tmp / "site.db") as store:
        assert not ingest_paths(store, [ROOT / "examples"]).failures
        refresh(store, Settings(), workers=1)
        build_site(store, tmp / "site")
    return tmp / "site"


def long_corpus(path: Path, events: int, *, first: dt.date = dt.date(2023, 1, 1)) -> Path:
    """``events`` events about one entity, one a day, as daybook JSONL."""
    lines = []
    for n in range(events):
        date = first + dt.timedelta(days=n)
        entities = ["Long thread", "Every other day"] if n % 2 else ["Long thread"]
        lines.append(
            {
                "date": date.isoformat(),
                "category": "Politics",
                "story": ["The long story"],
                "text": f"Event number {n} of the long thread.",
                "entities": entities,
                "sources": [],
            }
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


# -- pure parts -----------------------------------------------------------------


@pytest.mark.parametrize("total", [0, 1, 99, 100, 199, 200, 250, 299, 300, 1001])
def test_parts_cover_every_event_once_and_older_parts_are_full(total: int) -> None:
    split = parts(total)
    assert [s for _, s, _ in split] == [0, *[e for _, _, e in split[:-1]]]
    assert split[-1][0] is None and split[-1][2] == total
    assert all(end - start == PAGE_SIZE for part, start, end in split if part is not None)
    main = split[-1][2] - split[-1][1]
    assert main == total if total < 2 * PAGE_SIZE else PAGE_SIZE <= main < 2 * PAGE_SIZE


def test_a_new_event_leaves_the_older_parts_as_they_are() -> None:
    for total in range(2 * PAGE_SIZE, 5 * PAGE_SIZE):
        before, after = parts(total), parts(total + 1)
        assert [p for p in after if p[0] is not None][: len(before) - 1] == before[:-1]


def test_thread_pages_link_their_parts_both_ways() -> None:
    entries = [
        ThreadEntry(Link(f"e{n}", f"news/x/{n}"), f"id{n}", dt.date(2024, 1, 1) + dt.timedelta(days=n))
        for n in range(250)
    ]
    first, main = thread_pages("entity", "Thing", "entity/thing", entries)
    assert (first.stem, first.part, main.stem, main.part) == ("entity/thing/page/1", 1, "entity/thing", None)
    assert main.older == Link("Thing, part 1", "entity/thing/page/1") and main.newer is None
    assert first.newer == main.main and first.older is None
    assert main.events[0].id == "id249" and first.events[0].id == "id99"  # newest first
    assert main.total == 250 and first.total is None and not first.chart
    assert sum(bar.events for bar in main.chart) == 250
    story = thread_pages("story", "Thing", "story/thing", entries)
    assert story[0].events[0].id == "id0"  # oldest first


# -- slugs ------------------------------------------------------------------------


def test_entity_slugs_are_unique_and_stable() -> None:
    titles = ["C", "C++", "C#", "Kharkiv", "Kharkív", "!!!", "?!"]
    slugs = names.assign_slugs(titles)
    assert len(set(slugs.values())) == len(titles)
    assert slugs["C"] == "c" and slugs["Kharkiv"] == "kharkiv"  # plain ASCII keeps the bare slug
    assert slugs["C++"].startswith("c-") and slugs["Kharkív"].startswith("kharkiv-")
    assert all(slug and "/" not in slug for slug in slugs.values())
    # A name added later never moves the pages of those already there.
    more = names.assign_slugs([*titles, "C (programming language)", "Kharkiv!"])
    assert all(more[t] == slugs[t] for t in titles)
    assert names.assign_slugs(reversed(titles)) == slugs


# -- the built example site -----------------------------------------------------


def test_entity_and_story_pages_exist_in_every_format_and_pass_their_checks(site: Path) -> None:
    for kind in ("entity", "story"):
        stems = {p.with_suffix("") for p in (site / kind).glob("*.md")}
        assert len(stems) > 5
        for stem in stems:
            for ext in FORMATS:
                assert stem.with_suffix(f".{ext}").is_file(), f"{stem}.{ext}"
            data = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
            jsonschema.validate(data, schema(kind))
            root = etree.parse(str(stem.with_suffix(".xml"))).getroot()
            assert root.get("kind") == kind
            assert root.findtext("d:name", namespaces=NS) == data["name"]
            bars = root.findall("d:chart/d:bar", NS)
            assert [int(b.findtext("d:events", namespaces=NS) or 0) for b in bars] == [
                bar["events"] for bar in data["chart"]
            ]


def test_entity_page_lists_its_events_newest_first_with_company_and_chart(site: Path) -> None:
    data = json.loads((site / "entity/2024-rio-grande-do-sul-floods.json").read_text(encoding="utf-8"))
    assert data["total"] == 5 and len(data["events"]) == 5
    dates = [e["date"] for e in data["events"]]
    assert dates == sorted(dates, reverse=True)
    assert data["chart"] == [{"month": "2024-05", "events": 5}]
    assert data["co_entities"][0] == {
        "name": "Rio Grande do Sul",
        "href": "/entity/rio-grande-do-sul.json",
        "events": 3,
    }
    assert data["wikipedia"] == "https://en.wikipedia.org/wiki/2024_Rio_Grande_do_Sul_floods"
    doc = lxml_html.parse(str(site / "entity/2024-rio-grande-do-sul-floods.html")).getroot()
    assert len(doc.xpath("//figure[@class='chart']/svg//*[local-name()='rect']")) == 1
    story = json.loads((site / "story/2024-rio-grande-do-sul-floods.json").read_text(encoding="utf-8"))
    assert [m["month"] for m in story["months"]] == ["2024-05"]
    story_dates = [e["date"] for e in story["months"][0]["events"]]
    assert story_dates == sorted(story_dates)


def site_path(page: Path, href: str) -> str:
    """A relative link on a page of the site, as a site-absolute path (``/entity/x.html``)."""
    root = next(p for p in page.parents if (p / "index.html").exists() and (p / "news").is_dir())
    return "/" + (page.parent / href).resolve().relative_to(root.resolve()).as_posix()


def test_event_pages_link_each_entity_and_story_line(site: Path) -> None:
    page = next(site.glob("news/2024/05/7/the-airport-of-porto-alegre*.json"))
    data = json.loads(page.read_text(encoding="utf-8"))
    assert [link["text"] for link in data["entity_links"]] == data["entities"]
    assert [link["text"] for link in data["story_links"]] == data["story"]
    for link in [*data["entity_links"], *data["story_links"]]:
        target = json.loads((site / link["href"].lstrip("/")).read_text(encoding="utf-8"))
        assert target["name"] == link["text"]
    doc = lxml_html.parse(str(page.with_suffix(".html"))).getroot()
    # The HTML links relative to the page: resolved, the same pages as the JSON's.
    context = [site_path(page, href) for href in doc.xpath("//ul[@class='entity-links']/li/a/@href")]
    assert context == [link["href"].replace(".json", ".html") for link in data["entity_links"]]
    # Each entity of a related event's Context links to its page too.
    related = doc.xpath("//ol[@class='related']//span[@class='context']/a/@href")
    assert related and all(site_path(page, href).startswith("/entity/") for href in related)
    etree.parse(str(page.with_suffix(".xml")))


def test_chart_draws_a_bar_per_month_with_events() -> None:
    svg = chart.month_chart([("2022-01", 3), ("2022-04", 1), ("2023-01", 12)])
    root = etree.fromstring(svg.encode("utf-8"))
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) == 3
    heights = [float(r.get("height") or 0) for r in rects]
    assert heights[2] == max(heights) and heights[1] == min(heights) > 0
    assert "January 2023: 12 events" in svg and chart.month_chart([]) == ""


def test_long_entity_pages_are_split_and_a_new_event_renders_the_main_page_only(tmp_path: Path) -> None:
    corpus = long_corpus(tmp_path / "long.jsonl", 250)
    with Store(tmp_path / "long.db") as store:
        assert not ingest_paths(store, [corpus]).failures
        build_site(store, tmp_path / "site", BuildOptions(formats=("json", "html")))
        main = json.loads((tmp_path / "site/entity/long-thread.json").read_text(encoding="utf-8"))
        part = json.loads((tmp_path / "site/entity/long-thread/page/1.json").read_text(encoding="utf-8"))
        jsonschema.validate(main, schema("entity"))
        jsonschema.validate(part, schema("entity"))
        assert (main["total"], len(main["events"]), main["older"]["href"]) == (
            250,
            150,
            "/entity/long-thread/page/1.json",
        )
        assert (part["part"], len(part["events"]), part["newer"]["href"]) == (1, 100, main["path"])
        assert part["events"][0]["headline"] == "Event number 99 of the long thread."
        # One more day: the main pages change, the parts already written do not.
        more = long_corpus(tmp_path / "more.jsonl", 1, first=dt.date(2023, 1, 1) + dt.timedelta(days=250))
        assert not ingest_paths(store, [more]).failures
        report = build_site(store, tmp_path / "site", BuildOptions(formats=("json", "html")))
    assert "entity/long-thread.json" in report.written
    assert not [p for p in report.written if "/page/" in p]
    assert "story/the-long-story.json" in report.written


def test_real_site_entity_and_story_pages_pass_their_checks(real_site: RealSite) -> None:
    """The largest entities and stories (in parts) and a sample of the rest, every format."""
    for kind in ("entity", "story"):
        mains = sorted((real_site.root / kind).glob("*.json"))
        parts_ = sorted((real_site.root / kind).glob("*/page/*.json"))
        assert len(mains) > 1000 and parts_, kind
        for path in [*random.Random(7).sample(mains, 150), *parts_[:100]]:
            data = json.loads(path.read_text(encoding="utf-8"))
            jsonschema.validate(data, schema(kind))
            for ext in ("md", "html"):
                assert path.with_suffix(f".{ext}").is_file()
            root = etree.parse(str(path.with_suffix(".xml"))).getroot()
            assert (
                root.get("kind") == kind
                and root.findtext("d:path", namespaces=NS) == data["path"][:-4] + "xml"
            )
            events = data["events"] if kind == "entity" else [e for m in data["months"] for e in m["events"]]
            assert len(root.findall(".//d:event", NS)) == len(events)
            if data["part"] is None:
                assert sum(bar["events"] for bar in data["chart"]) == data["total"]


@given(st.lists(st.dates(min_value=dt.date(1999, 1, 1), max_value=dt.date(2030, 12, 31)), max_size=300))
def test_the_monthly_chart_counts_each_month_of_a_thread(dates: list[dt.date]) -> None:
    """Counted by bisection over the thread's dates in order: the same as date by date."""
    dates.sort()
    counts = Counter(d.replace(day=1) for d in dates)
    assert [(m.month, m.events) for m in monthly_dates(dates)] == sorted(counts.items())
