"""Sitemaps: one file up to 50,000 URLs, past that an index and numbered parts."""

from __future__ import annotations

from collections.abc import Sequence

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


def sitemaps(paths: Sequence[str], base_url: str, limit: int = LIMIT) -> dict[str, str]:
    """Output path -> content for the sitemap of ``paths`` (HTML pages)."""
    locations = [urls.absolute(p, base_url) for p in paths]
    if len(locations) <= limit:
        return {urls.SITEMAP: _document("urlset", "url", locations)}
    parts = {
        urls.sitemap_part(n + 1): _document("urlset", "url", locations[start : start + limit])
        for n, start in enumerate(range(0, len(locations), limit))
    }
    index = _document("sitemapindex", "sitemap", [urls.absolute(name, base_url) for name in parts])
    return {urls.SITEMAP: index, **parts}
