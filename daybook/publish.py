"""Publish: the whole site from the store, context first, then one writer.

``build_site`` first builds the context (every day, every event's slug and path),
then, a day at a time, makes the page objects (``pages``), renders each in every
format (``render``) and hands the bytes to the ``Writer``, which alone touches the
output folder. Memory stays bounded by one day plus the site index.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from daybook import feeds, sitemap, urls
from daybook.errors import UsageError
from daybook.model import Event
from daybook.opinion import load_opinion
from daybook.pagecache import PageCache, page_digest
from daybook.pages import (
    ArchivePage,
    DayPage,
    EventPage,
    EventSummary,
    FrontPage,
    Link,
    OpinionIndex,
    RelatedLink,
    SourceLink,
)
from daybook.render import data as page_data
from daybook.render import html, markdown
from daybook.render import json as json_format
from daybook.render import xml as xml_format
from daybook.store import ArticleMeta, Store
from daybook.writer import Writer, WriteReport

DEFAULT_BASE_URL = "http://localhost:8000"
FRONT_DAYS = 3  # today, yesterday, the day before
FEED_EVENTS = 100


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


@dataclass
class SiteIndex:
    """Every event's place on the site, and the days in order."""

    events: dict[str, EventRef] = field(default_factory=dict)
    days: list[dt.date] = field(default_factory=list)
    day_counts: dict[dt.date, int] = field(default_factory=dict)

    def neighbours(self, date: dt.date) -> tuple[Link | None, Link | None]:
        """Links to the stored days just before and after ``date``."""
        at = bisect.bisect_left(self.days, date)
        before = self.days[at - 1] if at > 0 else None
        after = self.days[at + 1] if at + 1 < len(self.days) else None
        return (day_link(before) if before else None, day_link(after) if after else None)


def day_link(date: dt.date) -> Link:
    return Link(urls.date_label(date), urls.day_path(date, "md").removesuffix(".md"))


def site_index(store: Store) -> SiteIndex:
    """Slugs and paths for every event: per day, in page order, made unique."""
    index = SiteIndex(days=store.dates())
    for date, rows in itertools.groupby(store.event_headlines(), key=lambda r: r[1]):
        day_rows = list(rows)
        index.day_counts[date] = len(day_rows)
        slugs = urls.unique_slugs(
            urls.slugify(text, fallback=f"event-{ident}") for ident, _, text in day_rows
        )
        for (ident, _, text), slug in zip(day_rows, slugs, strict=True):
            stem = urls.event_path(date, slug, "md").removesuffix(".md")
            index.events[ident] = EventRef(ident, date, text, stem)
    return index


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
) -> EventPage:
    """An event's page: its text, sources, lede and image, and its related events."""
    by_url = {a.url: a for a in articles}
    lede, image = lede_and_image(articles)
    return EventPage(
        stem=index.events[event.id].stem,
        id=event.id,
        date=event.date,
        category=event.category,
        story=event.story,
        headline=event.text,
        lede=lede,
        sources=tuple(
            SourceLink(
                outlet=s.outlet,
                url=s.url,
                title=by_url[s.url].title if s.url in by_url else None,
                archived_url=by_url[s.url].archived_url if s.url in by_url else None,
            )
            for s in event.sources
        ),
        cover_image=image,
        entities=event.entities,
        related=tuple(
            RelatedLink(link=target.link, date=target.date, context=tuple(context))
            for related_id, context in related
            if (target := index.events.get(related_id)) is not None
        ),
        day=day_link(event.date),
    )


def summary(event: Event, index: SiteIndex, articles: Sequence[ArticleMeta]) -> EventSummary:
    return EventSummary(
        link=index.events[event.id].link,
        id=event.id,
        date=event.date,
        story=event.story,
        category=event.category,
        lede=lede_and_image(articles)[0],
        context=event.entities,
    )


def day_page(date: dt.date, summaries: Iterable[EventSummary], index: SiteIndex) -> DayPage:
    previous, following = index.neighbours(date)
    stem = urls.day_path(date, "md").removesuffix(".md")
    return DayPage(stem=stem, date=date, events=tuple(summaries), previous=previous, next=following)


def archive_pages(index: SiteIndex) -> list[ArchivePage]:
    """Month and year pages, and the archive's root listing every month, newest first,
    so any day is three clicks from the front page: archive, month, day."""
    pages: list[ArchivePage] = []
    all_months: list[tuple[Link, int]] = []
    root = Link("Archive", "news/index")
    for year, year_days in itertools.groupby(index.days, key=lambda d: d.year):
        year_link = Link(str(year), urls.year_path(year, "md").removesuffix(".md"))
        months: list[tuple[Link, int]] = []
        for month, month_days in itertools.groupby(year_days, key=lambda d: d.month):
            stem = urls.month_path(year, month, "md").removesuffix(".md")
            month_link = Link(f"{dt.date(year, month, 1):%B %Y}", stem)
            entries = tuple((day_link(d), index.day_counts.get(d, 0)) for d in month_days)
            pages.append(ArchivePage(stem, month_link.text, entries, up=year_link))
            months.append((month_link, sum(n for _, n in entries)))
        pages.append(ArchivePage(year_link.stem, year_link.text, tuple(months), up=root))
        all_months.extend(months)
    pages.append(ArchivePage(root.stem, root.text, tuple(reversed(all_months))))
    return pages


# -- rendering ------------------------------------------------------------------


def render_all(
    kind: str, page: object, formats: Sequence[str], title: str, description: str | None = None
) -> dict[str, str]:
    """A page object in every requested format, keyed by output path."""
    renderers: dict[str, tuple[Callable[..., str], Callable[..., page_data.Obj], str]] = {
        "event": (markdown.event_page, page_data.event_page, "event.html"),
        "day": (markdown.day_page, page_data.day_page, "day.html"),
        "front": (markdown.front_page, page_data.front_page, "front.html"),
        "archive": (markdown.archive_page, page_data.archive_page, "archive.html"),
        "opinion": (markdown.opinion_page, page_data.opinion_page, "opinion.html"),
        "opinion-index": (markdown.opinion_index, page_data.opinion_index, "opinion_index.html"),
    }
    to_markdown, to_data, template = renderers[kind]
    stem: str = getattr(page, "stem")  # noqa: B009 - every page object has one
    files: dict[str, str] = {}
    for ext in formats:
        if ext == "md":
            files[f"{stem}.md"] = to_markdown(page)
            continue
        data = to_data(page, ext)
        if ext == "json":
            files[f"{stem}.json"] = json_format.dumps(data)
        elif ext == "xml":
            files[f"{stem}.xml"] = xml_format.dumps(data)
        else:
            files[f"{stem}.html"] = html.render(template, data, title=title, description=description)
    return files


# -- the build -----------------------------------------------------------------


@dataclass(frozen=True)
class BuildOptions:
    """What to build: formats, the site's public address, the opinion folder."""

    formats: tuple[str, ...] = urls.FORMATS
    base_url: str = DEFAULT_BASE_URL
    opinion_dir: Path | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.formats) - set(urls.FORMATS))
        if unknown or not self.formats:
            raise UsageError(
                f"unknown format(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(urls.FORMATS)}"
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"base URL {self.base_url!r} must start with http:// or https://")


def _feed_item(event: EventSummary) -> feeds.FeedItem:
    return feeds.FeedItem(
        id=event.id,
        title=event.link.text,
        path=f"{event.link.stem}.html",
        summary=event.lede or event.link.text,
        date=event.date,
    )


def build_site(
    store: Store,
    out: Path,
    options: BuildOptions | None = None,
    *,
    on_day: Callable[[dt.date], None] | None = None,
) -> WriteReport:
    """Build the whole site into ``out``; files whose content is unchanged are left alone,
    and files no page produces any more are removed."""
    options = options or BuildOptions()
    opinion = load_opinion(options.opinion_dir) if options.opinion_dir else []
    index = site_index(store)
    writer = Writer(out)
    listed = "html" if "html" in options.formats else options.formats[0]  # what the sitemap lists
    sitemap_paths: list[str] = []

    cache = PageCache(writer.root)
    settings = f"{','.join(options.formats)}|{options.base_url}"

    def emit(kind: str, page: object, title: str, description: str | None = None) -> None:
        stem: str = getattr(page, "stem")  # noqa: B009 - every page object has one
        digest = page_digest(kind, page, f"{settings}|{title}|{description}")
        paths = [f"{stem}.{ext}" for ext in options.formats]
        if not (cache.unchanged(stem, digest) and all(writer.keep(path) for path in paths)):
            for path, content in render_all(kind, page, options.formats, title, description).items():
                writer.write(path, content)
        cache.record(stem, digest)
        sitemap_paths.extend(p for p in paths if p.endswith("." + listed))

    writer.write("assets/style.css", html.stylesheet())
    recent: list[DayPage] = []
    latest: list[EventSummary] = []  # the newest events, for the feeds
    for date in index.days:
        events = store.events(date=date)
        ids = [e.id for e in events]
        articles = store.article_metadata(ids)
        related = store.related_lists(ids)
        summaries = []
        for event in events:
            found = articles.get(event.id, [])
            page = event_page(event, index, found, related.get(event.id, []))
            emit("event", page, title=event.text, description=page.lede)
            summaries.append(summary(event, index, found))
        day = day_page(date, summaries, index)
        emit("day", day, title=f"News of {date:%-d %B %Y}")
        recent = [*recent[-(FRONT_DAYS - 1) :], day]
        latest = [*latest, *summaries][-FEED_EVENTS:]
        if on_day is not None:
            on_day(date)
    for archive in archive_pages(index):
        emit("archive", archive, title=archive.title)
    for piece in opinion:
        emit("opinion", piece, title=piece.title, description=piece.summary)
    emit(
        "opinion-index",
        OpinionIndex(urls.opinion_index_path("md").removesuffix(".md"), tuple(opinion)),
        "Opinion",
    )
    newest = list(reversed(recent))
    front = FrontPage(
        stem=urls.front_path("md").removesuffix(".md"),
        today=newest[0] if newest else None,
        opinion=tuple(opinion[:5]),
        yesterday=newest[1] if len(newest) > 1 else None,
        day_before=newest[2] if len(newest) > 2 else None,
        previous=day_link(index.days[-FRONT_DAYS - 1]) if len(index.days) > FRONT_DAYS else None,
    )
    emit("front", front, title="The news, day by day")
    news_items = [_feed_item(e) for e in sorted(latest, key=lambda e: e.date, reverse=True)]
    opinion_items = [
        feeds.FeedItem(p.stem, p.title, f"{p.stem}.html", p.summary, p.date, p.author) for p in opinion
    ]
    writer.write(urls.NEWS_RSS, feeds.news_rss(news_items, options.base_url))
    writer.write(urls.NEWS_ATOM, feeds.news_atom(news_items, options.base_url))
    writer.write(urls.NEWS_JSON_FEED, feeds.news_json_feed(news_items, options.base_url))
    writer.write(urls.OPINION_RSS, feeds.opinion_rss(opinion_items, options.base_url))
    for path, content in sitemap.sitemaps(sorted(sitemap_paths), options.base_url).items():
        writer.write(path, content)
    writer.prune()
    cache.save()
    return writer.report
