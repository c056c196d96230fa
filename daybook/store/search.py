"""The full-text index of the events, kept by the store's triggers, and its search: FTS5
on SQLite, a weighted ``tsvector`` (GIN index) on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator

from daybook.errors import UsageError
from daybook.model import (
    SearchRow,
)
from daybook.store.backend import Backend, Connection
from daybook.store.base import StoreBase
from daybook.store.schema import PG_SEARCH_CONFIG

MARK_START, MARK_END = "\x02", "\x03"  # around matched words in snippets; never in stored text


def _search_row(backend: Backend) -> str:
    """One event's row of the search index (schema 4): its number, text, names (entities,
    then story lines), and its sources' ledes and titles."""
    ledes = backend.lines("a.lede", "es.position")
    titles = backend.lines("a.title", "es.position")
    cited = (
        " FROM event_sources es JOIN source_articles a ON a.source_id = es.source_id"
        " WHERE es.event_id = e.id AND a.outcome = 'ok')"
    )
    return (
        "SELECT d.doc, e.text,"
        f" coalesce((SELECT {backend.lines('n.title', 'ee.entity_id')} FROM event_entities ee"
        "  JOIN entities n ON n.id = ee.entity_id WHERE ee.event_id = e.id), '')"
        f" || '\n' || coalesce((SELECT {backend.lines('j.value', 'j.n')} FROM {_story(backend)}), ''),"
        f" (SELECT {ledes}{cited}, (SELECT {titles}{cited}"
        " FROM events e JOIN search_docs d ON d.event_id = e.id"
    )


def _story(backend: Backend) -> str:
    """An event's story lines, as a table ``j`` (``value``; ``n``: the order, on PostgreSQL)."""
    if backend.name == "sqlite":
        return "json_each(e.story) j"
    return "json_array_elements_text(CAST(e.story AS json)) WITH ORDINALITY j(value, n)"


# Hits a search returns unless told (the command line shows it without importing daybook.search).
DEFAULT_LIMIT = 20

# Column weights for bm25: the event's own words count most, then what it is about.
_SEARCH_WEIGHTS = "10.0, 4.0, 1.5, 1.5"
# The same for ts_rank, by weight D, C, B, A (titles, ledes, names, text), as fractions of the first.
_PG_WEIGHTS = "'{0.15, 0.15, 0.4, 1.0}'"
_SNIPPET_WORDS = 24
_TERM = re.compile(r'"((?:[^"]|"")*)"(\*?)')


class SearchMixin(StoreBase):
    """The events' full-text search."""

    # -- search (issue 7) ----------------------------------------------------

    def _index_day(self, conn: Connection, date: str) -> None:
        """Put a day's events, just stored, in the search index (deleting them took them out)."""
        conn.execute(
            "INSERT INTO search_docs (event_id) SELECT id FROM events WHERE date = ? ORDER BY position",
            (date,),
        )
        doc = "rowid" if self.backend.name == "sqlite" else "doc"
        conn.execute(
            f"INSERT INTO event_search ({doc}, text, names, ledes, titles)"
            f" {_search_row(self.backend)} WHERE e.date = ?",
            (date,),
        )

    def rebuild_search(self, conn: Connection) -> None:
        """Make the search index again from the stored events (a copied store)."""
        conn.execute("DELETE FROM event_search")
        conn.execute("DELETE FROM search_docs")
        conn.execute("INSERT INTO search_docs (event_id) SELECT id FROM events ORDER BY date, position")
        doc = "rowid" if self.backend.name == "sqlite" else "doc"
        conn.execute(
            f"INSERT INTO event_search ({doc}, text, names, ledes, titles) {_search_row(self.backend)}"
        )

    def search_documents(
        self, since: dt.date | None = None, skip: int = 0
    ) -> Iterator[tuple[str, dt.date, str, str, str, str]]:
        """What the search index holds of every event, in site order: id, date, text, names,
        ledes, titles; of the days from ``since`` on, less the first ``skip``."""
        doc = "rowid" if self.backend.name == "sqlite" else "doc"
        rows = self.conn.execute(
            # CROSS JOIN keeps this order on SQLite: the days first (an index), then their
            # text; the planner would otherwise walk the whole full-text table.
            "SELECT e.id, e.date, s.text, s.names, coalesce(s.ledes, ''), coalesce(s.titles, '')"
            " FROM events e CROSS JOIN search_docs d CROSS JOIN event_search s"
            f" WHERE d.event_id = e.id AND s.{doc} = d.doc AND e.date >= ? ORDER BY e.date, e.position",
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
        limit: int = DEFAULT_LIMIT,
    ) -> list[SearchRow]:
        """Events matching an FTS5 query, best first (bm25), the newer first on equal scores.

        On PostgreSQL the query is what ``daybook.search`` makes (quoted words and phrases,
        ``*`` prefixes, joined by spaces or ``OR``), ranked by ``ts_rank``.
        """
        where: list[str] = []
        params: list[object] = []
        if start is not None:
            where.append("e.date >= ?")
            params.append(start.isoformat())
        if end is not None:
            where.append("e.date <= ?")
            params.append(end.isoformat())
        if entity is not None:
            where.append(
                "EXISTS (SELECT 1 FROM event_entities ee JOIN entities n ON n.id = ee.entity_id"
                " WHERE ee.event_id = e.id AND lower(n.title) = lower(?))"
            )
            params.append(entity)
        try:
            if self.backend.name == "sqlite":
                rows = self._fts5_search(match, where, params, limit)
            else:
                rows = self._pg_search(match, where, params, limit)
        except self.backend.query_errors as exc:  # the query's syntax; search.py quotes every word
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

    def _fts5_search(self, match: str, where: list[str], params: list[object], limit: int) -> list[tuple]:  # type: ignore[type-arg]
        marks = f"'{MARK_START}', '{MARK_END}', '…', {_SNIPPET_WORDS}"
        return self.conn.execute(
            f"SELECT e.id, e.date, e.text, snippet(event_search, 0, {marks}),"
            f" snippet(event_search, 2, {marks}), bm25(event_search, {_SEARCH_WEIGHTS}) AS score"
            " FROM event_search JOIN search_docs d ON d.doc = event_search.rowid"
            f" JOIN events e ON e.id = d.event_id WHERE {' AND '.join(['event_search MATCH ?', *where])}"
            " ORDER BY score, e.date DESC, e.position LIMIT ?",
            [match, *params, limit],
        ).fetchall()

    def _pg_search(self, match: str, where: list[str], params: list[object], limit: int) -> list[tuple]:  # type: ignore[type-arg]
        query, query_params = _tsquery(match)
        # The best first, then snippets of those only (ts_headline reads the whole text).
        found = self.conn.execute(
            f"SELECT e.id, e.date, e.text, s.text, coalesce(s.ledes, ''),"
            f" -ts_rank({_PG_WEIGHTS}, s.words, q.query, 1) AS score"
            f" FROM (SELECT {query} AS query) q, event_search s JOIN search_docs d ON d.doc = s.doc"
            f" JOIN events e ON e.id = d.event_id WHERE {' AND '.join(['s.words @@ q.query', *where])}"
            " ORDER BY score, e.date DESC, e.position LIMIT ?",
            [*query_params, *params, limit],
        ).fetchall()
        marks = f'StartSel="{MARK_START}", StopSel="{MARK_END}", ShortWord=0'
        rows = []
        for ident, date, text, indexed, ledes, score in found:
            # As FTS5's snippet: a text of no more words than a snippet holds is shown whole.
            options = [
                f"{marks}, HighlightAll=true"
                if len(part.split()) <= _SNIPPET_WORDS
                else f"{marks}, MaxWords={_SNIPPET_WORDS}, MinWords={_SNIPPET_WORDS - 4}"
                for part in (indexed, ledes)
            ]
            in_text, lede = self.conn.execute(
                f"SELECT ts_headline('{PG_SEARCH_CONFIG}', ?, {query}, ?),"
                f" ts_headline('{PG_SEARCH_CONFIG}', ?, {query}, ?)",
                [indexed, *query_params, options[0], ledes, *query_params, options[1]],
            ).fetchone()
            rows.append(
                (ident, date, text, _ellipsis(in_text, indexed), _ellipsis(lede, ledes), float(score))
            )
        return rows


def _tsquery(match: str) -> tuple[str, list[str]]:
    """A query of ``daybook.search`` (FTS5: quoted terms, ``*`` prefixes, spaces or OR
    between them) as a PostgreSQL tsquery expression and its parameters."""
    parts, params = [], []
    position, joiner = 0, " && "
    for found in _TERM.finditer(match):
        between = match[position : found.start()].strip()
        if between not in ("", "OR"):
            raise UsageError(f"cannot search for {match!r}: unexpected {between!r}")
        if between == "OR":
            joiner = " || "
        text = found[1].replace('""', '"')
        if found[2]:  # a prefix: its words, the last one matched as a prefix
            words = re.findall(r"[^\W_]+", text)
            params.append(
                " <-> ".join(f"'{w}'" for w in words[:-1])
                + (" <-> " if words[1:] else "")
                + f"'{words[-1]}':*"
            )
            parts.append(f"to_tsquery('{PG_SEARCH_CONFIG}', ?)")
        else:
            params.append(text)
            parts.append(f"phraseto_tsquery('{PG_SEARCH_CONFIG}', ?)")
        position = found.end()
    if match[position:].strip() or not parts:
        raise UsageError(f"cannot search for {match!r}")
    return "(" + joiner.join(parts) + ")", params


def _ellipsis(snippet: str, whole: str) -> str:
    """A ``ts_headline`` marked as FTS5's snippet is: ``…`` where the text goes on, the
    punctuation that ends the text kept."""
    plain = snippet.replace(MARK_START, "").replace(MARK_END, "")
    at = whole.find(plain) if plain else -1
    if at < 0:
        return snippet
    head, tail = whole[:at], whole[at + len(plain) :]
    before = "…" if head.strip() else ""
    after = "…" if _WORD.search(tail) else tail.rstrip()
    return before + snippet + after


_WORD = re.compile(r"[^\W_]")
