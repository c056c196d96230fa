"""Related events: for each event, the k events that share its most telling entities (pure).

Works over ``Item`` (event id, date, entity titles) only, through an inverted index
entity -> events (``daybook.relate_index``): no pair of events is ever compared
unless they share an entity.

Two rankers:

``shared``
    The original site's rule: most shared entities first, then the newer event, then
    the smaller id (stable).
``weighted`` (the default)
    Each shared entity counts by its rarity (``entity_weight``, an IDF-style weight).
    An entity held by more than ``common_share`` of all events (``United States``,
    ``COVID-19 pandemic``) is *common*: it adds only ``common_weight`` and cannot by
    itself make two events related, so one such entity can never flood a list; a
    related event must share at least one rare entity. Equal scores go to the event
    closer in time, then the newer, then the smaller id.

Either way the Context of a related event is the shared entities in alphabetical
order; an event is never related to itself, nor to an event sharing nothing.

``Relation`` keeps the index and every event's list and updates both when events
are removed and added (a day replaced): it re-ranks only the events whose list can
change and reports those whose list did change. Equality with a full recomputation
is by construction, since both run the same per-event function; an event is
re-ranked when

- it is new, or its list held a removed event;
- it holds an entity whose weight or common/rare status changed (weighted only);
  weights depend on the entity's own count alone (a fixed reference size stands in
  for the corpus size) and are quantised to 0.1, so most count changes move no
  weight, and the threshold of ``common`` moves only entities whose status flips;
- an added event can enter its list: it is eligible and its list is short or it
  beats the list's last entry. An event that is neither of these keeps exactly its
  list, because nothing it is scored against changed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import multiprocessing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from daybook.relate_index import SCALE, Computed, Index, context_key, entity_weight, key, top_k

__all__ = [
    "DEFAULT_K",
    "DEFAULT_RANKER",
    "RANKERS",
    "Item",
    "Ranker",
    "Related",
    "Relation",
    "RelationChange",
    "Settings",
    "context_order",
    "entity_weight",
    "relate",
]

Ranker = Literal["shared", "weighted"]
RANKERS: tuple[Ranker, ...] = ("shared", "weighted")
DEFAULT_RANKER: Ranker = "weighted"
DEFAULT_K = 10
# Below this many lists per process, forking workers costs more than it saves.
PARALLEL_MIN = 2000


@dataclass(frozen=True, slots=True)
class Item:
    """An event as relate sees it: its id, date and entity titles."""

    id: str
    date: dt.date
    entities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Related:
    """One entry of an event's list: the related event, its score and the shared entities."""

    id: str
    score: float
    context: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How lists are ranked. Defaults are those of ``daybook relate``."""

    ranker: Ranker = DEFAULT_RANKER
    k: int = DEFAULT_K
    #: weighted: an entity held by more than this share of events is common ...
    common_share: float = 0.01
    #: ... and by more than this many (a small archive has no common entity)
    common_floor: int = 100
    #: weighted: what a shared common entity adds, in tenths of a nat (a rare one adds 23 or more
    #: in a corpus under a million events): enough to break ties among rare matches, no more
    common_weight: int = 20

    def __post_init__(self) -> None:
        if self.ranker not in RANKERS:
            raise ValueError(f"unknown ranker {self.ranker!r}; expected one of {', '.join(RANKERS)}")
        if self.k < 1:
            raise ValueError(f"k must be at least 1, not {self.k}")

    def common_threshold(self, events: int) -> int:
        """An entity held by more events than this is common."""
        return max(self.common_floor, math.ceil(self.common_share * events))


@dataclass(frozen=True)
class RelationChange:
    """What an update did: events whose list is new or different, and events gone."""

    changed: tuple[str, ...]
    removed: tuple[str, ...]


def context_order(titles: Iterable[str]) -> tuple[str, ...]:
    """Entity titles in Context order: alphabetical, case-insensitive, then exact."""
    return tuple(sorted(titles, key=context_key))


def relate(items: Iterable[Item], settings: Settings | None = None) -> dict[str, tuple[Related, ...]]:
    """Every event's list, computed from scratch."""
    return Relation(items, settings).lists()


class Relation:
    """The index and every event's list, kept up to date by ``update``."""

    def __init__(
        self, items: Iterable[Item] = (), settings: Settings | None = None, *, workers: int = 1
    ) -> None:
        """Index ``items`` and compute every list, in up to ``workers`` processes."""
        self.settings = settings or Settings()
        self.workers = workers
        self._index = Index()
        self._lists: list[tuple[int, ...]] = []  # slot -> related slots, best first
        self._scores: list[tuple[int, ...]] = []  # and their scores, in SCALE units
        self._add(items)
        for slot, result in self._compute_many(self._index.live()):
            self._lists[slot], self._scores[slot] = result

    @classmethod
    def restore(
        cls,
        items: Iterable[Item],
        rows: Iterable[tuple[str, str, float]],
        settings: Settings | None = None,
        *,
        stale: Iterable[str] = (),
        workers: int = 1,
    ) -> Relation:
        """A relation as stored: ``items`` and the lists computed from them with ``settings``.

        ``rows`` are the stored lists as (event id, related id, score), each list's rows
        together and best first; events without rows have empty lists. Only the lists
        of ``stale`` events, which lost rows in storage, are computed (from ``items``).
        """
        relation = cls(settings=settings, workers=workers)
        relation._add(items)
        scale = SCALE[relation.settings.ranker]
        slot_of = relation._index.slot
        for event_id, entries in itertools.groupby(rows, key=lambda row: row[0]):
            slot = slot_of.get(event_id)
            if slot is None:
                continue
            kept = [(slot_of[other], round(score * scale)) for _, other, score in entries if other in slot_of]
            relation._lists[slot] = tuple(other for other, _ in kept)
            relation._scores[slot] = tuple(score for _, score in kept)
        damaged = sorted(slot_of[i] for i in stale if i in slot_of)
        for slot, result in relation._compute_many(damaged):
            relation._lists[slot], relation._scores[slot] = result
        return relation

    # -- reading ---------------------------------------------------------------

    def __len__(self) -> int:
        return self._index.size

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._index.slot

    def related(self, event_id: str) -> tuple[Related, ...]:
        """The list of one event, best first (KeyError if it is unknown)."""
        slot = self._index.slot[event_id]
        return self._entries(slot, self._lists[slot], self._scores[slot])

    def lists(self) -> dict[str, tuple[Related, ...]]:
        """Every event's list, by event id."""
        return dict(self.entries())

    def entries(self, ids: Iterable[str] | None = None) -> Iterator[tuple[str, tuple[Related, ...]]]:
        """Event ids with their lists, built one at a time: all events, or those given."""
        for event_id in ids if ids is not None else [self._index.ids[s] for s in self._index.live()]:
            yield event_id, self.related(event_id)

    def entity_count(self, title: str) -> int:
        """How many events hold the entity."""
        number = self._index.entity.get(title)
        return 0 if number is None else self._index.count(number)

    def _entries(self, slot: int, others: tuple[int, ...], scores: tuple[int, ...]) -> tuple[Related, ...]:
        ix = self._index
        scale = SCALE[self.settings.ranker]
        mine, titles, alpha = ix.sets[slot], ix.titles, ix.alpha
        return tuple(
            Related(ix.ids[other], score / scale, tuple([titles[x] for x in alpha[other] if x in mine]))
            for other, score in zip(others, scores, strict=True)
        )

    # -- updating --------------------------------------------------------------

    def update(self, *, removed: Iterable[str] = (), added: Iterable[Item] = ()) -> RelationChange:
        """Remove events by id and add events; re-rank only the lists that can change.

        An id both removed and added is replaced. Returns the events whose list is new
        or different (added events always count) and the events removed.
        """
        ix = self._index
        gone = [ix.slot[i] for i in dict.fromkeys(removed) if i in ix.slot]
        new_items = list(added)
        for item in new_items:
            if item.id in ix.slot and ix.slot[item.id] not in gone:
                raise ValueError(f"event {item.id} is already related; remove it first")
        # Entity counts before the change, to tell which weights it moves.
        touched = {x for s in gone for x in ix.ents[s]}
        touched.update(ix.entity[t] for i in new_items for t in i.entities if t in ix.entity)
        before = {x: ix.count(x) for x in touched}
        old_threshold = self.settings.common_threshold(ix.size)
        for slot in gone:
            ix.drop(slot)
            self._lists[slot], self._scores[slot] = (), ()
        fresh = set(self._add(new_items))
        for slot in fresh:
            for x in ix.ents[slot]:
                before.setdefault(x, 0)  # an entity no event held before

        gone_set = set(gone)
        redo = set(fresh)
        for slot in ix.live():
            if slot not in redo and gone_set.intersection(self._lists[slot]):
                redo.add(slot)
        if self.settings.ranker == "weighted":
            for x in self._reweighted(before, old_threshold):
                redo.update(ix.post[x])
        redo.update(self._entered(fresh, redo))

        changed = set(fresh)
        for slot, result in self._compute_many(sorted(redo)):
            old = (self._lists[slot], self._scores[slot])
            if result != old:
                self._lists[slot], self._scores[slot] = result
                # A replaced event has a new slot: compare what the page shows.
                if self._entries(slot, *result) != self._entries(slot, *old):
                    changed.add(slot)
        return RelationChange(
            changed=tuple(sorted(ix.ids[s] for s in changed)),
            removed=tuple(sorted(ix.ids[s] for s in gone if ix.ids[s] not in ix.slot)),
        )

    def _add(self, items: Iterable[Item]) -> range:
        added = self._index.add(items)
        self._lists.extend(() for _ in added)
        self._scores.extend(() for _ in added)
        return added

    def _reweighted(self, before: dict[int, int], old_threshold: int) -> set[int]:
        """Entities whose weight or common/rare status differs from before the update."""
        ix = self._index
        threshold = self.settings.common_threshold(ix.size)
        moved = set()
        for x, count in before.items():
            now = ix.count(x)
            if (count > old_threshold) != (now > threshold) or (
                now <= threshold and entity_weight(count) != entity_weight(now)
            ):
                moved.add(x)
        if threshold != old_threshold:
            low, high = sorted((threshold, old_threshold))
            moved.update(x for x, posts in enumerate(ix.post) if low < len(posts) <= high)
        return moved

    def _entered(self, fresh: set[int], redo: set[int]) -> set[int]:
        """Events not yet to be re-ranked whose list an added event can enter."""
        ix = self._index
        k = self.settings.k
        weighted = self.settings.ranker == "weighted"
        threshold = self.settings.common_threshold(ix.size)
        found: set[int] = set()
        for new in fresh:
            doors = ix.ents[new]
            if weighted:  # only a shared rare entity makes a weighted candidate
                doors = tuple(x for x in doors if ix.count(x) <= threshold)
            for x in doors:
                for slot in ix.post[x]:
                    if slot in redo or slot in found:
                        continue
                    have = self._lists[slot]
                    if len(have) < k or key(ix, self.settings, slot, new) > key(
                        ix, self.settings, slot, have[-1]
                    ):
                        found.add(slot)
        return found

    # -- computing -------------------------------------------------------------

    def _compute_many(self, slots: list[int]) -> list[tuple[int, Computed]]:
        """``top_k`` for each slot; in ``workers`` forked processes when that pays."""
        workers = min(self.workers, len(slots) // PARALLEL_MIN)
        if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return [(slot, top_k(self._index, self.settings, slot)) for slot in slots]
        global _forked
        _forked = self
        try:
            chunks = [slots[i::workers] for i in range(workers)]  # interleaved: even loads
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                results = pool.map(_compute_chunk, chunks)
        finally:
            _forked = None
        pairs = (zip(chunk, result, strict=True) for chunk, result in zip(chunks, results, strict=True))
        return list(itertools.chain.from_iterable(pairs))


# How a forked worker finds the relation: inherited with the process, not pickled.
_forked: Relation | None = None


def _compute_chunk(slots: list[int]) -> list[Computed]:
    """In a forked worker: the lists of ``slots``."""
    assert _forked is not None
    return [top_k(_forked._index, _forked.settings, slot) for slot in slots]
