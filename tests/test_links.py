"""Every internal link of every HTML page resolves to a file, relative to the page, so
the site works from ``file://``, at ``/`` and under any sub-path with no base URL."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
import sites
from lxml import html as lxml_html

from daybook import urls


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sites.example_site(tmp_path_factory.mktemp("links-example"))


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sites.real_month(tmp_path_factory.mktemp("links-month"))


def internal_links(page: Path) -> list[str]:
    doc = lxml_html.parse(str(page)).getroot()
    found = []
    for element, attribute, link, _ in doc.iterlinks():
        if attribute not in ("href", "src") or element.tag in ("form",):
            continue
        split = urllib.parse.urlsplit(link)
        if split.scheme or split.netloc or link.startswith(("#", "data:")):
            continue  # leaves the site (sources, Wikipedia, the portal), or stays on the page
        found.append(link)
    return found


def broken_links(site: Path) -> tuple[int, list[tuple[str, str]]]:
    """How many internal links the site's HTML pages hold, and those that lead nowhere."""
    count, broken = 0, []
    for page in sorted(site.rglob("*.html")):
        editions = {(site / urls.edition_root(e)).resolve() for e in urls.EDITIONS}
        if page.name == urls.NOT_FOUND_PAGE and page.parent.resolve() in editions:
            continue  # served at any address: its links start from the site's root (below)
        for link in internal_links(page):
            count += 1
            path = urllib.parse.unquote(urllib.parse.urlsplit(link).path)
            target = (page.parent / path).resolve()
            # Site-absolute links break under a sub-path; folders need their index.html on file://.
            if link.startswith("/") or not target.is_file() or not target.is_relative_to(site.resolve()):
                broken.append((page.relative_to(site).as_posix(), link))
    return count, broken


@pytest.mark.parametrize("which", ["example", "month"])
def test_every_internal_link_of_every_html_page_resolves(which: str, request: pytest.FixtureRequest) -> None:
    site: Path = request.getfixturevalue(which)
    count, broken = broken_links(site)
    assert count > 500, count
    assert not broken, broken[:10]


def test_the_404_page_links_from_the_site_root(example: Path) -> None:
    """Served for any missing address, the 404 page cannot link relative to itself."""
    links = internal_links(example / urls.NOT_FOUND_PAGE)
    assert links and all(link.startswith("/") for link in links)
    assert all((example / urllib.parse.urlsplit(link).path.lstrip("/")).is_file() for link in links)


def test_links_to_folders_name_their_index_page(example: Path) -> None:
    day = example / "news/2024/05/7/index.html"
    links = internal_links(day)
    assert "../../../index.html" in links  # the archive
    assert not [link for link in links if link.endswith("/") or link in ("", ".", "..")]


def test_stylesheet_and_script_are_named_by_their_content(example: Path) -> None:
    names = sorted(p.name for p in (example / "assets").iterdir())
    styles = [n for n in names if n.startswith("style.") and n.endswith(".css")]
    scripts = [n for n in names if n.startswith("site.") and n.endswith(".js")]
    assert len(styles) == 1 and len(scripts) == 1, names
    assert (example / "assets" / styles[0]).stat().st_size < 20_000
    front = (example / "index.html").read_text(encoding="utf-8")
    assert f'href="assets/{styles[0]}"' in front and f'src="assets/{scripts[0]}"' in front
