"""Update: bring the archive up to date from Wikipedia, publish what changed, commit it.

How it works: docs/ARCHITECTURE.md, "An update, step by step".
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from daybook import gc_pause, lockfile
from daybook.enrich import EnrichReport, enrich
from daybook.errors import ParseError, UsageError
from daybook.ingest import Skipped, ingest_pulled
from daybook.ingest.entities import EntitiesReport
from daybook.ingest.entities import resolve as resolve_entities
from daybook.ingest.pull import PullReport, PullSettings, pull
from daybook.net.fetch import FetchSettings
from daybook.publish.folder import check, locate
from daybook.publish.options import BuildOptions, Renderer, render_pool
from daybook.publish.writer import WriteReport
from daybook.relate import Settings
from daybook.site_repo import SiteRepo
from daybook.store import DayChange, PendingPublish, Store

if TYPE_CHECKING:  # imported when an update gets to them (see ``_update``)
    from daybook.relate import RelateReport


@dataclass(frozen=True, kw_only=True)
class UpdateOptions:
    """How to pull, enrich, relate and build; each part's defaults are its command's."""

    pull: PullSettings = field(default_factory=PullSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    build: BuildOptions = field(default_factory=BuildOptions)
    relate: Settings | None = None  # None: the settings the stored lists were made with
    jobs: int = 1  # processes relate may use


@dataclass
class UpdateReport:
    """What one update did, step by step."""

    pulled: PullReport | None = None
    days: list[DayChange] = field(default_factory=list)
    failures: list[ParseError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # pulled pages that held no event
    entities: EntitiesReport | None = None
    enriched: EnrichReport | None = None
    related: RelateReport | None = None
    written: WriteReport | None = None
    commit: str | None = None
    message: str | None = None
    maintenance: str | None = None  # what git gc --auto said, had it failed
    seconds: dict[str, float] = field(default_factory=dict)  # each step's wall time

    def summary(self) -> str:
        """A few lines: each step's figures, and the commit."""
        lines = []
        if self.pulled is not None:
            lines.append(f"pull: {self.pulled.summary()}")
        if self.days or self.failures or self.skipped:
            changed = [c for c in self.days if c.changed]
            line = f"ingest: {_count(len(self.days), 'day')}, {len(changed)} changed"
            if self.failures:
                line += f", {len(self.failures)} failed"
            if self.skipped:
                line += f", {len(self.skipped)} skipped (no events)"
            lines.append(line)
        if self.entities is not None and self.entities.asked:
            lines.append(f"entities: {self.entities.summary()}")
        if self.enriched is not None and self.enriched.total:
            lines.append(f"enrich: {self.enriched.summary()}")
        if self.related is not None:
            lines.append(f"relate: {self.related.summary()}")
        if self.written is not None:
            lines.append(f"publish: {self.written.summary()}")
        if self.commit is not None:
            lines.append(f"commit {self.commit[:12]}: {self.message}")
        else:
            lines.append("nothing new to commit")
        if self.maintenance is not None:
            lines.append(f"git gc --auto failed (the commit is made): {self.maintenance}")
        steps = ", ".join(f"{name} {seconds:.2f}" for name, seconds in self.seconds.items())
        took = sum(seconds for name, seconds in self.seconds.items() if not name.startswith("("))
        lines.append(f"took {took:.2f} s ({steps})")
        return "\n".join(lines)


@contextlib.contextmanager
def update_lock(store_path: Path) -> Iterator[None]:
    """Hold the update lock of a store (a file beside it), or raise ``LockedError`` at once."""
    path = store_path.with_name(store_path.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)  # a PostgreSQL store's files: see Store.path

    def refused(holder: str) -> str:
        return (
            f"another daybook update is running on {store_path} (pid {holder}; lock {path}):"
            " this one stops; try again when it is done"
        )

    with lockfile.exclusive(path, refused):
        yield


def update(
    store: Store,
    out: Path,
    dates: Iterable[dt.date],
    options: UpdateOptions | None = None,
    *,
    api: httpx.BaseTransport | None = None,
    web: httpx.AsyncBaseTransport | None = None,
    now: dt.datetime | None = None,
    on_step: Callable[[str], None] | None = None,
) -> UpdateReport:
    """Update the store from the portal's pages of ``dates`` and publish the site to ``out``.

    ``api`` and ``web`` replace the network under pull and enrich (tests);
    ``on_step`` is told each step's name as it starts.
    """
    options = options or UpdateOptions()
    check(store.path, out)  # a folder daybook may not write into: refused before any work
    report = UpdateReport()
    started, current = time.perf_counter(), ""

    def step(name: str) -> None:
        """Step ``name`` begins ("": the run ends), and the last one's time is taken."""
        nonlocal started, current
        at = time.perf_counter()
        if current:
            report.seconds[current] = at - started
        started, current = at, name
        if on_step is not None and name:
            on_step(name)

    # The collector's passes over the build's objects took 0.3 s of a 5 s update at 150,000
    # events (gc_pause); paused before the worker forks, it is paused there too.
    with gc_pause.paused():
        # Forked before enrich's thread starts: a process forked with threads about may
        # inherit a lock one of them held.
        renderer = render_pool(options.jobs - 1)
        if renderer is not None:
            renderer.apply_async(_warm_worker)  # while this process pulls and ingests
        try:
            return _update(store, out, dates, options, report, step, renderer, api=api, web=web, now=now)
        finally:
            if renderer is not None:
                renderer.terminate()
                renderer.join()


def _update(
    store: Store,
    out: Path,
    dates: Iterable[dt.date],
    options: UpdateOptions,
    report: UpdateReport,
    step: Callable[[str], None],
    renderer: Renderer,
    *,
    api: httpx.BaseTransport | None,
    web: httpx.AsyncBaseTransport | None,
    now: dt.datetime | None,
) -> UpdateReport:
    store.start_publishing()
    step("pull")
    report.pulled = pull(store, dates, options.pull, transport=api)
    step("ingest")
    ingested = ingest_pulled(store)
    report.days, report.failures, report.skipped = ingested.changes, ingested.failures, ingested.skipped
    step("entities")  # new entities, and those asked long ago, as the wiki knows them (issue 15)
    report.entities = resolve_entities(store, options.pull, transport=api)
    step("relate")
    # Enrich waits out most of its time in the sources' hosts' politeness delays: it runs
    # beside relate and the first part of publish, which need none of what it finds.
    with (
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as beside,
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as beside_git,
    ):
        enriching = beside.submit(_enrich_apart, store.location, options.fetch, web)
        repo = SiteRepo(out)
        head = repo.head()
        # git reads the site's index (tens of MB) on the other core while relate runs, for the commit.
        if head is not None and (store.relate_due() or not store.pending_publish().empty):
            repo.open_index()
        try:
            return _publish(
                store, out, options, report, step, renderer, enriching, beside_git, repo, head, now
            )
        finally:
            repo.close_index()  # unless the commit took it


def _publish(
    store: Store,
    out: Path,
    options: UpdateOptions,
    report: UpdateReport,
    step: Callable[[str], None],
    renderer: Renderer,
    enriching: concurrent.futures.Future[EnrichReport],
    beside_git: concurrent.futures.ThreadPoolExecutor,
    repo: SiteRepo,
    head: str | None,
    now: dt.datetime | None,
) -> UpdateReport:
    """Relate, publish and commit (enrich runs beside)."""
    # Imported now, while enrich waits on its first answers: not before it starts.
    from daybook.publish import update_site
    from daybook.relate import refresh

    pending = store.pending_publish()
    built = locate(store.path, out).state.is_file()
    relating: AsyncResult[RelateReport] | None = None
    if store.relate_due():
        settings = _relate_settings(store, options.relate)
        if renderer is not None and built and not pending.empty and store.has_relation_snapshot():
            # A few lists change: the render worker brings them up to date (from the snapshot)
            # while this process makes the pages that show none (``update_site``'s ``related``).
            relating = renderer.apply_async(_relate_apart, (store.location, settings))
        else:
            report.related = refresh(store, settings, workers=options.jobs)
            store.relate_done()
            pending = store.pending_publish()
    if pending.empty and built and head is not None:
        step("enrich")
        report.enriched = enriching.result()
        pending = store.pending_publish()  # what enrich found shows on pages too
        if pending.empty:
            step("")
            return report
    step("publish")  # a killed run's temporary files go as the site's state opens
    store.publishing()

    extra: list[dt.date] = []

    preparing: list[concurrent.futures.Future[None]] = []

    def enriched(written: WriteReport) -> list[dt.date]:
        """Wait for enrich; the days whose sources it told something new. From now
        on the blobs of the files written so far go into git, for the commit, in a
        thread beside the rest of publish (hashing, compressing and writing let go of
        Python's lock; a file written again meanwhile is seen by its stat and read again)."""
        if head is not None:
            preparing.append(beside_git.submit(repo.prepare, list(written.touched)))
        waited = time.perf_counter()
        report.enriched = enriching.result()
        report.seconds["(publish waited for enrich)"] = time.perf_counter() - waited
        extra.extend(sorted(set(store.pending_publish().dates) - set(pending.dates)))
        return extra

    def related() -> list[str]:
        """Wait for relate (if it runs beside); the events whose lists it changed."""
        nonlocal pending
        if relating is None:
            return []
        waited = time.perf_counter()
        report.related = relating.get()
        report.seconds["(publish waited for relate)"] = time.perf_counter() - waited
        report.seconds["(relate, beside)"] = report.related.seconds
        store.relate_done()
        # Only the events relate listed: days enrich noted meanwhile are ``enriched``'s.
        pending = dataclasses.replace(pending, event_ids=store.pending_publish().event_ids)
        return list(pending.event_ids)

    def commit(written: WriteReport) -> None:
        """Commit the site, every file written: before the site's state is saved."""
        step("commit")
        for prepared in preparing:
            prepared.result()
        repo.init()
        first = head is None
        report.message = commit_message(store, pending, now or dt.datetime.now(dt.UTC), first=first)
        if first:
            repo.stage(None)
            report.commit = repo.commit(report.message)
            repo.pack()  # git add -A wrote a loose object per file
        else:
            # A killed run may have written files it did not commit: this run made (or
            # found made) every page that run did, since the state was not saved.
            report.commit = repo.commit_paths(written.touched, report.message)
            report.seconds["(commit: index)"] = repo.index_seconds
            if report.commit is not None:
                started = time.perf_counter()
                report.maintenance = repo.maintain()
                report.seconds["(commit: gc --auto)"] = time.perf_counter() - started

    if head is not None:
        repo.open_index()  # if not open yet: git reads the site's index meanwhile
    report.written = update_site(
        store,
        out,
        options.build,
        dates=pending.dates,
        event_ids=pending.event_ids,
        ready=enriched,
        related=related,
        before_save=commit,
        renderer=renderer,
    )
    store.published(dataclasses.replace(pending, dates=(*pending.dates, *extra)))
    step("")
    return report


def _enrich_apart(path: str, settings: FetchSettings, web: httpx.AsyncBaseTransport | None) -> EnrichReport:
    """Enrich over a connection of its own (SQLite connections stay in their thread)."""
    with Store(path) as own:
        return enrich(own, settings, transport=web)


def _warm_worker() -> None:
    """Ready a render worker for relate and the pages: relate's modules loaded, the HTML
    templates compiled (0.2 s; else done on the critical path, after relate)."""
    import daybook.relate.stage  # noqa: F401 - loaded for ``_relate_apart``
    from daybook.render import warm

    warm()


def _relate_apart(path: str, settings: Settings) -> RelateReport:
    """Relate over a connection of its own (in a render worker: see ``_publish``)."""
    from daybook.relate import refresh

    with Store(path) as own:
        return refresh(own, settings)


def _relate_settings(store: Store, asked: Settings | None) -> Settings:
    if asked is not None:
        return asked
    stored = store.relation_settings()
    try:
        # The store holds what relate.settings_json wrote: Settings' own fields.
        return Settings(**stored) if stored else Settings()  # type: ignore[arg-type]
    except (TypeError, ValueError):  # written by another version of daybook: start afresh
        return Settings()


def commit_message(store: Store, pending: PendingPublish, now: dt.datetime, *, first: bool) -> str:
    """``Update 2026-11-25 14:00 UTC: 31 events added, 4 changed, 2 removed``."""
    stamp = f"Update {now.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    if first:
        stats = store.stats()
        return f"{stamp}: first build, {_count(stats.events, 'event')} on {_count(stats.days, 'day')}"
    added, edited, removed = (pending.count(c) for c in ("added", "edited", "removed"))
    return f"{stamp}: {_count(added, 'event')} added, {edited} changed, {removed} removed"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


_INTERVAL = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """Seconds in an interval such as ``2h``, ``30m``, ``1h30m`` or ``90s``."""
    cleaned = text.strip().lower()
    parts = _INTERVAL.findall(cleaned)
    if not parts or _INTERVAL.sub("", cleaned).strip():
        raise UsageError(f"{text!r}: want an interval like 2h, 30m, 1h30m or 90s", setting="every")
    seconds = sum(float(n) * _SECONDS[unit] for n, unit in parts)
    if seconds <= 0:
        raise UsageError(f"{text!r}: the interval must be longer than nothing", setting="every")
    return seconds


def every(
    interval: float,
    run: Callable[[], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
    runs: int | None = None,
) -> None:
    """Call ``run`` every ``interval`` seconds, start to start, until stopped (or ``runs`` times).

    A run longer than the interval is followed at once by the next.
    """
    done = 0
    while runs is None or done < runs:
        started = time.monotonic()
        run()
        done += 1
        if runs is None or done < runs:
            sleep(max(0.0, started + interval - time.monotonic()))
