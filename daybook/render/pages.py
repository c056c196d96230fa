"""The build context: what pages the site has and what each shows.

``publish`` fills these from the store before anything is rendered; every renderer
(Markdown, HTML, JSON, XML) is a pure function of one page object, so the four
formats of a page always carry the same content.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from daybook import urls
from daybook.model import EventVersion


@dataclass(frozen=True)
class Link:
    """A link to another page of the site: its text and its path without extension."""

    text: str
    stem: str  # e.g. "news/2017/03/7/index"; add ".md", ".html"... per format

    def href(self, ext: str) -> str:
        return urls.link(f"{self.stem}.{ext}")


@dataclass(frozen=True)
class SourceLink:
    """A cited source as an event page lists it."""

    outlet: str
    url: str
    title: str | None = None
    archived_url: str | None = None
    publisher: str | None = None  # as enrich found it (og:site_name...), else None
    published: str | None = None  # ISO date, as enrich found it


@dataclass(frozen=True)
class RelatedLink:
    """A related event, with the shared entities that relate it (its Context)."""

    link: Link
    date: dt.date
    context: tuple[str, ...]


@dataclass(frozen=True)
class EventSummary:
    """An event as a listing (day, front, archive pages) shows it."""

    link: Link
    id: str
    date: dt.date
    story: tuple[str, ...]
    category: str
    lede: str | None
    context: tuple[str, ...]

    @property
    def group(self) -> str:
        """The heading an event is listed under: its innermost story, else its category."""
        return self.story[-1] if self.story else self.category


@dataclass(frozen=True)
class ThreadEntry:
    """An event as an entity or story page lists it: its date and headline."""

    link: Link
    id: str
    date: dt.date


@dataclass(frozen=True)
class EventPage:
    """One event's page."""

    stem: str
    id: str
    date: dt.date
    category: str
    story: tuple[str, ...]
    headline: str
    lede: str | None
    sources: tuple[SourceLink, ...]
    cover_image: str | None
    entities: tuple[str, ...]
    related: tuple[RelatedLink, ...]
    day: Link
    # Each entity's and story line's own page (explore); the Markdown does not show them.
    entity_links: tuple[Link, ...] = ()
    story_links: tuple[Link, ...] = ()
    revision: int | None = None  # the portal revision the store's events came from, if pulled
    # The event this one follows up ("follow-up of": its id and page), and its follow-ups.
    parent: str | None = None
    parent_link: Link | None = None
    follow_ups: tuple[Link, ...] = ()
    # The stored days just before and after the event's (navigation by time).
    previous_day: Link | None = None
    next_day: Link | None = None
    cover_credit: SourceLink | None = None  # the source the cover image comes from
    # The events of the same innermost story just before and after this one, oldest first.
    earlier_in_story: tuple[ThreadEntry, ...] = ()
    later_in_story: tuple[ThreadEntry, ...] = ()
    # Each entity with a Wikidata item, in order: (title, QID) (``daybook entities``).
    wikidata: tuple[tuple[str, str], ...] = ()
    # Every wording the pulled portal revisions gave it, oldest first (issue 21; none for a
    # day read from a file): when it first appeared, when it last changed, its earlier texts.
    versions: tuple[EventVersion, ...] = ()

    @property
    def portal_url(self) -> str:
        return urls.portal_day_url(self.date, self.revision)

    @property
    def earlier_wordings(self) -> tuple[EventVersion, ...]:
        """Its wordings before the one it has now, oldest first."""
        return tuple(v for v in self.versions if v.text != self.headline)

    @property
    def last_changed(self) -> str | None:
        """When the portal last changed its wording: the revision that gave it its text now."""
        now = [v.saved_at for v in self.versions if v.text == self.headline]
        return now[-1] if now else None


@dataclass(frozen=True)
class DayPage:
    """One day's page: its events in page order, grouped by story."""

    stem: str
    date: dt.date
    events: tuple[EventSummary, ...]
    previous: Link | None = None
    next: Link | None = None
    revision: int | None = None  # the portal revision the store's events came from, if pulled

    @property
    def portal_url(self) -> str:
        return urls.portal_day_url(self.date, self.revision)


@dataclass(frozen=True)
class OpinionPiece:
    """An opinion article, written by hand in Markdown with front matter."""

    stem: str
    title: str
    date: dt.date
    author: str
    body_markdown: str
    summary: str
    # Where the piece was first published and under what licence, if its front matter says.
    source: str | None = None
    license: str | None = None
    license_url: str | None = None


@dataclass(frozen=True)
class RedirectPage:
    """An event's old address after its slug changed: points to where it lives now."""

    stem: str
    target: Link
    date: dt.date


@dataclass(frozen=True)
class OpinionIndex:
    """The opinion section's index, newest first."""

    stem: str
    pieces: tuple[OpinionPiece, ...]


@dataclass(frozen=True)
class ArchivePage:
    """A month or year page: links to the days (or months) below it."""

    stem: str
    title: str
    entries: tuple[tuple[Link, int], ...]  # (link, number of events)
    up: Link | None = None
    period: str | None = None  # "2024" for a year page, "2024-05" for a month's; None for the root
    days: tuple[tuple[dt.date, int], ...] = ()  # a year's or month's days with events (calendars)


@dataclass(frozen=True)
class FrontPage:
    """The front page: the newest day, the latest opinion, the two days before."""

    stem: str
    today: DayPage | None
    opinion: tuple[OpinionPiece, ...] = ()
    yesterday: DayPage | None = None
    day_before: DayPage | None = None
    previous: Link | None = None
    archive: tuple[Link, ...] = field(default=())


# -- the weekly digest (issue 21) -------------------------------------------------


@dataclass(frozen=True)
class WeekStory:
    """A story of the week (its innermost story line, else its category): how many events
    and citations it had that week, and its main events."""

    name: str
    link: Link | None  # its story (or category) page
    events: int
    sources: int
    main: tuple[ThreadEntry, ...]


@dataclass(frozen=True)
class WeekPage:
    """An ISO week's digest: its stories, most events first (then most sources)."""

    stem: str
    year: int
    week: int
    start: dt.date  # its Monday
    stories: tuple[WeekStory, ...]
    days: tuple[Link, ...] = ()  # its days with a page, oldest first
    previous: Link | None = None
    next: Link | None = None

    @property
    def label(self) -> str:
        return urls.week_label(self.year, self.week)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)


# -- explore: entity and story pages (issue 7) ---------------------------------


@dataclass(frozen=True)
class MonthCount:
    """One bar of a page's chart: the events of one month (``month`` is its first day)."""

    month: dt.date
    events: int


@dataclass(frozen=True)
class ThreadPage:
    """An entity's page (``kind`` "entity": its events newest first) or a story's
    ("story": oldest first, grouped by month), or one of its further parts.

    The main page carries the totals, the chart and the names most often beside it;
    further parts (``part`` 1 the oldest, then 2...) hold ``explore.PAGE_SIZE`` events each
    and only those, so a new event leaves every part already written as it is.
    """

    kind: str
    stem: str
    name: str
    events: tuple[ThreadEntry, ...]
    main: Link
    part: int | None = None  # None: the main page
    total: int | None = None  # every event of the entity or story (main page only)
    chart: tuple[MonthCount, ...] = ()  # months with events, oldest first (main page only)
    co_entities: tuple[tuple[Link, int], ...] = ()  # (entity, events shared), most first
    newer: Link | None = None
    older: Link | None = None
    # What the wiki says of an entity (``daybook entities``): its Wikidata item, short
    # description and Chinese Wikipedia title, each None when not known.
    qid: str | None = None
    description: str | None = None
    zh_title: str | None = None


@dataclass(frozen=True)
class EntityRedirectPage:
    """An entity's old address once the wiki said the title redirects: points to the
    page of the article it leads to."""

    stem: str
    name: str  # the title that redirects
    target: Link


def _plain_repr(cls: type) -> None:
    """Give a page class the repr ``dataclass`` writes, the same text, without its guard
    against cycles (page objects hold none): a page's digest (``publish.state.page_digest``)
    is the repr of its object, and for a no-change rebuild that guard was a third of it."""
    shown = ", ".join(f"{f.name}={{self.{f.name}!r}}" for f in dataclasses.fields(cls) if f.repr)
    namespace: dict[str, object] = {}
    exec(f'def __repr__(self):\n    return f"{cls.__qualname__}({shown})"\n', namespace)  # as dataclasses do
    setattr(cls, "__repr__", namespace["__repr__"])  # noqa: B010 - a method made at import


for _page_class in (Link, SourceLink, RelatedLink, EventSummary, ThreadEntry, EventPage, DayPage,
                    OpinionPiece, RedirectPage, OpinionIndex, ArchivePage, FrontPage, MonthCount,
                    ThreadPage):  # fmt: skip
    _plain_repr(_page_class)
