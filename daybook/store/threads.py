"""Entities and story lines: the events each holds, and their company."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence

from daybook.store.relations import RelationsMixin

# An entity's or a category's events, for the thread queries that read part of one.
_THREAD_EVENTS = {
    "entity": "FROM entities n JOIN event_entities ee ON ee.entity_id = n.id"
    " JOIN events e ON e.id = ee.event_id WHERE n.title = ?",  # read whole by an update: see explore
    "category": "FROM events e WHERE e.category = ?",
}


class ThreadsMixin(RelationsMixin):
    """Entity and story threads."""

    # -- explore: entity and story pages (issue 7) -----------------------------

    def entity_titles(self) -> list[str]:
        """Every entity that some event holds."""
        rows = self.conn.execute(
            "SELECT title FROM entities n"
            " WHERE EXISTS (SELECT 1 FROM event_entities ee WHERE ee.entity_id = n.id)"
        )
        return [row[0] for row in rows]

    def story_names(self) -> list[str]:
        """Every story line some event is filed under, at any depth."""
        rows = self.conn.execute(
            f"SELECT DISTINCT j.value FROM events e, {self.backend.json_each('e.story')} j"
        )
        return [row[0] for row in rows]

    def event_threads(self) -> Iterator[tuple[str, dt.date, tuple[str, ...], tuple[str, ...]]]:
        """Every event's id, date, story lines and entities, in site order (by day, then page order)."""
        entities = {item.id: item.entities for item in self.relate_items(disambiguation=True)}
        stories: dict[str, tuple[str, ...]] = {}  # one tuple per story path, however many events share it
        rows = self.conn.execute("SELECT id, date, story FROM events ORDER BY date, position").fetchall()
        for ident, date, story in rows:
            if story not in stories:
                stories[story] = tuple(json.loads(story))
            yield ident, dt.date.fromisoformat(date), stories[story], entities.get(ident, ())

    def day_threads(
        self, dates: Iterable[dt.date]
    ) -> Iterator[tuple[str, dt.date, tuple[str, ...], tuple[str, ...]]]:
        """As ``event_threads``, for the events of some days only."""
        for date in sorted(set(dates)):
            rows = self.conn.execute(
                "SELECT e.id, e.story, n.title FROM events e LEFT JOIN event_entities ee"
                " ON ee.event_id = e.id LEFT JOIN entities n ON n.id = ee.entity_id"
                " WHERE e.date = ? ORDER BY e.position, ee.position",
                (date.isoformat(),),
            )
            for (ident, story), group in itertools.groupby(rows, key=lambda row: (row[0], row[1])):
                titles = tuple(row[2] for row in group if row[2] is not None)
                yield ident, date, tuple(json.loads(story)), titles

    def entity_thread(self, title: str) -> list[tuple[str, dt.date]]:
        """The events holding an entity, in site order: (id, date)."""
        rows = self.conn.execute(
            "SELECT e.id, e.date FROM entities n JOIN event_entities ee ON ee.entity_id = n.id"
            " JOIN events e ON e.id = ee.event_id WHERE n.title = ? ORDER BY e.date, e.position",
            (title,),
        )
        return [(ident, dt.date.fromisoformat(date)) for ident, date in rows]

    def thread_months(self, kind: str, name: str) -> list[tuple[int, int, int]]:
        """How many events an entity or a category (``kind``) holds in each month that has
        any, oldest first: (year, month, events). Counted by the database: an update charts
        every name its day touches, and a category holds tens of thousands of events."""
        rows = self.conn.execute(
            f"SELECT substr(e.date, 1, 7) AS m, count(*) {_THREAD_EVENTS[kind]} GROUP BY m ORDER BY m",
            (name,),
        )
        return [(int(month[:4]), int(month[5:7]), count) for month, count in rows]

    def thread_count_before(self, kind: str, name: str, date: dt.date) -> int:
        """How many events of an entity's or a category's thread are dated before ``date``."""
        row = self.conn.execute(
            f"SELECT count(*) {_THREAD_EVENTS[kind]} AND e.date < ?", (name, date.isoformat())
        ).fetchone()
        return int(row[0])

    def thread_slice(self, kind: str, name: str, start: int, count: int) -> list[tuple[str, dt.date]]:
        """``count`` events of an entity's or a category's thread from its ``start``-th (0:
        the oldest), in site order: (id, date); as ``entity_thread``[start:start + count]."""
        rows = self.conn.execute(
            f"SELECT e.id, e.date {_THREAD_EVENTS[kind]} ORDER BY e.date, e.position LIMIT ? OFFSET ?",
            (name, count, start),
        )
        return [(ident, dt.date.fromisoformat(date)) for ident, date in rows]

    def story_thread(self, line: str, dates: Iterable[str]) -> list[tuple[str, dt.date]]:
        """The events of ``dates`` filed under a story line (at any depth), in site order."""
        found: list[tuple[str, dt.date]] = []
        for date in sorted(set(dates)):
            rows = self.conn.execute(
                "SELECT id FROM events WHERE date = ? AND EXISTS"
                f" (SELECT 1 FROM {self.backend.json_each('events.story')} j WHERE j.value = ?)"
                " ORDER BY position",
                (date, line),
            )
            day = dt.date.fromisoformat(date)
            found.extend((row[0], day) for row in rows)
        return found

    def story_neighbours(self, event_id: str, n: int) -> tuple[list[str], list[str]]:
        """The ``n`` events just before and just after an event in its innermost story line
        (filed under that line at any depth), in site order; none if it has no story."""
        found = self.conn.execute(
            "SELECT line, date, position FROM story_events WHERE event_id = ? AND innermost = 1", (event_id,)
        ).fetchone()
        if found is None:
            return [], []
        before = self.conn.execute(
            "SELECT event_id FROM story_events WHERE line = ? AND (date < ? OR (date = ? AND position < ?))"
            " ORDER BY date DESC, position DESC LIMIT ?",
            (found[0], found[1], found[1], found[2], n),
        )
        after = self.conn.execute(
            "SELECT event_id FROM story_events WHERE line = ? AND (date > ? OR (date = ? AND position > ?))"
            " ORDER BY date, position LIMIT ?",
            (found[0], found[1], found[1], found[2], n),
        )
        return [row[0] for row in reversed(before.fetchall())], [row[0] for row in after]

    def story_around(self, lines: Iterable[str], dates: Iterable[dt.date], n: int) -> set[str]:
        """The events whose innermost story is one of ``lines`` and which are within ``n``
        of one of ``dates`` in that line (among the ``n`` just before the day or the ``n``
        just after it, not the day's own): those whose story neighbours a change of those
        days can change."""
        found: set[str] = set()
        days = sorted({d.isoformat() for d in dates})
        for line in sorted(set(lines)):
            for date in days:
                for sql in (
                    "SELECT event_id, innermost FROM story_events WHERE line = ? AND date < ?"
                    " ORDER BY date DESC, position DESC LIMIT ?",
                    "SELECT event_id, innermost FROM story_events WHERE line = ? AND date > ?"
                    " ORDER BY date, position LIMIT ?",
                ):
                    found.update(
                        ident for ident, innermost in self.conn.execute(sql, (line, date, n)) if innermost
                    )
        return found

    def co_entity_counts(self, event_ids: Sequence[str], exclude: str | None = None) -> dict[str, int]:
        """How many of these events hold each entity (``exclude`` left out)."""
        rows = self.conn.execute(
            f"SELECT n.title, count(*) FROM {self.backend.json_each('?')} j"
            " JOIN event_entities ee ON ee.event_id = j.value"
            " JOIN entities n ON n.id = ee.entity_id GROUP BY n.title",
            (json.dumps(list(event_ids)),),
        )
        return {title: count for title, count in rows if title != exclude}

    def entity_company(self, title: str) -> dict[str, int]:
        """How many of the events holding an entity hold each other entity."""
        # Counted by entity id, titles joined to the counts: not grouped by title (1.8 times
        # the work for an entity of 10,000 events, and an update asks this of each entity its day holds).
        rows = self.conn.execute(
            "SELECT n.title, c.k FROM (SELECT ee.entity_id AS id, count(*) AS k FROM event_entities h"
            " JOIN event_entities ee ON ee.event_id = h.event_id"
            " WHERE h.entity_id = (SELECT id FROM entities WHERE title = ?) GROUP BY ee.entity_id) c"
            " JOIN entities n ON n.id = c.id",
            (title,),
        )
        return {name: count for name, count in rows if name != title}

    def story_paths(self) -> Iterator[tuple[str, dt.date, tuple[str, ...]]]:
        """Every event with a story: id, date and story path, in site order."""
        paths: dict[str, tuple[str, ...]] = {}  # one tuple per path, however many events share it
        rows = self.conn.execute(
            "SELECT id, date, story FROM events WHERE story != '[]' ORDER BY date, position"
        )
        for ident, date, story in rows:
            if story not in paths:
                paths[story] = tuple(json.loads(story))
            yield ident, dt.date.fromisoformat(date), paths[story]

    # -- follow: category pages and every page's feed (issue 21) --------------

    def category_names(self) -> list[str]:
        """Every category some event is filed under."""
        return [row[0] for row in self.conn.execute("SELECT DISTINCT category FROM events ORDER BY category")]

    def category_thread(self, category: str) -> list[tuple[str, dt.date]]:
        """The events filed under a category, in site order: (id, date)."""
        rows = self.conn.execute(
            "SELECT id, date FROM events WHERE category = ? ORDER BY date, position", (category,)
        )
        return [(ident, dt.date.fromisoformat(date)) for ident, date in rows]

    def day_categories(self, dates: Iterable[dt.date]) -> set[str]:
        """The categories the events of these days are filed under."""
        rows = self.conn.execute(
            "SELECT DISTINCT category FROM events"
            f" WHERE date IN (SELECT value FROM {self.backend.json_each('?')})",
            (json.dumps([d.isoformat() for d in dates]),),
        )
        return {row[0] for row in rows}

    def citations(self, event_ids: Iterable[str] | None = None) -> dict[str, tuple[tuple[str, str], ...]]:
        """Each event's cited sources as the portal gives them, (outlet, url) in order: of
        these events, or (None) of every event."""
        if event_ids is None:
            rows = self.conn.execute(
                "SELECT event_id, outlet, url FROM event_sources ORDER BY event_id, position"
            )
        else:
            rows = self.conn.execute(
                f"SELECT es.event_id, es.outlet, es.url FROM {self.backend.json_each('?')} j"
                " JOIN event_sources es ON es.event_id = j.value ORDER BY es.event_id, es.position",
                (json.dumps(list(event_ids)),),
            )
        # One string per outlet, however many sources name it (a full build reads every
        # event's: 169,325 sources of 2,623 outlets at 150,000 events).
        outlets: dict[str, str] = {}
        return {
            ident: tuple((outlets.setdefault(outlet, outlet), url) for _, outlet, url in group)
            for ident, group in itertools.groupby(rows, key=lambda row: row[0])
        }

    def event_categories(self) -> dict[str, str]:
        """Every event's category, by its id."""
        names: dict[str, str] = {}  # one string per category, not one per event
        return {
            ident: names.setdefault(name, name)
            for ident, name in self.conn.execute("SELECT id, category FROM events")
        }
