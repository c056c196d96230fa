"""Where each entity's and story's page lives: one slug per name, unique and stable.

Two names can slugify alike (``C`` and ``C++``, ``Kharkiv`` and ``Kharkív``). Among
such names the bare slug goes to the one that sorts first by a fixed key (plain
ASCII before anything else, then code point order); each of the others gets the
slug plus a short hash of its own name. A name's path thus depends on its own text
and, only when it collides, on the names it collides with: adding a new name never
moves an existing page, except when the new name takes over a bare slug (rare,
and it moves only that one page).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from daybook import urls
from daybook.render.pages import Link


def _tag(name: str) -> str:
    return hashlib.blake2b(name.encode("utf-8"), digest_size=4).hexdigest()


def _bare_first(name: str) -> tuple[bool, str]:
    return (not name.isascii(), name)


def assign_slugs(names: Iterable[str], base: Callable[[str], str] | None = None) -> dict[str, str]:
    """A unique slug for every name (see the module docstring for the rule); ``base``:
    a name's bare slug (default: ``urls.slugify`` of the name)."""
    base = base or _base
    by_slug: dict[str, list[str]] = defaultdict(list)
    for name in set(names):
        by_slug[base(name)].append(name)
    slugs: dict[str, str] = {}
    tagged: list[str] = []
    for slug, group in by_slug.items():
        group.sort(key=_bare_first)
        slugs[group[0]] = slug
        for name in group[1:]:
            slugs[name] = f"{slug}-{_tag(name)}"
            tagged.append(name)
    # A tagged slug could, in theory, equal another name's bare slug: tag it again.
    taken = {slugs[group[0]] for group in by_slug.values()}
    for name in sorted(tagged):
        while slugs[name] in taken:
            slugs[name] = f"{slugs[name]}-{_tag(slugs[name] + name)}"
        taken.add(slugs[name])
    return slugs


def _stem(kind: str, slug: str | None) -> str | None:
    """The page stem of an entity's, story's or category's slug."""
    if slug is None:
        return None
    if kind == "category":
        return urls.category_stem(slug)
    return (urls.entity_stem if kind == "entity" else urls.story_stem)(slug)


class Names:
    """Where each entity's and story's page lives; ``slug`` is the subclass's to give."""

    def slug(self, kind: str, name: str) -> str | None:
        raise NotImplementedError

    def display(self, kind: str, name: str) -> str:
        """How the edition names it: the name itself, unless an edition says otherwise."""
        return name

    def stem(self, kind: str, name: str) -> str | None:
        return _stem(kind, self.slug(kind, name))

    def entity_stem(self, title: str) -> str | None:
        return self.stem("entity", title)

    def story_stem(self, name: str) -> str | None:
        return self.stem("story", name)

    def entity_links(self, titles: Iterable[str]) -> tuple[Link, ...]:
        """Links to these entities' pages, in the order given."""
        return tuple(
            Link(self.display("entity", t), stem) for t in titles if (stem := self.entity_stem(t)) is not None
        )

    def story_links(self, names: Iterable[str]) -> tuple[Link, ...]:
        """Links to these story lines' pages, in the order given."""
        return tuple(Link(n, stem) for n in names if (stem := self.story_stem(n)) is not None)


class NameIndex(Names):
    """The page stem (path without extension) of every entity and story of the store."""

    def __init__(
        self, entities: Iterable[str], stories: Iterable[str], categories: Iterable[str] = ()
    ) -> None:
        self.entity_slugs = assign_slugs(entities)
        self.story_slugs = assign_slugs(stories)
        self.category_slugs = assign_slugs(categories)

    def slug(self, kind: str, name: str) -> str | None:
        if kind == "category":
            return self.category_slugs.get(name)
        return (self.entity_slugs if kind == "entity" else self.story_slugs).get(name)


class NameRegistry(Names):
    """Every name's slug as the site state keeps it (``state.SiteState``): looked
    up one name at a time, and assigned as names appear and go, by the rule of
    ``assign_slugs``, without reading every name of the archive.

    A name that takes over a bare slug, or gets it back when the name holding it goes,
    moves its page: ``moved`` lists (kind, name, old stem) for the build to follow.
    """

    def __init__(self, conn: sqlite3.Connection, entity_names: Mapping[str, str] | None = None) -> None:
        self.conn = conn
        self._slugs: dict[tuple[str, str], str | None] = {}
        self._stems: dict[tuple[str, str], str | None] = {}  # (kind, name) -> stem, as looked up
        self.moved: list[tuple[str, str, str]] = []
        # An edition's own names of entities (the Chinese edition's: Chinese Wikipedia's
        # titles), which its pages show and its entity slugs are made from.
        self.entity_names: Mapping[str, str] = entity_names or {}

    def display(self, kind: str, name: str) -> str:
        return self.entity_names.get(name, name) if kind == "entity" else name

    def _base_of(self, kind: str, name: str) -> str:
        """A name's bare slug: of the edition's own name of it, where it has one."""
        own = self.entity_names.get(name) if kind == "entity" else None
        return _base(name) if own is None else urls.slugify_name(own, fallback=_base(name))

    def entity_stems(self) -> dict[str, str]:
        """Every entity's page stem (for another edition's links to them)."""
        rows = self.conn.execute("SELECT name, slug FROM names WHERE kind = 'entity'")
        return {name: urls.entity_stem(slug) for name, slug in rows}

    def fill(self, entities: Iterable[str], stories: Iterable[str]) -> None:
        """Assign every name at once (a full build)."""
        self.conn.execute("DELETE FROM names")
        self._slugs.clear()
        self._stems.clear()
        for kind, names in (("entity", entities), ("story", stories)):
            bases = {name: self._base_of(kind, name) for name in names}  # each slugified once
            slugs = assign_slugs(bases, bases.__getitem__)
            self.conn.executemany(
                "INSERT INTO names (kind, name, base, slug, events) VALUES (?, ?, ?, ?, 0)",
                ((kind, name, bases[name], slug) for name, slug in slugs.items()),
            )
            # Known now: each page linking a name need not look it up.
            self._slugs.update(((kind, name), slug) for name, slug in slugs.items())

    def stem(self, kind: str, name: str) -> str | None:
        # Asked for again and again (every page linking a name): kept once made.
        key = (kind, name)
        try:
            return self._stems[key]
        except KeyError:
            found = self._stems[key] = _stem(kind, self.slug(kind, name))
            return found

    def slug(self, kind: str, name: str) -> str | None:
        """The slug of a name some event holds (assigned now if it is new)."""
        key = (kind, name)
        if key not in self._slugs:
            row = self.conn.execute("SELECT slug FROM names WHERE kind = ? AND name = ?", key).fetchone()
            self._slugs[key] = row[0] if row else self._assign(kind, name)
        return self._slugs[key]

    def events(self, kind: str, name: str) -> int:
        """How many events held the name at the last build (0: a new name)."""
        row = self.conn.execute(
            "SELECT events FROM names WHERE kind = ? AND name = ?", (kind, name)
        ).fetchone()
        return int(row[0]) if row else 0

    def set_events(self, kind: str, name: str, count: int) -> None:
        self.conn.execute("UPDATE names SET events = ? WHERE kind = ? AND name = ?", (count, kind, name))

    def slugs(self) -> list[tuple[str, str, str]]:
        """Every name's slug, (kind, name, slug) sorted."""
        return self.conn.execute("SELECT kind, name, slug FROM names ORDER BY kind, name").fetchall()

    def set_events_many(self, counts: Iterable[tuple[str, str, int]]) -> None:
        """``set_events`` of many names at once: (kind, name, count)."""
        self.conn.executemany(
            "UPDATE names SET events = ? WHERE kind = ? AND name = ?", ((n, k, name) for k, name, n in counts)
        )

    def drop(self, kind: str, name: str) -> None:
        """No event holds the name any more; a name sharing its bare slug may now take it."""
        row = self.conn.execute(
            "SELECT base, slug FROM names WHERE kind = ? AND name = ?", (kind, name)
        ).fetchone()
        self._slugs.pop((kind, name), None)
        self._stems.pop((kind, name), None)
        if row is None:
            return
        base, slug = row
        self.conn.execute("DELETE FROM names WHERE kind = ? AND name = ?", (kind, name))
        if slug != base:
            return
        group = [
            r[0]
            for r in self.conn.execute("SELECT name FROM names WHERE kind = ? AND base = ?", (kind, base))
        ]
        if group:
            self._move(kind, min(group, key=_bare_first), base)

    def _assign(self, kind: str, name: str) -> str:
        base = self._base_of(kind, name)
        group = dict(
            self.conn.execute("SELECT name, slug FROM names WHERE kind = ? AND base = ?", (kind, base))
        )
        if not group:
            slug = base
        elif min([*group, name], key=_bare_first) == name:
            owner = next((n for n, s in group.items() if s == base), None)
            if owner is not None:
                self._move(kind, owner, self._tagged(kind, owner, base))
            slug = base
        else:
            slug = self._tagged(kind, name, base)
        self.conn.execute(
            "INSERT INTO names (kind, name, base, slug, events) VALUES (?, ?, ?, ?, 0)",
            (kind, name, base, slug),
        )
        return slug

    def _tagged(self, kind: str, name: str, base: str) -> str:
        slug = f"{base}-{_tag(name)}"
        while self.conn.execute("SELECT 1 FROM names WHERE kind = ? AND slug = ?", (kind, slug)).fetchone():
            slug = f"{slug}-{_tag(slug + name)}"
        return slug

    def _move(self, kind: str, name: str, slug: str) -> None:
        old = self.stem(kind, name)
        self.conn.execute("UPDATE names SET slug = ? WHERE kind = ? AND name = ?", (slug, kind, name))
        self._slugs[(kind, name)] = slug
        self._stems.pop((kind, name), None)
        if old is not None:
            self.moved.append((kind, name, old))


def _base(name: str) -> str:
    return urls.slugify(name, fallback=f"x-{_tag(name)}")
