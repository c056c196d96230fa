"""What a day's or a name's pages are made from, digested without making them.

A full build digests every page object (``state.page_digest``) to know which pages
changed; a rebuild of an unchanged store would still read every event and make every
page object first. So a full build also keeps in the site's state (``page_groups``) a
digest per group of pages: a day (its event pages and day page) and a name (an entity's,
story's or category's pages and feed). The digest covers what the group's page objects
are made from: the store rows they show, the headlines and paths of the events they
link, the names' addresses and how the edition names them, the build's options and
daybook's code. A group whose digest is the last full build's, and whose files are all
there, keeps its pages (and their page digests) without making them.

Whatever ``context.event_page``, ``context.summary``, ``context.day_page`` or
``explore.thread_pages`` read must be part of these digests: a page shown from an input
left out here would not be made again when only that input changes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable

from daybook.model import ArticleMeta, EntityInfo, Event, EventVersion
from daybook.publish.context import EventRef, SiteIndex
from daybook.publish.names import NameRegistry
from daybook.publish.state import renderer_fingerprint
from daybook.render.pages import ThreadEntry
from daybook.store import Store


@functools.cache
def code_fingerprint() -> str:
    """A digest of daybook's code (every module, the renderers' templates and catalogues):
    a change to what makes the page objects, not only what renders them, makes them again."""
    package = resources.files("daybook")
    digest = hashlib.blake2b(renderer_fingerprint().encode(), digest_size=16)
    for name in _sources(package):
        digest.update(name.encode())
        digest.update(package.joinpath(name).read_bytes())
    return digest.hexdigest()


def _sources(package: Traversable) -> list[str]:
    names = []
    todo = [""]
    while todo:
        at = todo.pop()
        for entry in (package.joinpath(at) if at else package).iterdir():
            rel = f"{at}/{entry.name}" if at else entry.name
            if entry.is_dir():
                if entry.name != "__pycache__":
                    todo.append(rel)
            elif entry.name.endswith(".py"):
                names.append(rel)
    return sorted(names)


def newest_days(
    days: Sequence[dt.date], counts: Mapping[dt.date, int], front_days: int, feed_events: int
) -> set[dt.date]:
    """The newest days whose pages and events the front page and feeds show (made whatever
    happens): the last ``front_days`` days, and as many more as hold the last ``feed_events``."""
    found: set[dt.date] = set()
    events = 0
    for date in reversed(days):
        if len(found) >= front_days and events >= feed_events:
            break
        found.add(date)
        events += counts.get(date, 0)
    return found


def _digest(parts: list[str]) -> str:
    text = "\x1f".join(parts)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class _Digest:
    """Texts digested one at a time, each ended by a separator: the digest of a group's
    inputs too large to join into one text first."""

    def __init__(self) -> None:
        self._hash = hashlib.blake2b(digest_size=16)

    def add(self, text: str) -> None:
        self._hash.update(text.encode("utf-8", "surrogatepass"))
        self._hash.update(b"\x1f")

    def add_slices(self, items: Sequence[object], size: int = 5_000) -> None:
        """A long sequence: its length, then ``size`` items at a time."""
        self.add(str(len(items)))
        for at in range(0, len(items), size):
            self.add(repr(items[at : at + size]))

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _shown(info: EntityInfo | None) -> tuple[str | None, ...] | None:
    """What a name's pages show of what the wiki says of it (not when it was asked)."""
    return None if info is None else (info.qid, info.description, info.zh_title)


def _ref(ref: EventRef | None) -> str:
    # A headline is free text: its length first, so no two lists of them join alike.
    headline = ref.headline if ref is not None else ""
    return "-" if ref is None else f"{ref.id} {ref.date.isoformat()} {ref.stem} {len(headline)}:{headline}"


class Links:
    """How each event and entity is linked, as the digests hold it, made once per build:
    an event is on many related lists and threads, an entity beside many others. Only for
    a build whose index no longer changes (a full build's, once every event is loaded)."""

    def __init__(self, index: SiteIndex, names: NameRegistry) -> None:
        self.index = index
        self.names = names
        self._events: dict[str, str] = {}
        self._entities: dict[str, str] = {}
        self._moved = 0

    def event(self, event_id: str) -> str:
        """``_ref`` of the event's ``SiteIndex.ref``."""
        found = self._events.get(event_id)
        if found is None:
            found = self._events[event_id] = _ref(self.index.ref(event_id))
        return found

    def entity(self, title: str) -> str:
        """The entity's page stem and name as the edition shows it."""
        if len(self.names.moved) != self._moved:  # a name took another's address: look again
            self._entities.clear()
            self._moved = len(self.names.moved)
        found = self._entities.get(title)
        if found is None:
            names = self.names
            found = self._entities[title] = f"{names.entity_stem(title)} {names.display('entity', title)!r}"
        return found


def day_inputs(
    settings: str,
    date: dt.date,
    index: SiteIndex,
    events: Sequence[Event],
    articles: Mapping[str, Sequence[ArticleMeta]],
    related: Mapping[str, Sequence[tuple[str, Sequence[str]]]],
    follow_ups: Mapping[str, Sequence[str]],
    versions: Mapping[str, Sequence[EventVersion]],
    links: Links,
) -> str:
    """The digest of what a day's pages (its events' pages and the day page) are made from:
    ``settings`` (the build's options and edition), the day's rows as the build read them,
    and what ``index`` says of the events, days and names they link (``links``: how each
    event and entity is linked)."""
    names = index.names
    ref = links.event
    shared: set[str] = set()  # the entities the related lists name (shown once below)
    parts = [
        code_fingerprint(),
        settings,
        date.isoformat(),
        repr(index.neighbour_dates(date)),
        repr(index.revision(date)),
    ]
    for event in events:
        ident = event.id
        parts.append("E" + repr(event))
        parts.append("I" + ref(ident))
        parts.append("A" + repr(articles.get(ident, [])))
        parts.append("D" + repr(sorted(index.source_dates(ident, event.date).items())))
        for related_id, context in related.get(ident, []):
            parts.append("R" + ref(related_id) + repr(context))
            shared.update(context)
        parts.extend("F" + ref(f) for f in follow_ups.get(ident, []))
        if event.parent:
            parts.append("P" + ref(event.parent))
        if event.story:
            earlier, later = index.story_neighbours(ident)
            parts.extend("<" + _ref(r) for r in earlier)
            parts.extend(">" + _ref(r) for r in later)
        parts.extend("N" + links.entity(t) for t in event.entities)
        parts.extend(f"S{names.story_stem(line)}" for line in event.story)
        parts.append("W" + repr(index.wikidata(event.entities)))
        parts.append("V" + repr(versions.get(ident, ())))
    parts.extend("C" + links.entity(t) for t in sorted(shared))
    return _digest(parts)


def all_threads_inputs(
    settings: str,
    threads: Sequence[tuple[str, dt.date, tuple[str, ...], tuple[str, ...]]],
    categories: Mapping[str, str],
    names: Sequence[tuple[str, str, str | None, str]],
    infos: Mapping[str, EntityInfo],
    cited: Mapping[str, object],
    alternates: Sequence[str | None],
    links: Links,
) -> str:
    """The digest of what every name's pages and feeds are made from (every input of each
    name's ``thread_inputs``, at once): every event's names (``threads``: id, date, story,
    entities) and category, and its link; every name's (kind, name, page stem, as shown),
    what the wiki says of each entity, every event's sources, and the entities' pages in
    the other editions (``alternates``)."""
    # Digested a slice at a time: at 150,000 events the whole text (and its encoded copy)
    # would be some 300 MB more at the full build's peak.
    digest = _Digest()
    add, add_slices = digest.add, digest.add_slices
    add(code_fingerprint())
    add(settings)
    add_slices(threads)
    add_slices(sorted(categories.items()))
    add_slices(names)
    for ident, _, _, _ in threads:
        add(links.event(ident))
    add(repr(sorted((title, _shown(info)) for title, info in infos.items())))
    add_slices(sorted(cited.items()))
    add(repr(alternates))
    return digest.hexdigest()


def all_days_inputs(
    settings: str, index: SiteIndex, store: Store, names: NameRegistry, links: Links, chunk: int = 31
) -> str:
    """The digest of what every day's pages are made from (every input of each day's
    ``day_inputs``, at once): the days, every day's rows as ``day_inputs`` has them (read
    ``chunk`` days at a time), every event's link, every entity's and story's slug and how
    the edition names entities, and the entities' Wikidata items."""
    digest = _Digest()
    add = digest.add

    add(code_fingerprint())
    add(settings)
    add(repr(index.day_counts))
    days = index.days
    for at in range(0, len(days), chunk):
        part = days[at : at + chunk]
        events = store.events(start=part[0], end=part[-1])
        ids = [e.id for e in events]
        add(repr(events))
        add(repr(store.article_metadata(ids)))
        # In an order of their own, not the rows' (which the store does not fix): the same
        # inputs digest alike whatever order the store happens to keep them in.
        add(repr(sorted((ident, sorted(found.items())) for ident, found in store.article_dates(ids).items())))
        add(repr(list(store.related_rows(ids))))
        add(repr(store.follow_ups(ids)))
        add(repr(store.event_versions(ids)))
        add(repr(store.read_revisions(part)))
        add("".join(links.event(ident) for ident in ids))
    add(repr(names.slugs()))
    add(repr(sorted(names.entity_names.items())))
    add(repr(sorted(store.entity_qids().items())))
    return digest.hexdigest()


def thread_inputs(
    settings: str,
    kind: str,
    name: str,
    stem: str,
    shown: str,
    entries: Sequence[ThreadEntry],
    co_entities: Sequence[tuple[str, int]],
    info: EntityInfo | None,
    sources: Sequence[object],
    alternates: Sequence[str | None],
    links: Links,
) -> str:
    """The digest of what a name's pages and feed are made from: ``settings``, its page's
    ``stem`` and the name as ``shown``, its events oldest first, the entities beside it
    (title and count: ``links`` says how each is shown and linked, as it says how each
    event is, by its ``SiteIndex.ref``), what the wiki says of it, the latest events'
    ``sources`` (its feed's), and its pages' addresses in the other editions (``alternates``)."""
    head = (settings, kind, name, stem, shown, list(co_entities), _shown(info))
    parts = [code_fingerprint(), repr(head)]
    parts.extend(links.entity(title) for title, _ in co_entities)
    # Each entry is the event's ref (its link and date): the event's link says it.
    parts.extend(links.event(e.id) for e in entries)
    parts.append(repr(list(sources)))
    parts.append(repr(list(alternates)))
    return _digest(parts)
