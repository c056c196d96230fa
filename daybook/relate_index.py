"""The inverted index behind relate, and the search for one event's best k (pure).

``Index`` numbers events (slots) and entities, and keeps each entity's posting list
twice: in rank order (newest first, then the smaller id) and as a set. ``top_k``
finds one event's list by branch and bound over set operations, so that C does the
work on long lists and Python looks at few candidates one by one. The rules it
implements are those of ``daybook.relate``; ``brute force`` in the tests restates them.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from daybook.relate import Item, Settings

# Weights are integers in tenths (of a nat for ``weighted``): sums are exact, so ties
# are real ties and an update compares exactly with a full recomputation.
SCALE = {"shared": 1, "weighted": 10}
# The weighted ranker's IDF is taken against this fixed size, about the whole portal's
# event count, not the current corpus size: a weight then moves only when its own
# entity's count does, which keeps incremental updates local.
REFERENCE_SIZE = 100_000

Computed = tuple[tuple[int, ...], tuple[int, ...]]  # one list: related slots and their scores
Entry = tuple[int, ...]  # (score, tie-breaks..., slot): the greater the better


@functools.cache
def entity_weight(count: int) -> int:
    """The weight of a rare entity held by ``count`` events, in tenths of a nat (at least 1)."""
    return max(1, round(10 * math.log(REFERENCE_SIZE / max(count, 1))))


def context_key(title: str) -> tuple[str, str]:
    """Where a title sorts in a Context: alphabetical, case-insensitive, then exact."""
    return (title.casefold(), title)


class Index:
    """Events and entities by number, and each entity's events: an inverted index."""

    def __init__(self) -> None:
        self.slot: dict[str, int] = {}  # event id -> slot; slots are never reused
        self.ids: list[str] = []
        self.day: list[int] = []  # date ordinal
        self.ents: list[tuple[int, ...]] = []  # entity numbers, in the item's order
        self.sets: list[frozenset[int]] = []
        self.alpha: list[tuple[int, ...]] = []  # the same, in Context (alphabetical) order
        self.rank: list[int] = []  # newer first, then smaller id: 0 is first
        self.by_rank: list[int] = []  # rank -> slot
        self.alive: list[bool] = []
        self.entity: dict[str, int] = {}
        self.titles: list[str] = []
        self.collation: list[tuple[str, str]] = []  # entity -> its Context sort key
        self.post: list[list[int]] = []  # entity -> slots, in rank order
        self.holders: list[set[int]] = []  # entity -> the same slots, as a set
        self.size = 0  # live events

    def live(self) -> list[int]:
        """The slots of the events indexed now."""
        return [s for s, alive in enumerate(self.alive) if alive]

    def count(self, entity: int) -> int:
        """How many events hold the entity."""
        return len(self.post[entity])

    def add(self, items: Iterable[Item]) -> range:
        """Index new events; returns their slots."""
        first = len(self.ids)
        for item in items:
            if item.id in self.slot:
                raise ValueError(f"duplicate event id {item.id}")
            numbers = []
            for title in dict.fromkeys(item.entities):
                number = self.entity.get(title)
                if number is None:
                    number = self.entity[title] = len(self.titles)
                    self.titles.append(title)
                    self.collation.append(context_key(title))
                    self.post.append([])
                    self.holders.append(set())
                numbers.append(number)
            self.slot[item.id] = len(self.ids)
            self.ids.append(item.id)
            self.day.append(item.date.toordinal())
            self.ents.append(tuple(numbers))
            self.sets.append(frozenset(numbers))
            self.alpha.append(tuple(sorted(numbers, key=self.collation.__getitem__)))
            self.alive.append(True)
            self.size += 1
        added = range(first, len(self.ids))
        if added:
            # Rank every live event again; old events keep their relative order, so the
            # posting lists stay sorted and new events are merged into the ones they touch.
            self.by_rank = sorted(self.live(), key=lambda s: (-self.day[s], self.ids[s]))
            self.rank = [0] * len(self.ids)
            for position, slot in enumerate(self.by_rank):
                self.rank[slot] = position
            touched: set[int] = set()
            for slot in added:
                for x in self.ents[slot]:
                    self.post[x].append(slot)
                    self.holders[x].add(slot)
                    touched.add(x)
            for x in touched:
                self.post[x].sort(key=self.rank.__getitem__)
        return added

    def drop(self, slot: int) -> None:
        """Take an event out of the index (its slot's data stay readable)."""
        for x in self.ents[slot]:
            self.post[x].remove(slot)
            self.holders[x].discard(slot)
        del self.slot[self.ids[slot]]
        self.alive[slot] = False
        self.size -= 1


def weights(ix: Index, settings: Settings, entities: Iterable[int]) -> dict[int, int]:
    """Each entity's weight (``weighted``): by rarity, or the common weight."""
    threshold = settings.common_threshold(ix.size)
    counts = ((x, len(ix.post[x])) for x in entities)
    return {x: entity_weight(n) if n <= threshold else settings.common_weight for x, n in counts}


def key(ix: Index, settings: Settings, slot: int, other: int) -> tuple[int, ...]:
    """How good ``other`` is for ``slot``'s list (as ``top_k`` orders them): greater is better."""
    mine, theirs = ix.ents[slot], ix.sets[other]
    if settings.ranker == "shared":
        return (sum(1 for x in mine if x in theirs), -ix.rank[other])
    score = sum(w for x, w in weights(ix, settings, mine).items() if x in theirs)
    return (score, -abs(ix.day[other] - ix.day[slot]), -ix.rank[other])


def top_k(ix: Index, settings: Settings, slot: int) -> Computed:
    """One event's list (related slots, best first) and their scores, in SCALE units."""
    if settings.ranker == "shared":
        return _top_shared(ix, settings, slot)
    return _top_weighted(ix, settings, slot)


def _top_shared(ix: Index, settings: Settings, slot: int) -> Computed:
    # Every entity's list is walked, rarest first; each shared entity counts 1, and
    # among equal counts the newest wins.
    k = settings.k
    post, rank = ix.post, ix.rank
    walk = sorted(ix.ents[slot], key=lambda x: len(post[x]))

    def keyed(count: int, j: int, part: set[int], need: int) -> list[Entry]:
        return [(count, -rank[o], o) for o in _newest(ix, post[walk[j]], part, need)]

    def head(count: int, j: int, seen: set[int], worst: Entry | None) -> list[Entry]:
        # The last list: its unseen members hold none of the other entities, so they
        # all share ``count``; the newest enter (those newer than the worst, if full).
        members: Iterable[int] = (o for o in post[walk[j]] if o not in seen)
        if worst is not None:
            members = itertools.takewhile(lambda o: -rank[o] > worst[1], members)
        return [(count, -rank[o], o) for o in itertools.islice(members, k)]

    return _search(ix, settings.k, slot, walk, [], dict.fromkeys(walk, 1), keyed, head)


def _top_weighted(ix: Index, settings: Settings, slot: int) -> Computed:
    # Only rare entities' lists are walked, heaviest first (a common one alone
    # relates nothing); common ones still add their weight. Among equal scores the
    # closest in time wins, then the newest.
    post, rank, days = ix.post, ix.rank, ix.day
    threshold = settings.common_threshold(ix.size)
    counts = {x: len(post[x]) for x in ix.ents[slot]}
    weight_of = weights(ix, settings, counts)
    walk = sorted((x for x, n in counts.items() if n <= threshold), key=counts.__getitem__)
    commons = [x for x, n in counts.items() if n > threshold]

    def keyed(score: int, j: int, part: set[int], need: int) -> list[Entry]:
        closest = _closest(ix, days[slot], post[walk[j]], part, need)
        return [(score, -gap, -rank[o], o) for gap, o in closest]

    return _search(ix, settings.k, slot, walk, commons, weight_of, keyed, None)


def _search(
    ix: Index,
    k: int,
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

    ``head``, where ties go to the newest, reads the last list from its head instead:
    if no entity is left to split it on, its unseen members all score the same.
    """
    holders = ix.holders
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
                heapq.heappush(nodes, (reachable + weight_of[y], score, depth + 1, counter, j, part - inside))
                counter += 1
            node = (reachable, score - weight_of[y], depth + 1, counter, j, inside)
    return tuple(e[-1] for e in best), tuple(e[0] for e in best)


def _newest(ix: Index, ranked: list[int], group: set[int], n: int) -> list[int]:
    """The ``n`` newest members of ``group``, which ``ranked`` holds in rank order."""
    if len(group) <= 4 * n or len(group) ** 2 <= n * len(ranked):  # cheaper to look at all
        by_rank = ix.by_rank
        return [by_rank[r] for r in heapq.nsmallest(n, map(ix.rank.__getitem__, group))]
    found: list[int] = []
    for other in ranked:
        if other in group:
            found.append(other)
            if len(found) == n:
                break
    return found


def _closest(ix: Index, day: int, ranked: list[int], group: set[int], n: int) -> list[tuple[int, int]]:
    """(gap in days, slot) of the ``n`` members of ``group`` closest in time, best first.

    Equal gaps go to the newer. A large group is walked outwards from the event's
    date in ``ranked`` (which holds it in rank order), so it costs only what is near.
    """
    days, rank = ix.day, ix.rank
    near: Iterable[int] = group
    if len(group) > 4 * n and len(group) ** 2 > n * len(ranked):
        near = _near(ix, day, ranked, group, n)
    width = len(rank)  # above every rank: (gap, rank) packed in one int sorts fast
    keys = heapq.nsmallest(n, [abs(days[o] - day) * width + rank[o] for o in near])
    return [(key // width, ix.by_rank[key % width]) for key in keys]


def _near(ix: Index, day: int, ranked: list[int], group: set[int], n: int) -> list[int]:
    """At least the ``n`` members of ``group`` closest to ``day``, and all as close."""
    days = ix.day
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
