"""Explore: entity and story pages, and the built site's own search (issue 7).

Every entity and every story line gets a page: its events (an entity's newest first,
a story's oldest first by month), its events per month as a chart, and the entities
most often beside it. A long one is split into parts that stay as they are when
events are added (``parts``). Pages go through the build's ``emit``, so only those
whose content changed are rendered; last come the search page, its script and its
prebuilt index (``search_index``).

A full build (``build_explore``) makes every name's pages from every event, once the
day pages are out and every event's path is known. An update (``update_explore``)
makes only the pages of the names the changed days' events hold now or held at the
last build (the site's state keeps which names each day held), and of those only
the main page and the parts from the first changed event on. Each name's page
address comes from the state's name registry (``names.NameRegistry``); when a new
name takes over an address, the pages and the links to them follow.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Protocol

from daybook import urls
from daybook.model import EntityInfo
from daybook.publish import follow, inputs, search_index
from daybook.publish.ahead import read_ahead
from daybook.publish.context import SiteIndex, require_ref
from daybook.publish.names import NameRegistry, Names
from daybook.publish.options import BuildOptions
from daybook.publish.state import SiteState, renderer_fingerprint
from daybook.publish.writer import Writer
from daybook.render.pages import EntityRedirectPage, Link, MonthCount, ThreadEntry, ThreadPage
from daybook.render.search import search_page as render_search_page
from daybook.store import Store


class Output(Protocol):
    """What explore reads and where its pages go: the build (``build.Build``) passes
    itself; explore never imports it."""

    store: Store
    index: SiteIndex
    state: SiteState
    names: NameRegistry
    options: BuildOptions
    writer: Writer
    emitted: set[str]
    edition: str
    translate: Callable[[str], str]
    peers: dict[str, Names]

    def emit(
        self, kind: str, page: object, title: str, description: str | None = None, event_id: str | None = None
    ) -> None: ...

    def remove_page(self, stem: str) -> None: ...

    def events(self, event_ids: Sequence[str]) -> None: ...

    @property
    def group_settings(self) -> str: ...

    @property
    def group_links(self) -> inputs.Links: ...

    def keep_unchanged(
        self, group: str, made_from: str, pages: Sequence[tuple[str, str | None]], feeds: Sequence[str] = ()
    ) -> bool: ...


PAGE_SIZE = 100
CO_ENTITIES = 12


def _archived(total: int, size: int = PAGE_SIZE) -> int:
    """How many numbered parts a thread of ``total`` events has (see ``parts``)."""
    return max(0, (total - size) // size)


def parts(total: int, size: int = PAGE_SIZE) -> list[tuple[int | None, int, int]]:
    """How a thread of ``total`` events, oldest first, is split: (part, start, end).

    Parts 1, 2... hold ``size`` events each from the oldest; the main page (part
    None) holds the rest, ``size`` to ``2 * size - 1`` events (all of them, if fewer).
    A new event thus changes the main page alone, until its oldest ``size`` events
    move out into a new part.
    """
    archived = _archived(total, size)
    return [(n + 1, n * size, (n + 1) * size) for n in range(archived)] + [(None, archived * size, total)]


def thread_pages(
    kind: str,
    name: str,
    stem: str,
    entries: Sequence[ThreadEntry | None],
    co_entities: tuple[tuple[Link, int], ...] = (),
    *,
    chart: tuple[MonthCount, ...] | None = None,
    first_part: int = 1,
    info: EntityInfo | None = None,
) -> list[ThreadPage]:
    """The pages of one entity or story, from its events oldest first.

    An incremental build makes only the main page and the parts from ``first_part``
    on: the entries before those parts may then be None. ``chart``: every entry's month,
    counted (default: the entries', which must then all be there). ``info``: what the wiki
    says of an entity.
    """
    main = Link(name, stem)
    split = parts(len(entries))
    links = [
        main if part is None else Link(f"{name}, part {part}", urls.part_stem(stem, part))
        for part, _, _ in split
    ]
    if chart is None:
        chart = monthly_dates([e.date for e in entries if e is not None])
    pages = []
    for at, (part, start, end) in enumerate(split):
        if part is not None and part < first_part:
            continue
        chunk = tuple(e for e in entries[start:end] if e is not None)
        if len(chunk) != end - start:
            raise ValueError(f"{kind} {name!r}: entries {start} to {end} are needed for its pages")
        pages.append(
            ThreadPage(
                kind=kind,
                stem=links[at].stem,
                name=name,
                events=chunk if kind == "story" else chunk[::-1],
                main=main,
                part=part,
                total=len(entries) if part is None else None,
                chart=chart if part is None else (),
                co_entities=co_entities if part is None else (),
                newer=links[at + 1] if at + 1 < len(links) else None,
                older=links[at - 1] if at > 0 else None,
                qid=info.qid if info else None,
                description=info.description if info else None,
                zh_title=info.zh_title if info else None,
            )
        )
    return pages


def monthly_dates(dates: Sequence[dt.date]) -> tuple[MonthCount, ...]:
    """Events per month, months with events only, oldest first, from dates in order (a
    thread's): each month is counted by bisection, not date by date (a category holds
    tens of thousands of events, and an update charts each name its day touches)."""
    counts = []
    at = 0
    while at < len(dates):
        month = dates[at].replace(day=1)
        after = (
            month.replace(year=month.year + 1, month=1)
            if month.month == 12
            else month.replace(month=month.month + 1)
        )
        end = bisect.bisect_left(dates, after, lo=at)
        counts.append(MonthCount(month, end - at))
        at = end
    return tuple(counts)


def _best(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """The entities most often beside a name, with how often, most first."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:CO_ENTITIES]


def _most_common(counts: Mapping[str, int], names: NameRegistry) -> tuple[tuple[Link, int], ...]:
    return _linked(_best(counts), names)


def _linked(best: Sequence[tuple[str, int]], names: NameRegistry) -> tuple[tuple[Link, int], ...]:
    return tuple(
        (Link(names.display("entity", title), s), n)
        for title, n in best
        if (s := names.entity_stem(title)) is not None
    )


def _emit_thread(build: Output, pages: Sequence[ThreadPage], total: int) -> None:
    t = build.translate
    for page in pages:
        name = build.names.display(page.kind, page.name)
        if page.part is None:
            description = t("{total} events: {name}").format(total=total, name=name)
            build.emit(page.kind, page, title=name, description=description)
        else:  # nothing on a part may depend on the events after it
            build.emit(page.kind, page, title=t("{name}, part {part}").format(name=name, part=page.part))


Citations = Mapping[str, tuple[tuple[str, str], ...]]


def _write_feed(
    build: Output, kind: str, name: str, stem: str, entries: Sequence[ThreadEntry | None], cited: Citations
) -> None:
    """The thread's Atom feed: its latest events (the last of ``entries``, in site order)."""
    latest = [e for e in entries[-follow.FEED_SIZE :] if e is not None]
    items = [follow.FollowEntry(e.id, e.link.text, e.link.stem, e.date, cited.get(e.id, ())) for e in latest]
    path, base_url = urls.feed_path(stem), build.options.base_url
    # Made again only if what it shows changed (or its file is gone), as pages are.
    digest = follow.feed_digest(kind, name, stem, items, base_url, renderer_fingerprint(), build.edition)
    if build.state.feed_digest(path) != digest or not build.writer.keep(path):
        feed = follow.thread_feed(kind, name, stem, items, base_url, edition=build.edition)
        build.writer.write(path, feed)
    build.state.record_feed(path, digest)


def _remove_feed(build: Output, stem: str) -> None:
    path = urls.feed_path(stem)
    build.writer.remove(path)
    build.state.forget_feed(path)


def _remove_thread(build: Output, stem: str, parts_from: int = 1) -> None:
    """Remove a name's pages: the main page (``parts_from`` 1) and its parts from ``parts_from``."""
    # A page this build made there belongs to the name that took the address over.
    if parts_from <= 1 and stem not in build.emitted:
        build.remove_page(stem)
        _remove_feed(build, stem)
    for part_stem in build.state.pages_under(urls.parts_prefix(stem)):
        number = part_stem.rsplit("/", 1)[1]
        if number.isdigit() and int(number) >= parts_from and part_stem not in build.emitted:
            build.remove_page(part_stem)


def build_explore(build: Output) -> None:
    """Every entity and story page (a full build), then the search page and index."""
    # Apart, so that every name's thread (hundreds of MB at 150,000 events) is freed
    # before the search index is made: the build's peak of memory.
    _build_names(build)
    if "html" in build.options.formats:
        write_search(build)


def _build_names(build: Output) -> None:
    """Every entity's, story's and category's pages and feeds, and the entity redirects."""
    store, index, state = build.store, build.index, build.state
    threads = list(store.event_threads())
    index.preload(ident for ident, _, _, _ in threads)  # a day at a time, where not known yet
    by_entity: dict[str, list[ThreadEntry]] = defaultdict(list)
    by_story: dict[str, list[ThreadEntry]] = defaultdict(list)
    by_category: dict[str, list[ThreadEntry]] = defaultdict(list)
    categories = store.event_categories()
    holds: dict[str, tuple[str, ...]] = {}  # event id -> its entities
    for ident, date, story, entities in threads:
        ref = index.ref(ident)
        if ref is None or ident not in categories:  # gone since the build began
            continue
        entry = ThreadEntry(ref.link, ident, date)
        holds[ident] = entities
        by_category[categories[ident]].append(entry)
        for title in entities:
            by_entity[title].append(entry)
        for line in dict.fromkeys(story):
            by_story[line].append(entry)
    registry = build.names  # filled when the build began
    state.set_all_day_names(_day_names(threads, categories, holds))
    infos = store.entity_info()
    cited = store.citations()  # every event's sources, for the feeds: one query, not one per name
    counts: list[tuple[str, str, int]] = []  # each name's events, noted at once
    every = (("entity", by_entity), ("story", by_story), ("category", by_category))
    # What every name's pages are made from, at once: unchanged, each name's pages are kept
    # without digesting its own inputs (unless its files are not all there).
    as_before = state.full and _all_as_before(build, threads, categories, every, infos, cited)
    for kind, threads_of in every:
        for name, entries in sorted(threads_of.items()):
            stem = registry.stem(kind, name)
            if stem is None:
                continue
            if as_before and _kept_as_before(build, kind, name, stem, len(entries)):
                counts.append((kind, name, len(entries)))
                continue
            # A category holds a good share of the archive: the entities beside it say little.
            together = (
                Counter(t for e in entries for t in holds[e.id] if t != name) if kind != "category" else {}
            )
            best = _best(together)
            info = infos.get(name) if kind == "entity" else None
            if not _kept(build, kind, name, stem, entries, best, info, cited):
                co = _linked(best, registry)
                _emit_thread(build, thread_pages(kind, name, stem, entries, co, info=info), len(entries))
                _write_feed(build, kind, name, stem, entries, cited)
            counts.append((kind, name, len(entries)))
    registry.set_events_many(counts)
    for alias, target in store.entity_redirects().items():
        _emit_entity_redirect(build, alias, target)


def _day_names(
    threads: Sequence[tuple[str, dt.date, tuple[str, ...], tuple[str, ...]]],
    categories: Mapping[str, str],
    built: Container[str],
) -> Iterator[tuple[str, set[tuple[str, str]]]]:
    """The names each day's events hold, (kind, name), a day at a time (the threads are in
    site order): every day's at once were some 100 MB at the full build's peak, at 150,000
    events. ``built``: the events the names' pages list."""
    for date, events in itertools.groupby(threads, key=lambda thread: thread[1]):
        names: set[tuple[str, str]] = set()
        for ident, _, story, entities in events:
            if ident in built:
                names.add(("category", categories[ident]))
                names.update(("entity", title) for title in entities)
                names.update(("story", line) for line in story)
        yield date.isoformat(), names


ALL_THREADS = "threads:"  # the group digest of every name's inputs at once


def _all_as_before(
    build: Output,
    threads: Sequence[tuple[str, dt.date, tuple[str, ...], tuple[str, ...]]],
    categories: Mapping[str, str],
    every: Sequence[tuple[str, Mapping[str, Sequence[ThreadEntry]]]],
    infos: Mapping[str, EntityInfo],
    cited: Citations,
) -> bool:
    """Whether every name's inputs (``inputs.all_threads_inputs``) are the last full build's;
    records them for the next."""
    names = build.names
    shown = [
        (kind, name, names.stem(kind, name), names.display(kind, name))
        for kind, threads_of in every
        for name in sorted(threads_of)
    ]
    peers = (
        [peer.entity_stem(name) for _, peer in sorted(build.peers.items()) for name in sorted(every[0][1])]
        if build.peers
        else []
    )
    made_from = inputs.all_threads_inputs(
        build.group_settings, threads, categories, shown, infos, cited, peers, build.group_links
    )
    before = build.state.previous_groups.get(ALL_THREADS)
    build.state.record_group(ALL_THREADS, made_from)
    return before == made_from


def _kept_as_before(build: Output, kind: str, name: str, stem: str, total: int) -> bool:
    """Keep a name's pages and feed as the last full build made them, every name's inputs
    being as then (``_all_as_before``): its own are too."""
    group = f"{kind}:{name}"
    before = build.state.previous_groups.get(group)
    if before is None:
        return False
    pages = [(stem if part is None else urls.part_stem(stem, part), None) for part, _, _ in parts(total)]
    return build.keep_unchanged(group, before, pages, [urls.feed_path(stem)])


def _kept(
    build: Output,
    kind: str,
    name: str,
    stem: str,
    entries: Sequence[ThreadEntry],
    best: Sequence[tuple[str, int]],
    info: EntityInfo | None,
    cited: Citations,
) -> bool:
    """Whether a name's pages and feed are kept as the last full build made them (their
    inputs unchanged, their files there: ``inputs``); if not, its inputs are recorded for
    the next build and the caller makes them."""
    if not build.state.full:
        return False
    names = build.names
    shown = names.display(kind, name)
    latest = [cited.get(e.id, ()) for e in entries[-follow.FEED_SIZE :]]
    # An entity's page lives at its own slug in each edition: the others' pages link it.
    peers = [peer.entity_stem(name) for _, peer in sorted(build.peers.items())] if kind == "entity" else []
    made_from = inputs.thread_inputs(
        build.group_settings, kind, name, stem, shown, entries, best, info, latest, peers, build.group_links
    )
    pages = [
        (stem if part is None else urls.part_stem(stem, part), None) for part, _, _ in parts(len(entries))
    ]
    group = f"{kind}:{name}"
    if build.keep_unchanged(group, made_from, pages, [urls.feed_path(stem)]):
        return True
    build.state.record_group(group, made_from)
    return False


def update_explore(build: Output, dates: Sequence[dt.date], before: set[tuple[str, str]]) -> None:
    """The entity and story pages a change of ``dates`` can touch (an incremental build).

    ``before``: the names the events of ``dates`` held at the last build. A name's
    pages list its events oldest first, so events of these days change the parts
    from the first of them on; the earlier parts stay as they are, unless the
    number of parts changed (the last part's link to the next).
    """
    store, state, registry = build.store, build.state, build.names
    if not dates:
        return
    since = min(dates)
    touched = set(before)
    for date in sorted(set(dates)):
        now: set[tuple[str, str]] = set()
        for _, _, story, entities in store.day_threads([date]):
            now.update(("entity", title) for title in entities)
            now.update(("story", line) for line in story)
        now.update(("category", category) for category in store.day_categories([date]))
        state.set_day_names(date.isoformat(), now)
        touched |= now
    asks = [_ask(build, kind, name, since) for kind, name in sorted(touched)]
    # Each name's reading (most of it the database's) runs ahead, beside its pages' making.
    with read_ahead(store.location, asks, _read_thread) as reads:
        for ask, read in zip(asks, reads, strict=True):
            _update_thread(build, ask, read)
    while registry.moved:  # a name's slug moved: its pages, and the links to them, follow
        kind, name, old_stem = registry.moved.pop()
        _remove_thread(build, old_stem)
        ask = _ask(build, kind, name, dt.date.min)
        _update_thread(build, ask, _read_thread(store, ask))
        if kind == "category":
            continue  # no event page links its category's page
        if kind == "entity":
            holders = store.entity_thread(name)
        else:
            holders = store.story_thread(name, state.name_dates("story", name))
        build.events([ident for ident, _ in holders])


@dataclass(frozen=True)
class _Ask:
    """What to read of a name whose events changed from ``since`` on."""

    kind: str
    name: str
    since: dt.date
    old_total: int  # its events at the last build
    story_dates: tuple[str, ...] = ()  # a story's days (the site's state keeps them)


@dataclass(frozen=True)
class _Read:
    """What a name's pages are made from: its events from the ``start``-th on (``tail``),
    the part its pages are made from (``first_part``), its chart, its company, what the
    wiki says of it and its latest events' sources; or the article an entity that has
    no events of its own now leads to (``redirect``)."""

    total: int
    start: int = 0
    tail: Sequence[tuple[str, dt.date]] = ()
    first_part: int = 1
    chart: tuple[MonthCount, ...] = ()
    company: Mapping[str, int] = field(default_factory=dict)
    info: EntityInfo | None = None
    cited: Citations = field(default_factory=dict)
    redirect: str | None = None


def _ask(build: Output, kind: str, name: str, since: dt.date) -> _Ask:
    dates = tuple(build.state.name_dates("story", name)) if kind == "story" else ()
    return _Ask(kind, name, since, build.names.events(kind, name), dates)


def _read_thread(store: Store, ask: _Ask) -> _Read:
    """A name's reading for its pages (the store's alone: read ahead in another thread)."""
    kind, name = ask.kind, ask.name
    if kind == "category":
        return _read_category(store, ask)
    # An entity's or a story's thread is read whole: one query (the parts' queries each
    # join every event of the entity again: 2.4 times the time, measured at 150,000 events).
    if kind == "entity":
        thread = store.entity_thread(name)
        target = store.entity_target(name) if not thread else None
        if target is not None and store.entity_thread(target):  # merged into the article it leads to
            return _Read(total=0, redirect=target)
    else:
        thread = store.story_thread(name, ask.story_dates)
    if not thread:
        return _Read(total=0)
    dates = [date for _, date in thread]
    first_part, start = _changed_parts(ask.old_total, len(thread), bisect.bisect_left(dates, ask.since))
    if kind == "entity":
        company = store.entity_company(name)
        info = store.entity_info([name]).get(name)
    else:
        company = store.co_entity_counts([ident for ident, _ in thread], exclude=name)
        info = None
    tail = thread[start:]
    return _Read(
        total=len(thread),
        start=start,
        tail=tail,
        first_part=first_part,
        chart=monthly_dates(dates),
        company=company,
        info=info,
        cited=store.citations([ident for ident, _ in tail[-follow.FEED_SIZE :]]),
    )


def _read_category(store: Store, ask: _Ask) -> _Read:
    """A category's reading from the parts a change of ``since`` touches: it holds tens of
    thousands of events, whose months the store counts; only the events those parts show
    are read (half the time of reading the whole thread). No company, as in a full build."""
    months = store.thread_months("category", ask.name)
    total = sum(count for _, _, count in months)
    if not total:
        return _Read(total=0)
    before = store.thread_count_before("category", ask.name, ask.since)
    first_part, start = _changed_parts(ask.old_total, total, before)
    tail = store.thread_slice("category", ask.name, start, total - start)
    return _Read(
        total=total,
        start=start,
        tail=tail,
        first_part=first_part,
        chart=tuple(MonthCount(dt.date(year, month, 1), count) for year, month, count in months),
        cited=store.citations([ident for ident, _ in tail[-follow.FEED_SIZE :]]),
    )


def _update_thread(build: Output, ask: _Ask, read: _Read) -> None:
    kind, name = ask.kind, ask.name
    if read.redirect is not None:
        _emit_entity_redirect(build, name, read.redirect)
        return
    if not _settled(build, kind, name, read.total):
        return
    stem = build.names.stem(kind, name)
    assert stem is not None  # _settled saw it
    _make_thread(build, ask, stem, read)


def _settled(build: Output, kind: str, name: str, total: int) -> bool:
    """Whether a name's pages are to be made: a name whose events are all gone has its pages
    removed (and is forgotten); one the registry gives no page keeps none."""
    registry = build.names
    if not total:
        stem = registry.stem(kind, name) if registry.events(kind, name) else None
        if stem is not None:
            _remove_thread(build, stem)
        registry.drop(kind, name)
        return False
    return registry.stem(kind, name) is not None


def _changed_parts(old_total: int, total: int, changed_at: int) -> tuple[int, int]:
    """The first part a change at entry ``changed_at`` (of a thread of ``old_total``, now
    ``total`` entries) makes again, and the first entry those pages and the main page show."""
    archived_old, archived_new = _archived(old_total), _archived(total)
    # Part n holds entries (n-1)*size to n*size: it changes when one of them does, or
    # when it is the last part and the part after it came or went.
    first_part = changed_at // PAGE_SIZE + 1
    if archived_old != archived_new:
        first_part = min(first_part, max(1, min(archived_old, archived_new)))
    return first_part, min(first_part - 1, archived_new) * PAGE_SIZE  # the main page holds the rest


def _make_thread(build: Output, ask: _Ask, stem: str, read: _Read) -> None:
    """A name's pages from part ``read.first_part`` on, its main page and feed, from its
    events from the ``read.start``-th on; the parts after the last are removed."""
    index, registry = build.index, build.names
    kind, name, start, tail = ask.kind, ask.name, read.start, read.tail
    index.preload(ident for ident, _ in tail)
    entries: list[ThreadEntry | None] = [None] * start
    for ident, date in tail:
        entries.append(ThreadEntry(require_ref(index, ident).link, ident, date))
    co = _most_common(read.company, registry)
    pages = thread_pages(
        kind, name, stem, entries, co, chart=read.chart, first_part=read.first_part, info=read.info
    )
    _emit_thread(build, pages, read.total)
    _write_feed(build, kind, name, stem, entries, read.cited)
    archived_new = _archived(read.total)
    if archived_new < _archived(ask.old_total):
        _remove_thread(build, stem, parts_from=archived_new + 1)
    registry.set_events(kind, name, read.total)


def _emit_entity_redirect(build: Output, alias: str, target: str) -> None:
    """An entity title that redirects keeps its page's address: a redirect to the
    article's page (and its parts, if it had any, go)."""
    registry = build.names
    stem, target_stem = registry.stem("entity", alias), registry.stem("entity", target)
    if stem is None or target_stem is None or stem == target_stem:
        return
    page = EntityRedirectPage(stem, alias, Link(target, target_stem))
    shown = registry.display("entity", alias), registry.display("entity", target)
    build.emit(
        "entity-redirect",
        page,
        title=build.translate("{alias}: see {target}").format_map({"alias": shown[0], "target": shown[1]}),
    )
    _remove_thread(build, stem)  # the parts; the page itself was just made
    _remove_feed(build, stem)  # a redirect has no events to follow
    registry.set_events("entity", alias, 0)


def search_page(base_url: str = urls.DEFAULT_BASE_URL, edition: str = urls.DEFAULT_EDITION) -> str:
    """The static search page: the form, and the script that searches the prebuilt index."""
    return render_search_page(
        urls.link(urls.SEARCH_PAGE), script=urls.link(urls.SEARCH_SCRIPT), base_url=base_url, edition=edition
    )


def search_script() -> str:
    return resources.files("daybook.render").joinpath("templates/search.js").read_text(encoding="utf-8")


def search_docs(
    store: Store, index: SiteIndex | None = None, since: dt.date | None = None, skip: int = 0
) -> Iterator[search_index.SearchDoc]:
    """Every event as the static index holds it, in site order, with its page (of the
    days from ``since`` on, less the first ``skip``)."""
    if index is None:
        index = SiteIndex(store)
        index.load_all()
    rows = store.search_documents(since, skip)
    while batch := list(itertools.islice(rows, 5000)):
        index.preload(row[0] for row in batch)  # many days at once, not an event at a time
        for ident, date, text, names, ledes, titles in batch:
            if (ref := index.ref(ident)) is not None:
                # Titles first: short, they fit the doc row's snippet text before the ledes.
                more = " · ".join(line for field in (titles, ledes) for line in field.splitlines() if line)
                yield search_index.SearchDoc(ident, date, ref.headline, ref.stem, text, names, more)


SEARCH_GROUP = "search:"  # the group digest of the search index's docs (``_whole_index``)


def _whole_index(build: Output) -> None:
    """The whole search index, and its state; in a full build, kept as the last full build
    wrote it when its docs digest alike (``search_index.DocsDigest``) and its files are all
    there (a no-change rebuild then reads the docs but makes no file)."""
    state = build.state
    made_with = f"{inputs.code_fingerprint()}|{build.group_settings}"
    before = state.previous_groups.get(SEARCH_GROUP) if state.full else None
    if before is not None and state.old is not None:
        digest = search_index.DocsDigest(made_with)
        for _ in digest.through(search_docs(build.store, build.index)):
            pass
        if digest.hexdigest() == before and _keep_index(build):
            state.record_group(SEARCH_GROUP, before)
            return
    digest = search_index.DocsDigest(made_with)
    docs = digest.through(search_docs(build.store, build.index))
    files = search_index.build_index_state(state.conn, docs)
    if state.full:
        state.record_group(SEARCH_GROUP, digest.hexdigest())
    for path, content in files.items():
        build.writer.write(path, content)
    root = build.writer.root
    on_disk = (p.relative_to(root).as_posix() for p in (root / urls.SEARCH_INDEX_DIR).rglob("*.json"))
    for stale in [rel for rel in on_disk if rel not in files]:
        build.writer.remove(stale)


def _keep_index(build: Output) -> bool:
    """Keep the index files the last full build wrote, and its state of them; False (and
    nothing kept) if one is gone, or a killed build since wrote there."""
    state = build.state
    assert state.old is not None
    paths = state.previous_files(urls.SEARCH_INDEX_DIR + "/")
    if not paths or any(path in state.recovered for path in paths):
        return False
    try:
        search_index.copy_state(state.old, state.conn)
    except (search_index.IndexStateError, sqlite3.DatabaseError):
        return False
    # Copied first: files kept cannot be written again. Not kept, the index is made again,
    # which replaces the copy (``build_index_state``).
    return build.writer.keep_all(paths)


def write_search(build: Output, since: dt.date | None = None) -> None:
    """The search page, its script and its index; index files no longer part of it go.

    ``since``: only the events of that day and after changed (an incremental build):
    the index is updated from the state it keeps in the site's state, from the first
    doc file holding such an event on.
    """
    conn = build.state.conn
    search_index.ensure_schema(conn)
    update = None
    if since is not None:
        # Docs are the events in site order (every event has one): the first to write is
        # the first of the doc file holding the first event of ``since``.
        counts = build.index.day_counts
        days = [d for d in build.index.days if d < since]
        before = sum(counts[d] for d in days)
        start = before // search_index.CHUNK * search_index.CHUNK
        first = since
        while before > start:
            first = days.pop()
            before -= counts[first]
        docs = list(search_docs(build.store, build.index, since=first, skip=start - before))
        try:
            update = search_index.update_index(conn, start, docs, start + len(docs))
        except search_index.IndexStateError:
            update = None  # no state (a site built before it was kept): build it whole
    if update is not None:
        for path, content in update.files.items():
            build.writer.write(path, content)
        for path in update.removed:
            build.writer.remove(path)
    else:
        _whole_index(build)
    build.writer.write(urls.SEARCH_SCRIPT, search_script())
    build.writer.write(urls.SEARCH_PAGE, search_page(build.options.base_url, build.edition))
