"""Follow: the Atom feed of every entity, story and category page (issue 21).

Each such page has a feed of its latest ``FEED_SIZE`` events, newest first, each with
its date, its headline, a link to its page and its cited sources. These feeds are many
(one per name: about 100,000 at 150,000 events) and small, so they are written as
prepared strings rather than through feedgen, whose object model costs far more than
the few lines each entry takes (see BENCHMARKS.md). Every date comes from the events,
never from the clock: the same store gives the same bytes, and a feed is rewritten only
when its events (or their sources) changed.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from daybook import urls
from daybook.render import i18n
from daybook.render.data import LICENSE, LICENSE_URL

FEED_SIZE = 50  # the latest events a feed carries
KIND_LABEL = {"entity": "Entity", "story": "Story", "category": "Category", "week": "Week by week"}

# Characters XML 1.0 does not allow (a feed holding one is not well-formed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class FollowEntry:
    """One event as a feed lists it."""

    id: str
    headline: str
    stem: str  # the event page's stem
    date: dt.date
    sources: tuple[tuple[str, str], ...]  # (outlet, url), as the portal cites them


def _x(value: str) -> str:
    """Text or an attribute value, escaped for XML (characters XML cannot hold are dropped
    once, from the whole feed). Chained ``replace`` is several times faster than
    ``str.translate`` with a table, which feeds by the hundred thousand notice."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _moment(date: dt.date) -> str:
    return f"{date.isoformat()}T00:00:00Z"


@functools.cache
def _code() -> bytes:
    """This module's source: a change to how feeds are written makes them all again."""
    return resources.files("daybook.publish").joinpath("follow.py").read_bytes()


def feed_digest(
    kind: str,
    name: str,
    stem: str,
    entries: Sequence[FollowEntry],
    base_url: str,
    fingerprint: str,
    edition: str = urls.DEFAULT_EDITION,
) -> str:
    """The digest of everything ``thread_feed`` makes a feed from (its latest entries), with
    the code: ``fingerprint`` (the renderers' and ``urls``', ``state.renderer_fingerprint``)
    and this module's. Equal digests, equal feeds: a rebuild need not write it again."""
    shown = [(e.id, e.headline, e.stem, e.date.isoformat(), e.sources) for e in entries[-FEED_SIZE:]]
    text = f"{fingerprint}\x1f{edition}\x1f{kind}\x1f{name}\x1f{stem}\x1f{base_url}\x1f{shown!r}"
    digest = hashlib.blake2b(_code(), digest_size=16)
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def thread_feed(
    kind: str,
    name: str,
    stem: str,
    entries: Sequence[FollowEntry],
    base_url: str,
    *,
    page_path: str = "",
    edition: str = urls.DEFAULT_EDITION,
) -> str:
    """The Atom feed of the page at ``stem`` (at ``urls.feed_path(stem)``): the last
    ``FEED_SIZE`` of ``entries`` (the page's events in site order, oldest first), newest
    first, in the words of ``edition``. ``page_path``: the HTML page it follows, if not ``stem``'s."""
    words = i18n.translator(edition)
    latest = list(entries[-FEED_SIZE:])[::-1]
    page = urls.absolute(page_path or f"{stem}.html", base_url)
    updated = _moment(latest[0].date if latest else dt.date(1999, 1, 1))
    title = f"{name} · daybook"
    about = words("{kind}: the latest events, from the Wikipedia Current Events Portal")
    subtitle = about.format(kind=words(KIND_LABEL.get(kind, kind)))
    self_link = urls.absolute(urls.feed_path(stem), base_url)
    ident = self_link if page_path else page  # a feed following no one page is named by itself
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{i18n.LANG[edition]}">',
        f"  <id>{_x(ident)}</id>",
        f"  <title>{_x(title)}</title>",
        f"  <subtitle>{_x(subtitle)}</subtitle>",
        f"  <updated>{updated}</updated>",
        f'  <link href="{_x(page)}" rel="alternate" type="text/html"/>',
        f'  <link href="{_x(self_link)}" rel="self" type="application/atom+xml"/>',
        f"  <rights>{_x(f'{LICENSE} ({LICENSE_URL})')}</rights>",
        "  <generator>daybook</generator>",
    ]
    prefix = base_url.rstrip("/") + "/"
    sources = words("Sources:")
    for entry in latest:
        href = _x(f"{prefix}{entry.stem}.html")
        moment = _moment(entry.date)
        headline = _x(entry.headline)
        related = "".join(
            f'    <link href="{_x(url)}" rel="related" title="{_x(outlet)}"/>\n'
            for outlet, url in entry.sources
        )
        # The summary is HTML (escaped once more as the element's text): the sources, linked.
        cited = ", ".join(f'<a href="{_x(url)}">{_x(outlet)}</a>' for outlet, url in entry.sources)
        summary = _x(f"<p>{sources} {cited}</p>") if cited else ""
        out.append(
            f"  <entry>\n    <id>{href}</id>\n    <title>{headline}</title>\n"
            f"    <updated>{moment}</updated>\n    <published>{moment}</published>\n"
            f'    <link href="{href}" rel="alternate" type="text/html"/>\n{related}'
            f'    <summary type="html">{summary}</summary>\n  </entry>'
        )
    out.append("</feed>")
    text = "\n".join(out) + "\n"
    return _NOT_XML.sub("", text) if _NOT_XML.search(text) else text
