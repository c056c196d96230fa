"""The relate stage over the store: compute every event's related list and keep it current.

``refresh`` brings the stored lists in step with the stored events. Beside the lists
the store keeps the settings they were computed with and the events (id, date,
entities) they were computed from. When the settings are the same, the difference
between those events and the stored ones (the days ingested since) is applied to a
``relate.Relation`` restored from the store, which re-ranks only the lists that can
change; the rest of the lists are left as they are. Otherwise, or when asked, every
list is computed again.

A day ingested again deletes its events' rows of ``related`` and every row naming
them (so a removed event never lingers in a list). The next refresh recomputes such
damaged lists as they were (from the stored events they were computed from), then
applies the change, so it reports exactly the lists whose content changed.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from daybook.relate import Relation, Settings
from daybook.store import Store


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
    settings = settings or Settings()
    started = time.perf_counter()
    current = store.relate_items()
    if full or store.relation_settings() != settings_json(settings):
        relation = Relation(current, settings, workers=workers)
        store.save_relation(
            settings_json(settings),
            ((item, relation.related(item.id)) for item in current),
            replace=True,
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
        settings_json(settings), ((now[i], relation.related(i)) for i in rewrite), dropped=change.removed
    )
    return RelateReport(
        settings=settings,
        events=len(current),
        changed=change.changed,
        removed=change.removed,
        full=False,
        seconds=time.perf_counter() - started,
    )
