"""The weekly digest's page (issue 21) in Markdown and as data (html, json, xml): pure
functions of a ``WeekPage``, registered by page kind in ``render``."""

from __future__ import annotations

from daybook import urls
from daybook.render.data import Obj, _entry, _header, _link, portal_credits
from daybook.render.markdown import Translate, _same, escape, formats_line
from daybook.render.pages import WeekPage


def week_data(page: WeekPage, ext: str) -> Obj:
    """The week's stories, most events first, each with its main events."""
    return {
        **_header("week", page.stem, ext, portal_credits([], sources=False)),
        "week": page.label,
        "start": page.start.isoformat(),
        "end": page.end.isoformat(),
        "events": sum(s.events for s in page.stories),
        "days": [{"text": link.text, "href": link.href(ext)} for link in page.days],
        "stories": [
            {
                "name": story.name,
                "href": story.link.href(ext) if story.link else None,
                "events": story.events,
                "sources": story.sources,
                "main_events": [_entry(e, ext) for e in story.main],
            }
            for story in page.stories
        ],
        "previous": _link(page.previous, ext),
        "next": _link(page.next, ext),
        "feed": {
            "href": urls.link(urls.WEEKLY_FEED),
            "type": "application/atom+xml",
            "title": "daybook, week by week (Atom)",
        },
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def week_markdown(page: WeekPage, t: Translate = _same) -> str:
    """The week's stories as Markdown: a heading per story, its main events below."""
    events = sum(s.events for s in page.stories)
    out = [
        formats_line(page.stem, t),
        "",
        f"# The week {page.label}: {page.start:%-d %B} to {page.end:%-d %B %Y}",
        "",
        f"_{events} event{'s' if events != 1 else ''} in {len(page.stories)} stor"
        f"{'ies' if len(page.stories) != 1 else 'y'} · [Follow (Atom)]({urls.link(urls.WEEKLY_FEED)})_",
        "",
    ]
    if page.days:
        out += ["Days: " + " · ".join(f"[{escape(d.text)}]({d.href('md')})" for d in page.days), ""]
    for story in page.stories:
        name = f"[{escape(story.name)}]({story.link.href('md')})" if story.link else escape(story.name)
        counts = f"{_count(story.events, 'event')}, {_count(story.sources, 'source')}"
        out += [f"## {name}", "", f"_{counts}_", ""]
        out += [
            f"- {urls.date_label(e.date)}: [{escape(e.link.text)}]({e.link.href('md')})" for e in story.main
        ]
        out.append("")
    nav = []
    if page.previous:
        nav.append(f"[Previous week: {page.previous.text}]({page.previous.href('md')})")
    if page.next:
        nav.append(f"[Next week: {page.next.text}]({page.next.href('md')})")
    if nav:
        out += [" · ".join(nav), ""]
    return "\n".join(out)
