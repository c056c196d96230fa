"""Search the store: a reader's words to an FTS5 query, and ranked hits with snippets.

A query is words and "quoted phrases"; a word ending in ``*`` also matches the words
it begins. Each word is handed to FTS5 as a quoted string, so nothing a reader types
is query syntax (``AND``, ``NEAR``, ``col:``). Events holding every word come first,
best first by bm25 (the event's own text weighs most, then its entities and story,
then its sources' ledes and titles), the newer first on equal scores; if they are
fewer than asked for, events holding only some of the words follow.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import markupsafe

from daybook import urls
from daybook.publish.context import day_refs
from daybook.publish.search_index import STOPWORDS
from daybook.store import MARK_END, MARK_START, Store
from daybook.store.search import DEFAULT_LIMIT as DEFAULT_LIMIT  # re-exported (serve uses it)

_PIECE = re.compile(r'"([^"]*)"?|(\S+)')
_HAS_WORD = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class Hit:
    """One search result: the event, where its page is, and the words that matched."""

    rank: int
    id: str
    date: dt.date
    text: str
    url: str | None  # the event page's path (``/news/.../slug.html``)
    marked: str  # a snippet with the matched words between MARK_START and MARK_END
    score: float

    @property
    def snippet(self) -> str:
        """The snippet with matched words in Markdown bold."""
        return self.marked.replace(MARK_START, "**").replace(MARK_END, "**")

    def snippet_html(self) -> markupsafe.Markup:
        """The snippet as HTML: escaped, matched words in ``<mark>``."""
        escaped = str(markupsafe.escape(self.marked))
        return markupsafe.Markup(escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))

    def to_json(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "id": self.id,
            "date": self.date.isoformat(),
            "text": self.text,
            "url": self.url,
            "snippet": self.snippet,
            "score": round(self.score, 4),
        }


def fts_terms(query: str) -> list[str]:
    """The query's words and phrases as FTS5 strings; stopwords dropped unless that leaves none."""
    found: list[tuple[str, bool]] = []  # (FTS5 string, is a stopword)
    for phrase, word in _PIECE.findall(query):
        text = phrase if phrase else word
        prefix = not phrase and text.endswith("*")
        text = text.rstrip("*") if prefix else text
        if not _HAS_WORD.search(text):
            continue
        quoted = '"' + text.replace('"', '""') + '"' + ("*" if prefix else "")
        found.append((quoted, not phrase and not prefix and text.lower() in STOPWORDS))
    kept = [term for term, stop in found if not stop]
    return kept or [term for term, _ in found]


def search(
    store: Store,
    query: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    entity: str | None = None,
    limit: int = DEFAULT_LIMIT,
    locate: PageLocator | None = None,
) -> list[Hit]:
    """The best ``limit`` events for ``query``; ``locate`` finds their pages."""
    terms = fts_terms(query)
    if not terms or limit < 1:
        return []
    rows = store.search(" ".join(terms), start=start, end=end, entity=entity, limit=limit)
    if len(rows) < limit and len(terms) > 1:
        seen = {row.id for row in rows}
        some = store.search(" OR ".join(terms), start=start, end=end, entity=entity, limit=limit + len(seen))
        rows += [row for row in some if row.id not in seen][: limit - len(rows)]
    hits = []
    for rank, row in enumerate(rows, start=1):
        url = locate(store, row.id, row.date) if locate else None
        hits.append(Hit(rank, row.id, row.date, row.text, url, row.snippet, row.score))
    return hits


class PageLocator:
    """Each event's page path (``/news/.../slug.html``), as a build from the store writes it.

    Looked up a day at a time (slugs are unique per day) and kept; safe to share between
    threads that each pass their own store connection. ``clear`` after the store changed.
    """

    def __init__(self) -> None:
        self._days: dict[dt.date, dict[str, str]] = {}

    def clear(self) -> None:
        self._days = {}

    def __call__(self, store: Store, event_id: str, date: dt.date) -> str | None:
        paths = self._days.get(date)
        if paths is None:
            rows = [(ident, text) for ident, _, text in store.event_headlines(date)]
            paths = {ref.id: urls.link(f"{ref.stem}.html") for ref in day_refs(date, rows)}
            self._days[date] = paths
        return paths.get(event_id)
