"""The example site as a reader meets it, in headless Chromium: opened from ``file://``
and deployed under a sub-path (Python's http.server serving ``archive/``'s parent), with
no base URL. A reader goes front → day → next day → event → entity → back by clicks;
``j``/``k`` follow days; no page scrolls sideways at 390 px; axe-core finds no serious or
critical violation on any page kind, in the light scheme or the dark."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sites
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

# One page of each kind (the search page with a query, so it shows results).
PAGES = {
    "front": "index.html",
    "day": "news/2024/05/7/index.html",
    "month": "news/2024/05/index.html",
    "year": "news/2024/index.html",
    "archive": "news/index.html",
    "event": None,  # the first event of the day, found on the day page
    "entity": "entity/porto-alegre.html",
    "story": "story/2024-rio-grande-do-sul-floods.html",
    "search": "search.html?q=porto+alegre",
    "opinion": "opinion/2024/05/8/a-week-of-water-in-southern-brazil/index.html",
    "opinion-index": "opinion/index.html",
}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sites.example_site(tmp_path_factory.mktemp("reader-example"))


@pytest.fixture(scope="module")
def deployed(example: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example site under a sub-path: ``http://127.0.0.1:PORT/archive/``."""
    www = tmp_path_factory.mktemp("www")
    shutil.copytree(example, www / "archive", ignore=shutil.ignore_patterns(".*"))
    with sites.static_server(www) as address:
        yield address + "/archive/"


def wait_loaded(driver: webdriver.Chrome) -> None:
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")


def click(driver: webdriver.Chrome, css: str) -> None:
    """Click the first element matching ``css`` and wait for the page it leads to."""
    before = driver.current_url
    driver.find_element(By.CSS_SELECTOR, css).click()
    WebDriverWait(driver, 15).until(lambda d: d.current_url != before)
    wait_loaded(driver)


def h1(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.TAG_NAME, "h1").text)


def styled(driver: webdriver.Chrome) -> bool:
    """The site's stylesheet applies: the body is narrower than the browser's default."""
    return bool(driver.execute_script("return getComputedStyle(document.body).maxWidth !== 'none'"))


def walk(driver: webdriver.Chrome, front: str) -> None:
    """front → day → next day → event → entity → back, by clicks, checking each page."""
    driver.get(front)
    wait_loaded(driver)
    assert styled(driver), driver.current_url
    click(driver, "section.earlier-day h2 a")  # Yesterday
    assert driver.current_url.endswith("news/2024/05/7/index.html")
    assert h1(driver) == "Tuesday 7 May 2024" and styled(driver)
    click(driver, '.pager a[rel="next"]')
    assert driver.current_url.endswith("news/2024/05/8/index.html")
    assert h1(driver) == "Wednesday 8 May 2024"
    headline = driver.find_element(By.CSS_SELECTOR, "a.headline").text
    click(driver, "a.headline")
    assert h1(driver) == headline and styled(driver)
    event = driver.current_url
    entity = driver.find_element(By.CSS_SELECTOR, "ul.entity-links a").text
    click(driver, "ul.entity-links a")
    assert "/entity/" in driver.current_url and h1(driver) == entity and styled(driver)
    driver.back()
    WebDriverWait(driver, 15).until(lambda d: d.current_url == event)
    assert h1(driver) == headline


def test_opened_from_a_file_url(browser: webdriver.Chrome, example: Path) -> None:
    walk(browser, (example / "index.html").as_uri())


def test_deployed_under_a_sub_path(browser: webdriver.Chrome, deployed: str) -> None:
    walk(browser, deployed + "index.html")
    assert browser.current_url.startswith(deployed)


def test_static_search_works_under_a_sub_path(browser: webdriver.Chrome, deployed: str) -> None:
    browser.get(deployed + "index.html")
    click(browser, 'header.site a[href="search.html"]')
    browser.find_element(By.ID, "q").send_keys("Porto Alegre", Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results a.headline"))
    first = browser.find_element(By.CSS_SELECTOR, "#search-results a.headline")
    href = first.get_property("href")
    assert isinstance(href, str) and href.startswith(deployed + "news/2024/05/"), href
    click(browser, "#search-results a.headline")
    assert browser.current_url == href and styled(browser)


def test_j_and_k_follow_the_days(browser: webdriver.Chrome, deployed: str) -> None:
    browser.get(deployed + "news/2024/05/7/index.html")
    wait_loaded(browser)
    browser.find_element(By.TAG_NAME, "body").send_keys("j")
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("news/2024/05/8/index.html"))
    wait_loaded(browser)
    browser.find_element(By.TAG_NAME, "body").send_keys("k")
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("news/2024/05/7/index.html"))
    wait_loaded(browser)
    # In the search box the letters are typed, not followed.
    browser.get(deployed + "search.html")
    wait_loaded(browser)
    browser.find_element(By.ID, "q").send_keys("jk")
    assert browser.current_url.endswith("search.html")


def page_urls(driver: webdriver.Chrome, deployed: str) -> dict[str, str]:
    found = {kind: deployed + path for kind, path in PAGES.items() if path is not None}
    driver.get(found["day"])
    wait_loaded(driver)
    found["event"] = str(driver.find_element(By.CSS_SELECTOR, "a.headline").get_property("href"))
    return found


@pytest.fixture
def phone(browser: webdriver.Chrome) -> Iterator[webdriver.Chrome]:
    """The browser with a 390 px wide viewport, as a phone shows pages."""
    metrics = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield browser
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_no_page_scrolls_sideways_on_a_phone(phone: webdriver.Chrome, deployed: str) -> None:
    wide = {}
    for kind, url in page_urls(phone, deployed).items():
        phone.get(url)
        wait_loaded(phone)
        inner, scroll = phone.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth]"
        )
        assert inner == 390
        if scroll > inner:
            wide[kind] = scroll
    assert not wide, wide


def axe_violations(driver: webdriver.Chrome, source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page the browser shows."""
    driver.execute_script(source)
    found: list[dict[str, Any]] = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ["violations"]}).then(
          (r) => done(r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.html)}))),
          (e) => done([{id: "axe failed", impact: "critical", nodes: [String(e)]}]));
        """
    )
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation_on_any_page_kind(
    browser: webdriver.Chrome, deployed: str, scheme: str
) -> None:
    source = sites.axe_source()
    browser.set_script_timeout(120)
    features = [{"name": "prefers-color-scheme", "value": scheme}]
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": features})
    try:
        found = {}
        for kind, url in page_urls(browser, deployed).items():
            browser.get(url)
            wait_loaded(browser)
            if kind == "search":  # the results come from the script: wait for them
                WebDriverWait(browser, 15).until(
                    lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li")
                )
            if violations := axe_violations(browser, source):
                found[kind] = violations
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    assert not found, found
