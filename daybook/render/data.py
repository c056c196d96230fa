"""The data of each page as plain JSON-able objects: what the JSON and XML formats carry.

One function per page kind; ``render.json`` serialises these, ``render.xml`` maps
them to daybook's XML vocabulary. Every page names its license and the portal page
its content came from (CC BY-SA attribution).
"""

from __future__ import annotations

from typing import Any

from daybook import urls
from daybook.pages import (
    ArchivePage,
    DayPage,
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

Obj = dict[str, Any]


def _link(link: Link | None, ext: str) -> Obj | None:
    return None if link is None else {"text": link.text, "href": link.href(ext)}


def _header(kind: str, stem: str, ext: str, source: str) -> Obj:
    return {
        "kind": kind,
        "path": urls.link(f"{stem}.{ext}"),
        "formats": {f: urls.link(f"{stem}.{f}") for f in urls.FORMATS},
        "license": {"name": LICENSE, "url": LICENSE_URL},
        "source": source,
    }


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
        **_header("event", page.stem, ext, page.portal_url),
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
    }


def _day_body(page: DayPage, ext: str) -> Obj:
    return {
        "date": page.date.isoformat(),
        "events": [_summary(e, ext) for e in page.events],
        "previous": _link(page.previous, ext),
        "next": _link(page.next, ext),
    }


def day_page(page: DayPage, ext: str) -> Obj:
    return {**_header("day", page.stem, ext, page.portal_url), **_day_body(page, ext)}


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

    return {
        **_header("front", page.stem, ext, PORTAL_URL),
        "today": day(page.today),
        "opinion": [_opinion_summary(p, ext) for p in page.opinion],
        "yesterday": day(page.yesterday),
        "day_before_yesterday": day(page.day_before),
        "previous": _link(page.previous, ext),
    }


def archive_page(page: ArchivePage, ext: str) -> Obj:
    return {
        **_header("archive", page.stem, ext, PORTAL_URL),
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
        **_header("opinion", piece.stem, ext, urls.link(f"{piece.stem}.md")),
        "title": piece.title,
        "date": piece.date.isoformat(),
        "author": piece.author,
        "summary": piece.summary,
        "body_markdown": piece.body_markdown,
    }


def opinion_index(page: OpinionIndex, ext: str) -> Obj:
    return {
        **_header("opinion-index", page.stem, ext, urls.link(f"{page.stem}.md")),
        "pieces": [_opinion_summary(p, ext) for p in page.pieces],
    }


def redirect_page(page: RedirectPage, ext: str) -> Obj:
    return {
        **_header("redirect", page.stem, ext, urls.portal_day_url(page.date)),
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
        **_header(page.kind, page.stem, ext, PORTAL_URL),
        "name": page.name,
        "part": page.part,
        "total": page.total,
        "main": _link(page.main, ext),
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
        "events": [_entry(e, ext) for e in page.events],
    }


def story_page(page: ThreadPage, ext: str) -> Obj:
    """A story's events, oldest first, grouped by month."""
    months: list[Obj] = []
    for entry in page.events:
        month = f"{entry.date:%Y-%m}"
        if not months or months[-1]["month"] != month:
            months.append({"month": month, "label": f"{entry.date:%B %Y}", "events": []})
        months[-1]["events"].append(_entry(entry, ext))
    return {**_thread(page, ext), "months": months}
