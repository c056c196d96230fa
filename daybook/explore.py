"""Explore: entity and story pages, and the built site's own search (issue 7).

Publish calls ``build_explore`` once the day pages are out, when every event's path
is known (``SiteIndex``). Every entity and every story line gets a page: its events
(an entity's newest first, a story's oldest first by month), its events per month
as a chart, and the entities most often beside it. A long one is split into parts
that stay as they are when events are added (``parts``). Pages go through the
build's ``emit``, so the page cache renders again only those whose content changed.
Last come the search page, its script and its prebuilt index (``search_index``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import TYPE_CHECKING

from daybook import search_index, urls
from daybook.context import SiteIndex
from daybook.pages import Link, MonthCount, ThreadEntry, ThreadPage
from daybook.render import data as page_data
from daybook.render import html
from daybook.store import Store

if TYPE_CHECKING:  # publish imports this module
    from daybook.publish import Build

PAGE_SIZE = 100
CO_ENTITIES = 12
PREFIXES = ("entity/", "story/")


def parts(total: int, size: int = PAGE_SIZE) -> list[tuple[int | None, int, int]]:
    """How a thread of ``total`` events, oldest first, is split: (part, start, end).

    Parts 1, 2... hold ``size`` events each from the oldest; the main page (part
    None) holds the rest, ``size`` to ``2 * size - 1`` events (all of them, if fewer).
    A new event thus changes the main page alone, until its oldest ``size`` events
    move out into a new part.
    """
    archived = max(0, (total - size) // size)
    return [(n + 1, n * size, (n + 1) * size) for n in range(archived)] + [(None, archived * size, total)]


def monthly(entries: Sequence[ThreadEntry]) -> tuple[MonthCount, ...]:
    """Events per month, months with events only, oldest first."""
    counts = Counter(entry.date.replace(day=1) for entry in entries)
    return tuple(MonthCount(month, n) for month, n in sorted(counts.items()))


def thread_pages(
    kind: str,
    name: str,
    stem: str,
    entries: Sequence[ThreadEntry],
    co_entities: tuple[tuple[Link, int], ...] = (),
) -> list[ThreadPage]:
    """The pages of one entity or story, from its events oldest first."""
    main = Link(name, stem)
    split = parts(len(entries))
    links = [
        main
        if part is None
        else Link(f"{name}, part {part}", urls.part_path(stem, part, "md").removesuffix(".md"))
        for part, _, _ in split
    ]
    pages = []
    for at, (part, start, end) in enumerate(split):
        chunk = tuple(entries[start:end])
        pages.append(
            ThreadPage(
                kind=kind,
                stem=links[at].stem,
                name=name,
                events=chunk[::-1] if kind == "entity" else chunk,
                main=main,
                part=part,
                total=len(entries) if part is None else None,
                chart=monthly(entries) if part is None else (),
                co_entities=co_entities if part is None else (),
                newer=links[at + 1] if at + 1 < len(links) else None,
                older=links[at - 1] if at > 0 else None,
            )
        )
    return pages


def _most_common(counts: Counter[str], names: dict[str, str]) -> tuple[tuple[Link, int], ...]:
    best = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:CO_ENTITIES]
    return tuple((Link(title, names[title]), n) for title, n in best if title in names)


def build_explore(build: Build) -> None:
    """Every entity and story page, then the search page and index; pages of names no
    event holds any more are removed."""
    store, index = build.store, build.index
    threads = list(store.event_threads())
    index.preload(ident for ident, _, _, _ in threads)  # a day at a time, where not known yet
    by_entity: dict[str, list[ThreadEntry]] = defaultdict(list)
    by_story: dict[str, list[ThreadEntry]] = defaultdict(list)
    holds: dict[str, tuple[str, ...]] = {}  # event id -> its entities
    for ident, date, story, entities in threads:
        ref = index.ref(ident)
        if ref is None:  # gone since the build began
            continue
        entry = ThreadEntry(ref.link, ident, date)
        holds[ident] = entities
        for title in entities:
            by_entity[title].append(entry)
        for line in dict.fromkeys(story):
            by_story[line].append(entry)
    entity_stems = {t: s for t in by_entity if (s := index.names.entity_stem(t)) is not None}
    emitted: set[str] = set()

    def emit_all(kind: str, name: str, stem: str, entries: list[ThreadEntry]) -> None:
        together = Counter(t for e in entries for t in holds[e.id] if t != name)
        for page in thread_pages(kind, name, stem, entries, _most_common(together, entity_stems)):
            if page.part is None:
                build.emit(kind, page, title=name, description=f"{len(entries)} events: {name}")
            else:  # nothing on a part may depend on the events after it
                build.emit(kind, page, title=f"{name}, part {page.part}")
            emitted.add(page.stem)

    for title, entries in sorted(by_entity.items()):
        if title in entity_stems:
            emit_all("entity", title, entity_stems[title], entries)
    for line, entries in sorted(by_story.items()):
        if (stem := index.names.story_stem(line)) is not None:
            emit_all("story", line, stem, entries)
    # An incremental build starts from the last build's pages: drop those no name has now.
    for stem in [s for s in build.cache.pages if s.startswith(PREFIXES) and s not in emitted]:
        build.remove_page(stem)
        del build.cache.pages[stem]
    if "html" in build.options.formats:
        write_search(build)


def search_page() -> str:
    """The static search page: the form, and the script that searches the prebuilt index."""
    data = {
        "kind": "search",
        "formats": None,
        "source": page_data.PORTAL_URL,
        "license": {"name": page_data.LICENSE, "url": page_data.LICENSE_URL},
        "action": urls.link(urls.SEARCH_PAGE),
        "query": "",
        "status": "",
        "results": None,
        "script": urls.link(urls.SEARCH_SCRIPT),
    }
    return html.render("search.html", data, title="Search")


def search_script() -> str:
    return resources.files("daybook.render").joinpath("templates/search.js").read_text(encoding="utf-8")


def search_docs(store: Store, index: SiteIndex | None = None) -> Iterator[search_index.SearchDoc]:
    """Every event as the static index holds it, in site order, with its page."""
    if index is None:
        index = SiteIndex(store)
        index.load_all()
    for ident, date, text, names, ledes in store.search_documents():
        if (ref := index.ref(ident)) is not None:
            yield search_index.SearchDoc(ident, date, ref.headline, ref.stem, f"{text}\n{ledes}", names)


def write_search(build: Build) -> None:
    """The search page, its script and its index; index files no longer part of it go."""
    files = search_index.build_index(search_docs(build.store, build.index))
    for path, content in files.items():
        build.writer.write(path, content)
    build.writer.write(urls.SEARCH_SCRIPT, search_script())
    build.writer.write(urls.SEARCH_PAGE, search_page())
    root = build.writer.root
    on_disk = (p.relative_to(root).as_posix() for p in (root / urls.SEARCH_INDEX_DIR).rglob("*.json"))
    for stale in [rel for rel in on_disk if rel not in files]:
        build.writer.remove(stale)
