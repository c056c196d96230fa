"""The full-text index (FTS5) of the events, kept by the store's triggers, and its search."""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections.abc import Iterator

from daybook.errors import UsageError
from daybook.model import (
    SearchRow,
)
from daybook.store.base import StoreBase

MARK_START, MARK_END = "\x02", "\x03"  # around matched words in snippets; never in stored text

# One event's row of the search index (schema 4): text, names (entities, then story lines),
# and its sources' ledes and titles.
_SEARCH_ROW = (
    "SELECT d.doc, e.text,"
    " coalesce((SELECT group_concat(n.title, char(10)) FROM event_entities ee"
    "  JOIN entities n ON n.id = ee.entity_id WHERE ee.event_id = e.id), '')"
    " || char(10) || coalesce((SELECT group_concat(value, char(10)) FROM json_each(e.story)), ''),"
    " (SELECT group_concat(a.lede, char(10)) FROM event_sources es"
    "  JOIN source_articles a ON a.source_id = es.source_id WHERE es.event_id = e.id AND a.outcome = 'ok'),"
    " (SELECT group_concat(a.title, char(10)) FROM event_sources es"
    "  JOIN source_articles a ON a.source_id = es.source_id WHERE es.event_id = e.id AND a.outcome = 'ok')"
    " FROM events e JOIN search_docs d ON d.event_id = e.id"
)
# Column weights for bm25: the event's own words count most, then what it is about.
_SEARCH_WEIGHTS = "10.0, 4.0, 1.5, 1.5"


class SearchMixin(StoreBase):
    """The events' full-text search."""

    # -- search (issue 7) ----------------------------------------------------

    def _index_day(self, conn: sqlite3.Connection, date: str) -> None:
        """Put a day's events, just stored, in the search index (deleting them took them out)."""
        conn.execute(
            "INSERT INTO search_docs (event_id) SELECT id FROM events WHERE date = ? ORDER BY position",
            (date,),
        )
        conn.execute(
            f"INSERT INTO event_search (rowid, text, names, ledes, titles) {_SEARCH_ROW} WHERE e.date = ?",
            (date,),
        )

    def search_documents(
        self, since: dt.date | None = None, skip: int = 0
    ) -> Iterator[tuple[str, dt.date, str, str, str, str]]:
        """What the search index holds of every event, in site order: id, date, text, names,
        ledes, titles; of the days from ``since`` on, less the first ``skip``."""
        rows = self.conn.execute(
            # CROSS JOIN keeps this order: the days first (an index), then their text; the
            # planner would otherwise walk the whole full-text table.
            "SELECT e.id, e.date, s.text, s.names, coalesce(s.ledes, ''), coalesce(s.titles, '')"
            " FROM events e CROSS JOIN search_docs d CROSS JOIN event_search s"
            " WHERE d.event_id = e.id AND s.rowid = d.doc AND e.date >= ? ORDER BY e.date, e.position",
            (since.isoformat() if since else "",),
        )
        for ident, date, text, names, ledes, titles in itertools.islice(rows, skip, None):
            yield ident, dt.date.fromisoformat(date), text, names, ledes, titles

    def search(
        self,
        match: str,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        entity: str | None = None,
        limit: int = 20,
    ) -> list[SearchRow]:
        """Events matching an FTS5 query, best first (bm25), the newer first on equal scores."""
        where, params = ["event_search MATCH ?"], [match]
        if start is not None:
            where.append("e.date >= ?")
            params.append(start.isoformat())
        if end is not None:
            where.append("e.date <= ?")
            params.append(end.isoformat())
        if entity is not None:
            where.append(
                "EXISTS (SELECT 1 FROM event_entities ee JOIN entities n ON n.id = ee.entity_id"
                " WHERE ee.event_id = e.id AND n.title = ? COLLATE NOCASE)"
            )
            params.append(entity)
        marks = f"'{MARK_START}', '{MARK_END}', '…', 24"
        try:
            rows = self.conn.execute(
                f"SELECT e.id, e.date, e.text, snippet(event_search, 0, {marks}),"
                f" snippet(event_search, 2, {marks}), bm25(event_search, {_SEARCH_WEIGHTS}) AS score"
                " FROM event_search JOIN search_docs d ON d.doc = event_search.rowid"
                f" JOIN events e ON e.id = d.event_id WHERE {' AND '.join(where)}"
                " ORDER BY score, e.date DESC, e.position LIMIT ?",
                [*params, limit],
            ).fetchall()
        except sqlite3.OperationalError as exc:  # the query language's syntax; search.py quotes every word
            raise UsageError(f"cannot search for {match!r}: {exc}") from exc
        return [
            SearchRow(
                ident,
                dt.date.fromisoformat(date),
                text,
                # The event's own words, unless only a lede matched.
                lede if MARK_START in (lede or "") and MARK_START not in in_text else in_text,
                score,
            )
            for ident, date, text, in_text, lede, score in rows
        ]
