"""Enrich: fetch every cited source once, keep its page and its clean metadata.

The step between fetch (the network), extract (pure) and store (SQLite). Each
result is committed the moment it is known, so a run killed at any point loses at
most the pages in flight, and a rerun picks up exactly the sources with no result.
A source that cannot be fetched is a result too (its status says why): one bad URL
never stops a run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import secrets
import socket
import urllib.parse
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from daybook.errors import FetchError
from daybook.model import Article
from daybook.net.fetch import Fetcher, FetchSettings, Page
from daybook.net.settings import DEFAULT_LEASE
from daybook.store import RawResponse, SourceJob, Store, pass_start

log = logging.getLogger(__name__)

# Below this many pages, starting worker processes costs more than it saves.
POOL_THRESHOLD = 200


@dataclass
class EnrichReport:
    """What one enrich run did."""

    total: int = 0
    offline: bool = False  # kept pages re-extracted, nothing fetched
    fetched: int = 0  # live pages kept
    archived: int = 0  # Wayback snapshots kept in place of dead links
    extracted: int = 0  # pages re-extracted offline
    failed: Counter[str] = field(default_factory=Counter)  # by status: "404", "timeout", "robots"...

    def summary(self) -> str:
        """One line: fetched, archived, failed by reason."""
        if self.offline:
            return f"{self.extracted} of {self.total} kept pages re-extracted"
        failures = sum(self.failed.values())
        line = f"{self.total} sources: {self.fetched} fetched, {self.archived} archived, {failures} failed"
        if failures:
            line += " (" + ", ".join(f"{word} {n}" for word, n in sorted(self.failed.items())) + ")"
        return line


Callback = Callable[[], None]


def enrich(
    store: Store,
    settings: FetchSettings | None = None,
    *,
    refresh: bool = False,
    retry_failed: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    workers: int | None = None,
    on_total: Callable[[int], None] | None = None,
    on_result: Callback | None = None,
    lease: float = DEFAULT_LEASE,
) -> EnrichReport:
    """Fetch and extract the sources that have no result yet (see ``Store.sources_to_enrich``).

    ``workers`` processes extract in parallel (default: one per CPU for large runs,
    none for small ones); ``transport`` replaces the network, as in ``Fetcher``.

    On PostgreSQL, several runs at once share the work: each leases sources as it goes
    (for ``lease`` seconds, renewed while it runs) and keeps each host's politeness in
    the database, so that together they keep ``per_host`` and ``delay`` as one run would.
    """
    if store.backend.name == "postgresql":
        return _enrich_shared(
            store,
            settings or FetchSettings(),
            refresh,
            retry_failed,
            transport,
            workers,
            on_total,
            on_result,
            lease,
        )
    jobs = store.sources_to_enrich(refresh=refresh, retry_failed=retry_failed)
    report = EnrichReport(total=len(jobs))
    if on_total is not None:
        on_total(len(jobs))
    if not jobs:
        return report
    if workers is None:
        workers = (os.cpu_count() or 1) if len(jobs) >= POOL_THRESHOLD else 0
    pool = _pool(workers)
    try:
        asyncio.run(_fetch_all(store, jobs, settings or FetchSettings(), transport, pool, report, on_result))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return report


def reextract(
    store: Store,
    *,
    on_total: Callable[[int], None] | None = None,
    on_result: Callback | None = None,
) -> EnrichReport:
    """Extract metadata again from every kept page, fetching nothing (``enrich --offline``)."""
    report = EnrichReport(total=store.response_count(), offline=True)
    if on_total is not None:
        on_total(report.total)
    for job, response, dead in store.stored_responses():
        body = unpack(response.body)
        article = _extract(body, _base(job.url, response.final_url, response.archived), response.headers, job)
        store.save_article(job.id, response, article, dead=dead)
        report.extracted += 1
        if on_result is not None:
            on_result()
    return report


def _fetch_one(
    store: Store,
    pool: concurrent.futures.Executor | None,
    report: EnrichReport,
    on_result: Callback | None,
) -> Callable[[Fetcher, SourceJob], Coroutine[object, object, None]]:
    """Fetch, extract and keep one source's page (or its failure)."""

    async def one(fetcher: Fetcher, job: SourceJob) -> None:
        loop = asyncio.get_running_loop()
        try:
            page = await fetcher.fetch(job.url, date=job.date)
        except FetchError as error:
            store.save_failure(job.id, error.status, error.detail)
            report.failed[str(error.status)] += 1
        except Exception as error:  # a bug for one URL must not stop the others
            log.exception("fetching %s failed unexpectedly", job.url)
            store.save_failure(job.id, "error", f"unexpected error: {error!r}")
            report.failed["error"] += 1
        else:
            base = _base(job.url, page.final_url, page.archived)
            # Off the event loop even without a pool (then in a thread): a loop busy
            # parsing would let the timeouts of the requests in flight run out. A
            # gzipped answer is kept as sent; others are compressed with the extraction.
            article, packed = await loop.run_in_executor(
                pool, extract_and_pack, page.body, base, page.headers, job, page.gzipped is None
            )
            store.save_page(job.id, _raw(page, page.gzipped or packed or b""), article, dead=page.dead)
            if page.archived:
                report.archived += 1
            else:
                report.fetched += 1
        if on_result is not None:
            on_result()

    return one


async def _fetch_all(
    store: Store,
    jobs: list[SourceJob],
    settings: FetchSettings,
    transport: httpx.AsyncBaseTransport | None,
    pool: concurrent.futures.Executor | None,
    report: EnrichReport,
    on_result: Callback | None,
) -> None:
    one = _fetch_one(store, pool, report, on_result)
    # A bounded window of tasks, not one per source: runs can have a million sources,
    # and a page fetched waits in memory for its extraction. Wide enough that hosts
    # waiting out their delay leave others to fetch.
    window = asyncio.Semaphore(max(128, settings.concurrency * 8))
    async with (
        Fetcher(settings, transport=transport, robots=store) as fetcher,
        asyncio.TaskGroup() as group,
    ):
        for job in interleave(jobs):
            await window.acquire()
            task = group.create_task(one(fetcher, job))
            task.add_done_callback(lambda _: window.release())


def extract_and_pack(
    body: bytes, url: str, headers: tuple[tuple[str, str], ...], job: SourceJob, pack: bool
) -> tuple[Article, bytes | None]:
    """A page's metadata, and if ``pack`` its body compressed: the CPU work, for a worker."""
    # Level 1: CPU is what enrich runs short of; levels above it save a few % of disk.
    return _extract(body, url, headers, job), zlib.compress(body, 1) if pack else None


def _extract(body: bytes, url: str, headers: tuple[tuple[str, str], ...], job: SourceJob) -> Article:
    from daybook.enrich.extract import extract_article  # imported with the first page, not at start-up

    try:
        return extract_article(body, url=url, headers=dict(headers), outlet=job.outlet or None)
    except Exception:  # one page lxml cannot take must not stop the run; the page is kept
        log.exception("extracting %s failed", job.url)
        return Article(publisher=job.outlet or None)


def unpack(kept: bytes) -> bytes:
    """A kept body, decompressed: zlib (compressed here) or gzip (as the server sent it)."""
    return zlib.decompress(kept, wbits=47)


def _base(url: str, final_url: str, archived: bool) -> str:
    # An archived page is the original markup (id_), so its links are relative to the original.
    return url if archived else final_url


def _raw(page: Page, packed: bytes) -> RawResponse:
    return RawResponse(
        status=page.status,
        final_url=page.final_url,
        headers=page.headers,
        body=packed,
        fetched_at=page.fetched_at,
        archived=page.archived,
    )


def interleave(jobs: Iterable[SourceJob]) -> list[SourceJob]:
    """Jobs reordered host by host (a, b, c, a, b, c...), so no host hogs the window."""
    by_host: dict[str, list[SourceJob]] = {}
    for job in jobs:
        try:
            host = urllib.parse.urlsplit(job.url).hostname or ""
        except ValueError:
            host = ""
        by_host.setdefault(host, []).append(job)
    queues = list(by_host.values())
    ordered: list[SourceJob] = []
    for depth in range(max((len(q) for q in queues), default=0)):
        ordered.extend(q[depth] for q in queues if depth < len(q))
    return ordered


def _pool(workers: int) -> concurrent.futures.ProcessPoolExecutor | None:
    if workers <= 0:
        return None
    # spawn, not fork: the parent may hold threads (a test server, an executor).
    context = multiprocessing.get_context("spawn")
    return concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context)


# -- many workers on one PostgreSQL store ---------------------------------------------


def _enrich_shared(
    store: Store,
    settings: FetchSettings,
    refresh: bool,
    retry_failed: bool,
    transport: httpx.AsyncBaseTransport | None,
    workers: int | None,
    on_total: Callable[[int], None] | None,
    on_result: Callback | None,
    lease: float,
) -> EnrichReport:
    """``enrich`` as one of several workers: sources leased a few at a time."""
    since = pass_start()
    due = store.sources_due(since, refresh=refresh, retry_failed=retry_failed)
    report = EnrichReport()
    if on_total is not None:
        on_total(due)
    if not due:
        return report
    if workers is None:
        workers = (os.cpu_count() or 1) if due >= POOL_THRESHOLD else 0
    pool = _pool(workers)
    # A connection of its own for the leases and the hosts' turns: its session holds the
    # hosts' request slots (given back by the server if this process dies).
    with Store(store.location) as coordination:
        worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        try:
            asyncio.run(
                _fetch_leased(
                    store, coordination, worker, since, (refresh, retry_failed),
                    settings, transport, pool, report, on_result, lease,
                )
            )  # fmt: skip
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            coordination.drop_leases(worker)
    return report


async def _fetch_leased(
    store: Store,
    coordination: Store,
    worker: str,
    since: str,
    mode: tuple[bool, bool],
    settings: FetchSettings,
    transport: httpx.AsyncBaseTransport | None,
    pool: concurrent.futures.Executor | None,
    report: EnrichReport,
    on_result: Callback | None,
    lease: float,
) -> None:
    one = _fetch_one(store, pool, report, on_result)
    size = max(16, settings.concurrency * 2)  # sources leased and not done, at most
    busy: set[asyncio.Task[None]] = set()
    # One thread for the coordination connection: its calls are quick and in order.
    calls = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="leases")
    loop = asyncio.get_running_loop()

    def call(function: Callable[..., object], *args: object) -> Awaitable[object]:
        return loop.run_in_executor(calls, function, *args)

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease / 4)
            await call(coordination.renew_leases, worker, lease)

    def shared(name: str, per_host: int, delay: float) -> _SharedHost:
        return _SharedHost(name, per_host, delay, coordination, call)

    refresh, retry_failed = mode
    renewing = asyncio.create_task(renew())
    try:
        async with Fetcher(settings, transport=transport, robots=store, hosts=shared) as fetcher:
            while True:
                room = size - len(busy)
                jobs: list[SourceJob] = []
                if room >= min(size, 8) or not busy:
                    jobs = await call(  # type: ignore[assignment]
                        _claim, coordination, worker, room, lease, since, refresh, retry_failed
                    )
                for job in jobs:
                    report.total += 1
                    task = asyncio.create_task(one(fetcher, job))
                    busy.add(task)
                    task.add_done_callback(busy.discard)
                if jobs:
                    continue
                if busy:
                    await asyncio.wait(busy, return_when=asyncio.FIRST_COMPLETED)
                    continue
                # Nothing left to lease: done, unless other workers hold sources that may
                # come back (a worker that dies leaves its leases to lapse).
                if not await call(coordination.others_leases, worker):
                    break
                await asyncio.sleep(min(1.0, lease / 4))
    finally:
        renewing.cancel()
        for task in busy:
            task.cancel()
        calls.shutdown(wait=True)


def _claim(
    store: Store, worker: str, room: int, lease: float, since: str, refresh: bool, retry_failed: bool
) -> list[SourceJob]:
    return store.claim_sources(worker, room, lease, since, refresh=refresh, retry_failed=retry_failed)


class _SharedHost:
    """One host's politeness kept in the store, for every worker together: at most
    ``per_host`` requests at once (the store's session locks) and starts ``delay`` apart
    (the next start booked in the store)."""

    def __init__(
        self,
        name: str,
        per_host: int,
        delay: float,
        store: Store,
        call: Callable[..., Awaitable[object]],
    ) -> None:
        self.name = name
        self.per_host = per_host
        self.delay = delay
        self._store = store
        self._call = call
        self._local = asyncio.Semaphore(per_host)  # no use asking the store for more

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        async with self._local:
            taken = await self._call(self._store.take_host_turn, self.name, self.per_host, self.delay)
            while taken is None:  # every slot is another worker's: ask again shortly
                await asyncio.sleep(0.02)
                taken = await self._call(self._store.take_host_turn, self.name, self.per_host, self.delay)
            assert isinstance(taken, tuple)
            slot, wait = taken
            try:
                if wait > 0:
                    await asyncio.sleep(wait)
                yield
            finally:
                await self._call(self._store.release_host_slot, self.name, slot)

    def pause(self, seconds: float) -> None:
        # In the coordination thread's queue, before this worker's next turn on the host.
        self._pausing = asyncio.ensure_future(self._call(self._store.pause_host, self.name, seconds))
