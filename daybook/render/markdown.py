"""Markdown: the reference format of the original site, without its defects."""

from __future__ import annotations

import re
from collections.abc import Iterable

from daybook import urls
from daybook.render.pages import (
    ArchivePage,
    DayPage,
    EventPage,
    EventSummary,
    FrontPage,
    OpinionIndex,
    OpinionPiece,
    RedirectPage,
    ThreadEntry,
    ThreadPage,
)

_LINK_TEXT_SPECIALS = re.compile(r"([\\\[\]<>])")


def escape(text: str) -> str:
    """Text safe inside Markdown (link text above all): brackets and angle brackets
    are backslash-escaped, so event text can neither close a link nor open HTML."""
    return _LINK_TEXT_SPECIALS.sub(r"\\\1", text)


def _url(url: str) -> str:
    # A URL inside ``(...)``: spaces and parentheses would end it early.
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _context(entities: Iterable[str]) -> str:
    return f"_Context: {escape(', '.join(entities))}_"


def formats_line(stem: str) -> str:
    """The line that links a page's other formats."""
    names = {"html": "HTML", "json": "JSON", "xml": "XML"}
    return "Formats: " + "".join(f"[{names[ext]}]({urls.link(f'{stem}.{ext}')})  " for ext in names)


def event_page(page: EventPage) -> str:
    """An event page: date link, headline, lede, sources and cover image, related events."""
    out = [f"### [{urls.date_label(page.date)}]({page.day.href('md')})", "", f"# {escape(page.headline)}", ""]
    if page.lede:
        out += [escape(page.lede), ""]
    if page.sources or page.cover_image:
        out += ["", "### Source:", ""]
        out += [f"{n}. [{escape(s.outlet)}]({_url(s.url)})" for n, s in enumerate(page.sources, start=1)]
        if page.cover_image:
            out.append(f"1. [Cover Image]({_url(page.cover_image)})")
    if page.related:
        out += ["", "### Related:", ""]
        out += [
            f"{n}. [{escape(r.link.text)}]({r.link.href('md')}) {_context(r.context)}"
            for n, r in enumerate(page.related, start=1)
        ]
    return "\n".join(out) + "\n"


def _listing(events: Iterable[EventSummary]) -> list[str]:
    out: list[str] = []
    group: str | None = None
    for event in events:
        if event.group != group:
            if out:
                out.append("")
            group = event.group
            out.append(f"##### {escape(group)}")
        out.append(f"### [{escape(event.link.text)}]({event.link.href('md')})")
        out.append(escape(event.lede) if event.lede else _context(event.context))
    return out


def day_page(page: DayPage) -> str:
    """A day page: formats line, date, the events under their stories, previous/next day."""
    out = [
        formats_line(page.stem),
        "",
        f"## [{urls.date_label(page.date)}]({urls.link(page.stem + '.md')})",
        "",
    ]
    out += _listing(page.events)
    out.append("")
    if page.previous:
        out += [f"## [Previous Day...]({page.previous.href('md')})", ""]
    if page.next:
        out += [f"## [Next Day...]({page.next.href('md')})", ""]
    return "\n".join(out) + "\n"


def front_page(page: FrontPage) -> str:
    """The front page: the newest day, opinion, yesterday, the day before, then older days."""
    out = [formats_line(page.stem), ""]
    if page.today:
        out += [f"## [{urls.date_label(page.today.date)}]({urls.link(page.today.stem + '.md')})", ""]
        out += [*_listing(page.today.events), ""]
    if page.opinion:
        out += ["---", "", "## [Opinion](/opinion/index.md)", ""]
        for piece in page.opinion:
            out += [
                f"### [{escape(piece.title)}]({urls.link(piece.stem + '.md')})",
                escape(piece.summary),
                "",
            ]
    for title, day in (("Yesterday", page.yesterday), ("Day Before Yesterday", page.day_before)):
        if day:
            out += ["---", "", f"## [{title}]({urls.link(day.stem + '.md')})", ""]
            out += [*_listing(day.events), ""]
    if page.previous:
        out += ["---", "", f"## [Previous Day...]({page.previous.href('md')})", ""]
    out += ["---", "", "## [Archive](/news/index.md)", ""]
    return "\n".join(out) + "\n"


def archive_page(page: ArchivePage) -> str:
    """A month or year page: one line per day (or month) with its number of events."""
    out = [formats_line(page.stem), "", f"## {escape(page.title)}", ""]
    out += [f"- [{escape(link.text)}]({link.href('md')}) ({count} events)" for link, count in page.entries]
    if page.up:
        out += ["", f"[Up: {escape(page.up.text)}]({page.up.href('md')})"]
    return "\n".join(out) + "\n"


def opinion_page(piece: OpinionPiece) -> str:
    """An opinion piece: its own Markdown body under a title, date and author line."""
    return "\n".join(
        [
            formats_line(piece.stem),
            "",
            f"# {escape(piece.title)}",
            "",
            f"_{urls.date_label(piece.date)}, by {escape(piece.author)}_",
            "",
            piece.body_markdown.strip(),
            "",
        ]
    )


def opinion_index(page: OpinionIndex) -> str:
    """The opinion section's index, newest first."""
    out = [formats_line(page.stem), "", "## Opinion", ""]
    out += [
        f"- [{escape(p.title)}]({urls.link(p.stem + '.md')}), {escape(p.author)}, {urls.date_label(p.date)}"
        for p in page.pieces
    ]
    return "\n".join(out) + "\n"


def redirect_page(page: RedirectPage) -> str:
    """An old event address: one line pointing to the page's new address."""
    return f"Moved to [{escape(page.target.text)}]({page.target.href('md')})\n"


# -- explore: entity and story pages (issue 7) ---------------------------------


def _entry(entry: ThreadEntry) -> str:
    return f"- {urls.date_label(entry.date)}: [{escape(entry.link.text)}]({entry.link.href('md')})"


def _thread_head(page: ThreadPage) -> list[str]:
    out = [formats_line(page.stem), ""]
    if page.part is None:
        out += [f"# {escape(page.name)}", ""]
        span = ""
        if page.chart:
            first, last = page.chart[0].month, page.chart[-1].month
            span = f", {first:%B %Y}" + (f" to {last:%B %Y}" if last != first else "")
        wiki = f" · [Wikipedia]({_url(urls.wikipedia_url(page.name))})" if page.kind == "entity" else ""
        follow = f" · [Follow (Atom)]({urls.link(urls.feed_path(page.stem))})"
        out += [f"_{page.total} event{'s' if page.total != 1 else ''}{span}{wiki}{follow}_", ""]
        if page.chart:
            months = " · ".join(f"{bar.month:%B %Y}: {bar.events}" for bar in page.chart)
            out += [f"Events per month: {months}", ""]
    else:
        out += [f"# {escape(page.name)}, part {page.part}", "", f"[All of it]({page.main.href('md')})", ""]
    return out


def _thread_foot(page: ThreadPage) -> list[str]:
    out: list[str] = []
    if page.co_entities:
        out += ["", "### Often with", ""]
        out += [f"- [{escape(link.text)}]({link.href('md')}) ({n})" for link, n in page.co_entities]
    if page.older or page.newer:
        out.append("")
    if page.older:
        out.append(f"## [Older events...]({page.older.href('md')})")
    if page.newer:
        out.append(f"## [Newer events...]({page.newer.href('md')})")
    return out


def entity_page(page: ThreadPage) -> str:
    """An entity: its events newest first, the entities most often beside it, its months."""
    out = [*_thread_head(page), "### Events", ""]
    out += [_entry(e) for e in page.events]
    return "\n".join([*out, *_thread_foot(page)]) + "\n"


def category_page(page: ThreadPage) -> str:
    """A category: its events newest first, its months."""
    return entity_page(page)


def story_page(page: ThreadPage) -> str:
    """A story: its events oldest first, under the month they happened in."""
    out = _thread_head(page)
    month = None
    for entry in page.events:
        if (entry.date.year, entry.date.month) != month:
            month = (entry.date.year, entry.date.month)
            if out[-1]:
                out.append("")
            out += [f"### {entry.date:%B %Y}", ""]
        out.append(_entry(entry))
    return "\n".join([*out, *_thread_foot(page)]) + "\n"
