"""The local server (``daybook serve``): the built site, and search over the store.

A threaded stdlib HTTP/1.1 server. ``GET /search?q=WORDS`` answers in HTML, or with
``format=json`` a JSON list of hits (``id``, ``date``, ``text``, ``url``: the event
page's path, ``snippet``, ``score``). It searches as the site's own ``search.html``
does, by the one rule of ``search_index`` (ranking and snippets), over the same data:
the site's static index, or, for a site built without one, an index the server makes
from the store (``--db``) as a build would. Every other path is a file of the site,
sent with the content type of its format; a path that would leave the site (``..``,
an encoded one, a symlink out) or names a hidden file is not found.

Behind a reverse proxy: it listens on loopback by default, every link and redirect
it makes is a path (never built from ``Host``), keep-alive and ``HEAD`` work, files
carry an ``ETag``, and the log names the client from ``X-Forwarded-For``.
"""

from __future__ import annotations

import email.utils
import json
import os
import sys
import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from daybook import __version__, urls
from daybook.publish import search_index
from daybook.publish.search_index import StaticIndex
from daybook.render.search import search_page
from daybook.search import DEFAULT_LIMIT, Hit
from daybook.store import MARK_END, MARK_START, Store

# Hits carry the static index's marks as the store's: the same two characters.
assert (MARK_START, MARK_END) == (search_index.MARK_START, search_index.MARK_END)

MAX_LIMIT = 100
CONTENT_TYPES = {
    ".md": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    "." + urls.FEED_EXT: "application/atom+xml; charset=utf-8",  # an entity's, story's or category's feed
}
FEED_TYPES = {
    urls.NEWS_RSS: "application/rss+xml; charset=utf-8",
    urls.OPINION_RSS: "application/rss+xml; charset=utf-8",
    urls.NEWS_ATOM: "application/atom+xml; charset=utf-8",
    urls.NEWS_JSON_FEED: "application/feed+json",
}
# Pages run no script but the search page's own; images may come from the news sites.
HTML_POLICY = (
    "default-src 'self'; img-src 'self' https: data:; script-src 'self'; style-src 'self';"
    " object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def content_type(path: Path) -> str:
    return FEED_TYPES.get(path.name) or CONTENT_TYPES.get(path.suffix, "application/octet-stream")


def resolve(root: Path, raw_path: str) -> Path | None:
    """The file or folder a request path names inside ``root`` (resolved), or None.

    The path is percent-decoded once; NUL, backslashes, ``.`` and ``..`` segments and
    hidden names are refused, and so is anything whose real path (symlinks followed)
    is outside the site.
    """
    path = urllib.parse.unquote(raw_path)
    if "\x00" in path or "\\" in path:
        return None
    parts = [p for p in path.split("/") if p]
    if any(p.startswith(".") for p in parts):  # "." and ".." too
        return None
    real = Path(os.path.realpath(root.joinpath(*parts)))
    return real if real == root or real.is_relative_to(root) else None


class Searcher:
    """Search for the server, by the rule of the site's own search (``search_index``):
    over the site's static index, or, where the site has none (built without HTML), over
    one made in memory from the store, again whenever the store changed."""

    def __init__(self, root: Path, db: Path | None) -> None:
        self.root = root
        self.db = db if db is not None and db.is_file() else None
        self._lock = threading.Lock()
        self._made: tuple[tuple[int, ...], dict[str, bytes]] | None = None  # (store's stamp, files)

    @property
    def _folder(self) -> Path:
        return self.root / urls.SEARCH_INDEX_DIR

    @property
    def backend(self) -> str:
        if (self._folder / "manifest.json").is_file() or self.db is None:
            return "the site's static index"
        return f"an index made from store {self.db}"

    def _index(self) -> StaticIndex | None:
        folder = self._folder
        if (folder / "manifest.json").is_file():
            return StaticIndex(lambda name: (folder / name).read_bytes())
        if self.db is None:
            return None
        from daybook.publish.explore import search_docs  # the build's documents; only needed here

        # The store's files' times and sizes: a write by another process changes them.
        files = [self.db, self.db.with_name(self.db.name + "-wal")]
        stamp = tuple(n for f in files if f.exists() for n in (f.stat().st_mtime_ns, f.stat().st_size))
        with self._lock:
            if self._made is None or self._made[0] != stamp:
                with Store(self.db) as store:
                    self._made = stamp, search_index.build_index(search_docs(store))
            made = self._made[1]
        return StaticIndex(lambda name: made[f"{urls.SEARCH_INDEX_DIR}/{name}"])

    def search(self, query: str, limit: int) -> list[Hit]:
        index = self._index()
        if index is None:
            return []
        return [
            Hit(rank, h.id, h.date, h.headline, urls.link(f"{h.stem}.html"), h.snippet, h.score)
            for rank, h in enumerate(index.search(query, limit), start=1)
        ]


class SiteServer(ThreadingHTTPServer):
    """The site under ``root``, and search."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], root: Path, db: Path | None, *, quiet: bool = False) -> None:
        self.root = root.resolve()
        self.searcher = Searcher(self.root, db)
        self.quiet = quiet
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-answer is routine; anything else is logged, in one line."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        sys.stderr.write(f"daybook serve: error answering {client_address[0]}: {error!r}\n")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class Handler(BaseHTTPRequestHandler):
    """GET and HEAD of the site's files and of ``/search``."""

    server: SiteServer
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries its length
    server_version = f"daybook/{__version__}"
    sys_version = ""
    timeout = 30  # a client that sends nothing gives its thread back
    # Headers and body go out in two writes: with Nagle's algorithm on, a keep-alive
    # client's delayed ACK would hold the second back for 40 ms.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _refuse_method(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"Only GET and HEAD.\n", "text/plain; charset=utf-8",
                   {"Allow": "GET, HEAD"})  # fmt: skip

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    def _answer(self, *, body: bool) -> None:
        self._body = body
        split = urllib.parse.urlsplit(self.path)
        if split.path == "/search":
            self._search(urllib.parse.parse_qs(split.query))
            return
        found = resolve(self.server.root, split.path)
        if found is not None and found.is_dir():
            if not split.path.endswith("/"):  # relative links inside the folder need the slash
                parts = [urllib.parse.quote(p) for p in urllib.parse.unquote(split.path).split("/") if p]
                location = "/" + "/".join(parts) + "/" + (f"?{split.query}" if split.query else "")
                self._send(HTTPStatus.MOVED_PERMANENTLY, b"", None, {"Location": location})
                return
            found = found / "index.html"
        elif found is not None and not found.exists() and not found.suffix:
            found = found.with_name(found.name + ".html")  # /news/2022/03/7/x: the HTML page
        if found is None or not found.is_file():
            page = self.server.root / urls.NOT_FOUND_PAGE  # the site's own, when it has one
            if page.is_file():
                self._send(HTTPStatus.NOT_FOUND, page.read_bytes(), CONTENT_TYPES[".html"])
            else:
                self._send(HTTPStatus.NOT_FOUND, b"Not found.\n", "text/plain; charset=utf-8")
            return
        self._file(found)

    def _file(self, path: Path) -> None:
        stat = path.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        headers = {
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
            # Shards of the search index are named by their content: they never change.
            "Cache-Control": "public, max-age=31536000, immutable"
            if path.parent.name in ("t", "r") and path.parent.parent.name == urls.SEARCH_INDEX_DIR
            else "no-cache",
        }
        if etag in (self.headers.get("If-None-Match") or ""):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, headers)
            return
        self._send(HTTPStatus.OK, path.read_bytes(), content_type(path), headers)

    def _search(self, params: dict[str, list[str]]) -> None:
        query = (params.get("q") or [""])[0].strip()
        fmt = (params.get("format") or ["html"])[0]
        try:
            limit = min(max(int((params.get("limit") or [str(DEFAULT_LIMIT)])[0]), 1), MAX_LIMIT)
        except ValueError:
            limit = DEFAULT_LIMIT
        hits = self.server.searcher.search(query, limit) if query else []
        if fmt == "json":
            text = json.dumps([h.to_json() for h in hits], ensure_ascii=False, separators=(",", ":"))
            self._send(HTTPStatus.OK, text.encode("utf-8") + b"\n", CONTENT_TYPES[".json"])
            return
        page = results_page(query, hits)
        self._send(HTTPStatus.OK, page.encode("utf-8"), CONTENT_TYPES[".html"], {"Cache-Control": "no-cache"})

    def _send(
        self, status: HTTPStatus, data: bytes, ctype: str | None, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        if ctype is not None:
            self.send_header("Content-Type", ctype)
            self.send_header("X-Content-Type-Options", "nosniff")
            if ctype.startswith("text/html"):
                self.send_header("Content-Security-Policy", HTML_POLICY)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if getattr(self, "_body", True) and data:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.quiet:
            return
        forwarded = self.headers.get("X-Forwarded-For", "") if hasattr(self, "headers") else ""
        client = forwarded.split(",")[0].strip() or self.client_address[0]
        sys.stderr.write(f"{client} - [{self.log_date_time_string()}] {format % args}\n")


def results_page(query: str, hits: list[Hit]) -> str:
    """The HTML answer of ``/search``: the search form and the hits, with snippets."""
    if not query:
        status = ""
    elif hits:
        status = f"{len(hits)} result{'s' if len(hits) != 1 else ''} for “{query}”"
    else:
        status = f"No events found for “{query}”."
    results = [
        {"url": h.url or "", "text": h.text, "date": h.date.isoformat(), "snippet_html": h.snippet_html()}
        for h in hits
    ]
    return search_page("/search", query=query, status=status, results=results)


def serve(
    root: Path, *, host: str = "127.0.0.1", port: int = 8000, db: Path | None = None, quiet: bool = False
) -> SiteServer:
    """A server for the site in ``root``, bound and ready (``serve_forever`` runs it)."""
    return SiteServer((host, port), root, db, quiet=quiet)
