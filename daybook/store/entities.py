"""Entities as the wiki knows them: what the API said of each title, and merging a
redirect into the article it leads to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from daybook.model import EntityInfo
from daybook.store.backend import Connection
from daybook.store.base import StoreBase
from daybook.store.search import _search_row

_COLUMNS = "title, target, missing, qid, description, zh_title, disambiguation, asked_at"


class EntitiesMixin(StoreBase):
    """Entity information (schema 10)."""

    def entities_to_ask(self, asked_before: str) -> list[str]:
        """The titles some event holds whose information is missing or was asked for
        before ``asked_before`` (ISO 8601), in title order."""
        rows = self.conn.execute(
            "SELECT n.title FROM entities n LEFT JOIN entity_info i ON i.title = n.title"
            " WHERE EXISTS (SELECT 1 FROM event_entities ee WHERE ee.entity_id = n.id)"
            " AND (i.title IS NULL OR i.asked_at < ?) ORDER BY n.title",
            (asked_before,),
        )
        return [row[0] for row in rows]

    def entity_info(self, titles: Iterable[str] | None = None) -> dict[str, EntityInfo]:
        """What is known of these titles (or of every title asked about)."""
        if titles is None:
            return {row[0]: _info(row) for row in self.conn.execute(f"SELECT {_COLUMNS} FROM entity_info")}
        found: dict[str, EntityInfo] = {}
        for chunk in _chunks(sorted(set(titles))):
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM entity_info WHERE title IN ({_marks(chunk)})", chunk
            )
            found.update((row[0], _info(row)) for row in rows)
        return found

    def entity_qids(self) -> dict[str, str]:
        """The Wikidata item of each article title that has one."""
        rows = self.conn.execute(
            "SELECT title, qid FROM entity_info WHERE qid IS NOT NULL AND target IS NULL"
        )
        return dict(rows.fetchall())

    def entity_redirects(self) -> dict[str, str]:
        """Each title known to redirect (alias -> the article it leads to), where some event
        holds the article: the alias's page becomes a redirect to the article's."""
        rows = self.conn.execute(
            "SELECT i.title, i.target FROM entity_info i JOIN entities n ON n.title = i.target"
            " WHERE i.target IS NOT NULL AND i.target <> i.title"
            " AND EXISTS (SELECT 1 FROM event_entities ee WHERE ee.entity_id = n.id) ORDER BY i.title"
        )
        return dict(rows.fetchall())

    def entity_target(self, title: str) -> str | None:
        """The article a title redirects to, if the API said so."""
        row = self.conn.execute(
            "SELECT target FROM entity_info WHERE title = ? AND target <> title", (title,)
        ).fetchone()
        return row[0] if row else None

    def save_entity_info(self, infos: Sequence[EntityInfo]) -> list[tuple[str, str]]:
        """Keep what the API said; merge every title that redirects into its target
        wherever events hold it (their entities, the search index), noting the days
        touched for relate and publish. Returns the (alias, target) pairs merged."""
        merged: list[tuple[str, str]] = []
        with self.transaction() as conn:
            for info in infos:
                before = conn.execute(
                    "SELECT disambiguation, qid, description, zh_title FROM entity_info WHERE title = ?",
                    (info.title,),
                ).fetchone()
                conn.execute(
                    f"INSERT INTO entity_info ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (title) DO UPDATE SET target = excluded.target, missing = excluded.missing,"
                    " qid = excluded.qid, description = excluded.description, zh_title = excluded.zh_title,"
                    " disambiguation = excluded.disambiguation, asked_at = excluded.asked_at",
                    (info.title, info.target, int(info.missing), info.qid, info.description,
                     info.zh_title, int(info.disambiguation), info.asked_at),
                )  # fmt: skip
                shown = (info.qid, info.description, info.zh_title)
                if tuple(before[1:] if before else (None, None, None)) != shown:
                    # what the entity's page and its events' pages show changed
                    self._note_events(conn, self._holders(conn, info.title), pages=True)
                elif bool(before[0] if before else 0) != info.disambiguation:
                    # relate reads the title now, or no longer does
                    self._note_events(conn, self._holders(conn, info.title), pages=False)
                alias = info.target is not None and info.target != info.title
                if alias and info.target is not None and self._merge(conn, info.title, info.target):
                    merged.append((info.title, info.target))
        return merged

    def _holders(self, conn: Connection, title: str) -> list[tuple[str, str]]:
        return conn.execute(
            "SELECT e.id, e.date FROM entities n JOIN event_entities ee ON ee.entity_id = n.id"
            " JOIN events e ON e.id = ee.event_id WHERE n.title = ? ORDER BY e.id",
            (title,),
        ).fetchall()

    def _merge(self, conn: Connection, alias: str, target: str) -> bool:
        """The events holding ``alias`` hold ``target`` instead (once, where they held both)."""
        holders = self._holders(conn, alias)
        if not holders:
            return False
        alias_id = conn.execute("SELECT id FROM entities WHERE title = ?", (alias,)).fetchone()[0]
        target_id = conn.execute(
            "INSERT INTO entities (title) VALUES (?) ON CONFLICT (title) DO UPDATE SET title = excluded.title"
            " RETURNING id",
            (target,),
        ).fetchone()[0]
        conn.execute(
            "DELETE FROM event_entities WHERE entity_id = ? AND event_id IN"
            " (SELECT event_id FROM event_entities WHERE entity_id = ?)",
            (alias_id, target_id),
        )
        conn.execute("UPDATE event_entities SET entity_id = ? WHERE entity_id = ?", (target_id, alias_id))
        for event_id, _ in holders:  # the search index's names follow
            row = conn.execute("SELECT doc FROM search_docs WHERE event_id = ?", (event_id,)).fetchone()
            if row is not None:
                doc = "rowid" if self.backend.name == "sqlite" else "doc"
                conn.execute(f"DELETE FROM event_search WHERE {doc} = ?", (row[0],))
                columns = f"event_search ({doc}, text, names, ledes, titles)"
                row_sql = f"INSERT INTO {columns} {_search_row(self.backend)}"
                conn.execute(f"{row_sql} WHERE e.id = ?", (event_id,))
        self._note_events(conn, holders, pages=True)
        return True

    def _note_events(self, conn: Connection, holders: Sequence[tuple[str, str]], *, pages: bool) -> None:
        """Relate reads these events' days again; publish (once an update has published)
        renders their days' and (``pages``) their own pages again."""
        dates = sorted({date for _, date in holders})
        for date in dates:  # as the triggers of schema 6 note a day
            conn.execute("DELETE FROM relate_days WHERE date = ?", (date,))
            conn.execute("INSERT INTO relate_days (date) VALUES (?)", (date,))
        if not dates or conn.execute("SELECT 1 FROM publish_state").fetchone() is None:
            return
        conn.execute("UPDATE publish_state SET relate_due = 1")
        if pages:
            conn.executemany(
                "INSERT INTO publish_days (date) VALUES (?) ON CONFLICT (date) DO NOTHING",
                ((d,) for d in dates),
            )
            conn.executemany(
                "INSERT INTO publish_events (event_id) VALUES (?) ON CONFLICT (event_id) DO NOTHING",
                ((i,) for i, _ in holders),
            )

    def _redirects(self, conn: Connection, titles: Iterable[str]) -> dict[str, str]:
        """Which of these titles redirect, and where to (alias -> article)."""
        targets: dict[str, str] = {}
        for chunk in _chunks(sorted(set(titles))):
            rows = conn.execute(
                "SELECT title, target FROM entity_info WHERE target IS NOT NULL"
                f" AND title IN ({_marks(chunk)})",
                chunk,
            )
            targets.update(rows.fetchall())
        return targets


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    """Parameters a statement at a time (a list of placeholders, portable SQL)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def _info(row: Sequence[object]) -> EntityInfo:
    title, target, missing, qid, description, zh_title, disambiguation, asked_at = row
    return EntityInfo(
        title=str(title),
        target=None if target is None else str(target),
        missing=bool(missing),
        qid=None if qid is None else str(qid),
        description=None if description is None else str(description),
        zh_title=None if zh_title is None else str(zh_title),
        disambiguation=bool(disambiguation),
        asked_at=str(asked_at),
    )
