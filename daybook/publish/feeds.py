"""Feeds: RSS and Atom (feedgen) and JSON Feed for news, RSS for opinion.

Every date in a feed comes from the data (the events' days), never from the clock,
so the same store always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from feedgen.feed import FeedGenerator

from daybook import urls
from daybook.render.data import LICENSE, LICENSE_URL

SITE_TITLE = "daybook"
NEWS_DESCRIPTION = "The news of the day, from the Wikipedia Current Events Portal"
OPINION_DESCRIPTION = "Opinion from daybook"

FRONT_PAGE = urls.front_path("html")  # what a news feed links to
OPINION_PAGE = urls.opinion_index_path("html")  # what the opinion feed links to


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed."""

    id: str
    title: str
    path: str  # the HTML page, relative to the site root
    summary: str
    date: dt.date
    author: str | None = None


def _moment(date: dt.date) -> dt.datetime:
    return dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)


def _generator(
    title: str, description: str, path: str, feed_path: str, base_url: str, updated: dt.date
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(urls.absolute(path, base_url))
    fg.title(title)
    fg.description(description)
    fg.subtitle(description)
    fg.link(href=urls.absolute(path, base_url), rel="alternate")
    fg.link(href=urls.absolute(feed_path, base_url), rel="self")
    fg.language("en")
    fg.rights(f"{LICENSE} ({LICENSE_URL})")
    fg.generator("daybook")
    # feedgen stamps lastBuildDate/updated with the clock unless told: tell it.
    fg.lastBuildDate(_moment(updated))
    fg.updated(_moment(updated))
    return fg


def _add(fg: FeedGenerator, items: Sequence[FeedItem], base_url: str) -> None:
    # feedgen prepends each entry: add oldest first so the newest comes first.
    for item in reversed(items):
        entry = fg.add_entry()
        entry.id(urls.absolute(item.path, base_url))
        entry.guid(urls.absolute(item.path, base_url), permalink=True)
        entry.title(item.title)
        entry.link(href=urls.absolute(item.path, base_url))
        entry.description(item.summary)
        entry.published(_moment(item.date))
        entry.updated(_moment(item.date))
        if item.author:
            entry.author(name=item.author)


def _updated(items: Sequence[FeedItem]) -> dt.date:
    return max((i.date for i in items), default=dt.date(1999, 1, 1))


def news_rss(items: Sequence[FeedItem], base_url: str) -> str:
    fg = _generator(
        SITE_TITLE, NEWS_DESCRIPTION, urls.front_path("html"), urls.NEWS_RSS, base_url, _updated(items)
    )
    _add(fg, items, base_url)
    return str(fg.rss_str(pretty=True).decode("utf-8"))


def news_atom(items: Sequence[FeedItem], base_url: str) -> str:
    fg = _generator(
        SITE_TITLE, NEWS_DESCRIPTION, urls.front_path("html"), urls.NEWS_ATOM, base_url, _updated(items)
    )
    _add(fg, items, base_url)
    return str(fg.atom_str(pretty=True).decode("utf-8"))


def opinion_rss(items: Sequence[FeedItem], base_url: str) -> str:
    title = f"{SITE_TITLE}: opinion"
    fg = _generator(
        title,
        OPINION_DESCRIPTION,
        urls.opinion_index_path("html"),
        urls.OPINION_RSS,
        base_url,
        _updated(items),
    )
    _add(fg, items, base_url)
    return str(fg.rss_str(pretty=True).decode("utf-8"))


def news_json_feed(items: Sequence[FeedItem], base_url: str) -> str:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1); feedgen does not write it."""
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": SITE_TITLE,
        "description": NEWS_DESCRIPTION,
        "home_page_url": urls.absolute(FRONT_PAGE, base_url),
        "feed_url": urls.absolute(urls.NEWS_JSON_FEED, base_url),
        "language": "en",
        "items": [
            {
                "id": urls.absolute(item.path, base_url),
                "url": urls.absolute(item.path, base_url),
                "title": item.title,
                "content_text": item.summary,
                "date_published": _moment(item.date).isoformat(),
            }
            for item in items
        ],
    }
    return json.dumps(feed, ensure_ascii=False, indent=1) + "\n"
