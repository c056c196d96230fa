"""Shared fixtures: where the real data and the test fixtures live, the store and site
built from the real data (once per session: they take about a minute), and headless
Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from daybook.ingest import ingest_paths
from daybook.publish import BuildOptions, build_site
from daybook.relate import Settings
from daybook.relation import refresh
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real input data beside the project (``../shared/data``); the suite needs it."""
    assert DATA.is_dir(), f"real data missing: {DATA} (clone the project beside shared/)"
    return DATA


@dataclass(frozen=True)
class RealSite:
    """The site built from the real data, the store it was built from, and what it held."""

    root: Path
    db: Path
    events: int
    days: int

    def data(self, href: str) -> dict[str, Any]:
        """A page's JSON, from any of its links (``/news/.../x.html``)."""
        path = self.root / href.lstrip("/")
        loaded: dict[str, Any] = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return loaded


@pytest.fixture(scope="session")
def real_store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """Both shared portal sets ingested and related, in a store the tests only read."""
    path = tmp_path_factory.mktemp("real-store") / "real.db"
    with Store(path) as store:
        report = ingest_paths(store, [shared_data / "portal-html", shared_data / "portal-html-2025"])
        assert not report.failures, report.failures[:3]
        refresh(store, Settings(), workers=1)
    return path


@pytest.fixture(scope="session")
def real_site(tmp_path_factory: pytest.TempPathFactory, real_store: Path) -> RealSite:
    """The real store built in every format, with the fixture opinion pieces."""
    root = tmp_path_factory.mktemp("real-site") / "site"
    with Store(real_store) as store:
        build_site(store, root, BuildOptions(opinion_dir=FIXTURES / "opinion"))
        stats = store.stats()
    return RealSite(root, real_store, stats.events, stats.days)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless Debian Chromium through its own chromedriver: nothing is downloaded."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.fail(
            f"the browser tests need Debian's chromium and chromium-driver; missing {', '.join(missing)}"
            " (apt-get install -y chromium chromium-driver, as make test does (scripts/system-deps))",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
