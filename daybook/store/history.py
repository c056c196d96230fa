"""Each event's history (issue 21): every wording it has had, from each pulled portal
revision daybook ingested."""

from __future__ import annotations

import json
from collections.abc import Iterable

from daybook.model import EventVersion
from daybook.store.backend import Connection
from daybook.store.days import DaysMixin


class HistoryMixin(DaysMixin):
    """Event versions."""

    def _record_versions(self, conn: Connection, date: str, revision: int, saved_at: str) -> None:
        """Note each event of a day whose wording this revision shows first (new, or reworded)."""
        rows = conn.execute(
            "SELECT e.id, e.text, (SELECT v.text FROM event_versions v WHERE v.event_id = e.id"
            " ORDER BY v.revision DESC LIMIT 1) FROM events e WHERE e.date = ?",
            (date,),
        ).fetchall()
        conn.executemany(
            "INSERT INTO event_versions (event_id, revision, saved_at, text) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (event_id, revision) DO NOTHING",
            [(ident, revision, saved_at, text) for ident, text, last in rows if text != last],
        )

    def event_versions(self, event_ids: Iterable[str]) -> dict[str, list[EventVersion]]:
        """Each of these events' wordings, oldest first (the last is its wording now); an
        event never pulled from the wiki has none."""
        found: dict[str, list[EventVersion]] = {}
        rows = self.conn.execute(
            f"SELECT v.event_id, v.revision, v.saved_at, v.text FROM {self.backend.json_each('?')} j"
            " JOIN event_versions v ON v.event_id = j.value ORDER BY v.event_id, v.revision",
            (json.dumps(list(event_ids)),),
        )
        for ident, revision, saved_at, text in rows:
            found.setdefault(ident, []).append(EventVersion(int(revision), str(saved_at), str(text)))
        return found
