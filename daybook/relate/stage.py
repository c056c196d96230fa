"""The relate stage over the store: compute every event's related list and keep it current.

How it works: docs/ARCHITECTURE.md, "Keeping the stored lists current".
"""

from __future__ import annotations

import dataclasses
import json
import marshal
import struct
import sys
import time
from dataclasses import dataclass

from daybook import gc_pause
from daybook.relate.index import ITEMSIZE
from daybook.relate.rank import Relation
from daybook.relate.settings import Settings
from daybook.store import Store

# The snapshot's layout: a snapshot of another is not read (it is made again).
SNAPSHOT_FORMAT = 1
# A refresh adds its changes to the snapshot as a part of their own (a few hundred KB,
# not the whole relation again) until the parts after the first are this many, or
# this share of its size; then the whole is packed again.
MAX_PARTS = 32
PARTS_SHARE = 0.5
# Numbers are packed in this machine's order and size: a store moved to another machine
# relates from the tables once.
MACHINE = (sys.byteorder, ITEMSIZE)


@dataclass(frozen=True)
class RelateReport:
    """What one ``refresh`` did."""

    settings: Settings
    events: int
    changed: tuple[str, ...]  # events whose list is new or different: the pages to render again
    removed: tuple[str, ...]  # events whose lists went with them
    full: bool  # every list computed again
    seconds: float

    def summary(self) -> str:
        how = "computed" if self.full else "updated"
        return (
            f"related lists {how} ({self.settings.ranker}, k={self.settings.k}) for {self.events} events"
            f" in {self.seconds:.1f}s: {len(self.changed)} changed, {len(self.removed)} removed"
        )


def settings_json(settings: Settings) -> dict[str, object]:
    """The settings as the store records them."""
    return dataclasses.asdict(settings)


def refresh(
    store: Store, settings: Settings | None = None, *, full: bool = False, workers: int = 1
) -> RelateReport:
    """Compute or update every stored event's related list; see the module docstring.

    ``workers``: processes the lists may be computed in (the result is the same).
    """
    with gc_pause.paused():  # see gc_pause: a third of an incremental refresh's time
        return _refresh(store, settings or Settings(), full=full, workers=workers)


def _refresh(store: Store, settings: Settings, *, full: bool, workers: int) -> RelateReport:
    started = time.perf_counter()
    if not full and store.relation_settings() == settings_json(settings):
        report = _resume(store, settings, workers, started)
        if report is not None:
            return report
    # Changes noted from here on are applied by the next refresh, not forgotten.
    seen, _ = store.relate_days()
    current = store.relate_items()
    if full or store.relation_settings() != settings_json(settings):
        # The store writes each list while the workers compute the next ones; the
        # snapshot is packed once all are written.
        relation = Relation(current, settings, workers=workers, later=True)
        lists = relation.computing()
        store.save_relation(
            settings_json(settings),
            ((item, entries) for item, (_, entries) in zip(current, lists, strict=True)),
            replace=True,
            snapshot=lambda: (SNAPSHOT_FORMAT, pack(relation)),
            seen=seen,
        )
        return RelateReport(
            settings=settings,
            events=len(current),
            changed=tuple(sorted(item.id for item in current)),
            removed=(),
            full=True,
            seconds=time.perf_counter() - started,
        )
    basis = store.relation_basis()
    damaged = store.damaged_lists()
    relation = Relation.restore(basis, store.stored_related(), settings, stale=damaged, workers=workers)
    before = {item.id: item for item in basis}
    now = {item.id: item for item in current}
    change = relation.update(
        removed=[i for i, item in before.items() if now.get(i) != item],
        added=[item for i, item in now.items() if before.get(i) != item],
    )
    # A damaged list may be the same as before (its events came back unchanged): the
    # pages need nothing, but the store needs its rows again.
    rewrite = sorted({*change.changed, *(i for i in damaged if i in now)})
    store.save_relation(
        settings_json(settings),
        ((now[i], relation.related(i)) for i in rewrite),
        dropped=change.removed,
        snapshot=(SNAPSHOT_FORMAT, pack(relation)),
        seen=seen,
    )
    return RelateReport(
        settings=settings,
        events=len(current),
        changed=change.changed,
        removed=change.removed,
        full=False,
        seconds=time.perf_counter() - started,
    )


def _resume(store: Store, settings: Settings, workers: int, started: float) -> RelateReport | None:
    """``refresh`` from the snapshot; None if there is none fit to resume."""
    with store.relate_reading():  # the snapshot, the days changed since and their events: one moment
        seen, dates = store.relate_days()
        if not dates:  # nothing changed: the lists and the snapshot stand (its data unread)
            if not store.has_relation_snapshot():
                return None
            events = store.relate_event_count()
            return RelateReport(settings, events, (), (), full=False, seconds=time.perf_counter() - started)
        parts = store.relation_snapshot()
        if not parts:
            return None
        current = store.relate_items(dates)
        events = store.relate_event_count()
    relation = resume(parts, settings, workers=workers)
    if relation is None:
        return None
    before = relation.items_on(dates)
    now = {item.id: item for item in current}
    added = [item for i, item in now.items() if before.get(i) != item]
    if any(item.id in relation and item.id not in before for item in added):
        return None  # the snapshot has it on another day: it missed a change
    # Their rows, and every row naming them, went with the days' events.
    damaged = relation.damaged_by(before)
    change = relation.update(removed=[i for i, item in before.items() if now.get(i) != item], added=added)
    if len(relation) != events:
        return None  # it missed a change
    rewrite = sorted({*change.changed, *(i for i in damaged if i in relation)})
    delta = encode({"delta": relation.delta()})
    added_to = sum(len(data) for _, data in parts[1:]) + len(delta)
    if len(parts) < MAX_PARTS and added_to <= PARTS_SHARE * len(parts[0][1]):
        part, data = len(parts), delta
    else:
        part, data = 0, pack(relation)
    store.save_relation(
        settings_json(settings),
        ((relation.item(i), relation.related(i)) for i in rewrite),
        dropped=change.removed,
        snapshot=(SNAPSHOT_FORMAT, data),
        snapshot_part=part,
        seen=seen,
    )
    return RelateReport(
        settings=settings,
        events=events,
        changed=change.changed,
        removed=change.removed,
        full=False,
        seconds=time.perf_counter() - started,
    )


def pack(relation: Relation) -> bytes:
    """The relation as the first part of a snapshot."""
    envelope = {
        "settings": json.dumps(settings_json(relation.settings), sort_keys=True),
        "machine": MACHINE,
        "relation": relation.state(),
    }
    return encode(envelope)


def resume(parts: list[tuple[int, bytes]], settings: Settings, *, workers: int = 1) -> Relation | None:
    """The relation a snapshot's (format, data) parts hold, if they are of this format,
    machine and ``settings``; else None."""
    if not parts or any(format != SNAPSHOT_FORMAT for format, _ in parts):
        return None
    try:
        envelope, *changes = (decode(data) for _, data in parts)
        if (
            not isinstance(envelope, dict)
            or envelope.get("settings") != json.dumps(settings_json(settings), sort_keys=True)
            or envelope.get("machine") != MACHINE
        ):
            return None
        deltas = [change["delta"] for change in changes if isinstance(change, dict)]
        if len(deltas) != len(changes):
            return None
        return Relation.resume(envelope["relation"], settings, deltas=deltas, workers=workers)
    except (ValueError, TypeError, KeyError, IndexError, EOFError, OverflowError, struct.error):
        return None  # damaged: the tables still hold everything


# A part's layout: the length of a marshal of the state, that marshal, then the state's
# large bytes values set apart, in order: reading a part takes views of them, not copies.
_LENGTH = struct.Struct("<Q")
_APART = 4096  # bytes values this long or longer are set apart
_MARK = "\0apart"  # what stands for one in the marshal: (_MARK, offset, length)


def encode(state: object) -> bytes:
    """A state of plain data (dicts, bytes, strings, numbers, tuples) as a snapshot part."""
    apart: list[bytes] = []
    offset = 0

    def marked(value: object) -> object:
        nonlocal offset
        if isinstance(value, dict):
            return {key: marked(item) for key, item in value.items()}
        if isinstance(value, bytes) and len(value) >= _APART:
            apart.append(value)
            offset += len(value)
            return (_MARK, offset - len(value), len(value))
        return value

    head = marshal.dumps(marked(state))  # type: ignore[arg-type]  # plain data, as documented
    return b"".join([_LENGTH.pack(len(head)), head, *apart])


def decode(part: bytes) -> object:
    """What ``encode`` made ``part`` of, with views of its bytes set apart (ValueError,
    EOFError or TypeError if it is not such a part)."""
    whole = memoryview(part)
    (length,) = _LENGTH.unpack_from(whole)
    start = _LENGTH.size + length

    def restored(value: object) -> object:
        if isinstance(value, dict):
            return {key: restored(item) for key, item in value.items()}
        if isinstance(value, tuple) and len(value) == 3 and value[0] == _MARK:
            offset, size = value[1], value[2]
            if not (isinstance(offset, int) and isinstance(size, int)) or start + offset + size > len(whole):
                raise ValueError("snapshot: a part is cut short")
            return whole[start + offset : start + offset + size]
        return value

    return restored(marshal.loads(whole[_LENGTH.size : start]))
