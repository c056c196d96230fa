"""One search rule: the static ``search.html`` (search.js in headless Chromium) and
``daybook serve``'s ``/search`` rank the same queries alike and show the same fields
(headline, date, snippet with the matched words marked), on the example site with one
source enriched (a word only its title holds)."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from daybook.ingest import ingest_paths
from daybook.model import Article
from daybook.publish import build_site, search_index
from daybook.serve import SiteServer, serve
from daybook.store import RawResponse, Store

ROOT = Path(__file__).resolve().parents[1]
QUERIES = [
    "flood",  # one word
    "Porto Alegre",  # two words
    '"Porto Alegre"',  # a phrase: its words
    "elect*",  # a prefix
    "salgado",  # a word only a source's title holds
    "airport sheffield",  # no event holds both: the events holding one follow
]
Row = tuple[str, str, str, str, tuple[str, ...]]  # url, headline, date, snippet text, marked words


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("alike")
    with Store(tmp / "site.db") as store:
        assert not ingest_paths(store, [ROOT / "examples"]).failures
        job = next(j for j in store.sources_to_enrich() if "porto-alegre" in j.url)
        page = RawResponse(200, job.url, (), b"", "2024-05-07T00:00:00+00:00")
        article = Article(title="Runway under water at Salgado Filho", lede="Water covers the runway.")
        store.save_page(job.id, page, article, dead=None)
        # A recent part from the 12th event (of 16): the index has a base and a recent part.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(search_index, "RECENT_SPAN", 12)
            build_site(store, tmp / "site")
    return tmp / "site", tmp / "site.db"


def running(server: SiteServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def served(site: tuple[Path, Path]) -> Iterator[str]:
    yield from running(serve(site[0], port=0, db=site[1], quiet=True))


def server_rows(url: str, query: str) -> list[Row]:
    host = urllib.parse.urlsplit(url).netloc
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.request("GET", "/search?" + urllib.parse.urlencode({"q": query, "format": "json"}))
    hits = json.loads(conn.getresponse().read())
    return [
        (
            h["url"],
            h["text"],
            h["date"],
            h["snippet"].replace("**", ""),
            tuple(re.findall(r"\*\*(.+?)\*\*", h["snippet"])),
        )
        for h in hits
    ]


def browser_rows(browser: webdriver.Chrome, url: str, query: str) -> list[Row]:
    browser.get(url + "/search.html?" + urllib.parse.urlencode({"q": query}))
    status = browser.find_element(By.ID, "search-status")
    WebDriverWait(browser, 15).until(lambda _: status.text and not status.text.startswith("Searching"))
    rows = []
    for item in browser.find_elements(By.CSS_SELECTOR, "#search-results li"):
        link = item.find_element(By.CSS_SELECTOR, "a.headline")
        snippet = item.find_element(By.CSS_SELECTOR, "p.snippet")
        rows.append(
            (
                urllib.parse.urlsplit(link.get_attribute("href") or "").path,
                link.get_attribute("textContent") or "",
                item.find_element(By.TAG_NAME, "time").get_attribute("datetime") or "",
                snippet.get_attribute("textContent") or "",
                tuple(
                    m.get_attribute("textContent") or "" for m in snippet.find_elements(By.TAG_NAME, "mark")
                ),
            )
        )
    return rows


@pytest.mark.parametrize("query", QUERIES)
def test_static_and_served_search_agree(browser: webdriver.Chrome, served: str, query: str) -> None:
    expected = server_rows(served, query)
    assert expected, query
    # Snippets mark what matched (not where only an entity or story name did).
    assert any(marked for *_, marked in expected), expected
    assert browser_rows(browser, served, query) == expected


def test_the_index_has_both_parts(site: tuple[Path, Path]) -> None:
    manifest = json.loads((site[0] / "search/manifest.json").read_bytes())
    assert manifest["shards"] and manifest["recent"]["shards"] and manifest["recent"]["from"] == 12


def test_what_each_query_finds(served: str) -> None:
    first = {query: server_rows(served, query)[0] for query in QUERIES}
    porto = first["Porto Alegre"]
    assert {"Porto", "Alegre"} <= set(porto[4]) and "Porto Alegre" in porto[3]
    assert any(row[1].startswith("The airport of Porto") for row in server_rows(served, "Porto Alegre"))
    assert first['"Porto Alegre"'] == porto
    assert all(word.lower().startswith("elect") for word in first["elect*"][4])
    # Only the source's title says it: the snippet comes from there.
    assert first["salgado"][1].startswith("The airport of Porto Alegre")
    assert first["salgado"][3].startswith("Runway under water at Salgado Filho")
    assert first["salgado"][4] == ("Salgado",)
    both = server_rows(served, "airport sheffield")
    assert len(both) >= 2 and {w.lower() for row in both for w in row[4]} == {"airport", "sheffield"}


def test_a_site_without_its_index_is_searched_from_the_store_alike(
    site: tuple[Path, Path], served: str, tmp_path: Path
) -> None:
    copy = tmp_path / "site"
    shutil.copytree(site[0], copy, ignore=shutil.ignore_patterns("search"))
    for url in running(serve(copy, port=0, db=site[1], quiet=True)):
        for query in QUERIES:
            assert server_rows(url, query) == server_rows(served, query), query
