"""The weekly digest (issue 21): a page per ISO week, a weekly feed, and the week as an
e-mail.

A week's page (``week/2024-W19.*``, every format) lists the week's stories, each an
event's innermost story line (else its category), ranked by their events that week,
then by the sources those cite, then by name; each with its ``MAIN_EVENTS`` main events
(the most cited, shown in date order). The weekly feed (``week/index.atom``) holds the
latest ``FEED_WEEKS`` weeks. ``email_html`` writes a week as one self-contained HTML
document for a mailing list: inline styles only, no script, no stylesheet, absolute
links, under ``EMAIL_LIMIT`` bytes.

A full build makes every week (``build_weeks``); an update only the weeks of the
changed days and the weeks beside them, whose links to the next and previous may move
(``update_weeks``). Every date comes from the data.
"""

from __future__ import annotations

import bisect
import datetime as dt
import html
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from daybook import urls
from daybook.errors import UsageError
from daybook.model import Event
from daybook.publish import follow
from daybook.publish.context import SiteIndex
from daybook.publish.names import NameRegistry, Names
from daybook.publish.options import BuildOptions
from daybook.publish.state import SiteState
from daybook.publish.writer import Writer
from daybook.render.pages import Link, ThreadEntry, WeekPage, WeekStory
from daybook.store import Store

MAIN_EVENTS = 3  # the main events shown under each story
FEED_WEEKS = 20  # the weeks the weekly feed holds
EMAIL_STORIES = 25  # the stories an e-mail shows, at most
EMAIL_LIMIT = 100_000  # bytes: mail clients clip longer messages


class Output(Protocol):
    """Where the digest's pages go: the build (``build.Build``)."""

    store: Store
    index: SiteIndex
    state: SiteState
    names: NameRegistry
    options: BuildOptions
    writer: Writer
    translate: Callable[[str], str]  # the edition's words

    def emit(
        self, kind: str, page: object, title: str, description: str | None = None, event_id: str | None = None
    ) -> None: ...

    def remove_page(self, stem: str) -> None: ...

    # What every day's pages are made from, digested (a full build: ``inputs.all_days_inputs``).
    days_digest: str | None

    def keep_unchanged(
        self, group: str, made_from: str, pages: Sequence[tuple[str, str | None]], feeds: Sequence[str] = ()
    ) -> bool: ...


def weeks_of(days: Iterable[dt.date]) -> list[tuple[int, int]]:
    """The ISO weeks (year, week) these days fall in, oldest first."""
    return sorted({urls.week_of(d) for d in days})


def parse_week(text: str) -> tuple[int, int]:
    """``2024-W19`` as (2024, 19); ValueError if it names no ISO week."""
    year, sep, week = text.strip().upper().partition("-W")
    if not (sep and year.isdigit() and len(year) == 4 and week.isdigit() and len(week) == 2):
        raise ValueError(f"{text!r}: not an ISO week (YYYY-Www, e.g. 2024-W19)")
    try:
        dt.date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise ValueError(f"{text!r}: {year} has no week {int(week)}") from None
    return int(year), int(week)


def _group(event: Event) -> tuple[str, str]:
    """The story an event counts for in a digest: (kind of page, name)."""
    return ("story", event.story[-1]) if event.story else ("category", event.category)


def week_stories(events: Sequence[Event], index: SiteIndex, names: Names) -> tuple[WeekStory, ...]:
    """The week's stories, ranked: most events, then most sources, then by name."""
    groups: dict[tuple[str, str], list[Event]] = {}
    for event in events:
        groups.setdefault(_group(event), []).append(event)
    stories = []
    for (kind, name), held in groups.items():
        order = {e.id: at for at, e in enumerate(held)}
        main = sorted(held, key=lambda e: (-len(e.sources), order[e.id]))[:MAIN_EVENTS]
        entries = tuple(
            ThreadEntry(ref.link, e.id, e.date)
            for e in sorted(main, key=lambda e: order[e.id])
            if (ref := index.ref(e.id)) is not None
        )
        stem = names.stem(kind, name)
        sources = sum(len(e.sources) for e in held)
        stories.append(WeekStory(name, Link(name, stem) if stem else None, len(held), sources, entries))
    stories.sort(key=lambda s: (-s.events, -s.sources, s.name))
    return tuple(stories)


def week_page(
    store: Store, index: SiteIndex, names: Names, year: int, week: int, weeks: Sequence[tuple[int, int]]
) -> WeekPage:
    """One week's digest page; ``weeks``: every week with a stored day, for its neighbours."""
    start = dt.date.fromisocalendar(year, week, 1)
    events = store.events(start=start, end=start + dt.timedelta(days=6))
    index.preload(e.id for e in events)
    at = weeks.index((year, week)) if (year, week) in weeks else -1
    before = weeks[at - 1] if at > 0 else None
    after = weeks[at + 1] if 0 <= at < len(weeks) - 1 else None
    days = index.days[
        bisect.bisect_left(index.days, start) : bisect.bisect_right(index.days, start + dt.timedelta(days=6))
    ]
    return WeekPage(
        stem=urls.week_stem(year, week),
        year=year,
        week=week,
        start=start,
        stories=week_stories(events, index, names),
        days=tuple(Link(f"{d:%A} {d.day}", urls.day_stem(d)) for d in days),
        previous=Link(urls.week_label(*before), urls.week_stem(*before)) if before else None,
        next=Link(urls.week_label(*after), urls.week_stem(*after)) if after else None,
    )


def _emit(build: Output, page: WeekPage) -> None:
    events = sum(s.events for s in page.stories)
    title = build.translate("The week {label}").format(label=page.label)
    about = build.translate("{events} events in {stories} stories")
    build.emit("week", page, title=title, description=about.format(events=events, stories=len(page.stories)))


def build_weeks(build: Output) -> None:
    """Every week's page and the weekly feed (a full build)."""
    weeks = weeks_of(build.index.days)
    pages = []
    # A week's page shows its days' events, their links and names' addresses, all of which
    # the days' digest covers: with it as at the last full build, a week's page is kept
    # (but those the feed shows are made, for the feed).
    made_from = build.days_digest
    for at, (year, week) in enumerate(weeks):
        group = f"week:{year}-{week}"
        stem = urls.week_stem(year, week)
        if made_from is not None:
            if at < len(weeks) - FEED_WEEKS and build.keep_unchanged(group, made_from, [(stem, None)]):
                continue
            build.state.record_group(group, made_from)
        page = week_page(build.store, build.index, build.names, year, week, weeks)
        _emit(build, page)
        pages.append(page)
    _write_feed(build, pages[-FEED_WEEKS:])


def update_weeks(build: Output, changed: Iterable[dt.date]) -> None:
    """The weeks of the changed days and those beside them, and the weekly feed."""
    weeks = weeks_of(build.index.days)
    touched = set(weeks_of(changed))
    for key in sorted(touched):
        if key not in weeks:  # every day of it gone
            build.remove_page(urls.week_stem(*key))
        at = next((n for n, w in enumerate(weeks) if w >= key), len(weeks))
        touched.update(weeks[max(0, at - 1) : at + 2])  # its neighbours' links may move
    for year, week in sorted(touched & set(weeks)):
        _emit(build, week_page(build.store, build.index, build.names, year, week, weeks))
    recent = [week_page(build.store, build.index, build.names, y, w, weeks) for y, w in weeks[-FEED_WEEKS:]]
    _write_feed(build, recent)


def _last_day(page: WeekPage) -> dt.date:
    dates = [e.date for s in page.stories for e in s.main]
    return max(dates, default=page.start)


def _write_feed(build: Output, pages: Sequence[WeekPage]) -> None:
    build.writer.write(urls.WEEKLY_FEED, weekly_feed(pages, build.options.base_url))


def weekly_feed(pages: Sequence[WeekPage], base_url: str) -> str:
    """The weekly feed (Atom): one entry per week, newest first, with its leading stories."""
    entries = []
    for page in pages:
        top = page.stories[:5]
        entries.append(
            follow.FollowEntry(
                id=page.label,
                headline=f"The week {page.label}: "
                + ("; ".join(f"{s.name} ({s.events})" for s in top) if top else "no events"),
                stem=page.stem,
                date=_last_day(page),
                sources=tuple(
                    (s.name, urls.absolute(f"{s.link.stem}.html", base_url)) for s in top if s.link
                ),
            )
        )
    stem = urls.stem(urls.WEEKLY_FEED)
    latest = f"{pages[-1].stem}.html" if pages else urls.front_path("html")
    return follow.thread_feed("week", "Weekly digest", stem, entries, base_url, page_path=latest)


# -- the week as an e-mail ------------------------------------------------------------

_FONT = "font-family:Georgia,'Times New Roman',serif;color:#1a1a1a"
_SMALL = "font-family:Arial,Helvetica,sans-serif;font-size:13px;color:#555"


def email_html(page: WeekPage, base_url: str) -> str:
    """The week as one HTML document for e-mail: inline styles, no script, no stylesheet,
    absolute links; at most ``EMAIL_STORIES`` stories, and never over ``EMAIL_LIMIT`` bytes."""
    esc = html.escape

    def href(stem: str) -> str:
        return esc(urls.absolute(f"{stem}.html", base_url))

    events = sum(s.events for s in page.stories)
    feed = esc(urls.absolute(urls.WEEKLY_FEED, base_url))
    link = "color:#1a5fb4;text-decoration:none"
    head = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>The week {esc(page.label)} · daybook</title></head>",
        f'<body style="margin:0;padding:0;background:#f4f4f0;{_FONT}">',
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f0">',
        '<tr><td align="center" style="padding:16px">',
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0"'
        ' style="max-width:600px;width:100%;background:#ffffff;border:1px solid #ddd">',
        f'<tr><td style="padding:20px 24px;border-bottom:3px solid #1a1a1a">'
        f'<p style="margin:0;{_SMALL}">daybook · weekly digest</p>'
        f'<h1 style="margin:6px 0 0;font-size:24px;{_FONT}"><a href="{href(page.stem)}"'
        f' style="color:#1a1a1a;text-decoration:none">The week {esc(page.label)}</a></h1>'
        f'<p style="margin:4px 0 0;{_SMALL}">{page.start:%-d %B} to {page.end:%-d %B %Y} · {events} events'
        f" in {len(page.stories)} stories</p></td></tr>",
    ]
    tail = [
        f'<tr><td style="padding:16px 24px;border-top:1px solid #ddd;{_SMALL}">'
        f'Every story of the week: <a href="{href(page.stem)}" style="color:#1a5fb4">{esc(page.label)}</a>'
        f' · <a href="{feed}" style="color:#1a5fb4">the weekly feed</a>.'
        " Text from the Wikipedia Current Events Portal, under"
        ' <a href="https://creativecommons.org/licenses/by-sa/4.0/" style="color:#1a5fb4">CC BY-SA 4.0</a>.'
        "</td></tr>",
        "</table></td></tr></table></body></html>",
        "",
    ]
    size = sum(len(part.encode("utf-8")) + 1 for part in (*head, *tail))
    body: list[str] = []
    for story in page.stories[:EMAIL_STORIES]:
        name = esc(story.name)
        if story.link:
            name = f'<a href="{href(story.link.stem)}" style="color:#1a1a1a">{name}</a>'
        items = "".join(
            f'<li style="margin:0 0 6px"><span style="{_SMALL}">{e.date:%a %-d %b}</span> '
            f'<a href="{href(e.link.stem)}" style="{link}">{esc(e.link.text)}</a></li>'
            for e in story.main
        )
        block = (
            f'<tr><td style="padding:14px 24px 4px"><h2 style="margin:0;font-size:18px;{_FONT}">{name}</h2>'
            f'<p style="margin:2px 0 6px;{_SMALL}">{story.events} event{"" if story.events == 1 else "s"},'
            f" {story.sources} source{'' if story.sources == 1 else 's'}</p>"
            f'<ul style="margin:0;padding:0 0 0 18px;font-size:15px;line-height:1.4">{items}</ul></td></tr>'
        )
        grown = size + len(block.encode("utf-8")) + 1
        if grown > EMAIL_LIMIT:
            break
        body.append(block)
        size = grown
    return "\n".join([*head, *body, *tail])


def digest_page(store: Store, year: int, week: int) -> WeekPage:
    """One week's digest straight from the store (``daybook digest``), no site needed."""
    from daybook.publish.names import NameIndex

    index = SiteIndex(store)
    index.load_all()
    weeks = weeks_of(index.days)
    if (year, week) not in weeks:
        raise UsageError(f"{urls.week_label(year, week)}: the store holds no day of it", setting="week")
    names = NameIndex(store.entity_titles(), store.story_names(), store.category_names())
    return week_page(store, index, names, year, week, weeks)
