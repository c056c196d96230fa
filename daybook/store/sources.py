"""Cited sources: what enrich fetched for each, robots.txt, and the metadata kept."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator

from daybook.model import (
    Article,
    RawResponse,
    SourceJob,
    SourceRecord,
)
from daybook.store.backend import Connection
from daybook.store.base import StoreBase, _now


def _status(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


class SourcesMixin(StoreBase):
    """Sources and their fetched pages."""

    # -- enrich: fetched pages and their metadata (issue 3) -------------------

    # The outlet of a source's first citation, and the day it was first cited (for s.id).
    _OUTLET = (
        "(SELECT es.outlet FROM event_sources es JOIN events e ON e.id = es.event_id"
        " WHERE es.source_id = s.id ORDER BY e.date, e.position, es.position LIMIT 1)"
    )
    _FIRST_DATE = (
        "(SELECT min(e.date) FROM event_sources es JOIN events e ON e.id = es.event_id"
        " WHERE es.source_id = s.id)"
    )

    def sources_to_enrich(self, *, refresh: bool = False, retry_failed: bool = False) -> list[SourceJob]:
        """Cited sources with no result yet; also failed ones if ``retry_failed``; all if ``refresh``."""
        rows = self.conn.execute(
            f"SELECT s.id, s.url, {self._OUTLET}, {self._FIRST_DATE}"
            " FROM sources s LEFT JOIN source_articles a ON a.source_id = s.id"
            " WHERE EXISTS (SELECT 1 FROM event_sources es WHERE es.source_id = s.id)"
            " AND (a.source_id IS NULL OR ? OR (? AND a.outcome = 'failed'))"
            " ORDER BY s.id",
            (refresh, retry_failed),
        )
        return [
            SourceJob(id=key, url=url, outlet=outlet or "", date=dt.date.fromisoformat(day) if day else None)
            for key, url, outlet, day in rows
        ]

    def save_page(self, source_id: str, response: RawResponse, article: Article, *, dead: str | None) -> None:
        """Keep a fetched page and its metadata (replacing earlier ones); ``dead``: see archived."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO source_responses"
                " (source_id, status, final_url, headers, body, archived, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source_id) DO UPDATE SET"
                " status = excluded.status, final_url = excluded.final_url, headers = excluded.headers,"
                " body = excluded.body, archived = excluded.archived, fetched_at = excluded.fetched_at",
                (source_id, response.status, response.final_url, json.dumps(response.headers),
                 response.body, int(response.archived), response.fetched_at),
            )  # fmt: skip
            self._save_article(conn, source_id, response, article, dead=dead)
            conn.execute("DELETE FROM enrich_leases WHERE source_id = ?", (source_id,))  # done

    def robots(self, origin: str, newer_than: dt.datetime) -> tuple[int, bytes] | None:
        """An origin's robots.txt as kept (status, body), if read since ``newer_than``."""
        row = self.conn.execute(
            "SELECT status, body FROM robots WHERE origin = ? AND fetched_at > ?",
            (origin, newer_than.astimezone(dt.UTC).isoformat(timespec="seconds")),
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def save_robots(self, origin: str, status: int, body: bytes) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO robots (origin, status, body, fetched_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (origin) DO UPDATE SET status = excluded.status, body = excluded.body,"
                " fetched_at = excluded.fetched_at",
                (origin, status, body, _now()),
            )

    def save_failure(self, source_id: str, status: int | str, reason: str) -> None:
        """Record that a source could not be fetched, unless an earlier attempt succeeded."""
        with self.transaction() as conn:
            # A refresh that fails keeps the page fetched before: the web forgets, daybook need not.
            conn.execute(
                "INSERT INTO source_articles (source_id, outcome, status, reason, enriched_at)"
                " VALUES (?, 'failed', ?, ?, ?) ON CONFLICT(source_id) DO UPDATE SET"
                " status = excluded.status, reason = excluded.reason, enriched_at = excluded.enriched_at"
                " WHERE source_articles.outcome = 'failed'",
                (source_id, str(status), reason, _now()),
            )
            conn.execute("DELETE FROM enrich_leases WHERE source_id = ?", (source_id,))  # done

    def response_count(self) -> int:
        """How many fetched pages the store keeps."""
        return int(self.conn.execute("SELECT count(*) FROM source_responses").fetchone()[0])

    def stored_responses(self) -> Iterator[tuple[SourceJob, RawResponse, str | None]]:
        """Every kept page with its source and why it was archived, for re-extraction."""
        query = "SELECT source_id FROM source_responses ORDER BY source_id"
        ids = [row[0] for row in self.conn.execute(query)]
        for key in ids:  # one at a time: bodies are large, and the caller writes between reads
            row = self.conn.execute(
                f"SELECT s.url, {self._OUTLET}, r.status, r.final_url,"
                " r.headers, r.body, r.archived, r.fetched_at, a.dead_status"
                " FROM source_responses r JOIN sources s ON s.id = r.source_id"
                " LEFT JOIN source_articles a ON a.source_id = r.source_id WHERE r.source_id = ?",
                (key,),
            ).fetchone()
            if row is None:
                continue
            url, outlet, status, final_url, headers, body, archived, fetched_at, dead = row
            job = SourceJob(id=key, url=url, outlet=outlet or "", date=None)
            pairs = tuple((str(k), str(v)) for k, v in json.loads(headers))
            yield job, RawResponse(status, final_url, pairs, body, fetched_at, bool(archived)), dead

    def _save_article(
        self,
        conn: Connection,
        source_id: str,
        response: RawResponse,
        article: Article,
        *,
        dead: str | None,
    ) -> None:
        # Deleted and inserted again, as SQLite's INSERT OR REPLACE did: the insert triggers
        # (search, publish) fire each time.
        conn.execute("DELETE FROM source_articles WHERE source_id = ?", (source_id,))
        conn.execute(
            "INSERT INTO source_articles (source_id, outcome, status, reason, dead_status,"
            " final_url, archived, title, lede, image, publisher, published, enriched_at)"
            " VALUES (?, 'ok', ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (source_id, str(response.status), dead, response.final_url, int(response.archived),
             article.title, article.lede, article.image, article.publisher, article.published, _now()),
        )  # fmt: skip

    def save_article(
        self, source_id: str, response: RawResponse, article: Article, *, dead: str | None
    ) -> None:
        """Replace a source's metadata only (``enrich --offline``: the page kept is unchanged)."""
        with self.transaction() as conn:
            self._save_article(conn, source_id, response, article, dead=dead)

    def source_records(self) -> list[SourceRecord]:
        """Every cited source with its enrich result, by URL."""
        rows = self.conn.execute(
            f"SELECT s.url, {self._OUTLET}, a.status, a.reason, a.final_url,"
            " a.archived, a.dead_status, a.title, a.lede, a.image, a.publisher, a.published, a.enriched_at"
            " FROM sources s LEFT JOIN source_articles a ON a.source_id = s.id"
            " WHERE EXISTS (SELECT 1 FROM event_sources es WHERE es.source_id = s.id) ORDER BY s.url"
        )
        return [
            SourceRecord(
                url=url,
                outlet=outlet or "",
                status=_status(status),
                reason=reason,
                final_url=final_url,
                archived=bool(archived),
                dead_status=_status(dead),
                article=Article(
                    title=title, lede=lede, image=image, publisher=publisher, published=published
                ),
                enriched_at=enriched_at,
            )
            for url, outlet, status, reason, final_url, archived, dead, title, lede, image, publisher,
            published, enriched_at in rows
        ]  # fmt: skip

    def article_dates(self, event_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """For each event, the publication date enrich found for each source (URL -> ISO date)."""
        ids = list(event_ids)
        found: dict[str, dict[str, str]] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            rows = self.conn.execute(
                "SELECT es.event_id, es.url, a.published"
                " FROM event_sources es JOIN source_articles a ON a.source_id = es.source_id"
                f" WHERE {self.backend.unindexed('a.outcome')} = 'ok' AND a.published IS NOT NULL"
                f" AND es.event_id IN ({','.join('?' * len(part))})",
                part,
            )
            for event_id, url, published in rows:
                found.setdefault(event_id, {})[url] = published
        return found
