"""Publish: the site built from a store, in every format, checked format by format."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import feedparser
import jsonschema
import pytest
from click.testing import CliRunner
from lxml import etree
from lxml import html as lxml_html

from daybook.cli import cli
from daybook.ingest import ingest_paths
from daybook.publish import BuildOptions, build_site
from daybook.relate import Settings, refresh
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "daybook" / "schemas"
OPINION = Path(__file__).parent / "fixtures" / "opinion"

HOSTILE = [
    {
        "date": "2024-06-01",
        "category": "Law and crime",
        "story": ['"><img src=x onerror=alert(1)>'],
        "text": "A <script>alert('x')</script> event \"><img src=x onerror=alert(2)>"
        " & more [a](javascript:x)",
        "entities": ["<b>Bold</b> entity", "Shared"],
        "sources": [{"outlet": "</a><script>1</script>", "url": 'https://news.example.org/a?x=1&y="2"'}],
    },
    {
        "date": "2024-06-02",
        "category": "Sports",
        "story": [],
        "text": "A plain event that shares an entity.",
        "entities": ["Shared"],
        "sources": [],
    },
]


def make_store(where: Path | str, *paths: Path) -> Store:
    """A store of these days, related: in folder ``where``, or at location ``where`` (``db``)."""
    store = Store(where / "site.db" if isinstance(where, Path) else where)
    report = ingest_paths(store, paths)
    assert not report.failures
    refresh(store, Settings(), workers=1)
    return store


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("example")
    with make_store(tmp, ROOT / "examples") as store:
        build_site(store, tmp / "site", BuildOptions(opinion_dir=OPINION))
    return tmp / "site"


def kind_of(path: Path) -> str:
    rel = path.as_posix()
    if path.name.startswith("index.") and path.parent.name == "site":
        return "front"
    for kind in ("entity", "story", "category", "week"):
        if f"/{kind}/" in rel:
            return kind
    if "/opinion/" in rel:
        return "opinion-index" if path.parent.name == "opinion" else "opinion"
    if path.name.startswith("index."):
        parts = rel.split("/news/", 1)[1].split("/")
        return "day" if len(parts) == 4 else "archive"
    return "event"


def test_every_page_kind_in_all_four_formats(example_site: Path) -> None:
    stems = {p.with_suffix("") for p in example_site.rglob("*.md")}
    kinds = {kind_of(s.with_suffix(".md")) for s in stems}
    assert kinds == {
        "front",
        "day",
        "event",
        "archive",
        "opinion",
        "opinion-index",
        "entity",
        "story",
        "category",
        "week",
    }
    for stem in stems:
        for ext in ("md", "html", "json", "xml"):
            assert stem.with_suffix(f".{ext}").is_file(), f"{stem}.{ext} missing"


def test_json_pages_follow_their_schema(example_site: Path) -> None:
    schemas = {p.stem: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    pages = list(example_site.rglob("*.json"))
    for path in pages:
        if path.name == "index_feed.json" or "/search/" in path.as_posix():
            continue  # not pages: the JSON Feed, the static search's index
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["kind"] == kind_of(path)
        jsonschema.validate(data, schemas[data["kind"]])
        credits = data["credits"]
        assert credits[-1]["covers"] == "code and layout" and credits[-1]["by"] == "daybook"
        if data["kind"] in ("opinion", "opinion-index"):  # the pieces are their authors'
            assert data["license"] is None and credits[0]["by"] == "The daybook team"
        else:
            assert data["license"]["name"].startswith("CC BY-SA")
            assert data["source"].startswith("https://en.wikipedia.org/wiki/Portal:Current_events")


def test_xml_pages_are_well_formed_and_carry_the_json(example_site: Path) -> None:
    for path in example_site.rglob("*.xml"):
        tree = etree.parse(str(path))
        if path.name in ("index_rss.xml", "index_atom.xml", "opinion_rss.xml", "sitemap.xml"):
            continue
        root = tree.getroot()
        assert root.tag == "{https://daybook.dev/ns/page/1}page"
        data = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        assert root.get("kind") == data["kind"]
        ns = {"d": "https://daybook.dev/ns/page/1"}
        assert (root.findtext("d:source", namespaces=ns) or None) == data["source"]  # nil: null
        assert len(root.findall("d:credits/d:credit", namespaces=ns)) == len(data["credits"])


def test_event_page_links_its_day_sources_and_related(example_site: Path) -> None:
    page = next(example_site.glob("news/2024/05/7/the-airport-of-porto-alegre*.json"))
    data = json.loads(page.read_text(encoding="utf-8"))
    assert data["day"]["href"] == "/news/2024/05/7/index.json"
    assert data["sources"][0]["outlet"] == "Example Wire"
    assert data["related"], "the flood events relate to each other"
    for related in data["related"]:
        assert (example_site / related["href"].lstrip("/")).is_file()
        assert related["context"] == sorted(related["context"])
    assert data["source"] == "https://en.wikipedia.org/wiki/Portal:Current_events/2024_May_7"


def test_every_internal_link_resolves(example_site: Path) -> None:
    for path in example_site.rglob("*.html"):
        doc = lxml_html.parse(str(path)).getroot()
        for href in doc.xpath("//a/@href | //link/@href"):
            if href.startswith("/"):
                assert (example_site / href.lstrip("/")).is_file(), f"{path}: broken link {href}"


def test_html_has_attribution_alternates_and_json_ld(example_site: Path) -> None:
    page = next(example_site.glob("news/2024/05/7/the-airport-of-porto-alegre*.html"))
    doc = lxml_html.parse(str(page)).getroot()
    assert doc.xpath("//footer//a[@rel='license']/@href") == [
        "https://creativecommons.org/licenses/by-sa/4.0/"
    ]
    day = "https://en.wikipedia.org/wiki/Portal:Current_events/2024_May_7"
    assert doc.xpath("//footer//a/@href")[-3:-1] == [day, "https://creativecommons.org/licenses/by-sa/4.0/"]
    footer = " ".join(doc.xpath("//footer//p[@class='license']")[0].text_content().split())
    assert "belong to their publishers, quoted and linked for reference" in footer
    assert footer.endswith("Code and layout: daybook (MIT).")
    assert doc.xpath("//footer//a[contains(@href, 'Portal:Current_events/2024_May_7')]")
    assert {"text/markdown", "application/json", "application/xml"} <= set(
        doc.xpath("//link[@rel='alternate']/@type")
    )
    ld = json.loads(doc.xpath("//script[@type='application/ld+json']/text()")[0])
    assert ld["@type"] == "NewsArticle"
    assert "2024 Rio Grande do Sul floods" in [t["name"] for t in ld["about"]]


def test_feeds_parse_cleanly(example_site: Path) -> None:
    for name in ("index_rss.xml", "index_atom.xml", "opinion_rss.xml"):
        feed = feedparser.parse((example_site / name).read_bytes())
        assert not feed.bozo, (name, feed.get("bozo_exception"))
        assert feed.entries
    news = feedparser.parse((example_site / "index_rss.xml").read_bytes())
    assert news.feed.updated_parsed[:3] == (2024, 5, 8)  # from the data, not the clock
    assert news.entries[0].link.startswith("http://localhost:8000/news/2024/05/8/")
    json_feed = json.loads((example_site / "index_feed.json").read_text(encoding="utf-8"))
    assert json_feed["version"] == "https://jsonfeed.org/version/1.1" and json_feed["items"]


def test_opinion_pages_render_markdown_without_raw_html(example_site: Path) -> None:
    page = next(example_site.glob("opinion/2024/05/8/*/index.html"))
    text = page.read_text(encoding="utf-8")
    assert "<strong>what came before</strong>" in text
    assert "<script>alert" not in text and "&lt;script&gt;" in text
    front = (example_site / "index.md").read_text(encoding="utf-8")
    assert "## [Opinion](/opinion/index.md)" in front and "Why a news archive needs links" in front


def test_same_store_builds_same_bytes_and_rebuild_writes_nothing(
    db: str, tmp_path: Path, example_site: Path
) -> None:
    with make_store(db, ROOT / "examples") as store:
        report = build_site(store, tmp_path / "again", BuildOptions(opinion_dir=OPINION))
        again = build_site(store, tmp_path / "again", BuildOptions(opinion_dir=OPINION))
    assert report.written and not again.written and not again.removed
    for path in example_site.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            twin = tmp_path / "again" / path.relative_to(example_site)
            assert twin.read_bytes() == path.read_bytes(), path


def test_hostile_text_renders_as_text(db: str, tmp_path: Path) -> None:
    corpus = tmp_path / "hostile.jsonl"
    corpus.write_text("".join(json.dumps(e) + "\n" for e in HOSTILE), encoding="utf-8")
    with make_store(db, corpus) as store:
        build_site(store, tmp_path / "site")
    site = tmp_path / "site"
    own_scripts = {site / "assets/search.js", *site.glob("assets/site.*.js")}
    for path in site.rglob("*.html"):
        doc = lxml_html.parse(str(path)).getroot()
        assert not doc.xpath("//img[@onerror]") and not doc.xpath("//*[@onerror]"), path
        scripts = doc.xpath("//script")
        # JSON-LD, and the site's own scripts (keys; search): nothing else runs.
        assert all(
            s.get("type") == "application/ld+json"
            or (path.parent / s.get("src", "")).resolve() in own_scripts
            or s.get("src", "").startswith("/assets/")  # the 404 page's, from the site's root
            for s in scripts
        ), path
        assert not doc.xpath("//a[starts-with(@href, 'javascript')]"), path
    for path in (tmp_path / "site").rglob("*.xml"):
        etree.parse(str(path))  # well-formed despite the markup in the text


def test_removed_day_takes_its_pages_with_it(db: str, tmp_path: Path) -> None:
    days = tmp_path / "days"
    shutil.copytree(ROOT / "examples", days)
    with make_store(db, days) as store:
        build_site(store, tmp_path / "site")
        store.conn.execute("DELETE FROM days WHERE date = '2024-05-06'")
        report = build_site(store, tmp_path / "site")
    # The day's pages, and the pages (and feeds) of entities, stories and categories only that day held.
    assert report.removed and all(
        p.startswith(("news/2024/05/6/", "entity/", "story/", "category/", "search/")) for p in report.removed
    )
    assert not (tmp_path / "site" / "news/2024/05/6").exists()


def test_build_command(db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "ingest", str(ROOT / "examples")], obj={}).exit_code == 0
    result = runner.invoke(
        cli, ["--db", str(db), "build", str(tmp_path / "out"), "--formats", "md,json"], obj={}
    )
    assert result.exit_code == 0, result.output
    assert "written" in result.output and (tmp_path / "out" / "index.md").is_file()
    assert not (tmp_path / "out" / "index.html").exists()
    bad = runner.invoke(cli, ["--db", str(db), "build", str(tmp_path / "out"), "--formats", "pdf"], obj={})
    assert bad.exit_code == 2 and "unknown format" in bad.output


def test_rebuild_renders_only_pages_whose_inputs_changed(db: str, tmp_path: Path) -> None:
    with make_store(db, ROOT / "examples") as store:
        build_site(store, tmp_path / "site")
        # One event's text changes: its own page, its day, its neighbours' related lists...
        store.conn.execute(
            "UPDATE events SET text = 'The airport of Porto Alegre closes.' WHERE text LIKE 'The airport%'"
        )
        report = build_site(store, tmp_path / "site")
        # ...but not pages that do not show it.
        assert not any(p.startswith("news/2024/05/6/a-mudslide") for p in report.written)
        assert any(p.startswith("news/2024/05/7/the-airport-of-porto-alegre-closes") for p in report.written)
        assert "news/2024/05/7/index.md" in report.written
        # A page file deleted by hand is written again even though its inputs did not change.
        (tmp_path / "site" / "news/2024/05/index.md").unlink()
        again = build_site(store, tmp_path / "site")
    assert again.written == ["news/2024/05/index.md"]


def test_opinion_pages_credit_their_author_not_the_portal(db: str, tmp_path: Path) -> None:
    folder = tmp_path / "opinion"
    folder.mkdir()
    (folder / "a.md").write_text(
        "---\ntitle: Reprinted\ndate: 2024-05-08\nauthor: A. Writer\nsource: https://blog.example.org/x\n"
        "license: CC BY 4.0\nlicense_url: https://creativecommons.org/licenses/by/4.0/\n---\nBody.\n",
        encoding="utf-8",
    )
    (folder / "b.md").write_text("---\ntitle: Own\ndate: 2024-05-07\nauthor: B. Writer\n---\nBody.\n")
    with make_store(db, ROOT / "examples") as store:
        build_site(store, tmp_path / "site", BuildOptions(opinion_dir=folder))
    pages = {
        p.parent.name: json.loads(p.read_text(encoding="utf-8"))
        for p in (tmp_path / "site" / "opinion").rglob("*/index.json")
    }
    reprinted, own = pages["reprinted"], pages["own"]
    assert reprinted["source"] == "https://blog.example.org/x"
    assert reprinted["license"] == {
        "name": "CC BY 4.0",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    }
    assert reprinted["credits"][0]["by"] == "A. Writer"
    assert own["source"] is None and own["license"] is None and own["credits"][0]["by"] == "B. Writer"
    html = (tmp_path / "site" / "opinion" / "2024" / "05" / "7" / "own" / "index.html").read_text()
    (line,) = lxml_html.fromstring(html).xpath("//footer/p[@class='license']")
    footer = " ".join(line.text_content().split())
    assert footer == "Text: Own by B. Writer, all rights with the author. Code and layout: daybook (MIT)."
    assert "Wikipedia" not in footer and "CC BY-SA" not in html
    front = json.loads((tmp_path / "site" / "index.json").read_text(encoding="utf-8"))
    assert [c["by"] for c in front["credits"]] == [
        *["Wikipedia contributors"] * 3,
        "A. Writer",
        "B. Writer",
        "daybook",
    ]


def test_pages_of_a_pulled_day_link_the_revision_read(db: str, tmp_path: Path) -> None:
    """A day pulled from the wiki credits the revision its events came from (``?oldid=``);
    one ingested from a file, the day's page as it is now."""
    from daybook.ingest.wikitext import parse_wikitext
    from daybook.store import PortalPage

    text = (ROOT / "examples" / "2024-05-08.wiki").read_text(encoding="utf-8")
    with make_store(db, ROOT / "examples" / "2024-05-06.wiki") as store:
        date = dt.date(2024, 5, 8)
        for revision, wikitext in ((1001, text), (1002, text + "\n<!-- a comment -->\n")):
            title = "Portal:Current events/2024 May 8"
            page = PortalPage(date, title, revision, "2024-05-09T00:00:00Z", wikitext)
            store.save_portal_page(page)
            store.ingest_portal_page(page, parse_wikitext(wikitext, name=page.origin, date=date))
        build_site(store, tmp_path / "site")
    site = tmp_path / "site"
    # Revision 1002 changed no event: the events were read from 1001.
    pulled = "https://en.wikipedia.org/wiki/Portal:Current_events/2024_May_8?oldid=1001"
    day = json.loads((site / "news/2024/05/8/index.json").read_text(encoding="utf-8"))
    assert day["source"] == pulled and day["credits"][0]["name"].endswith("(revision 1001)")
    event = json.loads(next((site / "news/2024/05/8").glob("[!i]*.json")).read_text(encoding="utf-8"))
    assert event["source"] == pulled
    assert pulled in (site / "news/2024/05/8/index.html").read_text(encoding="utf-8")
    older = json.loads((site / "news/2024/05/6/index.json").read_text(encoding="utf-8"))
    assert older["source"] == "https://en.wikipedia.org/wiki/Portal:Current_events/2024_May_6"
