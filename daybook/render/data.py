"""The data of each page as plain JSON-able objects: what the JSON and XML formats carry.

One function per page kind; ``render.json`` serialises these, ``render.xml`` maps
them to daybook's XML vocabulary.

Every page says where its text comes from and which licence covers what: ``source``
and ``license`` are its text's (a portal-derived page's: the portal's day page, at the
revision read where the store knows it, under CC BY-SA; an opinion piece's: what its
front matter gives, else none), and ``credits`` lists each part of the page with who
it belongs to (``credit_*`` below): the portal's text, the cited sources' metadata
(their publishers', quoted and linked for reference), an opinion piece's author, and
the site's own code and layout (daybook's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from daybook import urls
from daybook.render.pages import (
    ArchivePage,
    DayPage,
    EntityRedirectPage,
    EventPage,
    EventSummary,
    FrontPage,
    Link,
    OpinionIndex,
    OpinionPiece,
    RedirectPage,
    ThreadEntry,
    ThreadPage,
)

LICENSE = "CC BY-SA 4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"
PORTAL_URL = "https://en.wikipedia.org/wiki/Portal:Current_events"

SITE_LICENSE = {"name": "MIT", "url": "https://opensource.org/license/mit"}  # daybook's, pyproject.toml

Obj = dict[str, Any]


def _portal_license() -> Obj:
    return {"name": LICENSE, "url": LICENSE_URL}


def credit_portal_day(date: dt.date, revision: int | None) -> Obj:
    """The portal's day page a page's text came from (at the revision read, if known)."""
    name = f"Wikipedia Current Events Portal, {date.day} {date:%B %Y}"
    return {
        "covers": "text",
        "name": name if revision is None else f"{name} (revision {revision})",
        "by": "Wikipedia contributors",
        "url": urls.portal_day_url(date, revision),
        "license": _portal_license(),
        "note": None,
    }


def credit_portal() -> Obj:
    """The portal as a whole: a page listing events of many days (each event's page names its day)."""
    return {
        "covers": "text",
        "name": "Wikipedia Current Events Portal",
        "by": "Wikipedia contributors",
        "url": PORTAL_URL,
        "license": _portal_license(),
        "note": "each event's page links the portal day it came from",
    }


def credit_sources() -> Obj:
    """The cited sources' titles, ledes and images: their publishers', not the portal's."""
    return {
        "covers": "source metadata",
        "name": "titles, ledes and images of the cited sources",
        "by": "their publishers",
        "url": None,
        "license": None,
        "note": "quoted and linked for reference",
    }


def credit_site() -> Obj:
    return {
        "covers": "code and layout",
        "name": "daybook",
        "by": "daybook",
        "url": None,
        "license": SITE_LICENSE,
        "note": None,
    }


def credit_opinion(piece: OpinionPiece) -> Obj:
    """An opinion piece is its author's: its source and licence where its front matter gives them."""
    license_ = None if piece.license is None else {"name": piece.license, "url": piece.license_url}
    return {
        "covers": "text",
        "name": piece.title,
        "by": piece.author,
        "url": piece.source if piece.source and piece.source.startswith(("http://", "https://")) else None,
        "license": license_,
        "note": None
        if piece.source is None or piece.source.startswith(("http://", "https://"))
        else f"first published in {piece.source}",
    }


def portal_credits(days: Iterable[tuple[dt.date, int | None]], sources: bool) -> list[Obj]:
    """The credits of a portal-derived page: its days (none: the portal as a whole), the
    sources' metadata if it shows any, the site."""
    text = [credit_portal_day(date, revision) for date, revision in days] or [credit_portal()]
    return [*text, *([credit_sources()] if sources else []), credit_site()]


def _link(link: Link | None, ext: str) -> Obj | None:
    return None if link is None else {"text": link.text, "href": link.href(ext)}


def _header(kind: str, stem: str, ext: str, credits: list[Obj]) -> Obj:
    """The members every page begins with: its own addresses, and its text's source and
    licence (its first credit covering text: null if it has none) and its credits."""
    text = next((c for c in credits if c["covers"] == "text"), None)
    return {
        "kind": kind,
        "path": urls.link(f"{stem}.{ext}"),
        "formats": {f: urls.link(f"{stem}.{f}") for f in urls.FORMATS},
        "license": text["license"] if text else None,
        "source": text["url"] if text else None,
        "credits": credits,
    }


def _shows_metadata(events: Iterable[EventSummary]) -> bool:
    return any(e.lede for e in events)


def _summary(event: EventSummary, ext: str) -> Obj:
    return {
        "id": event.id,
        "date": event.date.isoformat(),
        "headline": event.link.text,
        "href": event.link.href(ext),
        "category": event.category,
        "story": list(event.story),
        "lede": event.lede,
        "context": list(event.context),
    }


def event_page(page: EventPage, ext: str) -> Obj:
    return {
        **_header("event", page.stem, ext, portal_credits([(page.date, page.revision)], sources=True)),
        "id": page.id,
        "date": page.date.isoformat(),
        "day": _link(page.day, ext),
        "category": page.category,
        "story": list(page.story),
        "headline": page.headline,
        "lede": page.lede,
        "sources": [
            {
                "outlet": s.outlet,
                "url": s.url,
                "title": s.title,
                "archived_url": s.archived_url,
                "publisher": s.publisher,
                "published": s.published,
            }
            for s in page.sources
        ],
        "image": page.cover_image,
        "image_credit": None
        if page.cover_credit is None
        else {"name": page.cover_credit.publisher or page.cover_credit.outlet, "url": page.cover_credit.url},
        "previous_day": _link(page.previous_day, ext),
        "next_day": _link(page.next_day, ext),
        "earlier_in_story": [_entry(e, ext) for e in page.earlier_in_story],
        "later_in_story": [_entry(e, ext) for e in page.later_in_story],
        "entities": list(page.entities),
        "related": [
            {
                "headline": r.link.text,
                "href": r.link.href(ext),
                "date": r.date.isoformat(),
                "context": list(r.context),
            }
            for r in page.related
        ],
        "entity_links": [{"text": link.text, "href": link.href(ext)} for link in page.entity_links],
        "story_links": [{"text": link.text, "href": link.href(ext)} for link in page.story_links],
        "parent": page.parent,
        "parent_link": _link(page.parent_link, ext),
        "follow_ups": [{"text": link.text, "href": link.href(ext)} for link in page.follow_ups],
        "wikidata": [
            {"name": name, "qid": qid, "url": urls.wikidata_url(qid)} for name, qid in page.wikidata
        ],
        # Its history on the portal (issue 21): null and empty for a day read from a file.
        "first_seen": page.versions[0].saved_at if page.versions else None,
        "last_changed": page.last_changed,
        "versions": [
            {
                "revision": v.revision,
                "saved_at": v.saved_at,
                "text": v.text,
                "url": urls.portal_day_url(page.date, v.revision),
            }
            for v in page.earlier_wordings
        ],
    }


def _day_body(page: DayPage, ext: str) -> Obj:
    return {
        "date": page.date.isoformat(),
        "events": [_summary(e, ext) for e in page.events],
        "previous": _link(page.previous, ext),
        "next": _link(page.next, ext),
    }


def day_page(page: DayPage, ext: str) -> Obj:
    credits = portal_credits([(page.date, page.revision)], sources=_shows_metadata(page.events))
    week = urls.week_of(page.date)
    return {
        **_header("day", page.stem, ext, credits),
        **_day_body(page, ext),
        # The week's digest (issue 21).
        "week": {"text": urls.week_label(*week), "href": urls.link(urls.week_path(*week, ext))},
    }


def _opinion_summary(piece: OpinionPiece, ext: str) -> Obj:
    return {
        "title": piece.title,
        "date": piece.date.isoformat(),
        "author": piece.author,
        "summary": piece.summary,
        "href": urls.link(f"{piece.stem}.{ext}"),
    }


def front_page(page: FrontPage, ext: str) -> Obj:
    def day(d: DayPage | None) -> Obj | None:
        return None if d is None else {"href": urls.link(f"{d.stem}.{ext}"), **_day_body(d, ext)}

    days = [d for d in (page.today, page.yesterday, page.day_before) if d is not None]
    credits = portal_credits(
        [(d.date, d.revision) for d in days], sources=_shows_metadata(e for d in days for e in d.events)
    )
    credits[-1:-1] = map(credit_opinion, page.opinion)  # their summaries, before the site's credit
    return {
        **_header("front", page.stem, ext, credits),
        "today": day(page.today),
        "opinion": [_opinion_summary(p, ext) for p in page.opinion],
        "yesterday": day(page.yesterday),
        "day_before_yesterday": day(page.day_before),
        "previous": _link(page.previous, ext),
    }


def archive_page(page: ArchivePage, ext: str) -> Obj:
    return {
        **_header("archive", page.stem, ext, portal_credits([], sources=False)),
        "title": page.title,
        "entries": [{"text": link.text, "href": link.href(ext), "events": n} for link, n in page.entries],
        "up": _link(page.up, ext),
        "period": page.period,
        "days": [
            {"date": d.isoformat(), "href": urls.link(urls.day_path(d, ext)), "events": n}
            for d, n in page.days
        ],
    }


def opinion_page(piece: OpinionPiece, ext: str) -> Obj:
    return {
        **_header("opinion", piece.stem, ext, [credit_opinion(piece), credit_site()]),
        "title": piece.title,
        "date": piece.date.isoformat(),
        "author": piece.author,
        "summary": piece.summary,
        "body_markdown": piece.body_markdown,
    }


def opinion_index(page: OpinionIndex, ext: str) -> Obj:
    return {
        **_header("opinion-index", page.stem, ext, [*map(credit_opinion, page.pieces), credit_site()]),
        "pieces": [_opinion_summary(p, ext) for p in page.pieces],
    }


def redirect_page(page: RedirectPage, ext: str) -> Obj:
    return {
        **_header("redirect", page.stem, ext, portal_credits([(page.date, None)], sources=False)),
        "location": page.target.href(ext),
        "headline": page.target.text,
    }


# -- explore: entity and story pages (issue 7) ---------------------------------


def _entry(entry: ThreadEntry, ext: str) -> Obj:
    return {
        "id": entry.id,
        "date": entry.date.isoformat(),
        "headline": entry.link.text,
        "href": entry.link.href(ext),
    }


def _thread(page: ThreadPage, ext: str) -> Obj:
    return {
        **_header(page.kind, page.stem, ext, portal_credits([], sources=False)),
        "name": page.name,
        "part": page.part,
        "total": page.total,
        "main": _link(page.main, ext),
        # The thread's Atom feed (its latest events), one for the main page and its parts.
        "feed": {"href": urls.link(urls.feed_path(page.main.stem)), "type": "application/atom+xml"},
        "newer": _link(page.newer, ext),
        "older": _link(page.older, ext),
        "chart": [{"month": f"{bar.month:%Y-%m}", "events": bar.events} for bar in page.chart],
        "co_entities": [
            {"name": link.text, "href": link.href(ext), "events": n} for link, n in page.co_entities
        ],
    }


def entity_page(page: ThreadPage, ext: str) -> Obj:
    """An entity's events, newest first, with its Wikipedia article."""
    return {
        **_thread(page, ext),
        "wikipedia": urls.wikipedia_url(page.name),
        "qid": page.qid,
        "wikidata": urls.wikidata_url(page.qid) if page.qid else None,
        "description": page.description,
        "zh_title": page.zh_title,
        "events": [_entry(e, ext) for e in page.events],
    }


def entity_redirect_page(page: EntityRedirectPage, ext: str) -> Obj:
    """An entity title that redirects: where the article's page is."""
    return {
        **_header("entity-redirect", page.stem, ext, portal_credits([], sources=False)),
        "name": page.name,
        "location": page.target.href(ext),
        "target": page.target.text,
    }


def category_page(page: ThreadPage, ext: str) -> Obj:
    """A category's events, newest first."""
    return {**_thread(page, ext), "events": [_entry(e, ext) for e in page.events]}


def story_page(page: ThreadPage, ext: str) -> Obj:
    """A story's events, oldest first, grouped by month."""
    months: list[Obj] = []
    for entry in page.events:
        month = f"{entry.date:%Y-%m}"
        if not months or months[-1]["month"] != month:
            months.append({"month": month, "label": f"{entry.date:%B %Y}", "events": []})
        months[-1]["events"].append(_entry(entry, ext))
    return {**_thread(page, ext), "months": months}
