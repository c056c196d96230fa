"""Publish: the site from the store, context first, then one writer.

A build makes the context (``context.SiteIndex``: every event's path), then, a day
at a time, the page objects, renders each in every format and hands the bytes to
the ``Writer``, which alone touches the output folder. The ``PageCache`` remembers
what every page was made from, so only pages whose inputs changed are rendered.

``build_site`` builds everything and removes what no page produces any more;
``update_site`` rebuilds only the pages a change of some days and some related
lists can touch, and leaves every other file alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from daybook import feeds, sitemap, urls
from daybook.context import (
    SiteIndex,
    archive_pages,
    day_link,
    day_page,
    event_page,
    summary,
)
from daybook.errors import UsageError
from daybook.explore import build_explore
from daybook.opinion import load_opinion
from daybook.pagecache import PageCache, page_digest
from daybook.pages import DayPage, EventSummary, FrontPage, OpinionIndex, OpinionPiece, RedirectPage
from daybook.render import data as page_data
from daybook.render import html, markdown
from daybook.render import json as json_format
from daybook.render import xml as xml_format
from daybook.store import Store
from daybook.writer import Writer, WriteReport

DEFAULT_BASE_URL = "http://localhost:8000"
FRONT_DAYS = 3  # today, yesterday, the day before
FEED_EVENTS = 100


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
        "redirect": (markdown.redirect_page, page_data.redirect_page, "redirect.html"),
        "entity": (markdown.entity_page, page_data.entity_page, "entity.html"),
        "story": (markdown.story_page, page_data.story_page, "story.html"),
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


class Build:
    """One run of the writer over the output folder, with the page cache."""

    def __init__(self, store: Store, out: Path, options: BuildOptions) -> None:
        self.store = store
        self.options = options
        self.writer = Writer(out)
        self.cache = PageCache(self.writer.root)
        self.index = SiteIndex(store)
        self.opinion: list[OpinionPiece] = load_opinion(options.opinion_dir) if options.opinion_dir else []
        self._settings = f"{','.join(options.formats)}|{options.base_url}"
        self._days_done: dict[dt.date, tuple[DayPage, list[EventSummary]]] = {}

    @property
    def report(self) -> WriteReport:
        return self.writer.report

    def emit(
        self, kind: str, page: object, title: str, description: str | None = None, event_id: str | None = None
    ) -> None:
        """Write a page in every format, unless its inputs and files are as last time."""
        stem: str = getattr(page, "stem")  # noqa: B009 - every page object has one
        digest = page_digest(kind, page, f"{self._settings}|{title}|{description}")
        paths = [f"{stem}.{ext}" for ext in self.options.formats]
        if not (self.cache.unchanged(stem, digest) and all(self.writer.keep(p) for p in paths)):
            for path, content in render_all(kind, page, self.options.formats, title, description).items():
                self.writer.write(path, content)
        self.cache.record(stem, digest, event_id)

    def remove_page(self, stem: str) -> None:
        for ext in self.options.formats:
            self.writer.remove(f"{stem}.{ext}")

    def day(self, date: dt.date) -> tuple[DayPage, list[EventSummary]]:
        """Every event page of a day, and the day page (once per build)."""
        if date in self._days_done:
            return self._days_done[date]
        events = self.store.events(date=date)
        ids = [e.id for e in events]
        articles = self.store.article_metadata(ids)
        related = self.store.related_lists(ids)
        self.index.preload(r for lists in related.values() for r, _ in lists)
        summaries = []
        for event in events:
            found = articles.get(event.id, [])
            page = event_page(event, self.index, found, related.get(event.id, []))
            self.emit("event", page, title=event.text, description=page.lede, event_id=event.id)
            summaries.append(summary(event, self.index, found))
        result = day_page(date, summaries, self.index), summaries
        self.emit("day", result[0], title=f"News of {date:%-d %B %Y}")
        self._days_done[date] = result
        return result

    def event(self, event_id: str) -> None:
        """One event page (its related list changed, or an event it lists did)."""
        found = self.store.events(ids=[event_id])
        if not found:
            return
        event = found[0]
        related = self.store.related_lists([event_id]).get(event_id, [])
        self.index.preload(r for r, _ in related)
        articles = self.store.article_metadata([event_id]).get(event_id, [])
        page = event_page(event, self.index, articles, related)
        self.emit("event", page, title=event.text, description=page.lede, event_id=event.id)

    def redirects(self, candidates: dict[str, str]) -> None:
        """Old event addresses (path -> event id) whose event now lives elsewhere."""
        for stem, event_id in sorted(candidates.items()):
            ref = self.index.ref(event_id)
            if stem in self.cache.pages or ref is None or ref.stem == stem:
                continue
            self.emit("redirect", RedirectPage(stem, ref.link, ref.date), title=f"Moved: {ref.headline}")
            self.cache.redirects[stem] = event_id

    def finish(self, recent: Sequence[DayPage], latest: Sequence[EventSummary]) -> None:
        """Archive, opinion and front pages, feeds, sitemap; then save the page cache."""
        self.writer.write("assets/style.css", html.stylesheet())
        for archive in archive_pages(self.index):
            self.emit("archive", archive, title=archive.title)
        for piece in self.opinion:
            self.emit("opinion", piece, title=piece.title, description=piece.summary)
        stem = urls.opinion_index_path("md").removesuffix(".md")
        self.emit("opinion-index", OpinionIndex(stem, tuple(self.opinion)), "Opinion")
        newest = list(reversed(recent))
        days = self.index.days
        front = FrontPage(
            stem=urls.front_path("md").removesuffix(".md"),
            today=newest[0] if newest else None,
            opinion=tuple(self.opinion[:5]),
            yesterday=newest[1] if len(newest) > 1 else None,
            day_before=newest[2] if len(newest) > 2 else None,
            previous=day_link(days[-FRONT_DAYS - 1]) if len(days) > FRONT_DAYS else None,
        )
        self.emit("front", front, title="The news, day by day")
        self._feeds(latest)
        listed = "html" if "html" in self.options.formats else self.options.formats[0]
        paths = sorted(f"{stem}.{listed}" for stem in self.cache.pages)
        for path, content in sitemap.sitemaps(paths, self.options.base_url).items():
            self.writer.write(path, content)

    def _feeds(self, latest: Sequence[EventSummary]) -> None:
        base = self.options.base_url
        news = [_feed_item(e) for e in sorted(latest, key=lambda e: e.date, reverse=True)]
        opinion = [
            feeds.FeedItem(p.stem, p.title, f"{p.stem}.html", p.summary, p.date, p.author)
            for p in self.opinion
        ]
        self.writer.write(urls.NEWS_RSS, feeds.news_rss(news, base))
        self.writer.write(urls.NEWS_ATOM, feeds.news_atom(news, base))
        self.writer.write(urls.NEWS_JSON_FEED, feeds.news_json_feed(news, base))
        self.writer.write(urls.OPINION_RSS, feeds.opinion_rss(opinion, base))

    def recent_days(self) -> tuple[list[DayPage], list[EventSummary]]:
        """The newest days' pages (for the front page) and newest events (for the feeds)."""
        recent: list[DayPage] = []
        latest: list[EventSummary] = []
        for date in reversed(self.index.days):
            if len(recent) >= FRONT_DAYS and len(latest) >= FEED_EVENTS:
                break
            page, summaries = self.day(date)
            recent.insert(0, page)
            latest[:0] = summaries
        return recent[-FRONT_DAYS:], latest[-FEED_EVENTS:]


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
    """Build the whole site into ``out``; files whose inputs are unchanged are left alone,
    and files no page produces any more are removed (or, for an event whose slug
    changed, replaced by a redirect)."""
    build = Build(store, out, options or BuildOptions())
    build.index.load_all()
    recent: list[DayPage] = []
    latest: list[EventSummary] = []
    for date in build.index.days:
        page, summaries = build.day(date)
        recent = [*recent[-(FRONT_DAYS - 1) :], page]
        latest = [*latest, *summaries][-FEED_EVENTS:]
        if on_day is not None:
            on_day(date)
    build.redirects({**build.cache.previous_redirects, **build.cache.previous_events})
    build_explore(build)  # entity and story pages, the search page and its index
    build.finish(recent, latest)
    build.writer.prune()
    build.cache.save()
    return build.report


def update_site(
    store: Store,
    out: Path,
    options: BuildOptions | None = None,
    *,
    dates: Iterable[dt.date],
    event_ids: Iterable[str] = (),
) -> WriteReport:
    """Rebuild only what a change can touch: the pages of ``dates`` (their events, the
    day pages and their neighbours), the event pages of ``event_ids``, archives,
    front page, feeds and sitemap. Pages of events gone from those days are removed
    (or redirected, if the event lives on under a new slug). A folder never built
    before gets a full build."""
    build = Build(store, out, options or BuildOptions())
    if not build.cache.exists:
        return build_site(store, out, options)
    changed = sorted(set(dates))
    prefixes = tuple(urls.day_dir(d) + "/" for d in changed)
    previous = build.cache
    # Start from the last build's record, less the pages of the changed days and the
    # redirects (which are resolved again).
    previous.carry_over(
        lambda stem: not stem.startswith(prefixes) and stem not in previous.previous_redirects
    )
    previous_on_days = {s: i for s, i in previous.previous_events.items() if s.startswith(prefixes)}
    for date in changed:
        if date in build.index.day_counts:
            build.day(date)
    for date in sorted({n for d in changed for n in build.index.neighbour_dates(d) if n is not None}):
        build.day(date)
    # Pages that list an event of a changed day show its headline: render them again too.
    on_days = [ident for date in changed for ident, _, _ in store.event_headlines(date)]
    referrers = store.referrers([*on_days, *previous_on_days.values()])
    for event_id in sorted({*event_ids, *referrers} - set(on_days)):
        build.event(event_id)
    build.redirects({**previous.previous_redirects, **previous_on_days})
    for stem in sorted(set(previous.previous) - set(previous.pages)):
        if stem.startswith(prefixes) or stem in previous.previous_redirects:
            build.remove_page(stem)
    build_explore(build)  # every entity and story page is checked; only changed ones are rendered
    recent, latest = build.recent_days()
    build.finish(recent, latest)
    build.cache.save()
    return build.report
