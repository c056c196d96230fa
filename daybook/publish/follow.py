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
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from daybook import urls
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


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def _attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub("", value))


def _moment(date: dt.date) -> str:
    return f"{date.isoformat()}T00:00:00Z"


def thread_feed(
    kind: str, name: str, stem: str, entries: Sequence[FollowEntry], base_url: str, *, page_path: str = ""
) -> str:
    """The Atom feed of the page at ``stem`` (at ``urls.feed_path(stem)``): the last
    ``FEED_SIZE`` of ``entries`` (the page's events in site order, oldest first), newest
    first. ``page_path``: the HTML page it follows, if not ``stem``'s."""
    latest = list(entries[-FEED_SIZE:])[::-1]
    page = urls.absolute(page_path or f"{stem}.html", base_url)
    updated = _moment(latest[0].date if latest else dt.date(1999, 1, 1))
    title = f"{name} · daybook"
    subtitle = f"{KIND_LABEL.get(kind, kind)}: the latest events, from the Wikipedia Current Events Portal"
    self_link = urls.absolute(urls.feed_path(stem), base_url)
    ident = self_link if page_path else page  # a feed following no one page is named by itself
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
        f"  <id>{_text(ident)}</id>",
        f"  <title>{_text(title)}</title>",
        f"  <subtitle>{_text(subtitle)}</subtitle>",
        f"  <updated>{updated}</updated>",
        f'  <link href={_attr(page)} rel="alternate" type="text/html"/>',
        f'  <link href={_attr(self_link)} rel="self" type="application/atom+xml"/>',
        f"  <rights>{_text(f'{LICENSE} ({LICENSE_URL})')}</rights>",
        "  <generator>daybook</generator>",
    ]
    for entry in latest:
        href = urls.absolute(f"{entry.stem}.html", base_url)
        moment = _moment(entry.date)
        cited = "".join(
            f'<li><a href="{escape(url, {chr(34): "&quot;"})}">{escape(outlet)}</a></li>'
            for outlet, url in entry.sources
        )
        body = f"<p>{escape(entry.headline)}</p>" + (f"<p>Sources:</p><ul>{cited}</ul>" if cited else "")
        out += [
            "  <entry>",
            f"    <id>{_text(href)}</id>",
            f"    <title>{_text(entry.headline)}</title>",
            f"    <updated>{moment}</updated>",
            f"    <published>{moment}</published>",
            f'    <link href={_attr(href)} rel="alternate" type="text/html"/>',
            *(
                f'    <link href={_attr(url)} rel="related" title={_attr(outlet)}/>'
                for outlet, url in entry.sources
            ),
            f'    <summary type="html">{_text(body)}</summary>',
            "  </entry>",
        ]
    out.append("</feed>")
    return "\n".join(out) + "\n"
