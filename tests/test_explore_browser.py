"""Explore in headless Chromium: the real-data site served by ``daybook serve``; a reader
searches for a word, follows a result to its event and on to an entity page, whose
chart (SVG drawn at build time) shows its bars."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from conftest import RealSite
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from daybook.serve import serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(real_site: RealSite) -> Iterator[str]:
    """The site's address, served with search over its store from a thread."""
    server = serve(real_site.root, port=0, db=real_site.db, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def severe(driver: webdriver.Chrome) -> list[str]:
    """Console errors since the last call (reading the log empties it)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def wait_for(driver: webdriver.Chrome, css: str) -> None:
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, css))


def test_search_to_event_to_entity_chart(browser: webdriver.Chrome, served: str) -> None:
    severe(browser)
    browser.get(served + "/index.html")
    browser.find_element(By.LINK_TEXT, "Search").click()
    box = browser.find_element(By.ID, "q")
    box.send_keys("Zaporizhzhia", Keys.ENTER)
    wait_for(browser, "#search-results li a.headline")
    assert "q=Zaporizhzhia" in browser.current_url
    first = browser.find_element(By.CSS_SELECTOR, "#search-results li a.headline")
    headline, href = first.text, first.get_attribute("href") or ""
    assert "zaporizhzhia" in headline.lower() and href.startswith(served + "/news/")

    first.click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url == href)
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith(headline.rstrip("…"))
    entity = browser.find_element(By.CSS_SELECTOR, "ul.entity-links a")
    name, entity_href = entity.text, entity.get_attribute("href") or ""
    assert entity_href.startswith(served + "/entity/")

    entity.click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url == entity_href)
    assert browser.find_element(By.TAG_NAME, "h1").text == name
    svg = browser.find_element(By.CSS_SELECTOR, "figure.chart svg")
    bars = svg.find_elements(By.TAG_NAME, "rect")
    assert bars and all(bar.size["height"] > 0 and bar.size["width"] > 0 for bar in bars)
    assert svg.size["width"] > 200  # drawn, at the width of the page
    assert not severe(browser)


def test_server_search_page_lists_results_with_snippets(browser: webdriver.Chrome, served: str) -> None:
    browser.get(served + "/search?q=Itaewon")
    results = browser.find_elements(By.CSS_SELECTOR, "#search-results li")
    assert results and results[0].find_elements(By.TAG_NAME, "mark")
    assert "Itaewon" in results[0].text
    assert not severe(browser)
