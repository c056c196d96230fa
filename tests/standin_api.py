"""A stand-in for the MediaWiki Action API on loopback, for the pull and update tests and
the update benchmark.

It keeps pages as revisions (title -> [(revision id, timestamp, wikitext, html)], oldest
first) and answers ``action=query&prop=revisions`` as MediaWiki does with
``formatversion=2``: titles normalized (``_`` to space), missing pages marked, the
latest revision's id and timestamp, and its text when ``rvprop`` asks for content.
More than 50 titles is an error, as for clients without the apihighlimits right.
``action=query&redirects=1&prop=pageprops|description|langlinks`` answers what
``articles`` holds of entity titles (``article``, ``redirect``): redirects followed,
Wikidata items, short descriptions, Chinese titles and disambiguation pages.
``action=parse&oldid=N`` answers the revision's HTML in the form of MediaWiki's parser
output (that of the portal-html-2025 pages): given with ``edit(..., html=...)``, or else
rendered from the wikitext's outline (``render``).
Faults can be queued (``faults``: ``maxlag``, ``429``, ``500``, ``html``, ``null``,
``empty-parse``, ``parse-error``), one per request. Every API request is logged. Any
other path answers with a small article page, so enrich can fetch a day's sources from it (``--via``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import html
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

from standin_web import _Handler as WebHandler
from standin_web import origin, serve, shut

from daybook.ingest.outline import Inline, Item
from daybook.ingest.wikitext import read_outline

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

    pages: dict[str, list[tuple[int, str, str, str]]] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    # Entity articles: title -> {"qid", "description", "zh", "disambiguation"} or {"redirect": title}.
    articles: dict[str, dict[str, object]] = field(default_factory=dict)
    next_revision: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def edit(self, title: str, text: str, html: str | None = None) -> int:
        """Save a new revision of a page (``html``: its rendering, else ``render(text)``);
        returns its id."""
        rendered = render(title, text) if html is None else html
        with self.lock:
            self.next_revision += 1
            revision = self.next_revision
            # A timestamp that follows from the id: the same edits give the same history.
            saved = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=revision)
            self.pages.setdefault(title, []).append((revision, f"{saved:%Y-%m-%dT%H:%M:%SZ}", text, rendered))
            return revision

    def article(
        self,
        title: str,
        qid: str | None = None,
        description: str | None = None,
        zh: str | None = None,
        *,
        disambiguation: bool = False,
    ) -> None:
        """An article the entity queries know of."""
        known = {"qid": qid, "description": description, "zh": zh, "disambiguation": disambiguation}
        self.articles[title] = known

    def load_articles(self, path: Path) -> StandInAPI:
        """The articles and redirects of a file like ``examples/entities.json``."""
        known = json.loads(path.read_text(encoding="utf-8"))
        for title, facts in known["articles"].items():
            self.article(title, facts.get("qid"), facts.get("description"), facts.get("zh"))
        for title, target in known.get("redirects", {}).items():
            self.redirect(title, target)
        return self

    def redirect(self, title: str, target: str) -> None:
        """A title that redirects to ``target``."""
        self.articles[title] = {"redirect": target}

    def entity_requests(self) -> list[list[str]]:
        """The titles of each entity query."""
        with self.lock:
            return [r["titles"].split("|") for r in self.requests if "pageprops" in r.get("prop", "")]

    def entity_answer(self, params: dict[str, str]) -> dict[str, object]:
        """``prop=pageprops|description|langlinks`` (with ``redirects=1``), as MediaWiki answers it."""
        titles = params.get("titles", "").split("|")
        if len(titles) > 50:
            return {"error": {"code": "toomanyvalues", "info": "Too many values supplied for titles"}}
        normalized, redirects, pages, seen = [], [], [], set()
        with self.lock:
            for asked in titles:
                title = asked.replace("_", " ")
                title = title[:1].upper() + title[1:]
                if title != asked:
                    normalized.append({"fromencoded": False, "from": asked, "to": title})
                known = self.articles.get(title)
                if known and "redirect" in known and params.get("redirects"):
                    redirects.append({"from": title, "to": known["redirect"]})
                    title = str(known["redirect"])
                    known = self.articles.get(title)
                if title in seen:
                    continue
                seen.add(title)
                if not known:
                    pages.append({"ns": 0, "title": title, "missing": True})
                    continue
                page: dict[str, object] = {"pageid": 1, "ns": 0, "title": title}
                props = {}
                if known.get("qid") and "wikibase_item" in params.get("ppprop", ""):
                    props["wikibase_item"] = known["qid"]
                if known.get("disambiguation") and "disambiguation" in params.get("ppprop", ""):
                    props["disambiguation"] = ""
                if props:
                    page["pageprops"] = props
                if known.get("description") and "description" in params.get("prop", ""):
                    page["description"] = known["description"]
                    page["descriptionsource"] = "local"
                if known.get("zh") and "langlinks" in params.get("prop", "") and params.get("lllang") == "zh":
                    page["langlinks"] = [{"lang": "zh", "title": known["zh"]}]
                pages.append(page)
        query: dict[str, object] = {"pages": pages}
        if normalized:
            query["normalized"] = normalized
        if redirects:
            query["redirects"] = redirects
        return {"batchcomplete": True, "query": query}

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

    def parse_requests(self) -> list[str]:
        """The revision each ``action=parse`` request asked for."""
        with self.lock:
            return [r.get("oldid", "") for r in self.requests if r.get("action") == "parse"]

    def answer(self, params: dict[str, str]) -> dict[str, object]:
        """The API's answer to one query."""
        if params.get("action") == "parse":
            return self.parse(params)
        if params.get("action") == "query" and "pageprops" in params.get("prop", ""):
            if params.get("format") != "json" or params.get("formatversion") != "2":
                return {"error": {"code": "badvalue", "info": "format=json&formatversion=2 only"}}
            return self.entity_answer(params)
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
                revision, saved, text, _ = revisions[-1]
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

    def parse(self, params: dict[str, str]) -> dict[str, object]:
        """``action=parse&oldid=N&prop=text|revid``, as MediaWiki answers it."""
        if params.get("format") != "json" or params.get("formatversion") != "2":
            return {"error": {"code": "badvalue", "info": "format=json&formatversion=2 only"}}
        if set(params.get("prop", "").split("|")) != {"text", "revid"}:
            return {"error": {"code": "badvalue", "info": "prop=text|revid here"}}
        with self.lock:
            for title, revisions in self.pages.items():
                for revision, _, _, rendered in revisions:
                    if str(revision) == params.get("oldid"):
                        return {"parse": {"title": title, "pageid": 1, "revid": revision, "text": rendered}}
        return {
            "error": {"code": "nosuchrevid", "info": f"There is no revision with ID {params.get('oldid')}."}
        }


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip


def render(title: str, text: str) -> str:
    """A day page's wikitext as MediaWiki's parser writes it: the portal template's
    region (its id names the day), category headings as ``<p><b>``, nested ``<ul>``, wiki
    links to ``/wiki/``, external links ``a.external``. Made from daybook's reading of the
    wikitext (templates already reduced), so it says what the wikitext says."""
    page_date, sections = read_outline(text)
    day = title.rsplit("/", 1)[-1]
    if page_date is not None:
        day = f"{page_date.year} {_MONTHS[page_date.month - 1]} {page_date.day}"
    body: list[str] = []
    for section in sections:
        if section.category.strip():
            body.append(f"<p><b>{html.escape(section.category.strip())}</b>\n</p>\n")
        if section.items:
            body.append(_list(section.items))
    return (
        '<div class="mw-content-ltr mw-parser-output" lang="en" dir="ltr"><div class="current-events">\n'
        f'<div role="region" aria-label="{html.escape(day)}" id="{html.escape(day.replace(" ", "_"))}"'
        ' class="current-events-main vevent">\n'
        '<div class="current-events-heading plainlinks"><div class="current-events-title" role="heading">'
        f'<span class="summary">{html.escape(day)}</span></div></div>\n'
        '<div class="current-events-content description">\n'
        + "".join(body)
        + "</div></div></div>\n<!--\nNewPP limit report\n-->\n</div>"
    )


def _list(items: list[Item]) -> str:
    out = []
    for item in items:
        inner = "".join(_inline(part) for part in item.inlines)
        if item.children:
            inner += "\n" + _list(item.children)
        out.append(f"<li>{inner}</li>")
    return "<ul>" + "\n".join(out) + "</ul>\n"


def _inline(part: Inline) -> str:
    label = html.escape(part.text)
    if part.kind == "link":
        path = urllib.parse.quote(part.target.strip().replace(" ", "_"), safe="/:#()',!_-.")
        return f'<a href="/wiki/{path}" title="{html.escape(part.target)}">{label}</a>'
    if part.kind == "ext":
        classes = "external text" if part.text else "external autonumber"
        return f'<a rel="nofollow" class="{classes}" href="{html.escape(part.target)}">{label or "[1]"}</a>'
    return label


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
            if fault == "429-date":  # Retry-After as an HTTP date, 30 s from now
                later = email.utils.formatdate(time.time() + 30, usegmt=True)
                return self._send(429, b"busy", "text/plain", {"Retry-After": later})
            if fault == "html":
                return self._send(200, b"<html>not the API</html>", "text/html")
            if fault == "null":
                return self._send(200, b"null", "application/json")
            if fault == "empty-parse":
                empty = {
                    "parse": {"title": "?", "pageid": 1, "revid": int(params.get("oldid", 0)), "text": ""}
                }
                return self._send(200, json.dumps(empty).encode(), "application/json")
            if fault == "parse-error":
                failed = {"error": {"code": "internal_api_error_MWException", "info": "Exception caught"}}
                return self._send(200, json.dumps(failed).encode(), "application/json")
            body = json.dumps(self.api.answer(params), ensure_ascii=False).encode()
            self._send(200, body, "application/json; charset=utf-8")

    def _article(self, path: str) -> None:
        if path == "/robots.txt":
            return self._send(404, b"no robots here", "text/plain")
        title = path.strip("/").replace("/", " ").replace("-", " ").title() or "Home"
        page = ARTICLE.format(title=title, path=path)
        self._send(200, page.encode(), "text/html; charset=utf-8")
