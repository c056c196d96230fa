"""Shared fixtures: where the real data and the test fixtures live, the store and site
built from the real data (once per session: they take about a minute), and headless
Chromium (``tests/browser.py``, imported only by the tests that use it).

Markers (``pyproject.toml``): ``browser`` for the tests that drive Chromium (any test
using the ``browser`` fixture gets it), ``slow`` for those that take more than about
two seconds; ``make quick`` runs the others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pg_cluster
import pytest

from daybook.ingest import ingest_paths
from daybook.publish import BuildOptions, build_site
from daybook.relate import Settings, refresh
from daybook.store import Store

if TYPE_CHECKING:
    from selenium import webdriver

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"


# The session's store and site of the real data take about a minute to build.
SLOW_FIXTURES = frozenset({"real_store", "real_site"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the ``browser`` fixture drives Chromium: it is marked ``browser``;
    one that uses the real store or site (even through another fixture) is ``slow``."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        if fixtures & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg_cluster.Cluster]:
    """One throwaway PostgreSQL cluster for the session (skips where the server is not installed)."""
    if pg_cluster.server_bin() is None:
        pytest.skip("PostgreSQL server binaries not installed (scripts/system-deps installs them)")
    with pg_cluster.cluster() as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty store's location, on each backend: a file, or a database in the
    session's PostgreSQL cluster (whose files beside it, such as the update lock and the
    sites' states, then go under the test's own folder)."""
    if request.param == "sqlite":
        return str(tmp_path / "t.db")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    cluster: pg_cluster.Cluster = request.getfixturevalue("postgres")
    return cluster.new_database()


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
    from browser import start_chromium  # selenium only for the browser tests

    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()
