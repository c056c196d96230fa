"""Days and their events: a day replaced in one transaction, events read back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence

from daybook.model import (
    ArticleMeta,
    Day,
    DayChange,
    Event,
    Matcher,
    Source,
    Stats,
    normalize_url,
    url_key,
)
from daybook.store.backend import Connection
from daybook.store.base import _now
from daybook.store.changes import ChangesMixin
from daybook.store.entities import EntitiesMixin
from daybook.store.search import SearchMixin


class DaysMixin(SearchMixin, ChangesMixin, EntitiesMixin):
    """Days and events."""

    # -- writing -------------------------------------------------------------

    def replace_day(self, day: Day, *, origin: str, format: str, match: Matcher | None = None) -> DayChange:
        """Store ``day``, replacing whatever the store held for that date.

        ``match`` (ingest's ``reconcile``) gives an edited event the id it had, and so
        its page; without it the ids are as given. A day whose events are those stored
        already is left as it is.
        """
        with self.transaction() as conn:
            return self._replace_day(conn, day, origin=origin, format=format, match=match)

    def _replace_day(
        self, conn: Connection, day: Day, *, origin: str, format: str, match: Matcher | None
    ) -> DayChange:
        """The one rule for files and pulled pages alike: a day whose events are those
        stored changes nothing (no event rewritten, so nothing queued for relate or
        publish)."""
        date = day.date.isoformat()
        digest = day_sha(day)
        row = conn.execute("SELECT content_sha FROM days WHERE date = ?", (date,)).fetchone()
        if row is not None and row[0] == digest:  # parsed as last time: not even reconciled
            kept = conn.execute("SELECT id FROM events WHERE date = ? ORDER BY position", (date,))
            return DayChange(day.date, added=(), removed=(), kept=tuple(r[0] for r in kept))
        # An entity that redirects is stored as the article it leads to (schema 10), once.
        to = self._redirects(conn, {t for e in day.events for t in e.entities})
        read = tuple(
            dataclasses.replace(e, entities=tuple(dict.fromkeys(to.get(t, t) for t in e.entities)))
            if any(t in to for t in e.entities)
            else e
            for e in day.events
        )
        before = {e.id: e for e in self.events(date=day.date)}
        events = tuple(match(list(before.values()), read)) if match else read
        if row is not None and list(events) == list(before.values()):
            # Parsed otherwise (another format, ids given) but the same events once reconciled.
            conn.execute(
                "UPDATE days SET origin = ?, format = ?, content_sha = ? WHERE date = ?",
                (origin, format, digest, date),
            )
            return DayChange(day.date, added=(), removed=(), kept=tuple(before))
        conn.execute("DELETE FROM events WHERE date = ?", (date,))
        conn.execute(
            "INSERT INTO days (date, origin, format, content_sha, ingested_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(date) DO UPDATE SET origin = excluded.origin, format = excluded.format,"
            " content_sha = excluded.content_sha, ingested_at = excluded.ingested_at",
            (date, origin, format, digest, _now()),
        )
        self._insert_events(conn, events)
        self._index_day(conn, date)
        after = {e.id for e in events}
        change = DayChange(
            date=day.date,
            added=tuple(e.id for e in events if e.id not in before),
            removed=tuple(sorted(before.keys() - after)),
            kept=tuple(e.id for e in events if e.id in before),
            edited=tuple(e.id for e in events if e.id in before and before[e.id] != e),
        )
        self._record_change(conn, change)
        return change

    def _insert_events(self, conn: Connection, events: Sequence[Event]) -> None:
        """A day's events with their entities and sources, in page order: a few statements
        for the day (each a round trip to a PostgreSQL server), not a few per event."""
        conn.executemany(
            "INSERT INTO events (id, date, position, category, story, text, parent)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(event.id, event.date.isoformat(), position, event.category,
              json.dumps(list(event.story), ensure_ascii=False), event.text, event.parent)
             for position, event in enumerate(events)],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO story_events (line, date, position, event_id, innermost) VALUES (?, ?, ?, ?, ?)",
            [(line, e.date.isoformat(), position, e.id, int(line == e.story[-1]))
             for position, e in enumerate(events) for line in dict.fromkeys(e.story)],
        )  # fmt: skip
        titles = json.dumps(list(dict.fromkeys(t for e in events for t in e.entities)), ensure_ascii=False)
        # New entities numbered in order of first appearance, as one insert per title did.
        conn.execute(
            f"INSERT INTO entities (title) SELECT value FROM {self.backend.json_each('?')}"
            " WHERE true ON CONFLICT DO NOTHING",
            (titles,),
        )
        ids = dict(
            conn.execute(
                "SELECT title, id FROM entities"
                f" WHERE title IN (SELECT value FROM {self.backend.json_each('?')})",
                (titles,),
            ).fetchall()
        )
        conn.executemany(
            "INSERT INTO event_entities (event_id, entity_id, position) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            [(e.id, ids[title], index) for e in events for index, title in enumerate(e.entities)],
        )
        # A source keeps the URL it was first cited with.
        conn.executemany(
            "INSERT INTO sources (id, url, normalized_url) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(url_key(s.url), s.url, normalize_url(s.url)) for e in events for s in e.sources],
        )
        conn.executemany(
            "INSERT INTO event_sources (event_id, position, source_id, outlet, url) VALUES (?, ?, ?, ?, ?)",
            [
                (e.id, index, url_key(s.url), s.outlet, s.url)
                for e in events
                for index, s in enumerate(e.sources)
            ],
        )

    # -- reading -------------------------------------------------------------

    def dates(self) -> list[dt.date]:
        """Every stored day, oldest first."""
        return [dt.date.fromisoformat(r[0]) for r in self.conn.execute("SELECT date FROM days ORDER BY date")]

    def events(
        self,
        *,
        date: dt.date | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        ids: Iterable[str] | None = None,
    ) -> list[Event]:
        """Stored events in page order, for one day, a date range (inclusive), given ids, or all."""
        where, params = "1 = 1", []
        if date is not None:
            start = end = date
        if start is not None:
            where += " AND e.date >= ?"
            params.append(start.isoformat())
        if end is not None:
            where += " AND e.date <= ?"
            params.append(end.isoformat())
        if ids is not None:
            id_list = list(ids)
            where += f" AND e.id IN ({','.join('?' * len(id_list))})"
            params.extend(id_list)
        rows = self.conn.execute(
            f"SELECT e.id, e.date, e.category, e.story, e.text, e.parent FROM events e WHERE {where}"
            " ORDER BY e.date, e.position",
            params,
        ).fetchall()
        entities: dict[str, list[str]] = {}
        for event_id, title in self.conn.execute(
            "SELECT ee.event_id, n.title FROM events e JOIN event_entities ee ON ee.event_id = e.id"
            f" JOIN entities n ON n.id = ee.entity_id WHERE {where} ORDER BY ee.event_id, ee.position",
            params,
        ):
            entities.setdefault(event_id, []).append(title)
        sources: dict[str, list[Source]] = {}
        for event_id, outlet, url in self.conn.execute(
            "SELECT es.event_id, es.outlet, es.url FROM events e JOIN event_sources es ON es.event_id = e.id"
            f" WHERE {where} ORDER BY es.event_id, es.position",
            params,
        ):
            sources.setdefault(event_id, []).append(Source(outlet=outlet, url=url))
        return [
            Event(
                id=event_id,
                date=dt.date.fromisoformat(date_text),
                category=category,
                story=tuple(json.loads(story)),
                text=text,
                entities=tuple(entities.get(event_id, ())),
                sources=tuple(sources.get(event_id, ())),
                parent=parent,
            )
            for event_id, date_text, category, story, text, parent in rows
        ]

    def follow_ups(self, event_ids: Iterable[str]) -> dict[str, list[str]]:
        """The follow-ups (events naming it as ``parent``) of each of these events, in page order."""
        found: dict[str, list[str]] = {}
        rows = self.conn.execute(
            f"SELECT parent, id FROM events WHERE parent IN (SELECT value FROM {self.backend.json_each('?')})"
            " AND parent IS NOT NULL ORDER BY date, position",  # so the partial index serves
            (json.dumps(list(event_ids)),),
        )
        for parent, ident in rows:
            found.setdefault(parent, []).append(ident)
        return found

    def stats(self) -> Stats:
        """Counts of what the store holds (sources and entities: those events cite)."""

        def one(sql: str) -> int:
            return int(self.conn.execute(sql).fetchone()[0])

        first, last = self.conn.execute("SELECT min(date), max(date) FROM days").fetchone()
        return Stats(
            days=one("SELECT count(*) FROM days"),
            events=one("SELECT count(*) FROM events"),
            events_with_sources=one("SELECT count(DISTINCT event_id) FROM event_sources"),
            sources=one("SELECT count(DISTINCT source_id) FROM event_sources"),
            entities=one("SELECT count(DISTINCT entity_id) FROM event_entities"),
            first_date=dt.date.fromisoformat(first) if first else None,
            last_date=dt.date.fromisoformat(last) if last else None,
        )

    # -- publish: what pages need (issue 5) -----------------------------------

    def event_headlines(self, date: dt.date | None = None) -> Iterator[tuple[str, dt.date, str]]:
        """Every event's (or one day's) id, date and text, in site order (by day, then page order)."""
        if date is None:
            rows = self.conn.execute("SELECT id, date, text FROM events ORDER BY date, position")
        else:
            rows = self.conn.execute(
                "SELECT id, date, text FROM events WHERE date = ? ORDER BY position", (date.isoformat(),)
            )
        for ident, day, text in rows:
            yield ident, dt.date.fromisoformat(day), text

    def headlines_of_days(self, dates: Iterable[dt.date]) -> Iterator[tuple[str, dt.date, str]]:
        """As ``event_headlines``, for several days in one query."""
        keys = json.dumps(sorted({d.isoformat() for d in dates}))
        rows = self.conn.execute(
            "SELECT id, date, text FROM events"
            f" WHERE date IN (SELECT value FROM {self.backend.json_each('?')})"
            " ORDER BY date, position",
            (keys,),
        )
        for ident, day, text in rows:
            yield ident, dt.date.fromisoformat(day), text

    def event_texts(self, event_ids: Sequence[str]) -> Iterator[tuple[str, dt.date, str]]:
        """The id, date and text of each of these events that the store holds."""
        rows = self.conn.execute(
            f"SELECT e.id, e.date, e.text FROM {self.backend.json_each('?')} j"
            " JOIN events e ON e.id = j.value",
            (json.dumps(list(event_ids)),),
        )
        for ident, day, text in rows:
            yield ident, dt.date.fromisoformat(day), text

    def event_dates(self, event_ids: Iterable[str]) -> dict[str, dt.date]:
        """The day of each of these events that the store holds."""
        ids = list(event_ids)
        found: dict[str, dt.date] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            rows = self.conn.execute(
                f"SELECT id, date FROM events WHERE id IN ({','.join('?' * len(part))})", part
            )
            found.update((ident, dt.date.fromisoformat(day)) for ident, day in rows)
        return found

    def referrers(self, event_ids: Iterable[str]) -> set[str]:
        """The events whose stored related lists include any of these events."""
        ids = list(event_ids)
        found: set[str] = set()
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            rows = self.conn.execute(
                f"SELECT DISTINCT event_id FROM related WHERE related_id IN ({','.join('?' * len(part))})",
                part,
            )
            found.update(row[0] for row in rows)
        return found

    def day_counts(self) -> dict[dt.date, int]:
        """Every stored day with its number of events (zero for an empty day), oldest first."""
        # Counted in the index by date alone (count(e.id) of a join reads every event's row:
        # three times the work, at each update's start).
        rows = self.conn.execute(
            "SELECT d.date, (SELECT count(*) FROM events e WHERE e.date = d.date) FROM days d ORDER BY d.date"
        )
        return {dt.date.fromisoformat(day): count for day, count in rows}

    def article_metadata(self, event_ids: Iterable[str]) -> dict[str, list[ArticleMeta]]:
        """For each event, the enriched metadata of its sources, in citation order."""
        ids = list(event_ids)
        found: dict[str, list[ArticleMeta]] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            rows = self.conn.execute(
                "SELECT es.event_id, es.url, a.title, a.lede, a.image, a.publisher, a.archived, a.final_url"
                " FROM event_sources es JOIN source_articles a ON a.source_id = es.source_id"
                # "+": the planner would otherwise walk every 'ok' article by the outcome index.
                f" WHERE {self.backend.unindexed('a.outcome')} = 'ok'"
                f" AND es.event_id IN ({','.join('?' * len(part))})"
                " ORDER BY es.event_id, es.position",
                part,
            )
            for event_id, url, title, lede, image, publisher, archived, final_url in rows:
                found.setdefault(event_id, []).append(
                    ArticleMeta(url, title, lede, image, publisher, final_url if archived else None)
                )
        return found


def day_sha(day: Day) -> str:
    """A hash of a day's events, so a day ingested again unchanged can be told apart."""
    payload = json.dumps([e.to_json() for e in day.events], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
