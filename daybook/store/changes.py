"""The change queue: what ingest and relate changed, kept until an update publishes it."""

from __future__ import annotations

import datetime as dt

from daybook.model import (
    DayChange,
    PendingPublish,
)
from daybook.store.backend import Connection
from daybook.store.base import StoreBase

# How a pending change of an event combines with a new one (None: nothing left to tell).
_MERGED: dict[tuple[str, str], str | None] = {
    ("added", "edited"): "added",
    ("added", "removed"): None,
    ("removed", "added"): "edited",
    ("edited", "removed"): "removed",
}


class ChangesMixin(StoreBase):
    """Work to publish."""

    # -- update: what to publish (issue 6) ------------------------------------

    def start_publishing(self) -> None:
        """Record, from now on, what changes for ``daybook update`` to publish (the first
        time, the related lists are due: what was stored before went unrecorded)."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO publish_state (id, relate_due) VALUES (1, 1) ON CONFLICT DO NOTHING")

    def _record_change(self, conn: Connection, change: DayChange) -> None:
        """Note a replaced day for the next update (once one has published from this store)."""
        if conn.execute("SELECT 1 FROM publish_state").fetchone() is None:
            return
        conn.execute("UPDATE publish_state SET relate_due = 1")
        conn.execute(
            "INSERT INTO publish_days (date) VALUES (?) ON CONFLICT DO NOTHING", (change.date.isoformat(),)
        )
        news = {
            **{i: "added" for i in change.added},
            **{i: "edited" for i in change.edited},
            **{i: "removed" for i in change.removed},
        }
        for event_id, new in news.items():
            row = conn.execute(
                "SELECT change FROM publish_changes WHERE event_id = ?", (event_id,)
            ).fetchone()
            merged = new if row is None else _MERGED.get((row[0], new), new)
            if merged is None:
                conn.execute("DELETE FROM publish_changes WHERE event_id = ?", (event_id,))
            else:
                conn.execute(
                    "INSERT INTO publish_changes (event_id, change) VALUES (?, ?)"
                    " ON CONFLICT (event_id) DO UPDATE SET change = excluded.change",
                    (event_id, merged),
                )

    def relate_due(self) -> bool:
        """Whether a day changed since the related lists were last brought up to date."""
        row = self.conn.execute("SELECT relate_due FROM publish_state").fetchone()
        return bool(row and row[0])

    def relate_done(self) -> None:
        """Note that the related lists are up to date with the stored days."""
        with self.transaction() as conn:
            conn.execute("UPDATE publish_state SET relate_due = 0")

    def pending_publish(self) -> PendingPublish:
        """What changed since an update last published the site."""
        row = self.conn.execute("SELECT publishing FROM publish_state").fetchone()
        return PendingPublish(
            dates=tuple(
                dt.date.fromisoformat(r[0])
                for r in self.conn.execute("SELECT date FROM publish_days ORDER BY date")
            ),
            event_ids=tuple(
                r[0] for r in self.conn.execute("SELECT event_id FROM publish_events ORDER BY event_id")
            ),
            changes=tuple(
                self.conn.execute("SELECT event_id, change FROM publish_changes ORDER BY event_id")
            ),
            interrupted=bool(row and row[0]),
        )

    def publishing(self) -> None:
        """Note that an update is writing the site: stopped before ``published``, the next
        one knows the site holds files its commit lacks."""
        with self.transaction() as conn:
            conn.execute("UPDATE publish_state SET publishing = 1")

    def published(self, done: PendingPublish) -> None:
        """Forget the changes ``done`` listed: the site shows them and git has them."""
        with self.transaction() as conn:
            conn.executemany(
                "DELETE FROM publish_days WHERE date = ?", ((d.isoformat(),) for d in done.dates)
            )
            conn.executemany("DELETE FROM publish_events WHERE event_id = ?", ((i,) for i in done.event_ids))
            conn.executemany("DELETE FROM publish_changes WHERE event_id = ? AND change = ?", done.changes)
            conn.execute("UPDATE publish_state SET publishing = 0")
