"""A real HTTP server on loopback that stands in for the web in enrich tests and benchmarks.

It serves the 181 pages of ``articles-scrapinghub`` at their original paths (whatever
the Host header, so ``daybook enrich --via`` reaches them), copies of them under any
extra ``copy=N`` query parameter, a robots.txt, a stand-in Wayback Machine, and pages
that fault: slow, flaky, rate-limited, looping, huge, binary, mis-encoded, dead.

Run alone (``python tests/standin_web.py``) it prints its base URL and serves until
killed; the benchmark uses it that way, in its own process.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import random
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "articles-scrapinghub"
HUGE = 50 * 1024 * 1024
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
SLOW_SECONDS = 3.0
DEAD_WITH_SNAPSHOT = "/fault/dead"

# Fault pages: small articles written for the purpose (no real news prose).
CP1252_PAGE = (
    "<!doctype html><html><head><title>Caf\u00e9 owners \u2014 a test</title>"
    '<meta property="og:description" content="Caf\u00e9 owners say \u201cno\u201d to the plan \u2013 again,'
    ' and the mayor\u2019s office is listening."></head>'
    "<body><h1>Caf\u00e9 owners \u2014 a test</h1></body></html>"
).encode("cp1252")
MOJIBAKE_PAGE = (
    "<!doctype html><html><head><meta charset=utf-8><title>Mayor plan</title>"
    '<meta property="og:site_name" content="The Daily Test">'
    # What a broken CMS writes: UTF-8 read as windows-1252, and an entity escaped twice.
    '<meta property="og:description" content="It\u00e2\u20ac\u2122s the mayor&amp;#039;s plan'
    ' \u00e2\u20ac\u201c and it&amp;#039;s &amp;quot;final&amp;quot;, aides say.">'
    "</head><body><h1>Mayor plan</h1></body></html>"
).encode("utf-8")
ARCHIVED_PAGE = (
    b"<!doctype html><html><head><meta charset=utf-8><title>Archived story - Gone Daily</title>"
    b'<meta property="og:description" content="This copy of a vanished article lives on in the archive.">'
    b'<meta property="og:image" content="/img/cover.jpg"><meta property="og:site_name" content="Gone Daily">'
    b"</head><body><h1>Archived story</h1></body></html>"
)
PLAIN_PAGE = (
    b"<!doctype html><html><head><meta charset=utf-8><title>%s</title>"
    b'<meta property="og:description" content="A page that came through in the end, after a fault.">'
    b"</head><body><h1>%s</h1></body></html>"
)


@functools.cache
def _bomb() -> bytes:
    return gzip.compress(b"<p>" + b" " * HUGE, compresslevel=9)


def ground_truth() -> dict[str, str]:
    """Each page's file key -> its original URL."""
    data = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    return {key: entry["url"] for key, entry in data.items()}


def events_jsonl(urls: list[str], date: str = "2019-11-19", outlet: str = "Portal Outlet") -> str:
    """daybook JSONL with one event per URL citing it: how tests put sources in a store."""
    lines = [
        json.dumps(
            {
                "date": date,
                "category": "Test",
                "text": f"Event {n} on {date}",
                "sources": [{"outlet": outlet, "url": url}],
            }
        )
        for n, url in enumerate(urls)
    ]
    return "\n".join(lines) + "\n"


def target_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def with_copy(url: str, copy: int) -> str:
    """Another URL for the same page: ``copy=N`` added to its query."""
    parts = urllib.parse.urlsplit(url)
    query = f"{parts.query}&copy={copy}" if parts.query else f"copy={copy}"
    return urllib.parse.urlunsplit(parts._replace(query=query))


def without_copy(target: str) -> str:
    """``/a?x=1&copy=3`` -> ``/a?x=1``: the page a benchmark copy stands for."""
    path, _, query = target.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith("copy=")] if query else []
    return path + (f"?{'&'.join(kept)}" if kept else "")


@dataclass
class StandInWeb:
    """The server and what it saw: every request as (host, target, time)."""

    pages: dict[str, bytes] = field(default_factory=dict)  # target -> gzip body
    seen: list[tuple[str, str, float]] = field(default_factory=list)
    page_delay: float = 0.0  # seconds before answering an article page (kill -9 tests)
    in_flight: dict[str, int] = field(default_factory=dict)  # host -> requests being answered
    most_at_once: dict[str, int] = field(default_factory=dict)  # host -> the most in flight at once
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @classmethod
    def with_articles(cls) -> StandInWeb:
        web = cls()
        for key, url in ground_truth().items():
            web.pages[target_of(url)] = (DATA / "html" / f"{key}.html.gz").read_bytes()
        return web

    @property
    def base(self) -> str:
        return origin(self.server)

    def start(self) -> StandInWeb:
        web = self

        class Handler(_Handler):
            standin = web

        self.server = serve(Handler)
        return self

    def stop(self) -> None:
        shut(self.server)

    def hits(self, target: str) -> list[tuple[str, str, float]]:
        with self.lock:
            return [entry for entry in self.seen if entry[1] == target]

    def count(self, target: str) -> int:
        return len(self.hits(target))


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A server on a free loopback port, answering in a thread of its own (a stand-in's)."""
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def origin(server: ThreadingHTTPServer | None) -> str:
    """``http://127.0.0.1:PORT`` of a started server."""
    assert server is not None
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


def shut(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hang up: not news
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    standin: StandInWeb
    _host: str | None = None  # the host of the request in flight, counted (none: not counted)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        web = self.standin
        host = self.headers.get("Host", "")
        target = self.path
        with web.lock:
            earlier = sum(1 for _, t, _ in web.seen if t == target)
            web.seen.append((host, target, time.monotonic()))
            web.in_flight[host] = web.in_flight.get(host, 0) + 1
            web.most_at_once[host] = max(web.most_at_once.get(host, 0), web.in_flight[host])
        self._host = host  # in flight until answered (``_answered``)
        path = urllib.parse.urlsplit(target).path
        # The client giving up (a timeout, a size cap) is what some tests are about.
        try:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._route(web, host, target, path, earlier)
        finally:
            self._answered()

    def _answered(self) -> None:
        """The request is no longer in flight: counted out before its answer is sent, since a
        client that has the whole answer may start its next request at once, and on a loaded
        machine before this thread, counting out after sending, would run again (a request
        counted twice at once: a politeness test failing with politeness kept)."""
        if self._host is not None:
            with self.standin.lock:
                self.standin.in_flight[self._host] -= 1
            self._host = None

    def _route(self, web: StandInWeb, host: str, target: str, path: str, earlier: int) -> None:
        if path == "/robots.txt":
            return self._send(200, ROBOTS, "text/plain")
        if path == "/fault/slow":
            time.sleep(SLOW_SECONDS)
            return self._send(200, PLAIN_PAGE % (b"Slow", b"Slow"))
        if path == "/fault/flaky":  # 500, then fine
            if earlier == 0:
                return self._send(500, b"oops", "text/plain")
            return self._send(200, PLAIN_PAGE % (b"Flaky but fine", b"Flaky but fine"))
        if path == "/fault/ratelimited":  # 429 with Retry-After: 1, then fine
            if earlier == 0:
                return self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
            return self._send(200, PLAIN_PAGE % (b"Rate limited", b"Rate limited"))
        if path in ("/fault/loop-a", "/fault/loop-b"):
            other = "/fault/loop-b" if path == "/fault/loop-a" else "/fault/loop-a"
            return self._send(302, b"", "text/plain", {"Location": other})
        if path == "/fault/moved":
            return self._send(301, b"", "text/plain", {"Location": "/fault/target"})
        if path == "/fault/target":
            return self._send(200, PLAIN_PAGE % (b"Moved here", b"Moved here"))
        if path == "/fault/huge":  # 50 MB, declared
            return self._huge(declared=True)
        if path == "/fault/huge-stream":  # 50 MB, chunked: only counting tells
            return self._huge(declared=False)
        if path == "/fault/gzip-bomb":  # 50 KB on the wire, 50 MB once decoded
            return self._send(200, _bomb(), "text/html", {"Content-Encoding": "gzip"})
        if path == "/fault/binary":
            return self._send(200, random.Random(7).randbytes(4096), "application/octet-stream")
        if path == "/fault/binary-as-html":  # a PNG the server mislabels: kept, but no text from it
            return self._send(200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
        if path == "/fault/cp1252":
            return self._send(200, CP1252_PAGE, "text/html; charset=utf-8")
        if path == "/fault/mojibake":
            return self._send(200, MOJIBAKE_PAGE)
        if path.startswith("/private/"):
            return self._send(200, PLAIN_PAGE % (b"Secret", b"Secret"))
        if path in (DEAD_WITH_SNAPSHOT, "/fault/gone"):
            return self._send(404 if path == DEAD_WITH_SNAPSHOT else 410, b"not here", "text/plain")
        if path == "/wayback/available":
            return self._wayback(host, target)
        if path.startswith("/web/"):
            return self._send(200, ARCHIVED_PAGE)
        body = web.pages.get(without_copy(target))
        if body is None:
            return self._send(404, b"no such page", "text/plain")
        if web.page_delay:
            time.sleep(web.page_delay)
        return self._send(200, body, "text/html; charset=utf-8", {"Content-Encoding": "gzip"})

    def _wayback(self, host: str, target: str) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
        url = query.get("url", [""])[0]
        stamp = query.get("timestamp", ["20200101"])[0]
        answer: dict[str, object] = {"url": url, "archived_snapshots": {}}
        if urllib.parse.urlsplit(url).path == DEAD_WITH_SNAPSHOT:
            snapshot = f"http://{host}/web/{stamp}120000/{url}"
            answer["archived_snapshots"] = {
                "closest": {
                    "status": "200",
                    "available": True,
                    "url": snapshot,
                    "timestamp": f"{stamp}120000",
                }
            }
        self._send(200, json.dumps(answer).encode(), "application/json")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/html",
        headers: dict[str, str] | None = None,
    ) -> None:
        self._answered()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _huge(self, *, declared: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if declared:
            self.send_header("Content-Length", str(HUGE))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>"
        for _ in range(HUGE // len(chunk)):
            if declared:
                self.wfile.write(chunk)
            else:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if not declared:
            self.wfile.write(b"0\r\n\r\n")


if __name__ == "__main__":
    standin = StandInWeb.with_articles().start()
    print(standin.base, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sys.exit(0)
