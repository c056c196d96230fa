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
from collections import defaultdict
from collections.abc import Iterable

from daybook import urls
from daybook.pages import Link


def _tag(name: str) -> str:
    return hashlib.blake2b(name.encode("utf-8"), digest_size=4).hexdigest()


def _bare_first(name: str) -> tuple[bool, str]:
    return (not name.isascii(), name)


def assign_slugs(names: Iterable[str]) -> dict[str, str]:
    """A unique slug for every name (see the module docstring for the rule)."""
    by_slug: dict[str, list[str]] = defaultdict(list)
    for name in set(names):
        by_slug[urls.slugify(name, fallback=f"x-{_tag(name)}")].append(name)
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


class NameIndex:
    """The page stem (path without extension) of every entity and story of the store."""

    def __init__(self, entities: Iterable[str], stories: Iterable[str]) -> None:
        self.entity_slugs = assign_slugs(entities)
        self.story_slugs = assign_slugs(stories)

    def entity_stem(self, title: str) -> str | None:
        slug = self.entity_slugs.get(title)
        return None if slug is None else urls.entity_path(slug, "md").removesuffix(".md")

    def story_stem(self, name: str) -> str | None:
        slug = self.story_slugs.get(name)
        return None if slug is None else urls.story_path(slug, "md").removesuffix(".md")

    def entity_links(self, titles: Iterable[str]) -> tuple[Link, ...]:
        """Links to these entities' pages, in the order given."""
        return tuple(Link(t, stem) for t in titles if (stem := self.entity_stem(t)) is not None)

    def story_links(self, names: Iterable[str]) -> tuple[Link, ...]:
        """Links to these story lines' pages, in the order given."""
        return tuple(Link(n, stem) for n in names if (stem := self.story_stem(n)) is not None)
