"""The build context: where every page lives, and the page objects themselves.

``SiteIndex`` knows every event's path (slugs are unique per day, in page order);
the functions below turn stored events, their sources' metadata and their related
lists into the page objects of ``pages``, which every renderer takes as its input.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from daybook import urls
from daybook.model import Event
from daybook.publish.names import NameIndex, Names
from daybook.render.pages import (
    ArchivePage,
    DayPage,
    EventPage,
    EventSummary,
    Link,
    RelatedLink,
    SourceLink,
    ThreadEntry,
)
from daybook.store import ArticleMeta, Store


@dataclass(frozen=True)
class EventRef:
    """Where an event lives on the site: enough to link to it from anywhere."""

    id: str
    date: dt.date
    headline: str
    stem: str

    @property
    def link(self) -> Link:
        return Link(self.headline, self.stem)


class SiteIndex:
    """Every event's place on the site, and the days in order.

    A full build loads every event at once (``load_all``); an incremental one looks
    up only the days it needs, a whole day at a time, since an event's slug is made
    unique among its day's. Given ``known`` (the paths the last build gave events,
    from the site's state) and the days changed since (``changed``), an incremental
    build takes the path of an event of any other day from there, and its headline
    from the store, without making its day's slugs again.
    """

    def __init__(
        self,
        store: Store,
        names: Names | None = None,
        *,
        known: Callable[[Sequence[str]], dict[str, str]] | None = None,
    ) -> None:
        self.store = store
        self.day_counts = store.day_counts()
        self.days = list(self.day_counts)
        self._refs: dict[str, EventRef] = {}
        self._by_day: dict[dt.date, list[EventRef]] = {}
        self._names = names
        self._known = known
        self.changed: set[dt.date] = set()
        self._revisions: dict[dt.date, int | None] = {}
        self._stories: _StoryIndex | None = None
        self._source_dates: dict[dt.date, dict[str, dict[str, str]]] = {}
        self._qids: dict[str, str] | None = None

    def entity_names(self, titles: Iterable[str]) -> tuple[str, ...]:
        """Entities as the build's edition names them (English: their titles)."""
        return tuple(self.names.display("entity", t) for t in titles)

    def wikidata(self, titles: Iterable[str]) -> tuple[tuple[str, str], ...]:
        """(title, QID) of each of these entities the wiki gave a Wikidata item, in order."""
        if self._qids is None:
            self._qids = self.store.entity_qids()
        return tuple((t, q) for t in titles if (q := self._qids.get(t)) is not None)

    @property
    def names(self) -> Names:
        """Every entity's and story's page (explore): the build's registry, or else
        every name of the store, looked up on first use."""
        if self._names is None:
            self._names = NameIndex(self.store.entity_titles(), self.store.story_names())
        return self._names

    def load_all(self) -> None:
        for date, rows in itertools.groupby(self.store.event_headlines(), key=lambda r: r[1]):
            self._add_day(date, [(ident, text) for ident, _, text in rows])

    def day(self, date: dt.date) -> list[EventRef]:
        """The events of one day, in page order."""
        if date not in self._by_day:
            self._add_day(date, [(ident, text) for ident, _, text in self.store.event_headlines(date)])
        return self._by_day[date]

    def ref(self, event_id: str) -> EventRef | None:
        """Where an event lives, or None if the store does not hold it."""
        if event_id not in self._refs:
            self.preload([event_id])
        return self._refs.get(event_id)

    def preload(self, event_ids: Iterable[str]) -> None:
        """Look up, a day at a time, the events not known yet."""
        missing = [i for i in dict.fromkeys(event_ids) if i not in self._refs]
        if not missing:  # known already (a full build knows every event once loaded)
            return
        if self._known is not None and missing:
            missing = self._from_known(missing)
        dates = set(self.store.event_dates(missing).values()) - set(self._by_day)
        rows = self.store.headlines_of_days(dates) if len(dates) > 1 else ()
        for date, group in itertools.groupby(rows, key=lambda r: r[1]):
            self._add_day(date, [(ident, text) for ident, _, text in group])
        for date in sorted(dates):
            self.day(date)  # a single day, or one with no events

    def _from_known(self, event_ids: list[str]) -> list[str]:
        """Refs of unchanged days' events from the last build's paths; the rest, unknown."""
        assert self._known is not None
        stems = self._known(event_ids)
        rest = [i for i in event_ids if i not in stems]
        for ident, date, text in self.store.event_texts([i for i in event_ids if i in stems]):
            if date in self.changed:
                rest.append(ident)
            else:
                self._refs[ident] = EventRef(ident, date, text, stems[ident])
        return rest

    def _add_day(self, date: dt.date, rows: list[tuple[str, str]]) -> None:
        refs = day_refs(date, rows)
        self._by_day[date] = refs
        self._refs.update((r.id, r) for r in refs)

    def revision(self, date: dt.date) -> int | None:
        """The portal revision a day's events were read from (for attribution), if pulled."""
        if date not in self._revisions:
            self._revisions[date] = self.store.read_revisions([date]).get(date)
        return self._revisions[date]

    def source_dates(self, event_id: str, date: dt.date) -> dict[str, str]:
        """When each source of an event was published (URL -> ISO date), as enrich found it;
        looked up a day at a time."""
        if date not in self._source_dates:
            self._source_dates[date] = self.store.article_dates(r.id for r in self.day(date))
        return self._source_dates[date].get(event_id, {})

    @property
    def stories(self) -> _StoryIndex:
        """Every event of every innermost story, read from the store on first use."""
        if self._stories is None:
            self._stories = _StoryIndex(self.store.story_paths())
        return self._stories

    def story_neighbours(self, event_id: str) -> tuple[list[EventRef], list[EventRef]]:
        """The events of the same innermost story just before and after this one: from
        every story read at once in a full build, else looked up in the store's index
        (an update shows a few hundred events of 150,000)."""
        if self._known is None:
            before, after = self.stories.neighbours(event_id)
        else:
            before, after = self.store.story_neighbours(event_id, STORY_NEIGHBOURS)
        self.preload([*before, *after])
        return (
            [r for i in before if (r := self.ref(i)) is not None],
            [r for i in after if (r := self.ref(i)) is not None],
        )

    def story_around(self, lines: Iterable[str], dates: Iterable[dt.date]) -> set[str]:
        """The events of story ``lines`` whose neighbours in the story may change with the
        events of ``dates`` (added or gone): ``STORY_NEIGHBOURS`` before and after each day."""
        if self._known is None:
            return self.stories.around(lines, dates)
        return self.store.story_around(lines, dates, STORY_NEIGHBOURS)

    def neighbour_dates(self, date: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The stored days just before and after ``date`` (which need not be stored)."""
        at = bisect.bisect_left(self.days, date)
        before = self.days[at - 1] if at > 0 else None
        if at < len(self.days) and self.days[at] == date:
            at += 1
        return before, self.days[at] if at < len(self.days) else None

    def neighbours(self, date: dt.date) -> tuple[Link | None, Link | None]:
        """Links to the stored days just before and after ``date``."""
        before, after = self.neighbour_dates(date)
        return (day_link(before) if before else None, day_link(after) if after else None)


STORY_NEIGHBOURS = 3  # events shown before and after an event in its story


class _StoryIndex:
    """Each story line's events in site order (filed under it at any depth), and the
    innermost line of each event's story."""

    def __init__(self, rows: Iterable[tuple[str, dt.date, tuple[str, ...]]]) -> None:
        self.lines: dict[str, tuple[list[dt.date], list[str]]] = {}
        self.innermost: dict[str, tuple[str, dt.date]] = {}
        for ident, date, story in rows:
            self.innermost[ident] = (story[-1], date)
            for line in dict.fromkeys(story):
                dates, ids = self.lines.setdefault(line, ([], []))
                dates.append(date)
                ids.append(ident)

    def neighbours(self, event_id: str, n: int = STORY_NEIGHBOURS) -> tuple[list[str], list[str]]:
        if event_id not in self.innermost:
            return [], []
        line, date = self.innermost[event_id]
        dates, ids = self.lines[line]
        at = bisect.bisect_left(dates, date)  # the event's day; then its place in the day
        while ids[at] != event_id:
            at += 1
        return ids[max(0, at - n) : at], ids[at + 1 : at + 1 + n]

    def around(self, lines: Iterable[str], dates: Iterable[dt.date], n: int = STORY_NEIGHBOURS) -> set[str]:
        """The events of ``lines`` whose neighbours may change with the events of ``dates``
        (added or gone): of the ``n`` before and after each of those days in each line,
        those whose innermost line it is (the one their neighbours come from)."""
        found: set[str] = set()
        for line in lines:
            line_dates, ids = self.lines.get(line, ([], []))
            for date in dates:
                lo, hi = bisect.bisect_left(line_dates, date), bisect.bisect_right(line_dates, date)
                near = [*ids[max(0, lo - n) : lo], *ids[hi : hi + n]]
                found.update(ident for ident in near if self.innermost[ident][0] == line)
        return found


def day_refs(date: dt.date, rows: Sequence[tuple[str, str]]) -> list[EventRef]:
    """Where a day's events live, from their (id, text) in page order: slugs unique per day."""
    slugs = urls.unique_slugs(urls.slugify(text, fallback=f"event-{ident}") for ident, text in rows)
    return [
        EventRef(ident, date, text, urls.event_stem(date, slug))
        for (ident, text), slug in zip(rows, slugs, strict=True)
    ]


def day_link(date: dt.date) -> Link:
    return Link(urls.date_label(date), urls.day_stem(date))


# -- page objects (pure) --------------------------------------------------------


def lede_and_image(articles: Sequence[ArticleMeta]) -> tuple[str | None, str | None]:
    """The first lede and the first cover image among an event's sources."""
    lede = next((a.lede for a in articles if a.lede), None)
    image = next((a.image for a in articles if a.image), None)
    return lede, image


def event_page(
    event: Event,
    index: SiteIndex,
    articles: Sequence[ArticleMeta],
    related: Sequence[tuple[str, Sequence[str]]],
    follow_ups: Sequence[str] = (),
) -> EventPage:
    """An event's page: its text, sources, lede and image, its related events, and the
    event it follows up and its own follow-ups (``follow_ups``: their ids)."""
    parent = index.ref(event.parent) if event.parent else None
    by_url = {a.url: a for a in articles}
    lede, image = lede_and_image(articles)
    published = index.source_dates(event.id, event.date) if by_url else {}
    sources = tuple(
        SourceLink(
            outlet=s.outlet,
            url=s.url,
            title=by_url[s.url].title if s.url in by_url else None,
            archived_url=by_url[s.url].archived_url if s.url in by_url else None,
            publisher=by_url[s.url].publisher if s.url in by_url else None,
            published=published.get(s.url),
        )
        for s in event.sources
    )
    # The cover is the first image among the sources: credited to the source it came from.
    credit = next((s for s in sources if s.url in by_url and by_url[s.url].image == image), None)
    previous_day, next_day = index.neighbours(event.date)
    earlier, later = index.story_neighbours(event.id) if event.story else ([], [])
    return EventPage(
        stem=require_ref(index, event.id).stem,
        id=event.id,
        date=event.date,
        category=event.category,
        story=event.story,
        headline=event.text,
        lede=lede,
        sources=sources,
        cover_image=image,
        entities=event.entities,
        related=tuple(
            RelatedLink(link=target.link, date=target.date, context=index.entity_names(context))
            for related_id, context in related
            if (target := index.ref(related_id)) is not None
        ),
        day=day_link(event.date),
        entity_links=index.names.entity_links(event.entities),
        story_links=index.names.story_links(event.story),
        revision=index.revision(event.date),
        parent=event.parent,
        parent_link=parent.link if parent is not None else None,
        follow_ups=tuple(ref.link for ident in follow_ups if (ref := index.ref(ident)) is not None),
        previous_day=previous_day,
        next_day=next_day,
        cover_credit=credit if image else None,
        earlier_in_story=tuple(ThreadEntry(r.link, r.id, r.date) for r in earlier),
        later_in_story=tuple(ThreadEntry(r.link, r.id, r.date) for r in later),
        wikidata=index.wikidata(event.entities),
    )


def require_ref(index: SiteIndex, event_id: str) -> EventRef:
    """Where an event lives; LookupError if the store does not hold it."""
    ref = index.ref(event_id)
    if ref is None:  # the store changed under the build: a bug, not bad input
        raise LookupError(f"event {event_id} is not in the store")
    return ref


def summary(event: Event, index: SiteIndex, articles: Sequence[ArticleMeta]) -> EventSummary:
    return EventSummary(
        link=require_ref(index, event.id).link,
        id=event.id,
        date=event.date,
        story=event.story,
        category=event.category,
        lede=lede_and_image(articles)[0],
        context=index.entity_names(event.entities),
    )


def day_page(date: dt.date, summaries: Iterable[EventSummary], index: SiteIndex) -> DayPage:
    previous, following = index.neighbours(date)
    stem = urls.day_stem(date)
    return DayPage(
        stem=stem,
        date=date,
        events=tuple(summaries),
        previous=previous,
        next=following,
        revision=index.revision(date),
    )


def archive_pages(index: SiteIndex) -> list[ArchivePage]:
    """Month and year pages, and the archive's root listing every month, newest first,
    so any day is three clicks from the front page: archive, month, day."""
    pages: list[ArchivePage] = []
    all_months: list[tuple[Link, int]] = []
    root = Link("Archive", urls.archive_stem())
    for year, year_days in itertools.groupby(index.days, key=lambda d: d.year):
        year_link = Link(str(year), urls.year_stem(year))
        months: list[tuple[Link, int]] = []
        year_counts: list[tuple[dt.date, int]] = []
        for month, month_days in itertools.groupby(year_days, key=lambda d: d.month):
            stem = urls.month_stem(year, month)
            month_link = Link(f"{dt.date(year, month, 1):%B %Y}", stem)
            counted = tuple((d, index.day_counts.get(d, 0)) for d in month_days)
            entries = tuple((day_link(d), n) for d, n in counted)
            period = f"{year:04d}-{month:02d}"
            pages.append(ArchivePage(stem, month_link.text, entries, year_link, period, counted))
            months.append((month_link, sum(n for _, n in entries)))
            year_counts.extend(counted)
        pages.append(
            ArchivePage(
                year_link.stem, year_link.text, tuple(months), root, f"{year:04d}", tuple(year_counts)
            )
        )
        all_months.extend(months)
    pages.append(ArchivePage(root.stem, root.text, tuple(reversed(all_months))))
    return pages
