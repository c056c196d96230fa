"""Pulled portal pages: each day's revision, kept until ingested."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from daybook.model import (
    Day,
    DayChange,
    Matcher,
    PortalPage,
)
from daybook.store.base import _now
from daybook.store.history import HistoryMixin


class PortalPagesMixin(HistoryMixin):
    """Pulled portal pages."""

    # -- update: pulled portal pages, and what to publish (issue 6) -----------

    def portal_revisions(self, dates: Iterable[dt.date]) -> dict[dt.date, int]:
        """The revision kept of each of these days that has been pulled."""
        found: dict[dt.date, int] = {}
        for date in dates:
            row = self.conn.execute(
                "SELECT revision FROM portal_pages WHERE date = ?", (date.isoformat(),)
            ).fetchone()
            if row is not None:
                found[date] = int(row[0])
        return found

    def read_revisions(self, dates: Iterable[dt.date]) -> dict[dt.date, int]:
        """The portal revision each of these days' stored events were read from, where
        they came from a pulled page (a day ingested from a file has none)."""
        found: dict[dt.date, int] = {}
        for date in dates:
            row = self.conn.execute(
                "SELECT d.origin, p.title FROM days d JOIN portal_pages p ON p.date = d.date"
                " WHERE d.date = ?",
                (date.isoformat(),),
            ).fetchone()
            if row is None:
                continue
            # The day's origin names the revision its events came from (``PortalPage.origin``),
            # which may be older than the one pulled last, when that changed no event.
            origin, prefix = row[0], f"{row[1]} (revision "
            number = origin[len(prefix) : -1]
            if origin.startswith(prefix) and origin.endswith(")") and number.isdigit():
                found[date] = int(number)
        return found

    def save_portal_page(self, page: PortalPage) -> None:
        """Keep a pulled page; its events are stored by ``ingest_portal_page``."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO portal_pages (date, title, revision, saved_at, wikitext, html, pulled_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(date) DO UPDATE SET title = excluded.title,"
                " revision = excluded.revision, saved_at = excluded.saved_at,"
                " wikitext = excluded.wikitext, html = excluded.html, pulled_at = excluded.pulled_at",
                (
                    page.date.isoformat(),
                    page.title,
                    page.revision,
                    page.saved_at,
                    page.wikitext,
                    page.html,
                    _now(),
                ),
            )

    def portal_pages_to_ingest(self) -> list[PortalPage]:
        """Pulled pages whose revision's events the store does not hold yet, by date."""
        rows = self.conn.execute(
            "SELECT date, title, revision, saved_at, wikitext, html FROM portal_pages"
            " WHERE ingested IS DISTINCT FROM revision ORDER BY date"
        )
        return [PortalPage(dt.date.fromisoformat(d), t, r, s, w, h) for d, t, r, s, w, h in rows]

    def ingest_portal_page(self, page: PortalPage, day: Day, *, match: Matcher | None = None) -> DayChange:
        """Store the events of a pulled page and mark its revision ingested, in one transaction.

        A day whose events are what the store holds already is left alone (a revision
        that changed nothing daybook keeps, such as a comment), as ``replace_day`` leaves it.
        """
        with self.transaction() as conn:
            conn.execute(
                "UPDATE portal_pages SET ingested = revision WHERE date = ?", (page.date.isoformat(),)
            )
            change = self._replace_day(conn, day, origin=page.origin, format=page.format, match=match)
            self._record_versions(conn, page.date.isoformat(), page.revision, page.saved_at)
            return change

    def portal_page_read(self, page: PortalPage) -> None:
        """Mark a pulled revision ingested though it held no event to store (the day is left
        as it was), so that the next update does not read it again."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE portal_pages SET ingested = revision WHERE date = ?", (page.date.isoformat(),)
            )
