"""Publish: the site from the store, context first, then one writer.

A build makes the context (``context.SiteIndex``: every event's path), then, a day
at a time, the page objects, renders each in every format and hands the bytes to
the ``Writer``, which alone touches the output folder. The site's state
(``state.SiteState``, a SQLite file beside the store) remembers what every page was
made from, so only pages whose inputs changed are rendered, lets an update find what it
needs (a day's pages, a name's address) without reading the whole site, and records
every file written, the only ones a build may replace or remove (``folder``: a
build writes only into a new or empty folder or a daybook site, one at a time).

``build_site`` builds everything and removes what daybook wrote that no page produces
any more; ``incremental.update_site`` rebuilds only the pages a change of some days and
some related lists can touch, and leaves every other file alone.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from multiprocessing.pool import AsyncResult
from pathlib import Path

from daybook import urls
from daybook.publish import digest, feeds, folder, inputs, sitemap
from daybook.publish.context import (
    SiteIndex,
    archive_pages,
    day_link,
    day_page,
    event_page,
    require_ref,
    summary,
)
from daybook.publish.explore import build_explore
from daybook.publish.names import NameRegistry, Names
from daybook.publish.opinion import load_opinion
from daybook.publish.options import DEFAULT_BASE_URL as DEFAULT_BASE_URL  # re-exported: the build's options
from daybook.publish.options import BuildOptions as BuildOptions
from daybook.publish.options import Renderer, render_pool
from daybook.publish.state import SiteState, page_digest
from daybook.publish.writer import Writer, WriteReport
from daybook.render import RenderArgs, html, i18n, render_all, render_batch
from daybook.render import data as page_data
from daybook.render.pages import (
    ArchivePage,
    DayPage,
    EventSummary,
    FrontPage,
    Link,
    OpinionIndex,
    OpinionPiece,
    RedirectPage,
)
from daybook.store import Store

FRONT_DAYS = 3  # today, yesterday, the day before
FEED_EVENTS = 100
RENDER_BATCH = 32  # pages sent to a render worker in one task
# An update's few hundred pages in smaller tasks: a batch this process renders itself while
# the worker is busy (relating) is shorter, so the worker, once free, is not left idle.
UPDATE_RENDER_BATCH = 8
RENDER_BACKLOG = 16  # batches sent to the render workers and not written yet, at most
RENDER_AHEAD = 2  # batches the workers have not done, at most: past that this process renders too
ALL_DAYS = "days:"  # the group digest of every day's inputs at once


# -- the build -----------------------------------------------------------------


class Build:
    """One run of the writer over the output folder, with the site's state."""

    def __init__(
        self, store: Store, out: Path, options: BuildOptions, *, full: bool = False, renderer: Renderer = None
    ) -> None:
        self.store = store
        # A pool of worker processes rendering pages while this one builds the next: the
        # renderers are pure functions of the page objects, which go to them pickled.
        self.renderer = renderer
        # Pages go to the workers in batches (one task per page costs the pool more than
        # rendering a small page): the batch being filled, and those sent, oldest first.
        self._batch: list[RenderArgs] = []
        self._rendering: collections.deque[
            tuple[list[str], AsyncResult[list[dict[str, str]]] | _Rendered]
        ] = collections.deque()
        self._in_flight: set[str] = set()  # stems of the pages batched or sent, not written yet
        self.options = options
        self.opinion: list[OpinionPiece] = load_opinion(options.opinion_dir) if options.opinion_dir else []
        self.edition = options.edition
        self.use_editions(options.editions)
        self.translate = i18n.translator(options.edition)
        # The site's address for feeds and sitemaps: the edition's folder.
        self.edition_base = options.base_url.rstrip("/") + "/" + urls.edition_root(options.edition)
        # The other editions' names (their registries), for the alternates of entity pages.
        self.peers: dict[str, Names] = {}
        # The days this build made, and (an update's few) what each made: the front page
        # and feeds read an update's days again. A full build makes each day once and
        # keeps none: all of them were its largest holding (some 200 MB at 150,000 events).
        self._days_made: set[dt.date] = set()
        self._keep_days = not full
        self._days_done: dict[dt.date, tuple[DayPage, list[EventSummary]]] = {}
        self._archives_done = False
        self.emitted: set[str] = set()  # the pages made by this build
        self._superseding = False  # pages made again now replace what this build made of them
        self._links: inputs.Links | None = None  # how events and entities are linked (``group_links``)
        self.days_digest: str | None = None  # every day's inputs, digested (``days_as_before``)
        # Called before the first page showing a related list is made: an update may still be
        # relating beside the pages that show none (``update_site``'s ``related``).
        self.before_related: Callable[[], object] | None = None
        site = folder.locate(store.path, out)
        folder.check_folder(site)  # refused: nothing made, not even the lock
        with contextlib.ExitStack() as held:
            held.enter_context(folder.site_lock(site))  # one build or update of a site at a time
            folder.check_folder(site)  # again, now that no other build can start
            self.state = SiteState(site, full=full)
            held.callback(self.state.close)
            self.writer = Writer(out, self.state)
            self.names = NameRegistry(self.state.conn, _entity_names(store, options.edition))
            # An update takes unchanged days' event paths from the state (``_update`` says
            # which days changed); a full build makes them all.
            known = None if self.state.full else self.state.event_stems
            self.index = SiteIndex(store, names=self.names, known=known)
            self._held = held.pop_all()  # until ``close``
        self._batch_size = RENDER_BATCH if self.state.full else UPDATE_RENDER_BATCH

    def use_editions(self, editions: tuple[str, ...]) -> None:
        """The editions the site has (this build's among them): its pages link the others."""
        self.options = replace(self.options, editions=editions)
        self._settings = f"{','.join(self.options.formats)}|{self.options.base_url}"
        if editions != (urls.DEFAULT_EDITION,):  # the pages link their other editions
            self._settings += f"|{self.edition}|{','.join(editions)}"

    @property
    def report(self) -> WriteReport:
        return self.writer.report

    def save(self) -> None:
        """Record the build in the site's state: every file is written."""
        self.state.save(self.writer.made, self.writer.dropped, editions=self.options.editions)

    def close(self) -> None:
        """Close the state (what ``save`` did not record is dropped) and free the site."""
        self._held.close()

    def emit(
        self, kind: str, page: object, title: str, description: str | None = None, event_id: str | None = None
    ) -> None:
        """Write a page in every format, unless its inputs and files are as last time."""
        stem: str = getattr(page, "stem")  # noqa: B009 - every page object has one
        digest = page_digest(kind, page, f"{self._settings}|{title}|{description}")
        paths = [f"{stem}.{ext}" for ext in self.options.formats]
        if self._superseding and stem in self.emitted:
            if stem in self._in_flight:
                self.flush()
            for path in paths:
                self.writer.supersede(path)
        before = self.state.digest(stem)
        # A file a build killed since the last wrote may hold other inputs' page: rendered
        # again (and written only if its bytes differ).
        recovered = self.state.recovered
        journaled = bool(recovered) and any(p in recovered for p in paths)
        if journaled or not (before == digest and all(self.writer.keep(p) for p in paths)):
            args: RenderArgs = (
                kind,
                page,
                self.options.formats,
                title,
                description,
                self.options.base_url,
                self.edition,
                self.alternates(kind, page),
            )
            if self.renderer is None:
                self._write(render_all(*args))
            else:
                if stem in self._in_flight:  # made twice in one build: the last one stands
                    self.flush()
                self._in_flight.add(stem)
                self._batch.append(args)
                if len(self._batch) >= self._batch_size:
                    self._send()
        # A full build's state starts empty: whether a page is new is the state's to say.
        self.state.record(stem, digest, event_id, new=None if self.state.full else before is None)
        self.emitted.add(stem)

    def _write(self, files: dict[str, str]) -> None:
        for path, content in files.items():
            self.writer.write(path, content)

    def _send(self) -> None:
        """Send the batch to the workers; write what they have rendered so far."""
        assert self.renderer is not None
        if self._batch:
            stems = [getattr(args[1], "stem") for args in self._batch]  # noqa: B009
            sent: AsyncResult[list[dict[str, str]]] | _Rendered
            if sum(not result.ready() for _, result in self._rendering) >= RENDER_AHEAD:
                # The workers have enough in hand: rendering here beats waiting for them
                # (one worker and this process then share the work, whatever ``jobs``).
                sent = _Rendered(render_batch(self._batch))
            else:
                sent = self.renderer.apply_async(render_batch, (self._batch,))
            self._rendering.append((stems, sent))
            self._batch = []
        if len(self._rendering) > RENDER_BACKLOG:  # the workers lag: wait, not hoard
            self._rendering[0][1].wait()
        self._write_rendered()

    def _write_rendered(self) -> None:
        """Write what the workers have rendered so far, in the order it was asked for."""
        while self._rendering and self._rendering[0][1].ready():
            stems, result = self._rendering.popleft()
            for files in result.get():
                self._write(files)
            self._in_flight.difference_update(stems)

    def flush(self) -> None:
        """Wait for the workers' pages and write them."""
        if self.renderer is None:
            return
        self._send()
        for _, result in self._rendering:
            result.wait()
        self._write_rendered()

    def alternates(self, kind: str, page: object) -> tuple[tuple[str, str], ...]:
        """The page in every edition the site has: (edition, HTML path from the site's root)."""
        if len(self.options.editions) < 2:
            return ()
        stem: str = getattr(page, "stem")  # noqa: B009 - every page object has one
        found = []
        for edition in self.options.editions:
            there: str | None = stem
            if edition != self.edition and kind in ("entity", "entity-redirect"):
                # An entity's page is at its own slug in each edition: the other's registry says.
                name: str = getattr(page, "name")  # noqa: B009 - both kinds name their entity
                part: int | None = getattr(page, "part", None)
                # The other's registry names it (a new name gets its address there now,
                # as that edition's build would: an update makes the editions one by one).
                peer = self.peers.get(edition)
                main = None if peer is None else peer.entity_stem(name)
                there = main if main is None or part is None else urls.part_stem(main, part)
            if there is not None:
                found.append((edition, urls.in_edition(f"{there}.html", edition)))
        return tuple(found)

    def remove_page(self, stem: str) -> None:
        for ext in self.options.formats:
            self.writer.remove(f"{stem}.{ext}")
        self.state.forget(stem)

    def days_again(self, dates: Iterable[dt.date]) -> None:
        """Make these days' pages once more: the sources' metadata they show arrived
        meanwhile (an update's enrich), so what this build made of them before is
        superseded, not a second claim on a path (which stays an error elsewhere)."""
        self._superseding = True
        try:
            for date in dates:
                self._days_done.pop(date, None)
                if date in self.index.day_counts:
                    self.day(date)
        finally:
            self._superseding = False

    def day(self, date: dt.date) -> tuple[DayPage, list[EventSummary]]:
        """Every event page of a day, and the day page (once per build)."""
        made = self._day(date, keep_unchanged=False)
        assert made is not None
        return made

    def day_unless_unchanged(self, date: dt.date) -> tuple[DayPage, list[EventSummary]] | None:
        """``day``, or None if the day's pages are kept as the last full build made them:
        their inputs are unchanged (``inputs``) and their files are there."""
        return self._day(date, keep_unchanged=True)

    def _day(self, date: dt.date, *, keep_unchanged: bool) -> tuple[DayPage, list[EventSummary]] | None:
        if date in self._days_done:
            return self._days_done[date]
        if self.before_related is not None:
            self.before_related()
        events = self.store.events(date=date)
        ids = [e.id for e in events]
        articles = self.store.article_metadata(ids)
        related = self.store.related_lists(ids)
        follow_ups = self.store.follow_ups(ids)
        versions = self.store.event_versions(ids)
        self.index.preload(r for lists in related.values() for r, _ in lists)
        if self.state.full:
            made_from = inputs.day_inputs(
                self.group_settings,
                date,
                self.index,
                events,
                articles,
                related,
                follow_ups,
                versions,
                self.group_links,
            )
            pages = [(require_ref(self.index, i).stem, i) for i in ids] + [(urls.day_stem(date), None)]
            group = f"day:{date.isoformat()}"
            if keep_unchanged and self.keep_unchanged(group, made_from, pages):
                return None
            self.state.record_group(group, made_from)
        summaries = []
        for event in events:
            found = articles.get(event.id, [])
            page = event_page(
                event, self.index, found, related.get(event.id, []), follow_ups.get(event.id, [])
            )
            page = dataclasses.replace(page, versions=tuple(versions.get(event.id, ())))
            self.emit("event", page, title=event.text, description=page.lede, event_id=event.id)
            summaries.append(summary(event, self.index, found))
        result = day_page(date, summaries, self.index), summaries
        day_title = self.translate("News of {date}").format(date=i18n.medium_date(date, self.edition))
        self.emit("day", result[0], title=day_title)
        self._days_made.add(date)
        if self._keep_days:
            self._days_done[date] = result
        return result

    def days_as_before(self) -> bool:
        """Whether every day's inputs (``inputs.all_days_inputs``) are the last full build's;
        records them for the next."""
        made_from = inputs.all_days_inputs(
            self.group_settings, self.index, self.store, self.names, self.group_links
        )
        before = self.state.previous_groups.get(ALL_DAYS)
        self.state.record_group(ALL_DAYS, made_from)
        self.days_digest = made_from
        return before == made_from

    def day_kept_as_before(self, date: dt.date) -> bool:
        """Keep a day's pages as the last full build made them, every day's inputs being as
        then (``days_as_before``): its own are too."""
        group = f"day:{date.isoformat()}"
        before = self.state.previous_groups.get(group)
        if before is None or date in self._days_made:
            return False
        pages = [(ref.stem, ref.id) for ref in self.index.day(date)] + [(urls.day_stem(date), None)]
        return self.keep_unchanged(group, before, pages)

    @property
    def group_links(self) -> inputs.Links:
        """How events and entities are linked, for the group digests (a full build, once
        every event is loaded)."""
        if self._links is None:
            self._links = inputs.Links(self.index, self.names)
        return self._links

    @property
    def group_settings(self) -> str:
        """The options and edition a group's pages are made with (``inputs``)."""
        return f"{self._settings}|{self.edition}|{','.join(self.options.editions)}"

    def keep_unchanged(
        self, group: str, made_from: str, pages: Sequence[tuple[str, str | None]], feeds: Sequence[str] = ()
    ) -> bool:
        """Keep a group's pages (stem, event id) and feeds as the last full build made them,
        if it made them from the same inputs (``made_from``: ``inputs``' digest) and all
        their files are there; else keep nothing (the caller makes them). Full builds only."""
        if self._superseding:
            return False
        return self.state.keep_group(
            self.writer, group, made_from, pages, self.options.formats, feeds, self.emitted
        )

    def events(self, event_ids: Sequence[str]) -> None:
        """Some event pages (their related lists changed, or an event they list did)."""
        if event_ids and self.before_related is not None:
            self.before_related()
        for at in range(0, len(event_ids), 500):
            chunk = list(event_ids[at : at + 500])
            found = self.store.events(ids=chunk)
            related = self.store.related_lists(chunk)
            articles = self.store.article_metadata(chunk)
            follow_ups = self.store.follow_ups(chunk)
            versions = self.store.event_versions(chunk)
            self.index.preload([*chunk, *(r for lists in related.values() for r, _ in lists)])
            for event in found:
                page = event_page(
                    event,
                    self.index,
                    articles.get(event.id, []),
                    related.get(event.id, []),
                    follow_ups.get(event.id, []),
                )
                page = dataclasses.replace(page, versions=tuple(versions.get(event.id, ())))
                self.emit("event", page, title=event.text, description=page.lede, event_id=event.id)

    def redirects(self, candidates: dict[str, str]) -> None:
        """Old event addresses (path -> event id) whose event now lives elsewhere."""
        self.index.preload(candidates.values())
        for stem, event_id in sorted(candidates.items()):
            ref = self.index.ref(event_id)
            if self.state.has(stem) or ref is None or ref.stem == stem:
                continue
            moved = self.translate("Moved: {headline}").format(headline=ref.headline)
            self.emit("redirect", RedirectPage(stem, ref.link, ref.date), title=moved)
            self.state.set_redirect(stem, event_id)

    def archives(self, dates: Iterable[dt.date] | None = None) -> None:
        """The stylesheet, archive and opinion pages: what shows no event's sources (once a
        build). ``dates``: only these days changed (an update), so only the month and year
        pages holding them, and the archive's root, can change: the others are not made again."""
        if self._archives_done:
            return
        self._archives_done = True
        license = {"name": page_data.LICENSE, "url": page_data.LICENSE_URL}
        files = html.site_files(self.options.base_url, license, page_data.PORTAL_URL, self.edition)
        for path, content in files.items():
            self.writer.write(path, content)
        periods = None if dates is None else {f"{d:%Y-%m}" for d in dates} | {f"{d:%Y}" for d in dates}
        for archive in archive_pages(self.index):
            if periods is not None and archive.period is not None and archive.period not in periods:
                continue
            if self.edition != urls.DEFAULT_EDITION:
                archive = self._localized(archive)
            self.emit("archive", archive, title=self._archive_title(archive.title, archive.period))
        for piece in self.opinion:
            self.emit("opinion", piece, title=piece.title, description=piece.summary)
        stem = urls.opinion_index_stem()
        self.emit("opinion-index", OpinionIndex(stem, tuple(self.opinion)), self.translate("Opinion"))

    def _localized(self, archive: ArchivePage) -> ArchivePage:
        """An archive page whose links name months and the archive in the build's edition."""

        def named(link: Link) -> Link:
            parts = link.stem.split("/")  # news/YYYY/MM/index: a month's page
            if link.stem == urls.archive_stem():
                return replace(link, text=self.translate(link.text))
            if len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
                return replace(link, text=i18n.month_name(int(parts[1]), int(parts[2]), self.edition))
            return link

        entries = tuple((named(link), n) for link, n in archive.entries)
        up = named(archive.up) if archive.up is not None else None
        return replace(
            archive, title=self._archive_title(archive.title, archive.period), entries=entries, up=up
        )

    def _archive_title(self, title: str, period: str | None) -> str:
        """An archive page's title in the build's edition: ``May 2024``, ``2024年5月``."""
        if self.edition == urls.DEFAULT_EDITION:
            return title
        if period is None:
            return self.translate(title)
        year, _, month = period.partition("-")
        return i18n.month_name(int(year), int(month), self.edition) if month else f"{year}年"

    def finish(self, recent: Sequence[DayPage], latest: Sequence[EventSummary]) -> None:
        """Archive, opinion and front pages, feeds, sitemap."""
        self.archives()
        newest = list(reversed(recent))
        days = self.index.days
        front = FrontPage(
            stem=urls.front_stem(),
            today=newest[0] if newest else None,
            opinion=tuple(self.opinion[:5]),
            yesterday=newest[1] if len(newest) > 1 else None,
            day_before=newest[2] if len(newest) > 2 else None,
            previous=day_link(days[-FRONT_DAYS - 1]) if len(days) > FRONT_DAYS else None,
        )
        self.emit("front", front, title=self.translate("The news, day by day"))
        self._feeds(latest)
        self._sitemaps()

    def _sitemaps(self) -> None:
        """The sitemap: all of it in a full build or a small site; else the sections in
        which a page came or went, and the index of sections."""
        listed = "html" if "html" in self.options.formats else self.options.formats[0]
        base, root = self.edition_base, self.writer.root
        if self.state.count() <= sitemap.LIMIT:
            paths = [urls.quoted(p) for p in sitemap.listed_paths(self.state.stems(), listed)]
            self.writer.write(urls.SITEMAP, sitemap.single(paths, base))
            for stale in root.glob(urls.SITEMAP_SECTIONS):
                self.writer.remove(stale.name)  # only those daybook wrote
            return
        on_disk = {p.name for p in root.glob(urls.SITEMAP_SECTIONS) if self.writer.owns(p.name)}
        if self.state.full or not on_disk:
            keys = {sitemap.section(stem) for stem in self.state.stems()}
        else:
            keys = {sitemap.section(stem) for stem in self.state.added | self.state.removed}
        files = {name for name in on_disk if sitemap.section_of_file(name) not in keys}
        for key in sorted(keys):
            stems = self.state.stems if key != sitemap.REST else lambda _: self.state.rest_stems()
            paths = sitemap.section_paths(key, stems, listed)
            written = sitemap.section_files(key, paths, base) if paths else {}
            for path, content in written.items():
                self.writer.write(path, content)
            for name in on_disk:
                if name not in written and sitemap.section_of_file(name) == key:
                    self.writer.remove(name)
            files.update(written)
        self.writer.write(urls.SITEMAP, sitemap.index(files, base))

    def _feeds(self, latest: Sequence[EventSummary]) -> None:
        base = self.edition_base
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


class _Rendered:
    """A batch rendered in the building process, written in its turn like the workers'."""

    def __init__(self, files: list[dict[str, str]]) -> None:
        self.files = files

    def ready(self) -> bool:
        return True

    def wait(self) -> None:
        return None

    def get(self) -> list[dict[str, str]]:
        return self.files


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
    renderer: Renderer = None,
    jobs: int | None = None,
) -> WriteReport:
    """Build the whole site into ``out``; files whose inputs are unchanged are left alone,
    and files no page produces any more are removed (or, for an event whose slug
    changed, replaced by a redirect).

    ``renderer``: worker processes to render pages in (see ``render_pool``); without one,
    the build forks ``jobs - 1`` of its own (``jobs``: default the CPUs; 1 renders here).
    The files are the same bytes whatever renders them.
    """
    store.check_pages()  # a damaged store is refused before anything is written
    own = None
    if renderer is None:
        own = renderer = render_pool((os.cpu_count() or 1) - 1 if jobs is None else jobs - 1)
    options = options or BuildOptions()
    builds: dict[str, Build] = {}
    try:
        builds = open_editions(store, out, options, renderer, full=True)
        report = _build_all(builds[urls.DEFAULT_EDITION], on_day)
        for edition, build in builds.items():
            if edition != urls.DEFAULT_EDITION:
                report = merged(report, _build_all(build, None), urls.edition_root(edition))
        return report
    finally:
        for build in builds.values():
            build.close()
        if own is not None:
            own.terminate()
            own.join()


def open_editions(
    store: Store, out: Path, options: BuildOptions, renderer: Renderer, *, full: bool
) -> dict[str, Build]:
    """A build of each edition (English first, at ``out``; each other in its folder), each
    knowing the others' names. An incremental one (``full`` false) builds the editions the
    site's state remembers, unless ``options`` names more than English. A build whose state
    starts empty (a full one) gets every name now: the others' pages link its pages."""
    builds: dict[str, Build] = {}
    try:
        english = replace(options, edition=urls.DEFAULT_EDITION)
        first = Build(store, out, english, full=full, renderer=renderer)
        builds[urls.DEFAULT_EDITION] = first
        editions = options.editions
        if editions == (urls.DEFAULT_EDITION,) and not full:
            editions = first.state.editions or editions
            first.use_editions(editions)
        for edition in editions:
            if edition != urls.DEFAULT_EDITION:
                where = out / urls.edition_root(edition)
                each = replace(options, edition=edition, editions=editions)
                builds[edition] = Build(store, where, each, full=full, renderer=renderer)
        for build in builds.values():
            if build.state.full:
                _fill_names(build)
            build.peers = {e: other.names for e, other in builds.items() if other is not build}
    except BaseException:
        for build in builds.values():
            build.close()
        raise
    return builds


def _fill_names(build: Build) -> None:
    """Every entity's and story's address (a full build); a title that redirects keeps its
    page's address, for the redirect (explore)."""
    entities = [*build.store.entity_titles(), *build.store.entity_redirects()]
    build.names.fill(entities, build.store.story_names())


def _entity_names(store: Store, edition: str) -> dict[str, str]:
    """An edition's own names of the entities: the Chinese edition's are Chinese Wikipedia's."""
    if edition != "zh":
        return {}
    return {title: info.zh_title for title, info in store.entity_info().items() if info.zh_title}


def merged(report: WriteReport, more: WriteReport, prefix: str) -> WriteReport:
    """The report of two editions' builds, the second's paths from the site's root."""
    report.written.extend(prefix + p for p in more.written)
    report.removed.extend(prefix + p for p in more.removed)
    report.touched.extend(prefix + p for p in more.touched)
    report.unchanged += more.unchanged
    return report


Hook = Callable[[WriteReport], None] | None


def _build_all(build: Build, on_day: Callable[[dt.date], None] | None) -> WriteReport:
    """Make every page of an edition, and record the build in its state."""
    report = make_all(build, on_day)
    build.save()
    return report


def make_all(build: Build, on_day: Callable[[dt.date], None] | None) -> WriteReport:
    """Make every page of an edition and remove what no page produces any more (not saved)."""
    build.index.load_all()  # the names are filled: a full build's state starts empty (``open_editions``)
    recent: list[DayPage] = []
    latest: list[EventSummary] = []
    shown = inputs.newest_days(build.index.days, build.index.day_counts, FRONT_DAYS, FEED_EVENTS)
    # Every day's inputs as at the last full build: each day's pages are kept without
    # reading its rows again (unless its files are not all there).
    as_before = build.state.full and build.days_as_before()
    for date in build.index.days:
        # The front page and feeds show the newest days: those are made whatever happens.
        if date in shown:
            made = build.day(date)
        elif as_before and build.day_kept_as_before(date):
            made = None
        else:
            made = build.day_unless_unchanged(date)
        if made is not None:
            page, summaries = made
            recent = [*recent[-(FRONT_DAYS - 1) :], page]
            latest = [*latest, *summaries][-FEED_EVENTS:]
        if on_day is not None:
            on_day(date)
    build.redirects({**build.state.previous_redirects, **build.state.previous_events()})
    build_explore(build)  # entity and story pages, the search page and its index
    digest.build_weeks(build)  # the weekly digests and their feed
    build.finish(recent, latest)
    build.flush()
    build.writer.prune()
    return build.report
