"""Sitemaps: one file up to 50,000 URLs; past that an index of one sitemap per section
of the site, each split in numbered parts past 50,000 URLs.

A section is a year of news (``news/2024/...``), the entities or stories whose slug
begins with one character, or the rest of the site. An incremental build writes
again only the sections in which a page came or went.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from lxml import etree

from daybook import urls

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
LIMIT = 50_000


def _document(root_tag: str, child_tag: str, locations: Sequence[str]) -> str:
    root = etree.Element(f"{{{NAMESPACE}}}{root_tag}", nsmap={None: NAMESPACE})
    for location in locations:
        child = etree.SubElement(root, f"{{{NAMESPACE}}}{child_tag}")
        etree.SubElement(child, f"{{{NAMESPACE}}}loc").text = location
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


REST = "site"  # the section of every page no news year, entity or story section holds


def section(stem: str) -> str:
    """The section of the site a page belongs to, by its stem."""
    first, _, rest = stem.partition("/")
    if first == "news" and rest[:4].isdigit():
        return f"news-{rest[:4]}"
    if first in ("entity", "story") and rest:
        initial = rest[0]
        return f"{first}-{initial if initial.isascii() and initial.isalnum() else '_'}"
    return REST


def section_of_file(name: str) -> str | None:
    """The section whose sitemap a file (``sitemap-news-2024-2.xml``) is, or None."""
    if not (name.startswith("sitemap-") and name.endswith(".xml")):
        return None
    key = name.removeprefix("sitemap-").removesuffix(".xml")
    head, _, number = key.rpartition("-")
    if number.isdigit() and _is_key(head):
        return head
    return key if _is_key(key) else None


def _is_key(key: str) -> bool:
    kind, _, tail = key.partition("-")
    if key == "site":
        return True
    if kind == "news":
        return len(tail) == 4 and tail.isdigit()
    return kind in ("entity", "story") and len(tail) == 1


def section_prefix(key: str) -> str | None:
    """The stem prefix of a section's pages (None: the rest of the site, no one prefix)."""
    kind, _, tail = key.partition("-")
    if kind == "news":
        return f"news/{tail}/"
    if kind in ("entity", "story") and tail != "_":
        return f"{kind}/{tail}"
    return None


def sitemaps(paths: Sequence[str], base_url: str, limit: int | None = None) -> dict[str, str]:
    """Output path -> content for the sitemap of ``paths`` (HTML pages), all at once."""
    limit = limit or LIMIT
    if len(paths) <= limit:
        return {urls.SITEMAP: single(paths, base_url)}
    by_section: dict[str, list[str]] = {}
    for path in paths:
        by_section.setdefault(section(path.rsplit(".", 1)[0]), []).append(path)
    files: dict[str, str] = {}
    for key, listed in by_section.items():
        files.update(section_files(key, sorted(listed), base_url, limit))
    files[urls.SITEMAP] = index(files, base_url)
    return files


def single(paths: Sequence[str], base_url: str) -> str:
    """The sitemap of a small site: one file."""
    return _document("urlset", "url", [urls.absolute(p, base_url) for p in paths])


def section_files(key: str, paths: Sequence[str], base_url: str, limit: int | None = None) -> dict[str, str]:
    """The sitemap files of one section (sorted ``paths``), split every ``limit`` URLs."""
    limit = limit or LIMIT
    locations = [urls.absolute(p, base_url) for p in paths]
    return {
        urls.sitemap_section(key, n + 1): _document("urlset", "url", locations[start : start + limit])
        for n, start in enumerate(range(0, len(locations), limit))
    }


def index(files: Iterable[str], base_url: str) -> str:
    """The sitemap index listing the section files (``sitemap.xml`` itself left out)."""
    parts = sorted(f for f in files if f != urls.SITEMAP)
    return _document("sitemapindex", "sitemap", [urls.absolute(name, base_url) for name in parts])


def listed_paths(stems: Iterable[str], ext: str) -> list[str]:
    """What the sitemap lists of these pages: each page in format ``ext``, and beside each
    entity's, story's and category's main page its feed (issue 21)."""
    paths = []
    for stem in stems:
        paths.append(f"{stem}.{ext}")
        if stem.partition("/")[0] in FEED_SECTIONS and "/page/" not in stem:
            paths.append(urls.feed_path(stem))
    return paths


FEED_SECTIONS = ("entity", "story", "category")  # the pages that have a feed


def section_paths(key: str, stems: Callable[[str], list[str]], ext: str) -> list[str]:
    """The sorted page paths of one section, from ``stems(prefix)`` (the state's)."""
    prefix = section_prefix(key)
    found = stems(prefix or "")
    return sorted(listed_paths((s for s in found if prefix is not None or section(s) == key), ext))
