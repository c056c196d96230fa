"""Markdown: the reference format of the original site, without its defects."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from daybook import urls
from daybook.render.pages import (
    ArchivePage,
    DayPage,
    EntityRedirectPage,
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


# An edition's words (``i18n.translator``): the English edition's are the words themselves.
Translate = Callable[[str], str]


def _same(text: str) -> str:
    return text


def escape(text: str) -> str:
    """Text safe inside Markdown (link text above all): brackets and angle brackets
    are backslash-escaped, so event text can neither close a link nor open HTML."""
    return _LINK_TEXT_SPECIALS.sub(r"\\\1", text)


def _url(url: str) -> str:
    # A URL inside ``(...)``: spaces and parentheses would end it early.
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _context(entities: Iterable[str], t: Translate = _same) -> str:
    return f"_{t('Context:')} {escape(', '.join(entities))}_"


def formats_line(stem: str, t: Translate = _same) -> str:
    """The line that links a page's other formats."""
    names = {"html": "HTML", "json": "JSON", "xml": "XML"}
    return t("Formats:") + " " + "".join(f"[{names[ext]}]({urls.link(f'{stem}.{ext}')})  " for ext in names)


def event_page(page: EventPage, t: Translate = _same) -> str:
    """An event page: date link, headline, lede, sources and cover image, related events."""
    out = [f"### [{urls.date_label(page.date)}]({page.day.href('md')})", "", f"# {escape(page.headline)}", ""]
    if page.lede:
        out += [escape(page.lede), ""]
    if page.sources or page.cover_image:
        out += ["", f"### {t('Source:')}", ""]
        out += [f"{n}. [{escape(s.outlet)}]({_url(s.url)})" for n, s in enumerate(page.sources, start=1)]
        if page.cover_image:
            out.append(f"1. [{t('Cover Image')}]({_url(page.cover_image)})")
    if page.related:
        out += ["", f"### {t('Related:')}", ""]
        out += [
            f"{n}. [{escape(r.link.text)}]({r.link.href('md')}) {_context(r.context, t)}"
            for n, r in enumerate(page.related, start=1)
        ]
    return "\n".join(out) + "\n"


def _listing(events: Iterable[EventSummary], t: Translate = _same) -> list[str]:
    out: list[str] = []
    group: str | None = None
    for event in events:
        if event.group != group:
            if out:
                out.append("")
            group = event.group
            out.append(f"##### {escape(group)}")
        out.append(f"### [{escape(event.link.text)}]({event.link.href('md')})")
        out.append(escape(event.lede) if event.lede else _context(event.context, t))
    return out


def day_page(page: DayPage, t: Translate = _same) -> str:
    """A day page: formats line, date, the events under their stories, previous/next day."""
    out = [
        formats_line(page.stem, t),
        "",
        f"## [{urls.date_label(page.date)}]({urls.link(page.stem + '.md')})",
        "",
    ]
    out += _listing(page.events, t)
    out.append("")
    if page.previous:
        out += [f"## [{t('Previous Day...')}]({page.previous.href('md')})", ""]
    if page.next:
        out += [f"## [{t('Next Day...')}]({page.next.href('md')})", ""]
    return "\n".join(out) + "\n"


def front_page(page: FrontPage, t: Translate = _same) -> str:
    """The front page: the newest day, opinion, yesterday, the day before, then older days."""
    out = [formats_line(page.stem, t), ""]
    if page.today:
        out += [f"## [{urls.date_label(page.today.date)}]({urls.link(page.today.stem + '.md')})", ""]
        out += [*_listing(page.today.events, t), ""]
    if page.opinion:
        out += ["---", "", f"## [{t('Opinion')}](/opinion/index.md)", ""]
        for piece in page.opinion:
            out += [
                f"### [{escape(piece.title)}]({urls.link(piece.stem + '.md')})",
                escape(piece.summary),
                "",
            ]
    for title, day in (("Yesterday", page.yesterday), ("Day Before Yesterday", page.day_before)):
        if day:
            out += ["---", "", f"## [{t(title)}]({urls.link(day.stem + '.md')})", ""]
            out += [*_listing(day.events, t), ""]
    if page.previous:
        out += ["---", "", f"## [{t('Previous Day...')}]({page.previous.href('md')})", ""]
    out += ["---", "", f"## [{t('Archive')}](/news/index.md)", ""]
    return "\n".join(out) + "\n"


def archive_page(page: ArchivePage, t: Translate = _same) -> str:
    """A month or year page: one line per day (or month) with its number of events."""
    out = [formats_line(page.stem, t), "", f"## {escape(page.title)}", ""]
    out += [
        f"- [{escape(link.text)}]({link.href('md')}) ({count} {t('events')})" for link, count in page.entries
    ]
    if page.up:
        out += ["", f"[{t('Up:')} {escape(page.up.text)}]({page.up.href('md')})"]
    return "\n".join(out) + "\n"


def opinion_page(piece: OpinionPiece, t: Translate = _same) -> str:
    """An opinion piece: its own Markdown body under a title, date and author line."""
    return "\n".join(
        [
            formats_line(piece.stem, t),
            "",
            f"# {escape(piece.title)}",
            "",
            f"_{urls.date_label(piece.date)}, {t('by')} {escape(piece.author)}_",
            "",
            piece.body_markdown.strip(),
            "",
        ]
    )


def opinion_index(page: OpinionIndex, t: Translate = _same) -> str:
    """The opinion section's index, newest first."""
    out = [formats_line(page.stem, t), "", f"## {t('Opinion')}", ""]
    out += [
        f"- [{escape(p.title)}]({urls.link(p.stem + '.md')}), {escape(p.author)}, {urls.date_label(p.date)}"
        for p in page.pieces
    ]
    return "\n".join(out) + "\n"


def redirect_page(page: RedirectPage, t: Translate = _same) -> str:
    """An old event address: one line pointing to the page's new address."""
    return f"{t('Moved to')} [{escape(page.target.text)}]({page.target.href('md')})\n"


def entity_redirect_page(page: EntityRedirectPage, t: Translate = _same) -> str:
    """An entity title that redirects: one line pointing to the article's page."""
    return f"{escape(page.name)}{t(': see')} [{escape(page.target.text)}]({page.target.href('md')})\n"


# -- explore: entity and story pages (issue 7) ---------------------------------


def _entry(entry: ThreadEntry) -> str:
    return f"- {urls.date_label(entry.date)}: [{escape(entry.link.text)}]({entry.link.href('md')})"


def _thread_head(page: ThreadPage, t: Translate = _same) -> list[str]:
    out = [formats_line(page.stem, t), ""]
    if page.part is None:
        out += [f"# {escape(page.name)}", ""]
        span = ""
        if page.chart:
            first, last = page.chart[0].month, page.chart[-1].month
            span = f", {first:%B %Y}" + (f" to {last:%B %Y}" if last != first else "")
        wiki = (
            f" · [{t('Wikipedia')}]({_url(urls.wikipedia_url(page.name))})" if page.kind == "entity" else ""
        )
        follow = f" · [{t('Follow (Atom)')}]({urls.link(urls.feed_path(page.stem))})"
        out += [f"_{page.total} event{'s' if page.total != 1 else ''}{span}{wiki}{follow}_", ""]
        if page.chart:
            months = " · ".join(f"{bar.month:%B %Y}: {bar.events}" for bar in page.chart)
            out += [f"{t('Events per month:')} {months}", ""]
    else:
        head = f"# {escape(page.name)}{t(', part')} {page.part}"
        out += [head, "", f"[{t('All of it')}]({page.main.href('md')})", ""]
    return out


def _thread_foot(page: ThreadPage, t: Translate = _same) -> list[str]:
    out: list[str] = []
    if page.co_entities:
        out += ["", f"### {t('Often with')}", ""]
        out += [f"- [{escape(link.text)}]({link.href('md')}) ({n})" for link, n in page.co_entities]
    if page.older or page.newer:
        out.append("")
    if page.older:
        out.append(f"## [{t('Older events...')}]({page.older.href('md')})")
    if page.newer:
        out.append(f"## [{t('Newer events...')}]({page.newer.href('md')})")
    return out


def entity_page(page: ThreadPage, t: Translate = _same) -> str:
    """An entity: its events newest first, the entities most often beside it, its months."""
    out = [*_thread_head(page, t), f"### {t('Events')}", ""]
    out += [_entry(e) for e in page.events]
    return "\n".join([*out, *_thread_foot(page, t)]) + "\n"


def category_page(page: ThreadPage, t: Translate = _same) -> str:
    """A category: its events newest first, its months."""
    return entity_page(page, t)


def story_page(page: ThreadPage, t: Translate = _same) -> str:
    """A story: its events oldest first, under the month they happened in."""
    out = _thread_head(page, t)
    month = None
    for entry in page.events:
        if (entry.date.year, entry.date.month) != month:
            month = (entry.date.year, entry.date.month)
            if out[-1]:
                out.append("")
            out += [f"### {entry.date:%B %Y}", ""]
        out.append(_entry(entry))
    return "\n".join([*out, *_thread_foot(page, t)]) + "\n"
