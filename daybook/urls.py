"""The one URL scheme of the site: every path and link daybook writes comes from here.

Paths are relative to the output folder (``news/2017/03/7/index.md``). Links in the
data formats (and the Markdown, as the reference format has them) are site-absolute
(``/news/2017/03/7/index.md``); links in the HTML are relative to the page they are on
(``relative``), so the site works opened from ``file://`` and under any sub-path; links
that leave the site (feeds, sitemaps, canonical links) are absolute, with the base URL.
The month has a leading zero, the day does not, as on the original site.
"""

from __future__ import annotations

import datetime as dt
import functools
import posixpath
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable

from anyascii import anyascii

FORMATS: tuple[str, ...] = ("md", "html", "json", "xml")
SLUG_LENGTH = 140
_NOT_SLUG = re.compile(r"[^a-z0-9]+")

DEFAULT_BASE_URL = "http://localhost:8000"  # the site's public address unless --base-url says

# Editions of the site (issue 15): English at the root, each other in a folder of its own.
EDITIONS: tuple[str, ...] = ("en", "zh")
DEFAULT_EDITION = "en"
# What a link keeps as it is when percent-encoded: every ASCII character a path, query or
# fragment of the site may hold. Letters outside ASCII (a Chinese slug) are encoded.
_SAFE_IN_LINKS = "!#$%&'()*+,-./:;=?@[]~_"
_NOT_WORD = re.compile(r"[\W_]+")


def slugify(text: str, *, fallback: str = "") -> str:
    """The reference rule: the first 140 characters, lower-cased, every run of other
    characters than a-z and 0-9 made one ``-``, none at either end.

    Letters outside ASCII are transliterated first (``Création`` -> ``creation``), as
    the original did; text with nothing left gives ``fallback``.
    """
    ascii_text = anyascii(text).strip()[:SLUG_LENGTH]
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-") or fallback


def slugify_name(text: str, *, fallback: str = "") -> str:
    """A slug that keeps letters of any script (a Chinese entity name: ``伊斯兰国``):
    NFKC, lower-cased, every run of other characters than letters and digits made one
    ``-``, none at either end; a name of ASCII only is slugged as ``slugify`` does."""
    if text.isascii():
        return slugify(text, fallback=fallback)
    normal = unicodedata.normalize("NFKC", text).strip()[:SLUG_LENGTH]
    return _NOT_WORD.sub("-", normal.lower()).strip("-") or fallback


def edition_root(edition: str) -> str:
    """Where an edition's pages live: ``""`` for English, ``zh/`` for Chinese."""
    if edition not in EDITIONS:
        raise ValueError(f"no edition {edition!r}")
    return "" if edition == DEFAULT_EDITION else f"{edition}/"


def in_edition(path: str, edition: str) -> str:
    """An output path of an edition as a path from the site's root: ``zh/index.html``."""
    return edition_root(edition) + path


def edition_link(href: str, edition: str) -> str:
    """A site-absolute link of an edition, from the site's root (``/zh/news/index.json``);
    any other link as is."""
    if href.startswith("/") and not href.startswith("//"):
        return "/" + in_edition(href[1:], edition)
    return href


def quoted(link: str) -> str:
    """A link percent-encoded where it must be (letters outside ASCII, spaces); a link of
    the English edition is unchanged."""
    return link if link.isascii() and " " not in link else urllib.parse.quote(link, safe=_SAFE_IN_LINKS)


def unique_slugs(slugs: Iterable[str]) -> list[str]:
    """Slugs made unique in order: the second ``x`` becomes ``x-2``, the third ``x-3``."""
    taken: set[str] = set()
    result: list[str] = []
    for slug in slugs:
        candidate, n = slug, 1
        while candidate in taken:
            n += 1
            candidate = f"{slug}-{n}"
        taken.add(candidate)
        result.append(candidate)
    return result


def date_label(date: dt.date) -> str:
    """The date as the site shows it: ``2017-03-7``."""
    return f"{date.year:04d}-{date.month:02d}-{date.day}"


def day_dir(date: dt.date) -> str:
    return f"news/{date.year:04d}/{date.month:02d}/{date.day}"


def day_path(date: dt.date, ext: str) -> str:
    return f"{day_dir(date)}/index.{ext}"


def event_path(date: dt.date, slug: str, ext: str) -> str:
    return f"{day_dir(date)}/{slug}.{ext}"


def month_path(year: int, month: int, ext: str) -> str:
    return f"news/{year:04d}/{month:02d}/index.{ext}"


def year_path(year: int, ext: str) -> str:
    return f"news/{year:04d}/index.{ext}"


def front_path(ext: str) -> str:
    return f"index.{ext}"


def opinion_path(date: dt.date, slug: str, ext: str) -> str:
    return f"opinion/{date.year:04d}/{date.month:02d}/{date.day}/{slug}/index.{ext}"


def opinion_index_path(ext: str) -> str:
    return f"opinion/index.{ext}"


def entity_path(slug: str, ext: str) -> str:
    return f"entity/{slug}.{ext}"


def story_path(slug: str, ext: str) -> str:
    return f"story/{slug}.{ext}"


def category_path(slug: str, ext: str) -> str:
    """A category's page (its events, newest first): ``category/disasters-and-accidents.html``."""
    return f"category/{slug}.{ext}"


def week_label(year: int, week: int) -> str:
    """An ISO week as ISO 8601 writes it: ``2024-W19``."""
    return f"{year:04d}-W{week:02d}"


def week_path(year: int, week: int, ext: str) -> str:
    """The weekly digest of an ISO week: ``week/2024-W19.html``."""
    return f"week/{week_label(year, week)}.{ext}"


def week_of(date: dt.date) -> tuple[int, int]:
    """The ISO year and week a day falls in."""
    iso = date.isocalendar()
    return iso.year, iso.week


WEEKLY_FEED = "week/index.atom"  # the weekly digests' feed


FEED_EXT = "atom"  # a page's own feed is the page's stem with this extension


def feed_path(stem: str) -> str:
    """The Atom feed of an entity, story or category page (its stem): ``entity/brazil.atom``."""
    return f"{stem}.{FEED_EXT}"


def part_path(stem: str, part: int, ext: str) -> str:
    """A further part of a long entity or story page: ``entity/<slug>/page/2.html``."""
    return f"{stem}/page/{part}.{ext}"


ARCHIVE_PAGE = "news/index.html"  # the archive's root: every month
NOT_FOUND_PAGE = "404.html"
ROBOTS = "robots.txt"
SEARCH_PAGE = "search.html"  # the static site's search page (explore)
SEARCH_SCRIPT = "assets/search.js"
SEARCH_INDEX_DIR = "search"


NEWS_RSS = "index_rss.xml"
NEWS_ATOM = "index_atom.xml"
NEWS_JSON_FEED = "index_feed.json"
OPINION_RSS = "opinion_rss.xml"
SITEMAP = "sitemap.xml"


SITEMAP_SECTIONS = "sitemap-*.xml"  # a glob of every section's sitemap


def sitemap_section(key: str, number: int = 1) -> str:
    """A section's sitemap (see ``sitemap``): ``sitemap-news-2024.xml``, then ``-2``..."""
    return f"sitemap-{key}.xml" if number == 1 else f"sitemap-{key}-{number}.xml"


def link(path: str) -> str:
    """A site-absolute link to an output path."""
    return "/" + path


def relative(from_path: str, to_path: str) -> str:
    """A link from one output path to another (``news/2024/05/7/index.html`` to
    ``entity/brazil.html`` gives ``../../../../entity/brazil.html``).

    Relative links work wherever the site is opened: from ``file://``, at ``/`` or under a
    sub-path, with no base URL. A query or fragment on ``to_path`` is kept. Folders' pages
    are linked by their ``index.html``, which ``file://`` does not add by itself.
    """
    target, sep, rest = _split_suffix(to_path)
    if not target:  # a query or fragment alone: this page
        return posixpath.basename(from_path) + sep + rest
    return _relpath(target, posixpath.dirname(from_path)) + sep + rest


@functools.lru_cache(maxsize=1 << 16)
def _relpath(target: str, start: str) -> str:
    """``posixpath.relpath(target, start or ".")`` without its two ``getcwd`` calls and
    ``abspath``s, and remembered: a page has dozens of links, most of them shared with
    the pages beside it (the site's chrome, the day's events)."""
    here = [p for p in start.split("/") if p]
    there = [p for p in target.split("/") if p]
    if target.startswith("/") or start.startswith("/") or {".", ".."} & {*here, *there}:
        return posixpath.relpath(target, start or ".")  # not a plain path inside the site
    common = 0
    for a, b in zip(here, there, strict=False):
        if a != b:
            break
        common += 1
    steps = [".."] * (len(here) - common) + there[common:]
    return "/".join(steps) if steps else "."


def _split_suffix(path: str) -> tuple[str, str, str]:
    if "?" not in path and "#" not in path:  # most links: no query, no fragment
        return path, "", ""
    at = min((i for i in (path.find("?"), path.find("#")) if i >= 0), default=-1)
    return (path, "", "") if at < 0 else (path[:at], path[at], path[at + 1 :])


def relative_link(from_path: str, href: str) -> str:
    """``href`` as a page at ``from_path`` should write it: a site-absolute link
    (``/entity/x.html``) made relative; a full URL, a ``//host`` one or a relative one as is."""
    if href.startswith("/") and not href.startswith("//"):
        return relative(from_path, href[1:])
    return href


def rooted(path: str, base_url: str) -> str:
    """A link from the root of the base URL's host (``/archive/news/index.html`` under
    ``https://example.org/archive``): for a page served at any address, like the 404 page."""
    return urllib.parse.urlsplit(base_url).path.rstrip("/") + "/" + path


def absolute(path: str, base_url: str) -> str:
    """A full URL for an output path under ``base_url``."""
    return base_url.rstrip("/") + "/" + path


def with_format(path: str, ext: str) -> str:
    """The same page in another format: only the extension changes."""
    stem, _, _ = path.rpartition(".")
    return f"{stem}.{ext}"


def wikipedia_url(title: str) -> str:
    """The Wikipedia article of an entity (a canonical article title)."""
    return "https://en.wikipedia.org/wiki/" + urllib.parse.quote(title.replace(" ", "_"), safe="()',!:")


def wikidata_url(qid: str) -> str:
    """The Wikidata item of an entity (``Q42``)."""
    return "https://www.wikidata.org/wiki/" + urllib.parse.quote(qid)


def portal_day_url(date: dt.date, revision: int | None = None) -> str:
    """The Wikipedia portal page a day was taken from (for attribution); with ``revision``,
    that revision of it (``?oldid=``), the text daybook read."""
    url = f"https://en.wikipedia.org/wiki/Portal:Current_events/{date.year}_{date:%B}_{date.day}"
    return url if revision is None else f"{url}?oldid={revision}"


# -- stems: a page's path without its extension (the ``stem`` of every page object) --------


def stem(path: str) -> str:
    """An output path without its extension: ``news/2024/05/7/index``."""
    return path.rpartition(".")[0]


def day_stem(date: dt.date) -> str:
    return stem(day_path(date, "md"))


def event_stem(date: dt.date, slug: str) -> str:
    return stem(event_path(date, slug, "md"))


def month_stem(year: int, month: int) -> str:
    return stem(month_path(year, month, "md"))


def year_stem(year: int) -> str:
    return stem(year_path(year, "md"))


def archive_stem() -> str:
    """The archive page: every year."""
    return "news/index"


def front_stem() -> str:
    return stem(front_path("md"))


def opinion_stem(date: dt.date, slug: str) -> str:
    return stem(opinion_path(date, slug, "md"))


def opinion_index_stem() -> str:
    return stem(opinion_index_path("md"))


def entity_stem(slug: str) -> str:
    return stem(entity_path(slug, "md"))


def story_stem(slug: str) -> str:
    return stem(story_path(slug, "md"))


def week_stem(year: int, week: int) -> str:
    return stem(week_path(year, week, "md"))


def category_stem(slug: str) -> str:
    return stem(category_path(slug, "md"))


def parts_prefix(stem: str) -> str:
    """What the stems of a long page's further parts begin with: ``entity/<slug>/page/``."""
    return f"{stem}/page/"


def part_stem(stem: str, part: int) -> str:
    """A further part of a long entity or story page: ``entity/<slug>/page/2``."""
    return f"{parts_prefix(stem)}{part}"


STYLESHEET = "assets/style.css"  # the stylesheet as older sites named it (now hashed: render.html)
