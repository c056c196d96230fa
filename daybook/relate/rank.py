"""Related events: for each event, the k events that share its most telling entities (pure).

How it works: docs/ARCHITECTURE.md, "Ranking related events".
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import multiprocessing
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from daybook.model import Item, Related
from daybook.relate.index import (
    ITEMSIZE,
    SCALE,
    Bytes,
    Computed,
    Index,
    Lazy,
    context_key,
    entity_weight,
    ints,
    key,
    missing,
    packed_bytes,
    packed_ints,
    top_k,
    view,
    weights,
)
from daybook.relate.settings import Settings

# Below this many lists per process, forking workers costs more than it saves.
PARALLEL_MIN = 2000
# Lists computed streaming (``Relation.computing``) are handed out this many at a time.
STREAM_RUN = 1000
PackedBase = tuple[int, Sequence[int], Sequence[int], Sequence[int], Container[int]]
# A snapshot keeps dropped slots (it is only extended) until they are more than this
# share of all; then ``state`` packs the live ones anew.
COMPACT_SHARE = 0.125


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
        self,
        items: Iterable[Item] = (),
        settings: Settings | None = None,
        *,
        workers: int = 1,
        later: bool = False,
    ) -> None:
        """Index ``items`` and compute every list, in up to ``workers`` processes (with
        ``later``, only when ``computing`` is read)."""
        self.settings = settings or Settings()
        self.workers = workers
        self._index = Index()
        self._lists: Lazy[tuple[int, ...]] = Lazy()  # slot -> related slots, best first
        self._scores: Lazy[tuple[int, ...]] = Lazy()  # and their scores, in SCALE units
        self._source: PackedLists | None = None  # the snapshot's packed base resumed from
        self._set: set[int] = set()  # slots whose list was set since that base
        self._saved = 0  # slots in the snapshot as last saved
        # The packed base's slots, lists, scores and lengths, and the slots whose list a
        # delta holds instead (resumed): to read the end of a list not unpacked yet.
        self._packed: PackedBase = (0, (), (), (), ())
        self._unsaved: set[int] = set()  # slots whose list was set since
        self._add(items)
        if not later:
            for slot, result in self._compute_many(self._index.live()):
                self._store(slot, result)

    def computing(self) -> Iterator[tuple[str, tuple[Related, ...]]]:
        """Compute every list, yielding each event's id and list as it is ready, in the
        order the events were given: whoever reads them (the store, writing them) works
        while the workers compute the next."""
        ix = self._index
        ids, titles = ix.ids, ix.titles
        scale = SCALE[self.settings.ranker]
        # Each Context is made once and shared (most recur: 28,000 for 1.5 million entries
        # at 150,000 events); which entities it holds the workers find (``_shared``), so
        # that this process, which also writes the lists, does less.
        contexts: dict[tuple[int, ...], tuple[str, ...]] = {}
        for slot, result, shared in self._compute_stream(ix.live()):
            self._store(slot, result)
            entries = []
            for other, score, numbers in zip(*result, shared, strict=True):
                context = contexts.get(numbers)
                if context is None:
                    context = contexts[numbers] = tuple([titles[x] for x in numbers])
                entries.append(Related(ids[other], score / scale, context))
            yield ids[slot], tuple(entries)

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
            relation._store(slot, (tuple(other for other, _ in kept), tuple(score for _, score in kept)))
        damaged = sorted(slot_of[i] for i in stale if i in slot_of)
        for slot, result in relation._compute_many(damaged):
            relation._store(slot, result)
        return relation

    # -- snapshots -------------------------------------------------------------

    def state(self) -> dict[str, object]:
        """The relation as plain data (bytes, strings, ints) for ``resume``.

        Made from the snapshot resumed from, if any, and what changed since: fast when
        little did. Dropped slots are compacted away once there are many (``COMPACT_SHARE``).
        """
        ix, k = self._index, self.settings.k
        compact = self._source is None or len(ix.dead) > COMPACT_SHARE * len(ix.ids)
        index, new_of = ix.state(compact=compact)
        if new_of is not None:  # every list packed anew, in the new slot numbers
            live = sorted((s for s, new in enumerate(new_of) if new >= 0), key=new_of.__getitem__)
            lists = (tuple([new_of[o] for o in self._lists[s]]) for s in live)
            return {
                "index": index,
                "k": k,
                "lists": ints(itertools.chain.from_iterable(_padded(lists, k, -1))).tobytes(),
                "scores": ints(
                    itertools.chain.from_iterable(_padded(map(self._scores.__getitem__, live), k, 0))
                ).tobytes(),
                "listed": ints(len(self._lists[s]) for s in live).tobytes(),
            }
        source = self._source
        assert source is not None
        packed_lists, packed_scores, listed = ints(source.lists), ints(source.scores), ints(source.listed)
        for slot in sorted(s for s in self._set if s < source.slots):  # changed: in place
            others = self._lists[slot]
            packed_lists[slot * k : (slot + 1) * k] = ints(others + (-1,) * (k - len(others)))
            packed_scores[slot * k : (slot + 1) * k] = ints(self._scores[slot] + (0,) * (k - len(others)))
            listed[slot] = len(others)
        added = range(source.slots, len(ix.ids))  # new: after
        packed_lists.extend(itertools.chain.from_iterable(_padded((self._lists[s] for s in added), k, -1)))
        packed_scores.extend(itertools.chain.from_iterable(_padded((self._scores[s] for s in added), k, 0)))
        listed.extend(len(self._lists[s]) for s in added)
        return {
            "index": index,
            "k": k,
            "lists": packed_lists.tobytes(),
            "scores": packed_scores.tobytes(),
            "listed": listed.tobytes(),
        }

    def delta(self) -> dict[str, object]:
        """What changed since the snapshot was last saved (by ``state`` or ``delta``), as
        plain data: ``resume`` applies it after them. Small when little changed."""
        ix, k = self._index, self.settings.k
        slots = sorted(self._unsaved.union(range(self._saved, len(ix.ids))))
        lists = [self._lists[s] for s in slots]
        scores = [self._scores[s] for s in slots]
        return {
            "index": ix.delta(),
            "k": k,
            "slots": ints(slots).tobytes(),
            "lists": ints(itertools.chain.from_iterable(_padded(lists, k, -1))).tobytes(),
            "scores": ints(itertools.chain.from_iterable(_padded(scores, k, 0))).tobytes(),
            "listed": ints(map(len, lists)).tobytes(),
        }

    @classmethod
    def resume(
        cls,
        state: Mapping[str, object],
        settings: Settings | None = None,
        *,
        deltas: Iterable[Mapping[str, object]] = (),
        workers: int = 1,
    ) -> Relation:
        """The relation ``state`` and then each of ``deltas`` describe, with ``settings``
        (those it was made with).

        Each list is unpacked when it is read. Raises ValueError (or KeyError,
        TypeError, IndexError) if these are not what ``state`` and ``delta`` made with
        these settings, in order.
        """
        relation = cls(settings=settings, workers=workers)
        deltas = list(deltas)
        index, changes = state["index"], [delta["index"] for delta in deltas]
        if not isinstance(index, Mapping) or not all(isinstance(c, Mapping) for c in changes):
            raise ValueError("snapshot: no index")
        ix = relation._index = Index.resume(index, changes)  # type: ignore[arg-type]
        base = ix.source.slots if ix.source else 0
        source = relation._source = PackedLists(state, base)
        k = relation.settings.k
        if state["k"] != k or any(delta["k"] != k for delta in deltas):
            raise ValueError(f"snapshot: lists of another length than {k}")
        lists, scores, listed = view(source.lists), view(source.scores), view(source.listed)
        # Each delta's lists are found when asked for (as Layers does for posting lists):
        # slot -> the last delta holding its list, and there its place.
        latest: dict[int, int] = {}
        layers: list[tuple[dict[int, int], memoryview[int], memoryview[int], memoryview[int]]] = []
        for delta in deltas:
            slots = packed_ints(delta, "slots")
            part = PackedLists(delta, len(slots))
            latest.update(dict.fromkeys(slots, len(layers)))
            places = dict(zip(slots, range(len(slots)), strict=True))
            layers.append((places, view(part.lists), view(part.scores), view(part.listed)))

        def unpacked(slot: int, scored: bool) -> tuple[int, ...]:
            layer = latest.get(slot)
            if layer is None:
                if slot >= base:
                    missing(slot)
                start, length, values = slot * k, listed[slot], scores if scored else lists
            else:
                places, some, their_scores, lengths = layers[layer]
                place = places[slot]
                start, length, values = place * k, lengths[place], their_scores if scored else some
            return tuple(values[start : start + length])

        relation._lists.make = lambda s: unpacked(s, False)
        relation._scores.make = lambda s: unpacked(s, True)
        relation._packed = (base, lists, scores, listed, latest)
        relation._set.update(latest)
        relation._saved = len(ix.ids)
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

    def item(self, event_id: str) -> Item:
        """An event as it was indexed (KeyError if it is unknown)."""
        ix = self._index
        slot = ix.slot[event_id]
        return Item(event_id, dt.date.fromordinal(ix.day[slot]), tuple(ix.titles[x] for x in ix.ents[slot]))

    def items_on(self, dates: Iterable[dt.date]) -> dict[str, Item]:
        """The events of these dates, by id."""
        ix = self._index
        day = ix.day
        found = {}
        for ordinal in {date.toordinal() for date in dates}:
            # by_rank is newest first: a date's events are together.
            place = bisect.bisect_left(ix.by_rank, -ordinal, key=lambda s: -day[s])
            while place < len(ix.by_rank) and day[slot := ix.by_rank[place]] == ordinal:
                if ix.alive[slot]:
                    found[ix.ids[slot]] = self.item(ix.ids[slot])
                place += 1
        return found

    def damaged_by(self, event_ids: Iterable[str]) -> set[str]:
        """The events whose stored rows go when these events' do: those of them whose list
        is not empty, and every event whose list names one of them."""
        ix = self._index
        slots = [ix.slot[i] for i in event_ids if i in ix.slot]
        damaged = {s for s in slots if self._lists[s]} | self._naming(slots)
        return {ix.ids[s] for s in damaged}

    def entity_count(self, title: str) -> int:
        """How many events hold the entity."""
        number = self._index.entity.get(title)
        return 0 if number is None else self._index.count(number)

    def _entries(self, slot: int, others: tuple[int, ...], scores: tuple[int, ...]) -> tuple[Related, ...]:
        ix = self._index
        scale = SCALE[self.settings.ranker]
        mine, titles, alpha = ix.sets[slot], ix.titles, ix.alpha
        if all(other in alpha for other in others):  # as all are once every list is computed
            return tuple(
                Related(ix.ids[other], score / scale, tuple([titles[x] for x in alpha[other] if x in mine]))
                for other, score in zip(others, scores, strict=True)
            )
        # Events of a snapshot: sort only what they share (one or two entities), not all theirs.
        entries = []
        for other, score in zip(others, scores, strict=True):
            shared = mine.intersection(ix.ents[other])
            numbers = sorted(shared, key=ix.collation.__getitem__) if len(shared) > 1 else shared
            entries.append(Related(ix.ids[other], score / scale, tuple([titles[x] for x in numbers])))
        return tuple(entries)

    def _naming(self, slots: list[int]) -> set[int]:
        """The other live events whose list names one of ``slots`` (which are live).

        Such an event shares an entity with it, and (weighted) a rare one: only those
        entities' events are looked at, not every list.
        """
        if not slots:
            return set()
        ix = self._index
        doors = {x for s in slots for x in ix.ents[s]}
        if self.settings.ranker == "weighted":
            threshold = self.settings.common_threshold(ix.size)
            doors = {x for x in doors if ix.count(x) <= threshold}
        named = set(slots)
        candidates = set().union(*(ix.holders[x] for x in doors)) - named
        return {s for s in candidates if not named.isdisjoint(self._lists[s])}

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
        redo = self._naming(gone)  # before the drop, while the lists are those of now
        # Entity counts before the change, to tell which weights it moves.
        touched = {x for s in gone for x in ix.ents[s]}
        touched.update(ix.entity[t] for i in new_items for t in i.entities if t in ix.entity)
        before = {x: ix.count(x) for x in touched}
        old_threshold = self.settings.common_threshold(ix.size)
        for slot in gone:
            ix.drop(slot)
            self._store(slot, ((), ()))
        fresh = set(self._add(new_items))
        for slot in fresh:
            for x in ix.ents[slot]:
                before.setdefault(x, 0)  # an entity no event held before

        redo |= fresh
        if self.settings.ranker == "weighted":
            for x in self._reweighted(before, old_threshold):
                redo.update(ix.post[x])
        redo.update(self._entered(fresh, redo))

        changed = set(fresh)
        ids = ix.ids
        for slot, result in self._compute_many(sorted(redo)):
            old = (self._lists[slot], self._scores[slot])
            if result != old:
                self._store(slot, result)
                # A replaced event has a new slot: compare what the page shows (the
                # contexts only if the ids and scores are the same).
                if (
                    result[1] != old[1]
                    or [ids[o] for o in result[0]] != [ids[o] for o in old[0]]
                    or self._entries(slot, *result) != self._entries(slot, *old)
                ):
                    changed.add(slot)
        return RelationChange(
            changed=tuple(sorted(ix.ids[s] for s in changed)),
            removed=tuple(sorted(ix.ids[s] for s in gone if ix.ids[s] not in ix.slot)),
        )

    def _store(self, slot: int, result: Computed) -> None:
        self._lists[slot], self._scores[slot] = result
        if self._source is not None:  # else the next state packs every list, and so would delta
            self._set.add(slot)
            self._unsaved.add(slot)

    def _add(self, items: Iterable[Item]) -> range:
        added = self._index.add(items)
        for slot in added:
            self._lists[slot] = self._scores[slot] = ()
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
            moved.update(x for x, count in enumerate(ix.counts) if low < count <= high)
        return moved

    def _entered(self, fresh: set[int], redo: set[int]) -> set[int]:
        """Events not yet to be re-ranked whose list an added event can enter.

        Such an event keeps its entities' weights (else it would be re-ranked), so its
        list's last score is as stored; the added event's score for it is the weight of
        the entities they share, which are the added event's: weighed once for all.
        """
        ix = self._index
        k = self.settings.k
        settings = self.settings
        weighted = settings.ranker == "weighted"
        threshold = settings.common_threshold(ix.size)
        lists, scores = self._lists, self._scores
        base, packed_lists, packed_scores, listed, elsewhere = self._packed
        found: set[int] = set()
        for new in fresh:
            mine = ix.ents[new]
            weight_of = weights(ix, settings, mine) if weighted else dict.fromkeys(mine, 1)
            # only a shared rare entity makes a weighted candidate
            doors = [x for x in mine if ix.count(x) <= threshold] if weighted else mine
            holders = [(ix.holders[x], w) for x, w in weight_of.items()]
            most = sum(weight_of.values())
            candidates = set().union(*(ix.holders[x] for x in doors))
            candidates -= redo
            candidates -= found
            for slot in candidates:
                # A list's length and last entry, read from the snapshot's base if not unpacked yet.
                have = lists.get(slot)
                packed = have is None and slot < base and slot not in elsewhere
                length = listed[slot] if packed else len(lists[slot])
                if length < k:
                    found.add(slot)
                    continue
                if packed:
                    last, worst = packed_scores[slot * k + k - 1], packed_lists[slot * k + k - 1]
                else:
                    last, worst = scores[slot][-1], lists[slot][-1]
                if last > most:
                    continue
                score = sum(w for members, w in holders if slot in members)
                if score > last or (
                    score == last and key(ix, settings, slot, new) > key(ix, settings, slot, worst)
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

    def _compute_stream(self, slots: list[int]) -> Iterator[tuple[int, Computed, list[tuple[int, ...]]]]:
        """``top_k`` for each slot, in order, as they are ready, with the entities each
        entry shares with the slot (``_shared``): in ``workers`` forked processes, a run
        of slots at a time, when that pays."""
        workers = min(self.workers, len(slots) // PARALLEL_MIN)
        if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
            for slot in slots:
                result = top_k(self._index, self.settings, slot)
                yield slot, result, _shared(self._index, slot, result[0])
            return
        global _forked
        _forked = self
        try:
            runs = [slots[i : i + STREAM_RUN] for i in range(0, len(slots), STREAM_RUN)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for run, results in zip(runs, pool.imap(_compute_shared, runs), strict=True):
                    for slot, (result, shared) in zip(run, results, strict=True):
                        yield slot, result, shared
        finally:
            _forked = None


def _padded(rows: Iterable[tuple[int, ...]], k: int, fill: int) -> Iterator[tuple[int, ...]]:
    """Each row filled up to ``k`` values: a snapshot packs lists at a fixed stride."""
    for row in rows:
        yield row + (fill,) * (k - len(row))


class PackedLists:
    """The packed lists of the snapshot a relation was resumed from, for its next ``state``."""

    def __init__(self, state: Mapping[str, object], slots: int) -> None:
        k = state["k"]
        if not isinstance(k, int) or k < 1:
            raise ValueError("snapshot: no list length")
        self.slots = slots
        self.lists: Bytes = packed_bytes(state, "lists")
        self.scores: Bytes = packed_bytes(state, "scores")
        self.listed: Bytes = packed_bytes(state, "listed")
        size = slots * ITEMSIZE
        if not len(self.lists) == len(self.scores) == size * k or len(self.listed) != size:
            raise ValueError("snapshot: the lists do not match the slot count")


# How a forked worker finds the relation: inherited with the process, not pickled.
_forked: Relation | None = None


def _compute_chunk(slots: list[int]) -> list[Computed]:
    """In a forked worker: the lists of ``slots``."""
    assert _forked is not None
    return [top_k(_forked._index, _forked.settings, slot) for slot in slots]


def _compute_shared(slots: list[int]) -> list[tuple[Computed, list[tuple[int, ...]]]]:
    """In a forked worker: the lists of ``slots``, each with its entries' shared entities."""
    assert _forked is not None
    ix, settings = _forked._index, _forked.settings
    found = []
    for slot in slots:
        result = top_k(ix, settings, slot)
        found.append((result, _shared(ix, slot, result[0])))
    return found


def _shared(ix: Index, slot: int, others: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The entities ``slot`` shares with each of ``others``, in Context order (a Context's numbers)."""
    mine, alpha = ix.sets[slot], ix.alpha
    return [tuple([x for x in alpha[other] if x in mine]) for other in others]
