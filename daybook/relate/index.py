"""The inverted index behind relate, and the search for one event's best k (pure).

``Index`` numbers events (slots) and entities, and keeps each entity's posting list
twice: in rank order (newest first, then the smaller id) and as a set. ``top_k``
finds one event's list by branch and bound over set operations, so that C does the
work on long lists and Python looks at few candidates one by one. The rules it
implements are those of ``daybook.relate``; ``brute force`` in the tests restates them.

An index can be packed (``Index.state``, then ``Index.delta`` for what changed since)
and resumed from that (``Index.resume``): its per-event and per-entity data are then
``Lazy``, unpacked from the packed arrays, read in place, when first used.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import math
from array import array
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Final, NoReturn, TypeVar

if TYPE_CHECKING:
    from daybook.model import Item
    from daybook.relate.settings import Settings

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


V = TypeVar("V")

# A snapshot keeps numbers packed as 32-bit ints in machine order (``array`` reads and
# writes them at C speed); ``relation`` records both, so that another machine reads none.
INT: Final = "i"
ITEMSIZE = array(INT).itemsize


class Lazy(dict[int, V]):
    """Values by number, each made on first use by ``make``.

    An index resumed from a snapshot unpacks only what an update touches: a few
    thousand of its 150,000 events. Reading a value already made costs what a list's
    does; ``in`` and ``get`` tell whether it is made yet (and make nothing).
    """

    __slots__ = ("make",)

    def __init__(self, make: Callable[[int], V] | None = None) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: int) -> V:
        if self.make is None:
            raise KeyError(key)
        value = self[key] = self.make(key)
        return value


# Packed numbers as a snapshot holds them: bytes, or a view of the snapshot's bytes.
Bytes = bytes | memoryview


def ints(values: Iterable[int] | Bytes = ()) -> array[int]:
    """Packed ints, from bytes or numbers."""
    packed = array(INT)
    if isinstance(values, bytes | memoryview):
        packed.frombytes(values)
    else:
        packed.extend(values)
    return packed


def view(data: Bytes) -> memoryview[int]:
    """Packed ints read in place: no copy, however large."""
    return memoryview(data).cast(INT)


def pack_texts(texts: list[str]) -> str | tuple[str, ...]:
    """Texts as one string, a line each (one C call to split), or as a tuple if one holds a line break."""
    text = "\n".join(texts)
    return text if text.count("\n") == max(len(texts) - 1, 0) else tuple(texts)


def unpack_texts(packed: object, count: int) -> list[str]:
    """What ``pack_texts`` packed: ``count`` texts."""
    if isinstance(packed, str):
        texts = packed.split("\n") if count else []
    elif isinstance(packed, tuple) and all(isinstance(t, str) for t in packed):
        texts = list(packed)
    else:
        raise ValueError("snapshot: texts are neither a string nor a tuple of strings")
    if len(texts) != count:
        raise ValueError(f"snapshot: {len(texts)} texts where {count} were packed")
    return texts


class Index:
    """Events and entities by number, and each entity's events: an inverted index.

    Slots are never reused. ``by_rank`` holds every live slot (and maybe slots
    dropped since it was last sorted in full), newest first, then by id; ``rank`` is
    each slot's place in it, plus ``low``. Only their order counts: a gap left by a
    dropped slot changes no list, and a new day put in front takes the ranks below
    ``low`` instead of moving every other event back.
    """

    def __init__(self) -> None:
        # What a value is made from is bound here, not read through self: no reference
        # cycle, so that a relation goes when its last reference does, without the
        # garbage collector having to walk it.
        ents: Lazy[tuple[int, ...]] = Lazy()
        titles: list[str] = []
        collation: Lazy[tuple[str, str]] = Lazy(lambda x: context_key(titles[x]))
        post: Lazy[list[int]] = Lazy()
        self.slot: dict[str, int] = {}  # event id -> slot
        self.ids: list[str] = []
        self.day: list[int] = []  # date ordinal
        self.ents = ents  # entity numbers, in the item's order
        self.sets: Lazy[frozenset[int]] = Lazy(lambda s: frozenset(ents[s]))
        # the same, in Context (alphabetical) order
        self.alpha: Lazy[tuple[int, ...]] = Lazy(lambda s: tuple(sorted(ents[s], key=collation.__getitem__)))
        self.rank: list[int] = []  # slot -> place in by_rank + low
        self.by_rank: list[int] = []
        self.low = 0  # the rank of by_rank[0]
        self.alive: list[bool] = []
        self.dead: list[int] = []  # the slots dropped
        self.entity: dict[str, int] = {}
        self.titles = titles
        self.collation = collation  # entity -> its Context sort key
        self.post = post  # entity -> slots, in rank order
        self.holders: Lazy[set[int]] = Lazy(lambda x: set(post[x]))  # the same slots, as a set
        self.counts: list[int] = []  # entity -> how many events hold it
        self.size = 0  # live events
        self.source: Packed | None = None  # the snapshot's packed base this index was resumed from
        self.moved: set[int] = set()  # entities whose posting list changed since that base
        # What the snapshot as last saved holds (slots, entities, dropped slots), and since:
        self.saved = (0, 0, 0)
        self.unsaved: set[int] = set()  # entities whose posting list changed
        self.front: list[int] | None = []  # slots put before all in by_rank (None: placed otherwise)

    def live(self) -> list[int]:
        """The slots of the events indexed now."""
        return list(itertools.compress(range(len(self.alive)), self.alive))

    def count(self, entity: int) -> int:
        """How many events hold the entity."""
        return self.counts[entity]

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
                    self.collation[number] = context_key(title)
                    self.post[number] = []
                    self.holders[number] = set()
                    self.counts.append(0)
                numbers.append(number)
            slot = self.slot[item.id] = len(self.ids)
            self.ids.append(item.id)
            self.day.append(item.date.toordinal())
            self.ents[slot] = tuple(numbers)
            # made now, as they all will be when every list is computed
            self.sets[slot] = frozenset(numbers)
            self.alpha[slot] = tuple(sorted(numbers, key=self.collation.__getitem__))
            self.alive.append(True)
            self.size += 1
        added = range(first, len(self.ids))
        if added:
            self._rank(added)
            touched: set[int] = set()
            for slot in added:
                for x in self.ents[slot]:
                    self.post[x].append(slot)
                    if (made := self.holders.get(x)) is not None:
                        made.add(slot)
                    self.counts[x] += 1
                    touched.add(x)
            # Old events keep their relative order, so the posting lists stay sorted and
            # new events are merged into the ones they touch.
            for x in touched:
                self.post[x].sort(key=self.rank.__getitem__)
            self.moved |= touched
            self.unsaved |= touched
        return added

    def _rank(self, added: range) -> None:
        """Place the new slots in ``by_rank`` and rank them: in front if newer than all (the
        ranks below ``low``: no other moves), else each where it goes, all ranked again."""
        day, ids = self.day, self.ids

        def order(s: int) -> tuple[int, str]:
            return -day[s], ids[s]

        new = sorted(added, key=order)
        ranked = self.by_rank
        self.rank.extend(added)  # a place for each new slot, set next
        if ranked and order(new[-1]) < order(ranked[0]):  # the usual: a day newer than all
            self.by_rank = new + ranked
            self.front = None if self.front is None else new + self.front
            self.low -= len(new)
            for place, slot in enumerate(new, start=self.low):
                self.rank[slot] = place
            return
        self.front = None
        if len(new) <= 64:  # a few, each where it goes
            for slot in new:
                bisect.insort(ranked, slot, key=order)
        else:
            self.by_rank = ranked = sorted(self.live(), key=order)
        self.low = 0
        rank = self.rank
        for place, slot in enumerate(ranked):
            rank[slot] = place

    def drop(self, slot: int) -> None:
        """Take an event out of the index (its slot's data stay readable)."""
        for x in self.ents[slot]:
            self.post[x].remove(slot)
            if (made := self.holders.get(x)) is not None:
                made.discard(slot)
            self.counts[x] -= 1
            self.moved.add(x)
            self.unsaved.add(x)
        del self.slot[self.ids[slot]]
        self.alive[slot] = False
        self.dead.append(slot)
        self.size -= 1

    # -- snapshots -------------------------------------------------------------

    def state(self, *, compact: bool) -> tuple[dict[str, object], list[int] | None]:
        """The index as plain data for ``resume``, and how slots were renumbered.

        ``compact`` (and always for an index not resumed): only the live slots,
        renumbered in rank order; returned with old slot -> new (-1: dropped). Otherwise
        the snapshot resumed from and what changed since: slots and entities added,
        posting lists changed. Slots keep their numbers (None).
        """
        source = self.source
        if compact or source is None:
            return self._state_anew()
        n0 = source.slots
        at = ints(source.ents_at)
        end = at[-1]
        added = [self.ents[s] for s in range(n0, len(self.ids))]
        for numbers in added:
            end += len(numbers)
            at.append(end)
        return {
            "slots": len(self.ids),
            "ids": pack_texts(self.ids),
            "days": ints(self.day).tobytes(),
            "ents": b"".join((source.ents, ints(itertools.chain.from_iterable(added)))),
            "ents_at": at.tobytes(),
            "rank": ints(self.rank).tobytes(),
            "by_rank": ints(self.by_rank).tobytes(),
            "low": self.low,
            "dead": ints(self.dead).tobytes(),
            "titles": pack_texts(self.titles),
            **self._posting_state(source),
        }, None

    def _posting_state(self, source: Packed) -> dict[str, object]:
        """Every posting list: the snapshot's bytes where unchanged, the others packed anew."""
        m0 = source.entities
        old_at = ints(source.post_at)
        old = memoryview(source.post)
        parts: list[Bytes] = []
        done = 0  # the old entities before this one are in parts
        for x in sorted({*(x for x in self.moved if x < m0), *range(m0, len(self.titles))}):
            if done < min(x, m0):
                parts.append(old[old_at[done] * ITEMSIZE : old_at[min(x, m0)] * ITEMSIZE])
            parts.append(ints(self.post[x]).tobytes())
            done = max(done, x + 1)
        if done < m0:
            parts.append(old[old_at[done] * ITEMSIZE : old_at[m0] * ITEMSIZE])
        return {
            "post": b"".join(parts),
            "post_at": ints(itertools.accumulate(self.counts, initial=0)).tobytes(),
        }

    def _state_anew(self) -> tuple[dict[str, object], list[int]]:
        live = [s for s in self.by_rank if self.alive[s]]
        new_of = [-1] * len(self.ids)
        for place, slot in enumerate(live):
            new_of[slot] = place
        ents = [self.ents[s] for s in live]
        posts = range(len(self.titles))
        numbers = ints(range(len(live))).tobytes()
        return {
            "slots": len(live),
            "ids": pack_texts([self.ids[s] for s in live]),
            "days": ints(self.day[s] for s in live).tobytes(),
            "ents": ints(itertools.chain.from_iterable(ents)).tobytes(),
            "ents_at": ints(itertools.accumulate(map(len, ents), initial=0)).tobytes(),
            "rank": numbers,
            "by_rank": numbers,
            "low": 0,
            "dead": b"",
            "titles": pack_texts(self.titles),
            "post": ints(new_of[s] for x in posts for s in self.post[x]).tobytes(),
            "post_at": ints(itertools.accumulate(map(self.counts.__getitem__, posts), initial=0)).tobytes(),
        }, new_of

    def delta(self) -> dict[str, object]:
        """What changed since the snapshot was last saved, as plain data for ``resume``."""
        n0, m0, d0 = self.saved
        added = [self.ents[s] for s in range(n0, len(self.ids))]
        moved = sorted(self.unsaved)
        posts = [self.post[x] for x in moved]
        return {
            "slots": (n0, len(self.ids)),
            "entities": (m0, len(self.titles)),
            "ids": pack_texts(self.ids[n0:]),
            "days": ints(self.day[n0:]).tobytes(),
            "ents": ints(itertools.chain.from_iterable(added)).tobytes(),
            "ents_at": ints(itertools.accumulate(map(len, added), initial=0)).tobytes(),
            "titles": pack_texts(self.titles[m0:]),
            "dead": ints(self.dead[d0:]).tobytes(),
            "front": None if self.front is None else ints(self.front).tobytes(),
            "by_rank": ints(self.by_rank).tobytes() if self.front is None else b"",
            "low": self.low,
            "moved": ints(moved).tobytes(),
            "post": ints(itertools.chain.from_iterable(posts)).tobytes(),
            "post_at": ints(itertools.accumulate(map(len, posts), initial=0)).tobytes(),
        }

    def _apply(self, delta: Mapping[str, object], posts: Layers) -> bool:
        """Apply a ``delta`` (resuming): its posting lists go to ``posts``, unpacked on use.
        Returns whether the slots keep their ranks (else it reordered them: they are
        ranked again once every delta is applied)."""
        n0, n = _pair(delta["slots"])
        m0, m = _pair(delta["entities"])
        if (n0, m0) != (len(self.ids), len(self.titles)) or n < n0 or m < m0:
            raise ValueError("snapshot: a change does not follow the one before")
        ids, titles = unpack_texts(delta["ids"], n - n0), unpack_texts(delta["titles"], m - m0)
        days, dead = packed_ints(delta, "days").tolist(), packed_ints(delta, "dead").tolist()
        ents, ents_at = packed_ints(delta, "ents"), packed_ints(delta, "ents_at")
        if len(days) != n - n0 or len(ents_at) != n - n0 + 1 or ents_at[-1] != len(ents):
            raise ValueError("snapshot: a change's arrays do not match its slots")
        for offset, event_id in enumerate(ids):
            self.slot[event_id] = n0 + offset
            self.ents[n0 + offset] = tuple(ents[ents_at[offset] : ents_at[offset + 1]])
        self.ids += ids
        self.day += days
        self.alive += [True] * (n - n0)
        self.entity.update(zip(titles, range(m0, m), strict=True))
        self.titles += titles
        self.counts += [0] * (m - m0)
        for slot in dead:
            self._forget(slot)
        self.dead += dead
        self.size = len(self.ids) - len(self.dead)
        moved, post, post_at = (
            packed_ints(delta, "moved"),
            packed_ints(delta, "post"),
            packed_ints(delta, "post_at"),
        )
        posts.add(moved, post, post_at)
        for place, x in enumerate(moved):
            self.counts[x] = post_at[place + 1] - post_at[place]
        self.moved.update(moved)
        self.rank += [0] * (n - n0)  # set below, or when ranked again
        low = delta["low"]
        if not isinstance(low, int):
            raise ValueError("snapshot: a change has no lowest rank")
        if delta["front"] is None:  # its ranks are set once all are applied
            self.by_rank, self.low = packed_ints(delta, "by_rank").tolist(), low
            return False
        front = packed_ints(delta, "front").tolist()
        if low != self.low - len(front):
            raise ValueError("snapshot: a change's ranks do not follow")
        self.by_rank = front + self.by_rank
        self.low = low
        for place, slot in enumerate(front, start=low):
            self.rank[slot] = place
        return True

    def _forget(self, slot: int) -> None:
        """A dropped slot, resuming."""
        self.alive[slot] = False
        if self.slot.get(self.ids[slot]) == slot:  # else a live event of that id has a later slot
            del self.slot[self.ids[slot]]

    @classmethod
    def resume(cls, state: Mapping[str, object], deltas: Iterable[Mapping[str, object]] = ()) -> Index:
        """The index ``state`` and then each of ``deltas`` describe: the snapshot's data are
        unpacked on use.

        Raises ValueError (or KeyError, TypeError, IndexError) if these are not ones
        ``state`` and ``delta`` made, in order.
        """
        source = Packed(state)
        n, m = source.slots, source.entities
        ix = cls()
        ix.source = source
        ix.ids = unpack_texts(state["ids"], n)
        ix.titles += unpack_texts(state["titles"], m)  # the list collation reads
        ix.day = view(source.days).tolist()
        ix.rank = view(source.rank).tolist()
        ix.by_rank = view(source.by_rank).tolist()
        ix.dead = view(source.dead).tolist()
        ents, ents_at = view(source.ents), view(source.ents_at)
        post, post_at = view(source.post), view(source.post_at)
        if not (len(ix.day) == len(ix.rank) == n and len(ents_at) == n + 1 and len(ix.by_rank) <= n):
            raise ValueError("snapshot: the arrays do not match the slot count")
        if ents_at[-1] != len(ents) or post_at[-1] != len(post):
            raise ValueError("snapshot: the offsets do not match the arrays")
        ix.alive = [True] * n
        ix.slot = dict(zip(ix.ids, range(n), strict=True))
        for slot in ix.dead:
            ix._forget(slot)
        ix.size = n - len(ix.dead)
        ix.entity = dict(zip(ix.titles, range(m), strict=True))
        ix.counts = [b - a for a, b in itertools.pairwise(post_at)]
        ix.ents.make = lambda s: tuple(ents[ents_at[s] : ents_at[s + 1]]) if s < n else missing(s)
        posts = Layers(lambda x: post[post_at[x] : post_at[x + 1]] if x < m else missing(x))
        ix.post.make = lambda x: posts.get(x).tolist()
        low = state["low"]
        if not isinstance(low, int):
            raise ValueError("snapshot: no lowest rank")
        ix.low = low
        ranked = [ix._apply(delta, posts) for delta in deltas]
        if not all(ranked):
            # Ranked from the last delta's low, not from 0: the next delta's ranks follow
            # on from it (a front put before ranks below it), as they did when it was saved.
            for place, slot in enumerate(ix.by_rank, start=ix.low):
                ix.rank[slot] = place
        if len(ix.by_rank) > len(ix.ids) or len(ix.rank) != len(ix.ids):
            raise ValueError("snapshot: the ranks do not match the slots")
        ix.saved = (len(ix.ids), len(ix.titles), len(ix.dead))
        return ix


class Layers:
    """Packed values by number: those of a snapshot's base, then of each of its deltas
    (which replace some), found for a number when it is asked for.

    Adding a delta's values costs two dicts made in C, not a Python object per value:
    a refresh resumes dozens of deltas and reads few of their values.
    """

    def __init__(self, base: Callable[[int], memoryview[int]]) -> None:
        self.base = base
        self.latest: dict[int, int] = {}  # number -> the layer that last packed it
        self.layers: list[tuple[dict[int, int], memoryview[int], memoryview[int]]] = []

    def add(self, numbers: memoryview[int], flat: memoryview[int], at: memoryview[int]) -> None:
        """A layer: the values of ``numbers``, the i-th at ``flat[at[i]:at[i + 1]]``."""
        if len(at) != len(numbers) + 1 or at[-1] != len(flat):
            raise ValueError("snapshot: a change's offsets do not match")
        self.latest.update(dict.fromkeys(numbers, len(self.layers)))
        self.layers.append((dict(zip(numbers, range(len(numbers)), strict=True)), flat, at))

    def get(self, number: int) -> memoryview[int]:
        layer = self.latest.get(number)
        if layer is None:
            return self.base(number)
        places, flat, at = self.layers[layer]
        place = places[number]
        return flat[at[place] : at[place + 1]]


def missing(number: int) -> NoReturn:
    raise ValueError(f"snapshot: nothing packed for {number}")


def _pair(value: object) -> tuple[int, int]:
    if not (isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise ValueError("snapshot: not a pair of numbers")
    return value[0], value[1]


def packed_bytes(state: Mapping[str, object], name: str) -> Bytes:
    """A snapshot's packed numbers (ValueError if they are not)."""
    value = state[name]
    if not isinstance(value, bytes | memoryview) or len(value) % ITEMSIZE:
        raise ValueError(f"snapshot: {name} is not packed numbers")
    return value


def packed_ints(state: Mapping[str, object], name: str) -> memoryview[int]:
    """A snapshot's packed numbers, read in place."""
    return view(packed_bytes(state, name))


class Packed:
    """The packed arrays of the snapshot an index was resumed from, for its next ``state``."""

    def __init__(self, state: Mapping[str, object]) -> None:
        slots = state["slots"]
        if not isinstance(slots, int) or slots < 0:
            raise ValueError("snapshot: no slot count")
        self.slots = slots
        self.days, self.rank = packed_bytes(state, "days"), packed_bytes(state, "rank")
        self.by_rank, self.dead = packed_bytes(state, "by_rank"), packed_bytes(state, "dead")
        self.ents, self.ents_at = packed_bytes(state, "ents"), packed_bytes(state, "ents_at")
        self.post, self.post_at = packed_bytes(state, "post"), packed_bytes(state, "post_at")
        self.entities = len(self.post_at) // ITEMSIZE - 1
        if self.entities < 0:
            raise ValueError("snapshot: no posting offsets")


def weights(ix: Index, settings: Settings, entities: Iterable[int]) -> dict[int, int]:
    """Each entity's weight (``weighted``): by rarity, or the common weight."""
    threshold = settings.common_threshold(ix.size)
    counts = ix.counts
    return {
        x: entity_weight(n) if (n := counts[x]) <= threshold else settings.common_weight for x in entities
    }


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
    walk = sorted(ix.ents[slot], key=ix.counts.__getitem__)

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
    counts = {x: ix.counts[x] for x in ix.ents[slot]}
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
        by_rank, low = ix.by_rank, ix.low
        return [by_rank[r - low] for r in heapq.nsmallest(n, map(ix.rank.__getitem__, group))]
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
    # (gap, rank) packed in one int sorts fast: ranks span less than the width
    width, low = len(rank), ix.low
    keys = heapq.nsmallest(n, [abs(days[o] - day) * width + rank[o] for o in near])
    if low:
        keys = [key - low for key in keys]
    by_rank = ix.by_rank
    return [(key // width, by_rank[key % width]) for key in keys]


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
