"""The fetcher on its own: politeness limits, routing, robots.txt, retries, the
private-address guard and the Wayback fallback, over a swapped transport or loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import itertools
import socket
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

import httpx
import pytest
from standin_web import StandInWeb

from daybook.errors import FetchError, HTTPStatusError, NetworkError, RefusedError, UsageError
from daybook.net.fetch import ROBOTS_MAX_AGE, Fetcher, FetchSettings, Page, RobotsCache, retry_after
from daybook.net.transport import is_public

HTML = b"<!doctype html><html><head><title>t</title></head><body><p>hi</p></body></html>"
Handler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


def fetch_all(
    settings: FetchSettings, handler: Handler, urls: list[str], robots: RobotsCache | None = None
) -> list[Page | FetchError]:
    async def main() -> list[Page | FetchError]:
        async with Fetcher(settings, transport=httpx.MockTransport(handler), robots=robots) as fetcher:

            async def one(url: str) -> Page | FetchError:
                try:
                    return await fetcher.fetch(url)
                except FetchError as error:
                    return error

            return list(await asyncio.gather(*(one(u) for u in urls)))

    return asyncio.run(main())


def fetch_one(settings: FetchSettings, url: str, transport: httpx.AsyncBaseTransport | None = None) -> Page:
    async def main() -> Page:
        async with Fetcher(settings, transport=transport) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(main())


def html(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/robots.txt":
        return httpx.Response(404)
    return httpx.Response(200, headers={"Content-Type": "text/html"}, content=HTML)


@pytest.fixture(scope="module")
def web() -> Iterator[StandInWeb]:
    server = StandInWeb().start()
    yield server
    server.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- politeness --------------------------------------------------------------------


def test_per_host_and_global_limits_and_delay() -> None:
    in_flight: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    starts: dict[str, list[float]] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        starts.setdefault(host, []).append(time.monotonic())
        in_flight[host] += 1
        in_flight["*"] += 1
        peak[host] = max(peak[host], in_flight[host])
        peak["*"] = max(peak["*"], in_flight["*"])
        await asyncio.sleep(0.12)
        in_flight[host] -= 1
        in_flight["*"] -= 1
        return html(request)

    urls = [f"https://{h}.test/{n}" for h in "abcd" for n in range(6)]
    settings = FetchSettings(concurrency=5, per_host=2, delay=0.05)
    results = fetch_all(settings, handler, urls)
    assert all(isinstance(r, Page) for r in results)
    assert peak["*"] <= 5 and all(peak[f"{h}.test"] <= 2 for h in "abcd")
    assert peak["*"] == 5 and max(peak[f"{h}.test"] for h in "abcd") == 2  # and they are reached
    for times in starts.values():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 0.04  # 0.05 less scheduling jitter


def test_user_agent_and_via_routing() -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return html(request)

    settings = FetchSettings(via="http://127.0.0.1:8765", user_agent="daybook-test/1", delay=0)
    (page,) = fetch_all(settings, handler, ["https://news.example:8443/a/b?c=1&d=2"])
    assert isinstance(page, Page)
    assert page.final_url == "https://news.example:8443/a/b?c=1&d=2"
    request = seen[-1]
    assert str(request.url) == "http://127.0.0.1:8765/a/b?c=1&d=2"
    assert request.headers["host"] == "news.example:8443"
    assert request.headers["user-agent"] == "daybook-test/1"
    assert str(seen[0].url) == "http://127.0.0.1:8765/robots.txt"


def test_via_and_the_wayback_api() -> None:
    """The default API goes through via like the web; one set by hand is asked where it is."""
    seen: list[tuple[str, str]] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers["host"]))
        if request.url.path.endswith("/available"):
            return httpx.Response(200, json={"archived_snapshots": {}})
        return httpx.Response(404)

    via = "http://127.0.0.1:8765"
    fetch_all(FetchSettings(via=via, delay=0), handler, ["https://gone.example/a"])
    assert (f"{via}/wayback/available?url=https%3A%2F%2Fgone.example%2Fa", "archive.org") in seen
    seen.clear()
    stand_in = "http://127.0.0.1:9999/wayback/available"
    fetch_all(FetchSettings(via=via, delay=0, wayback=stand_in), handler, ["https://gone.example/a"])
    assert (f"{stand_in}?url=https%3A%2F%2Fgone.example%2Fa", "127.0.0.1:9999") in seen


def test_retry_after_values() -> None:
    assert retry_after("7") == 7.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: go now


def test_5xx_retried_then_reported_with_status() -> None:
    calls: Counter[str] = Counter()

    async def handler(request: httpx.Request) -> httpx.Response:
        calls[request.url.path] += 1
        return httpx.Response(404) if request.url.path == "/robots.txt" else httpx.Response(503)

    settings = FetchSettings(retries=2, backoff=0.01, delay=0, wayback=None)
    (error,) = fetch_all(settings, handler, ["https://a.test/x"])
    assert isinstance(error, HTTPStatusError) and error.status == 503
    assert calls["/x"] == 3


def test_4xx_is_not_retried() -> None:
    calls: Counter[str] = Counter()

    async def handler(request: httpx.Request) -> httpx.Response:
        calls[request.url.path] += 1
        return httpx.Response(404) if request.url.path == "/robots.txt" else httpx.Response(403)

    (error,) = fetch_all(FetchSettings(backoff=0.01, delay=0), handler, ["https://a.test/x"])
    assert isinstance(error, HTTPStatusError) and error.status == 403 and calls["/x"] == 1


# -- robots.txt ----------------------------------------------------------------------


def test_robots_rules_read_once_per_origin_and_crawl_delay_honoured() -> None:
    calls: Counter[str] = Counter()
    starts: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls[request.url.path] += 1
        if request.url.path == "/robots.txt":
            rules = b"User-agent: daybook\nDisallow: /no/\nCrawl-delay: 1\n\nUser-agent: *\nDisallow: /\n"
            return httpx.Response(200, content=rules, headers={"Content-Type": "text/plain"})
        starts.append(time.monotonic())
        return html(request)

    results = fetch_all(
        FetchSettings(delay=0),
        handler,
        ["https://a.test/yes/1", "https://a.test/yes/2", "https://a.test/no/3"],
    )
    assert [type(r) for r in results] == [Page, Page, RefusedError]
    assert isinstance(results[2], RefusedError) and results[2].word == "robots"
    assert calls["/robots.txt"] == 1 and calls["/no/3"] == 0
    assert starts[1] - starts[0] >= 0.95


def test_robots_server_error_disallows_and_missing_allows() -> None:
    async def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500) if request.url.path == "/robots.txt" else html(request)

    (error,) = fetch_all(FetchSettings(retries=0, delay=0), broken, ["https://a.test/x"])
    assert isinstance(error, RefusedError) and error.word == "robots"

    async def missing(request: httpx.Request) -> httpx.Response:
        return html(request)

    (page,) = fetch_all(FetchSettings(delay=0), missing, ["https://a.test/x"])
    assert isinstance(page, Page)


class KeptRobots:
    """A robots.txt cache in memory, as the store keeps one."""

    def __init__(self) -> None:
        self.kept: dict[str, tuple[int, bytes, dt.datetime]] = {}

    def robots(self, origin: str, newer_than: dt.datetime) -> tuple[int, bytes] | None:
        found = self.kept.get(origin)
        return None if found is None or found[2] <= newer_than else (found[0], found[1])

    def save_robots(self, origin: str, status: int, body: bytes) -> None:
        self.kept[origin] = (status, body, dt.datetime.now(dt.UTC))


def test_robots_kept_for_a_day_between_runs_and_server_errors_never() -> None:
    calls: Counter[str] = Counter()
    status = {"robots": 200}

    async def handler(request: httpx.Request) -> httpx.Response:
        calls[request.url.path] += 1
        if request.url.path == "/robots.txt":
            rules = b"User-agent: *\nDisallow: /no/\n"
            return httpx.Response(status["robots"], content=rules, headers={"Content-Type": "text/plain"})
        return html(request)

    cache, urls = KeptRobots(), ["https://a.test/yes", "https://a.test/no/1"]
    for _ in range(2):  # the second run reads the rules kept by the first
        yes, no = fetch_all(FetchSettings(delay=0, retries=0), handler, urls, robots=cache)
        assert isinstance(yes, Page) and isinstance(no, RefusedError) and no.word == "robots"
    assert calls["/robots.txt"] == 1 and calls["/no/1"] == 0
    # A day later the copy is stale: asked again. A server error is not kept.
    status["robots"] = 503
    cache.kept["https://a.test"] = (200, b"", dt.datetime.now(dt.UTC) - ROBOTS_MAX_AGE)
    (refused,) = fetch_all(FetchSettings(delay=0, retries=0), handler, urls[:1], robots=cache)
    assert isinstance(refused, RefusedError) and calls["/robots.txt"] == 2
    assert cache.kept["https://a.test"][2] < dt.datetime.now(dt.UTC) - ROBOTS_MAX_AGE + dt.timedelta(
        minutes=1
    )
    fetch_all(FetchSettings(delay=0, retries=0), handler, urls[:1], robots=cache)
    assert calls["/robots.txt"] == 3
    # A missing robots.txt (404) is kept: it allows everything.
    status["robots"] = 404
    for _ in range(2):
        (page,) = fetch_all(FetchSettings(delay=0, retries=0), handler, urls[1:], robots=cache)
        assert isinstance(page, Page)
    assert calls["/robots.txt"] == 4


def test_content_type_and_size_checks() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/pdf":
            return httpx.Response(200, headers={"Content-Type": "application/pdf"}, content=b"%PDF-1.4")
        if request.url.path == "/untyped":
            return httpx.Response(200, content=HTML)
        if request.url.path == "/big":
            return httpx.Response(200, headers={"Content-Type": "text/html"}, content=b"<p>" + b"x" * 5000)
        return httpx.Response(404)

    settings = FetchSettings(delay=0, max_bytes=4096, wayback=None)
    pdf, untyped, big = fetch_all(
        settings, handler, [f"https://a.test/{p}" for p in ("pdf", "untyped", "big")]
    )
    assert isinstance(pdf, FetchError) and pdf.word == "not-html"
    assert isinstance(untyped, Page)
    assert isinstance(big, FetchError) and big.word == "too-large"


class Chunks(httpx.AsyncByteStream):
    """A body that arrives in pieces, as from a socket (bytes given whole count as read)."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


def test_content_encodings() -> None:
    gzipped = gzip.compress(HTML)
    bare = zlib.compressobj(wbits=-15)
    encodings = {
        "/gzip": ("gzip", [gzipped[:10], gzipped[10:]]),
        "/deflate": ("deflate", [zlib.compress(HTML)]),
        "/bare-deflate": ("deflate", [bare.compress(HTML) + bare.flush()]),
        "/cut": ("gzip", [gzipped[:-12]]),
        "/brotli": ("br", [b"\x1b"]),
    }

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        assert request.headers["accept-encoding"] == "gzip, deflate"
        encoding, chunks = encodings[request.url.path]
        headers = {"Content-Type": "text/html", "Content-Encoding": encoding}
        return httpx.Response(200, headers=headers, stream=Chunks(*chunks))

    results = fetch_all(FetchSettings(delay=0), handler, [f"https://a.test{p}" for p in encodings])
    pages = [r for r in results if isinstance(r, Page)]
    assert [p.body for p in pages] == [HTML] * 3
    assert [p.gzipped for p in pages] == [gzipped, None, None]
    assert [r.word for r in results if isinstance(r, FetchError)] == ["undecodable", "undecodable"]


def test_bad_urls_are_refused() -> None:
    results = fetch_all(FetchSettings(), html_async, ["ftp://a.test/x", "https://", "http://a.test:99999/"])
    assert [r.word for r in results if isinstance(r, FetchError)] == ["bad-url"] * 3


async def html_async(request: httpx.Request) -> httpx.Response:
    return html(request)


# -- the private-address guard and the real network ----------------------------------


def test_addresses_are_classified() -> None:
    assert is_public("93.184.216.34") and is_public("2606:2800:220:1::1")
    for private in (
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "172.16.5.4",
        "169.254.169.254",
        "::1",
        "fe80::1",
    ):
        assert not is_public(private), private
    assert not is_public("::ffff:127.0.0.1") and not is_public("100.64.0.1") and not is_public("0.0.0.0")


def test_loopback_is_refused_without_allow_private(web: StandInWeb) -> None:
    before = len(web.seen)
    with pytest.raises(RefusedError) as refused:
        fetch_one(FetchSettings(wayback=None, delay=0), f"{web.base}/fault/target")
    assert refused.value.word == "private"
    with pytest.raises(UsageError, match="--allow-private"):
        fetch_one(FetchSettings(via=web.base), "https://news.example/a")
    assert len(web.seen) == before


def test_names_are_checked_where_they_resolve(web: StandInWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    port = int(web.base.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def fake(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "sneaky.example":  # a public-looking name that points inside
            return real("127.0.0.1", *args, **kwargs)
        if host == "nowhere.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(RefusedError) as refused:
        fetch_one(FetchSettings(wayback=None, delay=0), f"http://sneaky.example:{port}/fault/target")
    assert refused.value.word == "private"
    with pytest.raises(NetworkError) as dns:
        fetch_one(FetchSettings(wayback=None, delay=0), "http://nowhere.example/a")
    assert dns.value.word == "dns"
    # A name that does not resolve is a dead link: the Wayback stand-in is asked.
    archived = FetchSettings(allow_private=True, wayback=f"{web.base}/wayback/available", delay=0)
    page = fetch_one(archived, "http://nowhere.example/fault/dead")
    assert page.archived and page.dead == "dns"


def test_refused_connection_is_retried_then_archived(web: StandInWeb) -> None:
    url = f"http://127.0.0.1:{closed_port()}/fault/dead"
    settings = FetchSettings(
        allow_private=True, retries=1, backoff=0.01, delay=0, wayback=f"{web.base}/wayback/available"
    )
    page = fetch_one(settings, url)
    assert page.archived and page.dead == "refused" and page.url == url
    assert page.final_url.startswith(f"{web.base}/web/") and page.final_url.endswith(url)
    assert b"Archived story" in page.body
    no_archive = FetchSettings(allow_private=True, retries=1, backoff=0.01, delay=0, wayback=None)
    with pytest.raises(NetworkError) as refused:
        fetch_one(no_archive, url.replace("/fault/dead", "/other"))
    assert refused.value.word == "refused"
