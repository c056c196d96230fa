"""The Chinese edition (``daybook build --editions en,zh``, issue 15): the bundled example
built in both editions, every page parsed, every link followed, and the zh front page read
in Chromium down to an entity page with a Chinese slug."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import urllib.parse
from pathlib import Path

import jsonschema
import pytest
import sites
from lxml import etree
from lxml import html as lxml_html
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from standin_api import StandInAPI
from test_links import broken_links

from daybook import urls
from daybook.enrich import enrich
from daybook.ingest import ingest_paths
from daybook.ingest.entities import resolve
from daybook.ingest.pull import PullSettings
from daybook.net.fetch import FetchSettings
from daybook.publish import BuildOptions, build_site
from daybook.relate import Settings, refresh
from daybook.render import i18n
from daybook.store import Store
from daybook.update import UpdateOptions, update

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "daybook" / "schemas"
BRAZIL = "%E5%B7%B4%E8%A5%BF"  # 巴西, percent-encoded


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sites.example_editions(tmp_path_factory.mktemp("editions"))


def test_every_page_of_both_editions_parses(site: Path) -> None:
    schemas = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.json")}
    kinds: dict[bool, set[str]] = {True: set(), False: set()}
    for path in sorted(site.rglob("*")):
        zh = path.relative_to(site).parts[0] == "zh"
        if path.suffix == ".html":
            lang = lxml_html.parse(str(path)).getroot().get("lang")
            assert lang == ("zh-Hans" if zh else "en"), path
        elif path.suffix == ".xml":
            etree.parse(str(path))
        elif path.suffix == ".json" and "search" not in path.relative_to(site).parts:
            data = json.loads(path.read_text(encoding="utf-8"))
            if "kind" in data:  # a page (not the JSON Feed)
                kinds[zh].add(data["kind"])
                jsonschema.validate(data, schemas[data["kind"]])
                # Only the Chinese edition says which it is: the English pages are as before.
                assert data.get("edition") == ("zh" if zh else None), path
                assert data["path"].startswith("/zh/") == zh, path
    pages = {"front", "day", "event", "archive", "entity", "story", "opinion", "opinion-index"}
    assert pages <= kinds[True] and pages <= kinds[False]


def test_every_internal_link_of_both_editions_resolves(site: Path) -> None:
    count, broken = broken_links(site)
    assert count > 1000, count
    assert not broken, broken[:10]
    zh_404 = lxml_html.parse(str(site / "zh" / urls.NOT_FOUND_PAGE)).getroot()
    links = [link for _, attribute, link, _ in zh_404.iterlinks() if attribute == "href"]
    assert "/zh/news/index.html" in links  # from the site's root, into the edition


def test_entities_have_chinese_names_and_slugs(site: Path) -> None:
    page = site / "zh" / "entity" / "巴西.html"
    doc = lxml_html.parse(str(page)).getroot()
    assert doc.findtext(".//h1") == "巴西"
    data = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    assert (data["name"], data["zh_title"], data["qid"]) == ("Brazil", "巴西", "Q155")
    assert data["path"] == f"/zh/entity/{BRAZIL}.json"  # percent-encoded in the data too
    assert f"[HTML](/zh/entity/{BRAZIL}.html)" in page.with_suffix(".md").read_text(encoding="utf-8")
    # Without a Chinese title, the English name and slug.
    assert (site / "zh" / "entity" / "goma.html").is_file()
    # Links to it are percent-encoded, in the pages and the sitemap.
    assert f"http://localhost:8000/zh/entity/{BRAZIL}.html" in (site / "zh" / "sitemap.xml").read_text()
    event = next((site / "zh" / "news" / "2024" / "05" / "6").glob("the-death-toll*.html"))
    assert f'href="../../../../entity/{BRAZIL}.html">巴西</a>' in event.read_text(encoding="utf-8")


def test_the_editions_link_each_other(site: Path) -> None:
    en = lxml_html.parse(str(site / "entity" / "brazil.html")).getroot()
    alternates = {e.get("hreflang"): e.get("href") for e in en.iter("link") if e.get("hreflang")}
    assert alternates == {"en": "brazil.html", "zh-Hans": f"../zh/entity/{BRAZIL}.html"}
    zh = lxml_html.parse(str(site / "zh" / "news" / "2024" / "05" / "7" / "index.html")).getroot()
    alternates = {e.get("hreflang"): e.get("href") for e in zh.iter("link") if e.get("hreflang")}
    assert alternates == {"en": "../../../../../news/2024/05/7/index.html", "zh-Hans": "index.html"}


def test_the_chinese_edition_writes_dates_and_words_its_own_way(site: Path) -> None:
    front = (site / "zh" / "index.html").read_text(encoding="utf-8")
    assert "2024年5月8日星期三" in front and ">存档</a>" in front
    assert i18n.translator("zh")(i18n_note()) in front  # the about line: event text stays English
    assert "Congolese troops retake one of the villages near Sake" in front
    rss = (site / "zh" / urls.NEWS_RSS).read_text(encoding="utf-8")
    assert "http://localhost:8000/zh/news/2024/05/8/" in rss
    markdown = (site / "zh" / "news" / "2024" / "05" / "7" / "index.md").read_text(encoding="utf-8")
    assert "](/zh/news/2024/05/7/index.md)" in markdown
    assert markdown.startswith("格式：") and "## [前一天……](/zh/news/2024/05/6/index.md)" in markdown
    # The week's digest speaks the edition's words too, and so does its title.
    (week,) = (site / "zh" / "week").glob("2024-W19.html")
    digest = week.read_text(encoding="utf-8")
    assert ">订阅</a>" in digest and "个报道" in digest and "<title>2024-W19 周" in digest
    assert ">Follow<" not in digest and " stories" not in digest
    # So do the feeds of its pages.
    feeds = sorted((site / "zh" / "category").glob("*.atom"))
    assert feeds, "the categories' feeds"
    feed = feeds[0].read_text(encoding="utf-8")
    assert 'xml:lang="zh-Hans"' in feed and "分类：维基百科时事门户的最新事件" in feed


def i18n_note() -> str:
    from daybook.render.html import EDITION_NOTE

    return EDITION_NOTE


def test_a_reader_finds_the_chinese_name(browser: webdriver.Chrome, site: Path) -> None:
    browser.get((site / "zh" / "index.html").as_uri())
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "a.headline"))
    browser.find_element(By.PARTIAL_LINK_TEXT, "The death toll from flooding").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "ul.entity-links"))
    browser.find_element(By.LINK_TEXT, "巴西").click()
    WebDriverWait(browser, 15).until(lambda d: "entity" in d.current_url)
    assert urllib.parse.unquote(browser.current_url).endswith("/zh/entity/巴西.html")
    assert browser.find_element(By.TAG_NAME, "h1").text == "巴西"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"


@pytest.mark.browser
def test_the_chinese_search_page_answers_in_chinese(browser: webdriver.Chrome, site: Path) -> None:
    """The static search's script takes its words and dates from the page's edition."""
    import threading

    from daybook.serve import serve

    server = serve(site, port=0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        browser.get(server.url + "/zh/search.html?q=flooding")
        WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li"))
        status = browser.find_element(By.ID, "search-status").text
        first = browser.find_element(By.CSS_SELECTOR, "#search-results li time").text
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert status.startswith("“flooding”的") and status.endswith(" 条"), status
    assert "年" in first and "月" in first and first.endswith("日"), first


@pytest.mark.browser
def test_axe_finds_no_serious_violation_on_the_chinese_pages(browser: webdriver.Chrome, site: Path) -> None:
    """Each kind of page of the Chinese edition, as axe-core sees it (the English ones are
    checked in test_reader_browser)."""
    from test_reader_browser import axe_violations

    zh = site / "zh"
    day = zh / "news" / "2024" / "05" / "8"
    event = next(p for p in sorted(day.glob("*.html")) if p.name != "index.html")
    pages = {
        "front": zh / "index.html",
        "day": day / "index.html",
        "event": event,
        "entity": zh / "entity" / "巴西.html",
        "category": sorted((zh / "category").glob("*.html"))[0],
        "week": sorted((zh / "week").glob("*.html"))[0],
        "archive": zh / "news" / "index.html",
    }
    source = sites.axe_source()
    browser.set_script_timeout(120)
    found = {}
    for kind, page in pages.items():
        assert page.is_file(), page
        browser.get(page.as_uri())
        if violations := axe_violations(browser, source):
            found[kind] = violations
    assert not found, found


def test_unknown_editions_are_refused_before_any_work(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from daybook.cli import cli

    db = tmp_path / "t.db"
    CliRunner().invoke(cli, ["--db", str(db), "ingest", str(ROOT / "examples" / "2024-05-06.wiki")])
    for editions in ("en,fr", "zh"):
        result = CliRunner().invoke(
            cli, ["--db", str(db), "build", str(tmp_path / "site"), "--editions", editions]
        )
        assert result.exit_code == 2 and "always with en" in result.output, result.output
        assert not (tmp_path / "site").exists()


# -- an update keeps every edition current -------------------------------------------

NEW_DAY = dt.date(2024, 5, 9)
NEW_DAY_TEXT = (
    "{{Current events|year=2024|month=05|day=09|top=yes}}\n"
    "'''Disasters and accidents'''\n"
    "*[[2024 Rio Grande do Sul floods]]\n"
    "**[[Brazil]]'s government sends more troops to [[Porto Alegre]] as the [[Guaíba River]] recedes."
    " [https://news.example.org/2024/05/09/troops (Example Wire)]\n"
    "**[[Luiz Inácio Lula da Silva|Lula]] visits shelters in [[Canoas]]."
    " [https://news.example.org/2024/05/09/lula (Example Wire)]\n"
    "<!-- All news items above this line -->\n{{Current events|bottom=yes}}\n"
)
NEW_EVENT = (
    "**Aid convoys reach [[Canoas]] and [[Porto Alegre]] from [[Argentina]]."
    " [https://news.example.org/2024/05/09/convoys (Example Wire)]\n"
)


def tree(out: Path) -> dict[str, bytes]:
    """Every file of a site, never git's."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and p.relative_to(out).parts[0] != ".git"
    }


def fetching(api: StandInAPI) -> FetchSettings:
    return FetchSettings(via=api.base, allow_private=True, wayback=None, delay=0)


def enriched_example(folder: Path, api: StandInAPI, editions: tuple[str, ...]) -> Path:
    """The example as ``sites.example_editions`` makes it, its sources enriched first (as
    a site kept by ``daybook update`` has them), built in ``editions`` into ``folder/site``."""
    folder.mkdir(exist_ok=True)
    with Store(folder / "built.db") as store:
        ingest_paths(store, [ROOT / "examples"])
        refresh(store, Settings(), workers=1)
        resolve(store, PullSettings(api=api.api, delay=0))
        enrich(store, fetching(api))
        options = BuildOptions(opinion_dir=ROOT / "examples" / "opinion", editions=editions)
        build_site(store, folder / "site", options)
    return folder / "site"


def update_with(store_path: Path, out: Path, api: StandInAPI) -> None:
    options = UpdateOptions(
        pull=PullSettings(api=api.api, delay=0),
        fetch=fetching(api),
        build=BuildOptions(opinion_dir=ROOT / "examples" / "opinion"),  # the editions: the site's
    )
    with Store(store_path) as store:
        update(store, out, [NEW_DAY], options)
    git = ["git", "-C", str(out)]
    assert subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout == ""


@pytest.fixture
def own_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git configuration: commits carry daybook's own identity."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.mark.usefixtures("own_git")
def test_an_update_keeps_both_editions_as_a_full_build_makes_them(tmp_path: Path) -> None:
    api = StandInAPI().start().load_articles(ROOT / "examples" / "entities.json")
    try:
        out = enriched_example(tmp_path / "built", api, editions=("en", "zh"))
        api.edit(PullSettings().title(NEW_DAY), NEW_DAY_TEXT)
        update_with(tmp_path / "built" / "built.db", out, api)  # the site's first commit
        zh_day = out / "zh" / "news" / "2024" / "05" / "9" / "index.html"
        assert zh_day.is_file() and "2024年5月9日" in zh_day.read_text(encoding="utf-8")
        text = NEW_DAY_TEXT.replace("<!-- All news", NEW_EVENT + "<!-- All news")
        api.edit(PullSettings().title(NEW_DAY), text)
        update_with(tmp_path / "built" / "built.db", out, api)  # a commit of the changed paths
    finally:
        api.stop()
    changed = subprocess.run(
        ["git", "-C", str(out), "show", "--name-only", "--format=", "HEAD"], capture_output=True, text=True
    ).stdout.split()
    assert "zh/news/2024/05/9/index.html" in changed and "news/2024/05/9/index.html" in changed
    fresh = tmp_path / "fresh"
    with Store(tmp_path / "built" / "built.db") as store:
        options = BuildOptions(opinion_dir=ROOT / "examples" / "opinion", editions=("en", "zh"))
        build_site(store, fresh, options)
    updated, built = tree(out / "zh"), tree(fresh / "zh")
    assert updated.keys() == built.keys()
    assert [p for p in sorted(built) if updated[p] != built[p]] == []
    updated, built = tree(out), tree(fresh)
    assert updated.keys() == built.keys()
    assert [p for p in sorted(built) if updated[p] != built[p]] == []


@pytest.mark.usefixtures("own_git")
def test_an_english_site_updates_without_a_chinese_edition(tmp_path: Path) -> None:
    api = StandInAPI().start().load_articles(ROOT / "examples" / "entities.json")
    try:
        out = enriched_example(tmp_path, api, editions=("en",))
        api.edit(PullSettings().title(NEW_DAY), NEW_DAY_TEXT)
        update_with(tmp_path / "built.db", out, api)
    finally:
        api.stop()
    assert (out / "news" / "2024" / "05" / "9" / "index.html").is_file()
    assert not (out / "zh").exists()
