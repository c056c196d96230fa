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
import urllib.parse
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import httpx

from daybook.errors import FetchError
from daybook.model import Article
from daybook.net.fetch import Fetcher, FetchSettings, Page
from daybook.store import RawResponse, SourceJob, Store

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
) -> EnrichReport:
    """Fetch and extract the sources that have no result yet (see ``Store.sources_to_enrich``).

    ``workers`` processes extract in parallel (default: one per CPU for large runs,
    none for small ones); ``transport`` replaces the network, as in ``Fetcher``.
    """
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


async def _fetch_all(
    store: Store,
    jobs: list[SourceJob],
    settings: FetchSettings,
    transport: httpx.AsyncBaseTransport | None,
    pool: concurrent.futures.Executor | None,
    report: EnrichReport,
    on_result: Callback | None,
) -> None:
    loop = asyncio.get_running_loop()

    async def one(job: SourceJob) -> None:
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
            task = group.create_task(one(job))
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
