"""A stand-in for the MediaWiki Action API on loopback, for the pull and update tests and
the update benchmark.

It keeps pages as revisions (title -> [(revision id, timestamp, wikitext)], oldest
first) and answers ``action=query&prop=revisions`` as MediaWiki does with
``formatversion=2``: titles normalized (``_`` to space), missing pages marked, the
latest revision's id and timestamp, and its text when ``rvprop`` asks for content.
More than 50 titles is an error, as for clients without the apihighlimits right.
Faults can be queued (``faults``: ``maxlag``, ``429``, ``500``, ``html``), one per
request. Every API request is logged. Any other path answers with a small article
page, so enrich can fetch a day's sources from it (``--via``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

from standin_web import _Handler as WebHandler
from standin_web import origin, serve, shut

API_PATH = "/w/api.php"
ARTICLE = (
    "<!doctype html><html><head><meta charset=utf-8><title>{title}</title>"
    '<meta property="og:title" content="{title}">'
    '<meta property="og:description" content="What the report at {path} says, in a sentence or two.">'
    "</head><body><h1>{title}</h1><p>The report.</p></body></html>"
)


@dataclass
class StandInAPI:
    """The server, its pages, queued faults and the requests it saw."""

    pages: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    next_revision: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def edit(self, title: str, text: str) -> int:
        """Save a new revision of a page; returns its id."""
        with self.lock:
            self.next_revision += 1
            revision = self.next_revision
            # A timestamp that follows from the id: the same edits give the same history.
            saved = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=revision)
            self.pages.setdefault(title, []).append((revision, f"{saved:%Y-%m-%dT%H:%M:%SZ}", text))
            return revision

    @property
    def base(self) -> str:
        return origin(self.server)

    @property
    def api(self) -> str:
        return self.base + API_PATH

    def start(self) -> StandInAPI:
        standin = self

        class Handler(_Handler):
            api = standin

        self.server = serve(Handler)
        return self

    def stop(self) -> None:
        shut(self.server)

    def content_requests(self) -> list[list[str]]:
        """The titles of each request that asked for page text."""
        with self.lock:
            return [r["titles"].split("|") for r in self.requests if "content" in r.get("rvprop", "")]

    def answer(self, params: dict[str, str]) -> dict[str, object]:
        """The API's answer to one query."""
        if params.get("action") != "query" or params.get("prop") != "revisions":
            return {"error": {"code": "badvalue", "info": "only action=query&prop=revisions here"}}
        if params.get("format") != "json" or params.get("formatversion") != "2":
            return {"error": {"code": "badvalue", "info": "format=json&formatversion=2 only"}}
        titles = params.get("titles", "").split("|")
        if len(titles) > 50:
            return {"error": {"code": "toomanyvalues", "info": "Too many values supplied for titles"}}
        with_text = "content" in params.get("rvprop", "").split("|")
        normalized, pages = [], []
        with self.lock:
            for asked in titles:
                title = asked.replace("_", " ")
                if title != asked:
                    normalized.append({"fromencoded": False, "from": asked, "to": title})
                revisions = self.pages.get(title)
                if not revisions:
                    pages.append({"ns": 100, "title": title, "missing": True})
                    continue
                revision, saved, text = revisions[-1]
                entry: dict[str, object] = {"revid": revision, "parentid": 0, "timestamp": saved}
                if with_text:
                    entry["slots"] = {
                        "main": {"contentmodel": "wikitext", "contentformat": "text/x-wiki", "content": text}
                    }
                pages.append({"pageid": 1, "ns": 100, "title": title, "revisions": [entry]})
        query: dict[str, object] = {"pages": pages}
        if normalized:
            query["normalized"] = normalized
        return {"batchcomplete": True, "query": query}


class _Handler(WebHandler):
    """The web stand-in's handler (quiet, keep-alive, ``_send``), answering as the API."""

    api: StandInAPI

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if parts.path != API_PATH:
                return self._article(parts.path)
            params = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
            with self.api.lock:
                self.api.requests.append(params)
                self.api.user_agents.append(self.headers.get("User-Agent", ""))
                fault = self.api.faults.pop(0) if self.api.faults else None
            if fault == "maxlag":
                lagged = {"error": {"code": "maxlag", "info": "Waiting for db1: 7 seconds lagged", "lag": 7}}
                return self._send(200, json.dumps(lagged).encode(), "application/json", {"Retry-After": "0"})
            if fault in ("429", "500"):
                return self._send(int(fault), b"busy", "text/plain", {"Retry-After": "0"})
            if fault == "html":
                return self._send(200, b"<html>not the API</html>", "text/html")
            body = json.dumps(self.api.answer(params), ensure_ascii=False).encode()
            self._send(200, body, "application/json; charset=utf-8")

    def _article(self, path: str) -> None:
        if path == "/robots.txt":
            return self._send(404, b"no robots here", "text/plain")
        title = path.strip("/").replace("/", " ").replace("-", " ").title() or "Home"
        page = ARTICLE.format(title=title, path=path)
        self._send(200, page.encode(), "text/html; charset=utf-8")
