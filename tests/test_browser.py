"""The site built from the real shared data, in headless Chromium.

The site and the browser are the session's (``conftest.real_site``, ``browser``): both
shared sets ingested, related, built in every format with the fixture opinion pieces,
once. It is served from a thread on a loopback port and driven through Debian's
``chromium`` and ``chromedriver``, which ``make test`` installs (``scripts/system-deps``):
if they are missing the tests fail, they do not skip.
"""

from __future__ import annotations

import functools
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import RealSite
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

FORMATS = ("md", "html", "json", "xml")

pytestmark = pytest.mark.browser
# Files that are not pages, in one format only: feeds, sitemaps, assets, the search page and index.
SINGLE_FORMAT = (
    *("index_rss.xml", "index_atom.xml", "index_feed.json", "opinion_rss.xml", "sitemap"),
    *("404.html", "robots.txt"),
)
SINGLE_FORMAT_FOLDERS = ("assets/", "search")
# The page kinds of the publish issue; the site may have more (entity, story).
PUBLISH_KINDS = {"front", "day", "event", "archive", "opinion", "opinion-index"}


def page_kind(rel: str) -> str:
    """The kind of page a site path (without extension) is, from the URL scheme alone."""
    parts = rel.split("/")
    if rel == "index":
        return "front"
    if parts[0] == "opinion":
        return "opinion-index" if len(parts) == 2 else "opinion"
    if parts[0] == "news" and parts[-1] == "index":
        # news/index, news/YYYY/index, news/YYYY/MM/index are archives; news/YYYY/MM/D/index a day
        return "day" if len(parts) == 5 else "archive"
    if parts[0] == "news" and len(parts) == 5:
        return "event"
    if parts[0] in ("entity", "story", "category"):  # entity/<slug>, entity/<slug>/page/2 for a long one
        return parts[0]
    if parts[0] == "week":  # week/2024-W19
        return "week"
    return "unknown"


def test_every_page_kind_exists_in_all_four_formats(real_site: RealSite) -> None:
    files = [
        p.relative_to(real_site.root).as_posix()
        for p in real_site.root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    ]
    stems: dict[str, set[str]] = {}
    for rel in files:
        if rel.startswith((*SINGLE_FORMAT, *SINGLE_FORMAT_FOLDERS)) or rel.endswith(".atom"):
            continue  # the feeds beside pages are one format each (tests/test_follow.py)
        stem, _, ext = rel.rpartition(".")
        stems.setdefault(stem, set()).add(ext)
    incomplete = {stem: sorted(exts) for stem, exts in stems.items() if exts != set(FORMATS)}
    assert not incomplete, list(incomplete.items())[:5]
    kinds: dict[str, int] = {}
    for stem in stems:
        kinds[page_kind(stem)] = kinds.get(page_kind(stem), 0) + 1
    assert set(kinds) >= PUBLISH_KINDS and "unknown" not in kinds, kinds
    assert kinds["event"] == real_site.events
    assert kinds["day"] == real_site.days
    # The URL scheme and the pages agree on what each page is.
    for stem in ("index", "news/index", "news/2022/index", "news/2022/03/index", "opinion/index"):
        assert real_site.data(stem + ".json")["kind"] == page_kind(stem), stem


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves the built site with the content type of each format; logs nothing."""

    extensions_map = {  # noqa: RUF012 - the base class declares it a plain class attribute
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".md": "text/markdown; charset=utf-8",
        ".json": "application/json",
        ".xml": "application/xml",
        ".css": "text/css; charset=utf-8",
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(real_site: RealSite) -> Iterator[str]:
    """The site's base URL (``http://127.0.0.1:PORT``), served from a thread."""
    handler = functools.partial(SiteHandler, directory=str(real_site.root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """The SEVERE console entries since the last call (reading the log empties it)."""
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]  # untyped upstream
    return [entry["message"] for entry in entries if entry["level"] == "SEVERE"]


def html_link(href: str) -> str:
    """The HTML page a link in the JSON format points to."""
    return href.rpartition(".")[0] + ".html"


def link_to(driver: webdriver.Chrome, css: str, url: str) -> Any:
    """The link (matching ``css``) that leads to ``url``: pages link relative to themselves,
    so the link's resolved address is compared."""
    quoted = urllib.parse.quote(url, safe=":/")
    return next(a for a in driver.find_elements(By.CSS_SELECTOR, css) if a.get_property("href") == quoted)


def landed_on(driver: webdriver.Chrome, server: str, href: str) -> None:
    """Wait until the browser shows ``href`` (a click navigates asynchronously)."""
    expected = server + urllib.parse.quote(href)
    WebDriverWait(driver, 15).until(lambda d: d.current_url == expected)
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")


def test_front_day_and_event_pages_load_without_console_errors(
    browser: webdriver.Chrome, server: str, real_site: RealSite
) -> None:
    front = real_site.data("/index.json")
    today = front["today"]
    event = today["events"][0]
    for href, heading in [
        ("/index.html", None),
        (html_link(today["href"]), None),
        (html_link(event["href"]), event["headline"]),
    ]:
        console_errors(browser)  # start from an empty log
        browser.get(server + href)
        assert browser.current_url == server + urllib.parse.quote(href)
        assert browser.title.endswith("daybook"), (href, browser.title)
        errors = console_errors(browser)
        assert not errors, (href, errors)
        # The site's stylesheet loaded (a missing one would also be a console error).
        assert browser.execute_script("return document.styleSheets[0].cssRules.length") > 0
        if heading is not None:
            assert browser.find_element(By.TAG_NAME, "h1").text == heading


def test_links_lead_from_the_front_page_to_an_event_and_on_to_a_related_one(
    browser: webdriver.Chrome, server: str, real_site: RealSite
) -> None:
    front = real_site.data("/index.json")
    # The first of the newest day's events whose page lists related events.
    event = next(e for e in front["today"]["events"] if real_site.data(e["href"])["related"])
    related = real_site.data(event["href"])["related"][0]
    console_errors(browser)

    browser.get(server + "/index.html")
    link_to(browser, "a.headline", server + html_link(event["href"])).click()
    landed_on(browser, server, html_link(event["href"]))
    assert browser.find_element(By.TAG_NAME, "h1").text == event["headline"]

    link_to(browser, "ol.related a", server + html_link(related["href"])).click()
    landed_on(browser, server, html_link(related["href"]))
    assert browser.find_element(By.TAG_NAME, "h1").text == related["headline"]
    assert not console_errors(browser)
