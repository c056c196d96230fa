"""The research dataset's queries (``daybook export``, issue 21): the sources and entities
of a selection of events, the pages enrich kept, and the store's fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence

from daybook.store.base import StoreBase


class DatasetMixin(StoreBase):
    """What an export reads beside the events."""

    def dataset_sources(self, event_ids: Sequence[str]) -> Iterator[tuple[object, ...]]:
        """The sources these events cite, by id: id, url, outlet (as first cited), citations
        (among these events), status, reason, final_url, archived, dead_status, title, lede,
        image, publisher, published, whether a page is kept."""
        rows = self.conn.execute(
            f"WITH chosen AS (SELECT value AS id FROM {self.backend.json_each('?')}),"
            " cited AS (SELECT es.source_id, es.outlet, es.event_id, es.position FROM event_sources es"
            "  JOIN chosen c ON c.id = es.event_id)"
            " SELECT s.id, s.url,"
            "  (SELECT c2.outlet FROM cited c2 WHERE c2.source_id = s.id ORDER BY c2.event_id, c2.position"
            "   LIMIT 1),"
            "  (SELECT count(*) FROM cited c3 WHERE c3.source_id = s.id),"
            "  a.status, a.reason, a.final_url, a.archived, a.dead_status, a.title, a.lede, a.image,"
            "  a.publisher, a.published,"
            "  EXISTS (SELECT 1 FROM source_responses r WHERE r.source_id = s.id)"
            " FROM sources s LEFT JOIN source_articles a ON a.source_id = s.id"
            " WHERE s.id IN (SELECT source_id FROM cited) ORDER BY s.id",
            (json.dumps(list(event_ids)),),
        )
        yield from rows

    def citation_sources(self, event_ids: Sequence[str]) -> dict[tuple[str, int], str]:
        """Each citation of these events, (event id, position), to its source's id."""
        rows = self.conn.execute(
            f"SELECT es.event_id, es.position, es.source_id FROM {self.backend.json_each('?')} j"
            " JOIN event_sources es ON es.event_id = j.value",
            (json.dumps(list(event_ids)),),
        )
        return {(event, position): source for event, position, source in rows}

    def kept_page(self, source_id: str) -> tuple[bytes, str, list[list[str]], bool] | None:
        """The page enrich kept for a source: body (compressed), final URL, headers, archived."""
        row = self.conn.execute(
            "SELECT body, final_url, headers, archived FROM source_responses WHERE source_id = ?",
            (source_id,),
        ).fetchone()
        if row is None:
            return None
        body, final_url, headers, archived = row
        return bytes(body), str(final_url), json.loads(headers), bool(archived)

    def fingerprint(self) -> str:
        """A digest of what the store holds that an export shows: every day's events (the
        hash ingest keeps of them) and every source's enrich result. The same store, the
        same fingerprint; any change of an event or a source's metadata, another."""
        digest = hashlib.sha256()
        for date, sha in self.conn.execute("SELECT date, content_sha FROM days ORDER BY date"):
            digest.update(f"day {date} {sha}\n".encode())
        rows = self.conn.execute(
            "SELECT source_id, outcome, status, final_url, archived, title, lede, image, publisher,"
            " published FROM source_articles ORDER BY source_id"
        )
        for row in rows:
            digest.update(("source " + json.dumps(list(row), ensure_ascii=False) + "\n").encode())
        return digest.hexdigest()
