"""Related events: for each event, the k events that share its most telling entities (pure).

Works over ``Item`` (event id, date, entity titles) only, through an inverted index
entity -> events; no pair of events is ever compared unless they share an entity.

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

- it is new, or its list held a removed event (or a hole left by one);
- it holds an entity whose weight or common/rare status changed (weighted only);
  weights depend on the entity's own count alone (a fixed reference size stands in
  for the corpus size) and are quantised to 0.1, so most count changes move no
  weight, and the threshold of ``common`` moves only entities whose status flips;
- an added event can enter its list: it is eligible and its list is short or it
  beats the list's last entry. An event that is neither of these keeps exactly its
  list, because nothing it is scored against changed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import heapq
import itertools
import math
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

Ranker = Literal["shared", "weighted"]
RANKERS: tuple[Ranker, ...] = ("shared", "weighted")
DEFAULT_RANKER: Ranker = "weighted"
DEFAULT_K = 10

# Weights are integers in tenths (of a nat for ``weighted``): sums are exact, so ties
# are real ties and an update compares exactly with a full recomputation.
SCALE = {"shared": 1, "weighted": 10}
# The weighted ranker's IDF is taken against this fixed size, about the whole portal's
# event count, not the current corpus size: a weight then moves only when its own
# entity's count does, which keeps incremental updates local.
REFERENCE_SIZE = 100_000
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


@functools.cache
def entity_weight(count: int) -> int:
    """The weight of a rare entity held by ``count`` events, in tenths of a nat (at least 1)."""
    return max(1, round(10 * math.log(REFERENCE_SIZE / max(count, 1))))


def context_key(title: str) -> tuple[str, str]:
    """Where a title sorts in a Context: alphabetical, case-insensitive, then exact."""
    return (title.casefold(), title)


def context_order(titles: Iterable[str]) -> tuple[str, ...]:
    """Entity titles in Context order."""
    return tuple(sorted(titles, key=context_key))


def relate(items: Iterable[Item], settings: Settings | None = None) -> dict[str, tuple[Related, ...]]:
    """Every event's list, computed from scratch."""
    return Relation(items, settings).lists()


Computed = tuple[tuple[int, ...], tuple[int, ...]]  # one list: related slots and their scores
Entry = tuple[int, ...]  # (score, tie-breaks..., slot): the greater the better
_forked: Relation | None = None


def _compute_chunk(slots: list[int]) -> list[Computed]:
    """In a forked worker: the lists of ``slots``."""
    assert _forked is not None
    return [_forked._compute(slot) for slot in slots]


class Relation:
    """The inverted index and every event's list, kept up to date by ``update``."""

    def __init__(
        self, items: Iterable[Item] = (), settings: Settings | None = None, *, workers: int = 1
    ) -> None:
        """Index ``items`` and compute every list, in up to ``workers`` processes."""
        self.settings = settings or Settings()
        self.workers = workers
        self._slot: dict[str, int] = {}
        self._ids: list[str] = []
        self._day: list[int] = []  # date ordinal
        self._ents: list[tuple[int, ...]] = []  # entity numbers, in the item's order
        self._sets: list[frozenset[int]] = []
        self._alpha: list[tuple[int, ...]] = []  # the same, in alphabetical order: Context order
        self._rank: list[int] = []  # newer first, then smaller id: 0 is first
        self._by_rank: list[int] = []  # rank -> slot
        self._alive: list[bool] = []
        self._entity: dict[str, int] = {}
        self._titles: list[str] = []
        self._collation: list[tuple[str, str]] = []  # entity -> its Context sort key
        self._post: list[list[int]] = []  # entity -> slots, in rank order
        self._holders: list[set[int]] = []  # entity -> the same slots, as a set
        self._lists: list[tuple[int, ...]] = []  # slot -> related slots, best first
        self._scores: list[tuple[int, ...]] = []  # and their scores, in SCALE units
        self._count = 0
        self._stale: set[int] = set()  # lists with a hole where a removed event was
        self._add(items)
        for slot, result in self._compute_many(list(range(len(self._ids)))):
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
        together and best first; events without rows have empty lists. Nothing is
        computed; the lists of ``stale`` events (damaged since) are recomputed by the
        next ``update``.
        """
        relation = cls(settings=settings, workers=workers)
        relation._add(items)
        scale = SCALE[relation.settings.ranker]
        slot_of = relation._slot
        for event_id, entries in itertools.groupby(rows, key=lambda row: row[0]):
            slot = slot_of.get(event_id)
            if slot is None:
                continue
            kept = [(slot_of[other], round(score * scale)) for _, other, score in entries if other in slot_of]
            relation._lists[slot] = tuple(other for other, _ in kept)
            relation._scores[slot] = tuple(score for _, score in kept)
        relation._stale = {slot_of[i] for i in stale if i in slot_of}
        return relation

    # -- reading ---------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._slot

    def related(self, event_id: str) -> tuple[Related, ...]:
        """The list of one event, best first (KeyError if it is unknown)."""
        slot = self._slot[event_id]
        return self._entries(slot, self._lists[slot], self._scores[slot])

    def _entries(self, slot: int, others: tuple[int, ...], scores: tuple[int, ...]) -> tuple[Related, ...]:
        scale = SCALE[self.settings.ranker]
        mine, titles, alpha = self._sets[slot], self._titles, self._alpha
        return tuple(
            Related(self._ids[other], score / scale, tuple([titles[x] for x in alpha[other] if x in mine]))
            for other, score in zip(others, scores, strict=True)
        )

    def lists(self) -> dict[str, tuple[Related, ...]]:
        """Every event's list, by event id."""
        return dict(self.entries())

    def entries(self, ids: Iterable[str] | None = None) -> Iterator[tuple[str, tuple[Related, ...]]]:
        """Event ids with their lists, built one at a time: all events, or those given."""
        for event_id in ids if ids is not None else [self._ids[s] for s in self._live()]:
            yield event_id, self.related(event_id)

    def entity_count(self, title: str) -> int:
        """How many events hold the entity."""
        number = self._entity.get(title)
        return 0 if number is None else len(self._post[number])

    # -- updating --------------------------------------------------------------

    def update(self, *, removed: Iterable[str] = (), added: Iterable[Item] = ()) -> RelationChange:
        """Remove events by id and add events; re-rank only the lists that can change.

        An id both removed and added is replaced. Returns the events whose list is new
        or different (added events always count) and the events removed.
        """
        gone = [self._slot[i] for i in dict.fromkeys(removed) if i in self._slot]
        new_items = list(added)
        for item in new_items:
            if item.id in self._slot and self._slot[item.id] not in gone:
                raise ValueError(f"event {item.id} is already related; remove it first")
        # Entity counts before the change, to tell which weights it moves.
        touched = {x for s in gone for x in self._ents[s]}
        touched.update(self._entity[t] for i in new_items for t in i.entities if t in self._entity)
        before = {x: len(self._post[x]) for x in touched}
        old_threshold = self._threshold()
        for slot in gone:
            self._drop(slot)
        first_new = len(self._ids)
        self._add(new_items)
        fresh = set(range(first_new, len(self._ids)))
        for slot in fresh:
            for x in self._ents[slot]:
                before.setdefault(x, 0)  # an entity no event held before

        gone_set = set(gone)
        stale = {s for s in self._stale if self._alive[s]}
        self._stale = set()
        redo = fresh | stale
        for slot in self._live():
            if slot not in redo and gone_set.intersection(self._lists[slot]):
                redo.add(slot)
        if self.settings.ranker == "weighted":
            for x in self._reweighted(before, old_threshold):
                redo.update(self._post[x])
        redo.update(self._entered(fresh, redo))

        changed = fresh | stale  # a stale list differs from the one last shown, whatever it is now
        for slot, result in self._compute_many(sorted(redo)):
            old = (self._lists[slot], self._scores[slot])
            if result != old:
                self._lists[slot], self._scores[slot] = result
                # A replaced event has a new slot: compare what the page shows.
                if self._entries(slot, *result) != self._entries(slot, *old):
                    changed.add(slot)
        return RelationChange(
            changed=tuple(sorted(self._ids[s] for s in changed)),
            removed=tuple(sorted(self._ids[s] for s in gone if self._ids[s] not in self._slot)),
        )

    def _reweighted(self, before: dict[int, int], old_threshold: int) -> set[int]:
        """Entities whose weight or common/rare status differs from before the update."""
        threshold = self._threshold()
        moved = set()
        for x, count in before.items():
            now = len(self._post[x])
            if (count > old_threshold) != (now > threshold) or (
                now <= threshold and entity_weight(count) != entity_weight(now)
            ):
                moved.add(x)
        if threshold != old_threshold:
            low, high = sorted((threshold, old_threshold))
            moved.update(x for x, posts in enumerate(self._post) if low < len(posts) <= high)
        return moved

    def _entered(self, fresh: set[int], redo: set[int]) -> set[int]:
        """Events not yet to be re-ranked whose list an added event can enter."""
        k = self.settings.k
        weighted = self.settings.ranker == "weighted"
        threshold = self._threshold()
        found: set[int] = set()
        for new in fresh:
            doors = self._ents[new]
            if weighted:  # only a shared rare entity makes a weighted candidate
                doors = tuple(x for x in doors if len(self._post[x]) <= threshold)
            for x in doors:
                for slot in self._post[x]:
                    if slot in redo or slot in found:
                        continue
                    have = self._lists[slot]
                    if len(have) < k or self._key(slot, new) > self._key(slot, have[-1]):
                        found.add(slot)
        return found

    # -- the index -------------------------------------------------------------

    def _threshold(self) -> int:
        return self.settings.common_threshold(self._count)

    def _live(self) -> list[int]:
        return [s for s, alive in enumerate(self._alive) if alive]

    def _add(self, items: Iterable[Item]) -> None:
        first = len(self._ids)
        for item in items:
            if item.id in self._slot:
                raise ValueError(f"duplicate event id {item.id}")
            numbers = []
            for title in dict.fromkeys(item.entities):
                number = self._entity.get(title)
                if number is None:
                    number = self._entity[title] = len(self._titles)
                    self._titles.append(title)
                    self._collation.append(context_key(title))
                    self._post.append([])
                    self._holders.append(set())
                numbers.append(number)
            self._slot[item.id] = len(self._ids)
            self._ids.append(item.id)
            self._day.append(item.date.toordinal())
            self._ents.append(tuple(numbers))
            self._sets.append(frozenset(numbers))
            self._alpha.append(tuple(sorted(numbers, key=self._collation.__getitem__)))
            self._alive.append(True)
            self._lists.append(())
            self._scores.append(())
            self._count += 1
        if len(self._ids) == first:
            return
        # Rank every live event again; old events keep their relative order, so the
        # posting lists stay sorted and new events are merged into the ones they touch.
        order = sorted(self._live(), key=lambda s: (-self._day[s], self._ids[s]))
        self._by_rank = order
        self._rank = [0] * len(self._ids)
        for position, slot in enumerate(order):
            self._rank[slot] = position
        rank = self._rank
        touched: set[int] = set()
        for slot in range(first, len(self._ids)):
            for x in self._ents[slot]:
                self._post[x].append(slot)
                self._holders[x].add(slot)
                touched.add(x)
        for x in touched:
            self._post[x].sort(key=rank.__getitem__)

    def _drop(self, slot: int) -> None:
        for x in self._ents[slot]:
            self._post[x].remove(slot)
            self._holders[x].discard(slot)
        del self._slot[self._ids[slot]]
        self._alive[slot] = False
        self._lists[slot], self._scores[slot] = (), ()
        self._count -= 1

    # -- ranking ---------------------------------------------------------------

    def _key(self, slot: int, other: int) -> tuple[int, ...]:
        """How good ``other`` is for ``slot``'s list: greater is better."""
        mine = self._ents[slot]
        theirs = self._sets[other]
        if self.settings.ranker == "shared":
            return (sum(1 for x in mine if x in theirs), -self._rank[other])
        weights = self._weights(mine)
        score = sum(w for x, w in zip(mine, weights, strict=True) if x in theirs)
        return (score, -abs(self._day[other] - self._day[slot]), -self._rank[other])

    def _weights(self, entities: tuple[int, ...]) -> list[int]:
        threshold = self._threshold()
        common = self.settings.common_weight
        return [entity_weight(n) if (n := len(self._post[x])) <= threshold else common for x in entities]

    def _compute_many(self, slots: list[int]) -> list[tuple[int, Computed]]:
        """``_compute`` for each slot; in ``workers`` forked processes when that pays."""
        workers = min(self.workers, len(slots) // PARALLEL_MIN)
        if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return [(slot, self._compute(slot)) for slot in slots]
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

    def _compute(self, slot: int) -> Computed:
        """One event's list (related slots, best first) and their scores."""
        if self.settings.ranker == "shared":
            return self._top_shared(slot)
        return self._top_weighted(slot)

    def _top_shared(self, slot: int) -> Computed:
        # Every entity's list is walked, rarest first; each shared entity counts 1, and
        # among equal counts the newest wins.
        k = self.settings.k
        post, rank, sets = self._post, self._rank, self._sets
        mine = sets[slot]
        walk = sorted(self._ents[slot], key=lambda x: len(post[x]))

        def keyed(count: int, j: int, part: set[int], need: int) -> list[Entry]:
            return [(count, -rank[o], o) for o in self._newest(post[walk[j]], part, need)]

        def head(count: int, j: int, seen: set[int], worst: Entry | None) -> list[Entry]:
            # Only unseen members of list j sharing ``count`` can enter, newer than the
            # worst entry if the list is full: the list is read from its head.
            members: Iterable[int] = (o for o in post[walk[j]] if o not in seen)
            if worst is not None:
                members = itertools.takewhile(lambda o: -rank[o] > worst[1], members)
            found = [(len(mine & sets[o]), -rank[o], o) for o in itertools.islice(members, k)]
            return [e for e in found if e[0] == count]

        return self._search(slot, walk, [], dict.fromkeys(walk, 1), keyed, head)

    def _top_weighted(self, slot: int) -> Computed:
        # Only rare entities' lists are walked, heaviest first (a common one alone
        # relates nothing); common ones still add their weight. Among equal scores the
        # closest in time wins, then the newest.
        post, rank, days = self._post, self._rank, self._day
        threshold = self._threshold()
        mine = self._ents[slot]
        counts = {x: len(post[x]) for x in mine}
        weight_of = {
            x: entity_weight(n) if n <= threshold else self.settings.common_weight for x, n in counts.items()
        }
        walk = sorted((x for x, n in counts.items() if n <= threshold), key=counts.__getitem__)
        commons = [x for x, n in counts.items() if n > threshold]

        def keyed(score: int, j: int, part: set[int], need: int) -> list[Entry]:
            closest = self._closest(days[slot], post[walk[j]], part, need)
            return [(score, -gap, -rank[o], o) for gap, o in closest]

        return self._search(slot, walk, commons, weight_of, keyed, None)

    def _search(
        self,
        slot: int,
        walk: list[int],
        commons: list[int],
        weight_of: dict[int, int],
        keyed: Callable[[int, int, set[int], int], list[Entry]],
        head: Callable[[int, int, set[int], Entry | None], list[Entry]] | None,
    ) -> Computed:
        """The best k entries for ``slot``, by branch and bound over set operations (in C).

        The lists of the entities in ``walk`` are read in that order; a candidate first
        met in list j holds none of the entities before it, so it scores at most the
        weight of ``walk[j:]`` and ``commons``. A node is a part of list j whose members
        hold exactly the entities chosen so far among those it was split on (the rest
        of ``walk``, then ``commons``); splitting on the next gives the part holding it
        and the part without. Nodes are taken by the best score their members could
        reach, so once the k-th entry is above that, nothing is left to look at. A fully
        split part has one score; ``keyed`` makes entries of its best members only (as
        many as can still enter).

        ``head``, where ties go to the newest, reads a list from its head instead when
        only members scoring all it can may still enter (the last list, or a full one).
        """
        k = self.settings.k
        holders = self._holders
        order = (*walk, *commons)
        split = [order[j + 1 :] for j in range(len(walk))]
        reach = list(itertools.accumulate(reversed([weight_of[x] for x in order])))[::-1]
        best: list[Entry] = []
        seen = {slot}
        # (-reachable, -score, depth, tiebreak, list, part); part None: list not read yet
        nodes: list[tuple[int, int, int, int, int, set[int] | None]] = []
        if walk:
            nodes.append((-reach[0], 0, 0, 0, 0, None))
        counter = 1
        while nodes:
            node = heapq.heappop(nodes)
            while True:  # a node, then the child of it that is still the best
                reachable, score, depth, _, j, part = node
                if len(best) == k and -reachable < best[-1][0]:
                    return tuple(e[-1] for e in best), tuple(e[0] for e in best)
                if part is None:  # open list j, and queue list j + 1 behind it
                    score = -weight_of[walk[j]]
                    if j + 1 < len(walk):
                        heapq.heappush(nodes, (-reach[j + 1], 0, 0, counter, j + 1, None))
                        counter += 1
                    if head is not None and not split[j]:
                        worst = best[-1] if len(best) == k else None
                        best = heapq.nlargest(k, best + head(-reachable, j, seen, worst))
                        break
                    part = holders[walk[j]].difference(seen)
                    seen.update(part)
                if depth == len(split[j]):
                    if part:  # at most k minus those already scoring more can enter from here
                        need = k - sum(1 for e in best if e[0] > -score)
                        best = heapq.nlargest(k, best + keyed(-score, j, part, need))
                    break
                y = split[j][depth]
                inside = part & holders[y]
                counter += 1
                if not inside:  # none holds y: the part can reach less, so maybe another node is next
                    node = heapq.heappushpop(
                        nodes, (reachable + weight_of[y], score, depth + 1, counter, j, part)
                    )
                    continue
                if len(inside) < len(part):
                    heapq.heappush(
                        nodes, (reachable + weight_of[y], score, depth + 1, counter, j, part - inside)
                    )
                    counter += 1
                node = (reachable, score - weight_of[y], depth + 1, counter, j, inside)
        return tuple(e[-1] for e in best), tuple(e[0] for e in best)

    def _newest(self, ranked: list[int], group: set[int], n: int) -> list[int]:
        """The ``n`` newest members of ``group``, which ``ranked`` holds in rank order."""
        if len(group) <= 4 * n or len(group) ** 2 <= n * len(ranked):  # cheaper to look at all
            by_rank = self._by_rank
            return [by_rank[r] for r in heapq.nsmallest(n, map(self._rank.__getitem__, group))]
        found: list[int] = []
        for other in ranked:
            if other in group:
                found.append(other)
                if len(found) == n:
                    break
        return found

    def _closest(self, day: int, ranked: list[int], group: set[int], n: int) -> list[tuple[int, int]]:
        """(gap in days, slot) of the ``n`` members of ``group`` closest in time, best first.

        Equal gaps go to the newer. A large group is walked outwards from the event's
        date in ``ranked`` (which holds it in rank order), so it costs only what is near.
        """
        days, rank = self._day, self._rank
        near: Iterable[int] = group
        if len(group) > 4 * n and len(group) ** 2 > n * len(ranked):
            near = self._near(day, ranked, group, n)
        width = len(rank)  # above every rank: (gap, rank) packed in one int sorts fast
        keys = heapq.nsmallest(n, [abs(days[o] - day) * width + rank[o] for o in near])
        return [(key // width, self._by_rank[key % width]) for key in keys]

    def _near(self, day: int, ranked: list[int], group: set[int], n: int) -> list[int]:
        """At least the ``n`` members of ``group`` closest to ``day``, and all as close."""
        days = self._day
        upper = bisect.bisect_left(ranked, -day, key=lambda o: -days[o])  # first not newer
        lower = upper - 1
        picked: list[int] = []
        reached = 0
        while lower >= 0 or upper < len(ranked):
            above = days[ranked[lower]] - day if lower >= 0 else None
            below = day - days[ranked[upper]] if upper < len(ranked) else None
            if below is None or (above is not None and above <= below):
                gap, other = above, ranked[lower]
                lower -= 1
            else:
                gap, other = below, ranked[upper]
                upper += 1
            assert gap is not None
            if len(picked) >= n and gap > reached:
                break
            if other in group:
                picked.append(other)
                reached = gap
        return picked
