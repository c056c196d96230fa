"""Sharing enrich between workers: sources leased to one worker at a time, and each host's
politeness (request slots, next start) kept in the database for all workers together.

Meant for PostgreSQL, where several ``daybook enrich`` share a store; the tables exist on
SQLite too (one process enriches an SQLite store: its fetcher keeps politeness in memory).
"""

from __future__ import annotations

import datetime as dt
import zlib

from daybook.model import SourceJob
from daybook.store.base import StoreBase, _now


class LeasesMixin(StoreBase):
    """Enrich leases and shared host politeness."""

    # The outlet of a source's first citation, and the day it was first cited (for s.id).
    _LEASE_OUTLET = (
        "(SELECT es.outlet FROM event_sources es JOIN events e ON e.id = es.event_id"
        " WHERE es.source_id = s.id ORDER BY e.date, e.position, es.position LIMIT 1)"
    )
    _LEASE_FIRST_DATE = (
        "(SELECT min(e.date) FROM event_sources es JOIN events e ON e.id = es.event_id"
        " WHERE es.source_id = s.id)"
    )

    @staticmethod
    def _due(since: str, refresh: bool, retry_failed: bool) -> tuple[str, list[str]]:
        """Which sources a pass begun at ``since`` fetches, as a condition and its
        parameters: those with no result; with ``retry_failed`` also those failed before
        the pass; with ``refresh`` any not fetched since it began."""
        if refresh:
            return "(a.source_id IS NULL OR a.enriched_at < ?)", [since]
        if retry_failed:
            return "(a.source_id IS NULL OR (a.outcome = 'failed' AND a.enriched_at < ?))", [since]
        return "a.source_id IS NULL", []

    def sources_due(self, since: str, *, refresh: bool = False, retry_failed: bool = False) -> int:
        """How many cited sources a pass begun at ``since`` has yet to fetch (leased or not)."""
        due, params = self._due(since, refresh, retry_failed)
        row = self.conn.execute(
            "SELECT count(*) FROM sources s LEFT JOIN source_articles a ON a.source_id = s.id"
            f" WHERE EXISTS (SELECT 1 FROM event_sources es WHERE es.source_id = s.id) AND {due}",
            params,
        ).fetchone()
        return int(row[0])

    def claim_sources(
        self,
        worker: str,
        limit: int,
        lease: float,
        since: str,
        *,
        refresh: bool = False,
        retry_failed: bool = False,
    ) -> list[SourceJob]:
        """Lease to ``worker`` for ``lease`` seconds up to ``limit`` sources the pass begun at
        ``since`` has yet to fetch and no live worker holds. Rows another worker is claiming
        are skipped, not waited for (``FOR UPDATE SKIP LOCKED``); a lease that lapsed (its
        worker died) is taken over."""
        lock = " FOR UPDATE OF s SKIP LOCKED" if self.backend.name == "postgresql" else ""
        due, params = self._due(since, refresh, retry_failed)
        with self.transaction() as conn:
            rows = conn.execute(
                f"SELECT s.id, s.url, {self._LEASE_OUTLET}, {self._LEASE_FIRST_DATE}"
                " FROM sources s LEFT JOIN source_articles a ON a.source_id = s.id"
                " LEFT JOIN enrich_leases l ON l.source_id = s.id"
                " WHERE EXISTS (SELECT 1 FROM event_sources es WHERE es.source_id = s.id)"
                f" AND {due} AND (l.source_id IS NULL OR l.expires < {self.backend.clock})"
                f" ORDER BY s.id LIMIT ?{lock}",
                [*params, limit],
            ).fetchall()
            conn.executemany(
                "INSERT INTO enrich_leases (source_id, worker, expires)"
                f" VALUES (?, ?, {self.backend.clock} + ?)"
                " ON CONFLICT (source_id) DO UPDATE SET worker = excluded.worker, expires = excluded.expires",
                [(row[0], worker, lease) for row in rows],
            )
        return [
            SourceJob(id=key, url=url, outlet=outlet or "", date=dt.date.fromisoformat(day) if day else None)
            for key, url, outlet, day in rows
        ]

    def renew_leases(self, worker: str, lease: float) -> None:
        """Keep ``worker``'s leases for ``lease`` seconds more (it is alive)."""
        # One statement, its own transaction: not one at a time with the store's writers.
        self.conn.execute(
            f"UPDATE enrich_leases SET expires = {self.backend.clock} + ? WHERE worker = ?", (lease, worker)
        )

    def drop_leases(self, worker: str) -> None:
        """Give back ``worker``'s leases (it stops)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM enrich_leases WHERE worker = ?", (worker,))

    def others_leases(self, worker: str) -> int:
        """How many live leases other workers hold (their sources may yet come back)."""
        row = self.conn.execute(
            f"SELECT count(*) FROM enrich_leases WHERE worker != ? AND expires >= {self.backend.clock}",
            (worker,),
        ).fetchone()
        return int(row[0])

    # -- politeness shared by every worker -----------------------------------------

    def reserve_host_start(self, host: str, delay: float) -> float:
        """Book the next request start to ``host``: the seconds to wait for it. Starts are
        ``delay`` apart, whichever worker books them."""
        clock = self.backend.clock
        # One statement (the row is locked while it books): not one at a time with the writers.
        row = self.conn.execute(
            f"INSERT INTO host_turns (host, next_start) VALUES (?, {clock} + ?)"
            " ON CONFLICT (host) DO UPDATE SET"
            f" next_start = (CASE WHEN host_turns.next_start > {clock} THEN host_turns.next_start"
            f" ELSE {clock} END) + ?"
            f" RETURNING next_start - ? - {clock}",
            (host, delay, delay, delay),
        ).fetchone()
        return max(0.0, float(row[0]))

    def pause_host(self, host: str, seconds: float) -> None:
        """No request to ``host`` starts for ``seconds`` (a retry's wait, a Retry-After)."""
        clock = self.backend.clock
        self.conn.execute(
            f"INSERT INTO host_turns (host, next_start) VALUES (?, {clock} + ?)"
            " ON CONFLICT (host) DO UPDATE SET next_start = CASE WHEN host_turns.next_start"
            " > excluded.next_start THEN host_turns.next_start ELSE excluded.next_start END",
            (host, seconds),
        )

    def try_host_slot(self, host: str, per_host: int) -> int | None:
        """One of ``host``'s ``per_host`` request slots for this connection, if one is free:
        a session lock on PostgreSQL, given back by ``release_host_slot`` or when the worker's
        connection ends (a killed worker holds none)."""
        key = _host_key(host)
        held = self.host_slots_held
        for slot in range(per_host):
            # PostgreSQL gives a session a lock it holds again: a worker's second request to
            # a host would take its first one's slot, leaving the other free for a third.
            if (key, slot) in held:
                continue
            row = self.conn.execute("SELECT pg_try_advisory_lock(?, ?)", (key, slot)).fetchone()
            if row[0]:
                held.add((key, slot))
                return slot
        return None

    def take_host_turn(self, host: str, per_host: int, delay: float) -> tuple[int, float] | None:
        """A request slot of ``host`` and the seconds to wait for its booked start
        (``try_host_slot`` then ``reserve_host_start``), or None if every slot is taken."""
        slot = self.try_host_slot(host, per_host)
        return None if slot is None else (slot, self.reserve_host_start(host, delay))

    def release_host_slot(self, host: str, slot: int) -> None:
        key = _host_key(host)
        self.conn.execute("SELECT pg_advisory_unlock(?, ?)", (key, slot))
        self.host_slots_held.discard((key, slot))


def _host_key(host: str) -> int:
    """The int4 that names a host's request slots among PostgreSQL's advisory locks."""
    return zlib.crc32(host.encode("utf-8")) - 2**31


def pass_start() -> str:
    """The time a pass begins, as the store writes ``enriched_at``."""
    return _now()
