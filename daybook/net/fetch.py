"""Enrich's network code: source pages fetched politely with httpx, asynchronously.

How it works: docs/ARCHITECTURE.md, "Fetching politely".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import ssl
import urllib.parse
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Protocol
from urllib.robotparser import RobotFileParser

import httpx

from daybook.errors import ContentError, FetchError, HTTPStatusError, NetworkError, RefusedError, UsageError
from daybook.net.retry import busy, retry_after, retry_wait
from daybook.net.settings import DEFAULT_WAYBACK
from daybook.net.settings import FetchSettings as FetchSettings  # re-exported: lives apart, cheap to import
from daybook.net.transport import Refusal, guarded_transport, public_addresses

log = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB
API_MAX_BYTES = 1024 * 1024
MAX_CRAWL_DELAY = 30.0  # a robots.txt Crawl-delay beyond this would stall a run for days
ROBOTS_MAX_AGE = dt.timedelta(hours=24)  # RFC 9309: a cached robots.txt, no longer than this


POOL_SIZE = 8  # connections kept per connection pool (see Fetcher.__aenter__)
_SNAPSHOT = re.compile(r"(/web/\d{1,14})(?:id_)?/")


class RobotsCache(Protocol):
    """Where robots.txt answers are kept between runs: (HTTP status, body) by origin."""

    def robots(self, origin: str, newer_than: dt.datetime) -> tuple[int, bytes] | None: ...

    def save_robots(self, origin: str, status: int, body: bytes) -> None: ...


@dataclass(frozen=True)
class Page:
    """A page as the server sent it, and where from."""

    url: str  # the URL asked for
    status: int
    final_url: str  # after redirects; for an archived page, the snapshot's address
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: str  # ISO 8601, UTC
    archived: bool = False  # a Wayback Machine snapshot, standing in for a dead link
    dead: str | None = None  # for archived pages: why the live one was not used (404, dns...)
    gzipped: bytes | None = None  # the body as sent, when the server gzipped it


class HostTurns(Protocol):
    """One host's politeness: ``turn()`` around each request, ``pause`` after a refusal."""

    delay: float

    def turn(self) -> AbstractAsyncContextManager[None]: ...

    def pause(self, seconds: float) -> None: ...


class Fetcher:
    """Fetches pages under ``settings``; use as an async context manager.

    ``transport`` replaces the network (``httpx.MockTransport`` in tests); the
    private-address check lives in the default transport, so it goes with it.
    ``hosts`` makes each host's politeness (name, per_host, delay): by default kept in
    memory; several workers on one store share theirs (``daybook.enrich``).
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        robots: RobotsCache | None = None,
        hosts: Callable[[str, int, float], HostTurns] | None = None,
    ) -> None:
        self.settings = settings or FetchSettings()
        self._make_host: Callable[[str, int, float], HostTurns] = hosts or (lambda _, n, d: _Host(n, d))
        self._transport = transport
        self._robots_cache = robots
        self._clients: list[httpx.AsyncClient] = []
        self._slots = asyncio.Semaphore(self.settings.concurrency)
        self._hosts: dict[str, HostTurns] = {}
        self._robots: dict[str, asyncio.Task[_Rules]] = {}

    async def __aenter__(self) -> Fetcher:
        settings = self.settings
        if settings.via is not None and not settings.allow_private and self._transport is None:
            host = urllib.parse.urlsplit(settings.via).hostname or ""
            try:
                await public_addresses(host, 80)
            except Refusal as refusal:
                raise UsageError(f"{settings.via}: {refusal.detail}", setting="via") from None
        # httpcore's pool does work quadratic in its connections for every request it
        # places, which at 32 connections costs more CPU than the HTTP itself: hosts are
        # spread over several small pools instead of one large one.
        shards = 1 if self._transport is not None else -(-settings.concurrency // POOL_SIZE)
        limits = httpx.Limits(
            max_connections=settings.concurrency + 8,  # never the bottleneck: our slots are
            max_keepalive_connections=POOL_SIZE,
        )
        context = httpx.create_ssl_context()  # loading the CA bundle takes a while: once
        for _ in range(shards):
            transport = self._transport or guarded_transport(
                allow_private=settings.allow_private, limits=limits, ssl_context=context
            )
            self._clients.append(
                httpx.AsyncClient(
                    transport=transport,
                    timeout=httpx.Timeout(settings.timeout, pool=None),  # the wait is bounded by our slots
                    follow_redirects=False,
                    headers={
                        "User-Agent": settings.user_agent,
                        "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                        # What _Decoder reads, whatever optional codecs httpx finds installed.
                        "Accept-Encoding": "gzip, deflate",
                    },
                )
            )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for task in self._robots.values():
            task.cancel()
        for client in self._clients:
            await client.aclose()

    async def fetch(self, url: str, *, date: dt.date | None = None) -> Page:
        """The page at ``url``; for a dead link, its Wayback snapshot nearest ``date``, if any."""
        try:
            return await self._get(url, html=True)
        except FetchError as error:
            if self.settings.wayback is None or not is_dead(error):
                raise
            page = await self._snapshot(url, date)
            if page is None:
                raise
            return replace(page, dead=str(error.status))

    # -- one URL, hop by hop -------------------------------------------------------

    async def _get(self, url: str, *, html: bool, max_bytes: int | None = None, robots: bool = True) -> Page:
        current = url
        for _ in range(self.settings.max_redirects + 1):
            _check_url(current)
            if robots and not await self._allowed(current):
                raise RefusedError(current, "robots", "robots.txt does not allow daybook to fetch it")
            limit = max_bytes or self.settings.max_bytes
            answer = await self._with_retries(current, html=html, max_bytes=limit)
            if isinstance(answer, str):
                current = answer
                continue
            return Page(
                url=url,
                status=answer.status,
                final_url=current,
                headers=answer.headers,
                body=answer.body,
                fetched_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                gzipped=answer.gzipped,
            )
        raise ContentError(url, "redirects", f"more than {self.settings.max_redirects} redirects")

    async def _with_retries(self, url: str, *, html: bool, max_bytes: int) -> _Answer | str:
        host = self._host(url)
        for attempt in range(self.settings.retries + 1):
            try:
                async with host.turn(), self._slots:
                    return await self._once(url, html=html, max_bytes=max_bytes)
            except FetchError as error:
                wait = self._retry_wait(error, attempt)
                if wait is None:
                    raise
                log.info("retrying %s in %.1f s: %s", url, wait, error.detail)
                host.pause(wait)
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    def _retry_wait(self, error: FetchError, attempt: int) -> float | None:
        if attempt >= self.settings.retries:
            return None
        if isinstance(error, HTTPStatusError):
            if not busy(error.http_status):
                return None
            after = error.retry_after
        elif isinstance(error, NetworkError) and error.word in ("timeout", "refused", "connection"):
            after = None
        else:
            return None
        settings = self.settings
        return retry_wait(after, attempt, backoff=settings.backoff, max_wait=settings.max_wait, jitter=0.2)

    async def _once(self, url: str, *, html: bool, max_bytes: int) -> _Answer | str:
        """One request: the answer, or the next URL if it redirects."""
        assert self._clients, "use Fetcher as an async context manager"
        target, headers = self._route(url)
        client = self._clients[hash(urllib.parse.urlsplit(url).hostname) % len(self._clients)]
        timeout = self.settings.timeout
        try:
            async with (
                asyncio.timeout(timeout),
                client.stream("GET", target, headers=headers) as response,
            ):
                return await _read(url, response, html=html, max_bytes=max_bytes)
        except (TimeoutError, httpx.TimeoutException):
            raise NetworkError(url, "timeout", f"no complete answer within {timeout:g} s") from None
        except Refusal as refusal:
            raise refusal.kind(url, refusal.word, refusal.detail) from None
        except httpx.ConnectError as exc:
            word = _connect_failure(exc)
            raise NetworkError(url, word, f"cannot connect: {exc}") from None
        except (httpx.DecodingError, zlib.error) as exc:
            raise ContentError(url, "undecodable", f"body does not decode: {exc}") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise RefusedError(url, "bad-url", f"not a URL daybook can fetch: {exc}") from None
        except httpx.HTTPError as exc:  # reset connections, protocol errors
            raise NetworkError(url, "connection", f"connection failed: {exc!r}") from None

    def _route(self, url: str) -> tuple[str, dict[str, str]]:
        parts = urllib.parse.urlsplit(url)
        # A Wayback API given on purpose (and snapshots it serves itself) is asked where
        # it is: via stands in for the web of sources, not for services set by hand.
        wayback = self.settings.wayback
        if self.settings.via is None or (
            wayback not in (None, DEFAULT_WAYBACK) and _origin(url) == _origin(wayback)
        ):
            return url, {}
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return self.settings.via.rstrip("/") + target, {"Host": parts.netloc.rpartition("@")[2]}

    def _host(self, url: str) -> HostTurns:
        name = urllib.parse.urlsplit(url).hostname or ""
        host = self._hosts.get(name)
        if host is None:
            host = self._hosts[name] = self._make_host(name, self.settings.per_host, self.settings.delay)
        return host

    # -- robots.txt ----------------------------------------------------------------

    async def _allowed(self, url: str) -> bool:
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        task = self._robots.get(origin)
        if task is None:
            # One read per origin, shared by every URL waiting on it.
            task = self._robots[origin] = asyncio.ensure_future(self._read_robots(origin))
        rules = await asyncio.shield(task)
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(self.settings.user_agent, url)

    async def _read_robots(self, origin: str) -> _Rules:
        """The origin's rules, or True (fetch anything) or False (fetch nothing)."""
        cache = self._robots_cache
        kept = cache.robots(origin, dt.datetime.now(dt.UTC) - ROBOTS_MAX_AGE) if cache else None
        if kept is not None:
            return self._rules(origin, *kept)
        try:
            page = await self._get(
                f"{origin}/robots.txt", html=False, max_bytes=ROBOTS_MAX_BYTES, robots=False
            )
        except HTTPStatusError as error:
            # RFC 9309: no robots.txt (4xx) allows everything; a server error, nothing for now
            # (and is not kept: the next run asks again).
            if error.http_status < 500 and cache is not None:
                cache.save_robots(origin, error.http_status, b"")
            return error.http_status < 500
        except FetchError:
            # Unreachable: the page itself will fail the same way, and that failure (a dead
            # link the Wayback Machine may hold) is the one worth recording.
            return True
        if cache is not None:
            cache.save_robots(origin, page.status, page.body)
        return self._rules(origin, page.status, page.body)

    def _rules(self, origin: str, status: int, body: bytes) -> _Rules:
        if status >= 400:
            return status < 500
        rules = RobotFileParser()
        rules.parse(body.decode("utf-8", errors="replace").splitlines())
        delay = rules.crawl_delay(self.settings.user_agent)
        if delay is not None:
            host = self._host(origin)
            host.delay = max(host.delay, min(float(delay), MAX_CRAWL_DELAY))
        return rules

    # -- the Wayback Machine -------------------------------------------------------

    async def _snapshot(self, url: str, date: dt.date | None) -> Page | None:
        """The archived copy of ``url`` nearest ``date``, marked archived; None if there is none."""
        assert self.settings.wayback is not None
        query = {"url": url} | ({"timestamp": f"{date:%Y%m%d}"} if date else {})
        api = f"{self.settings.wayback}?{urllib.parse.urlencode(query)}"
        try:
            # The API and the archive invite this traffic: no robots.txt round trip for them.
            answer = await self._get(api, html=False, max_bytes=API_MAX_BYTES, robots=False)
            closest = json.loads(answer.body)["archived_snapshots"]["closest"]
            snapshot = closest["url"]
            if not closest.get("available") or not isinstance(snapshot, str):
                return None
            if str(closest.get("status", "200")) != "200":
                return None
            # id_ asks for the page as archived, without the archive's banner and rewritten links.
            page = await self._get(_SNAPSHOT.sub(r"\1id_/", snapshot, count=1), html=True, robots=False)
        except (FetchError, ValueError, KeyError, TypeError) as exc:
            log.info("no Wayback snapshot of %s: %s", url, exc)
            return None
        return replace(page, url=url, final_url=_SNAPSHOT.sub(r"\1/", page.final_url, count=1), archived=True)


def is_dead(error: FetchError) -> bool:
    """Whether ``error`` says the page is gone (so an archived copy is worth looking for)."""
    if isinstance(error, HTTPStatusError):
        return error.http_status in (404, 410)
    return isinstance(error, NetworkError) and error.word in ("dns", "refused")


# -- reading an answer -------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    gzipped: bytes | None


_Rules = RobotFileParser | bool


async def _read(url: str, response: httpx.Response, *, html: bool, max_bytes: int) -> _Answer | str:
    status = response.status_code
    location = response.headers.get("location")
    if status in REDIRECTS and location:
        try:
            return urllib.parse.urljoin(url, str(location).strip())
        except ValueError:
            raise RefusedError(url, "bad-url", f"redirects to a malformed URL {location!r}") from None
    if not 200 <= status < 300:
        raise HTTPStatusError(url, status, retry_after=retry_after(response.headers.get("retry-after")))
    content_type = response.headers.get("content-type")
    media = (content_type or "").split(";")[0].strip().lower()
    if html and content_type and media not in HTML_TYPES:
        raise ContentError(url, "not-html", f"{media or content_type} is not HTML")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ContentError(url, "too-large", f"{int(declared):,} bytes, over the {max_bytes:,} byte cap")
    body, gzipped = await _body(url, response, max_bytes)
    head = body[:1024]
    if html and _looks_binary(head):
        raise ContentError(url, "not-html", f"binary content, though labelled {media or 'nothing'}")
    if html and not content_type and not _looks_like_html(head):
        raise ContentError(url, "not-html", "no content type, and the body is not HTML")
    return _Answer(status, tuple(response.headers.multi_items()), body, gzipped)


async def _body(url: str, response: httpx.Response, max_bytes: int) -> tuple[bytes, bytes | None]:
    """The body decoded, and as sent if that was gzip; at most ``max_bytes`` decoded."""
    too_large = ContentError(url, "too-large", f"more than the {max_bytes:,} byte cap")
    if response.is_stream_consumed:  # built from bytes (httpx.MockTransport): decoded already
        if len(response.content) > max_bytes:
            raise too_large
        return response.content, None
    body, raw = bytearray(), bytearray()
    decoder = _decoder(url, response.headers.get("content-encoding", ""))
    async for chunk in response.aiter_raw():
        raw += chunk
        # Counted decoded, and decoded no further than the cap: a gzip bomb stops here.
        body += decoder.decompress(chunk, max_bytes + 1 - len(body)) if decoder else chunk
        if len(body) > max_bytes:
            raise too_large
    if decoder is None:
        return bytes(body), None
    body += decoder.flush()
    if not decoder.eof:
        raise ContentError(url, "undecodable", "the compressed body is cut short")
    return bytes(body), bytes(raw) if decoder.gzip else None


class _Decoder:
    """Content-Encoding gzip or deflate, decoded here so the gzip bytes as sent can be kept."""

    def __init__(self, *, gzip: bool) -> None:
        self.gzip = gzip
        # 47: a gzip or zlib header, either; deflate may also come without one (-15).
        self._inner = zlib.decompressobj(47 if gzip else 15)
        self._started = False

    def decompress(self, chunk: bytes, limit: int) -> bytes:
        try:
            data = self._inner.decompress(chunk, limit)
        except zlib.error:
            if self.gzip or self._started:
                raise
            self._inner = zlib.decompressobj(-15)  # a bare deflate stream
            data = self._inner.decompress(chunk, limit)
        self._started = True
        return data

    def flush(self) -> bytes:
        return self._inner.flush()

    @property
    def eof(self) -> bool:
        return self._inner.eof


def _decoder(url: str, encoding: str) -> _Decoder | None:
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name in ("gzip", "x-gzip", "deflate"):
        return _Decoder(gzip=name != "deflate")
    raise ContentError(url, "undecodable", f"content encoding {encoding!r} was not asked for")


# Signatures of files servers send as text/html by mistake: images, PDFs, archives.
_BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"RIFF", b"\x1f\x8b", b"OggS")


def _looks_binary(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NULs of its own
        return False
    return head.startswith(_BINARY_MAGIC) or b"\x00" in head


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<!--")) or b"<body" in start


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _check_url(url: str) -> None:
    try:
        parts = urllib.parse.urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        raise RefusedError(url, "bad-url", "not a well-formed URL") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise RefusedError(url, "bad-url", "only http and https URLs are fetched")


def _connect_failure(exc: BaseException) -> str:
    """``refused``, ``tls`` or ``connection``, from the causes of a connect error."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return "refused"
        if isinstance(seen, ssl.SSLError) or "certificate" in str(seen).lower():
            return "tls"
        seen = seen.__cause__ or seen.__context__
    return "connection"


# -- politeness --------------------------------------------------------------------


class _Host:
    """One host's share: ``per_host`` slots, and a minimum gap between request starts."""

    def __init__(self, per_host: int, delay: float) -> None:
        self.slots = asyncio.Semaphore(per_host)
        self.delay = delay
        self.next_start = 0.0
        self.lock = asyncio.Lock()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        async with self.slots:
            async with self.lock:
                loop = asyncio.get_running_loop()
                wait = self.next_start - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.next_start = loop.time() + self.delay
            yield

    def pause(self, seconds: float) -> None:
        """No request starts to this host for ``seconds`` (a retry's wait, a Retry-After)."""
        self.next_start = max(self.next_start, asyncio.get_running_loop().time() + seconds)
