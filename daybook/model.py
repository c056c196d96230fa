"""The domain objects every stage passes along: frozen, hashable, comparable."""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """One citation of an event: the outlet as the portal names it, and its URL."""

    outlet: str
    url: str


@dataclass(frozen=True)
class Event:
    """One portal event: a sentence or a few, filed under a category and a story."""

    id: str
    date: dt.date
    category: str
    story: tuple[str, ...]
    text: str
    entities: tuple[str, ...]
    sources: tuple[Source, ...] = field(default=())
    #: the id of the event this one follows up (a bullet nested under a sourced bullet);
    #: not part of the id's hash, so an event keeps its id when it gains or loses a parent
    parent: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The event as daybook's JSONL export writes it (and ``ingest`` reads it)."""
        return {
            "id": self.id,
            "date": self.date.isoformat(),
            "category": self.category,
            "story": list(self.story),
            "text": self.text,
            "entities": list(self.entities),
            "sources": [{"outlet": s.outlet, "url": s.url} for s in self.sources],
            "parent": self.parent,
        }


@dataclass(frozen=True)
class Day:
    """All events of one portal day, in page order."""

    date: dt.date
    events: tuple[Event, ...]
    #: templates the wikitext reader could not render, with how often (name, count), by name;
    #: what was read, not what the day says, so no part of comparing two days
    unrendered: tuple[tuple[str, int], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Article:
    """What enrich keeps of a source's page: clean text, absolute image URL, ISO date."""

    title: str | None = None
    lede: str | None = None
    image: str | None = None
    publisher: str | None = None
    published: str | None = None


def event_id(date: dt.date, category: str, story: tuple[str, ...], text: str) -> str:
    """A stable id: the same event content on the same day always gets the same id.

    The date leads so ids sort by day and a glance tells when an event happened.
    """
    key = "\x1f".join([date.isoformat(), category, *story, "\x1e", text])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return f"{date:%Y%m%d}-{digest}"


_TRACKING_PARAMS = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ocid", "cmpid")


def normalize_url(url: str) -> str:
    """The form of a source URL used to tell two citations of one article apart.

    Scheme and host lower-cased, default ports and fragments dropped, tracking
    parameters (``utm_*``, ``fbclid``...) removed; path and the rest of the query kept
    as they are, since news sites route on them.
    """
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port if parts.port not in (None, 80, 443) else None
    except ValueError:  # a malformed netloc: the URL as written is the best key there is
        return url.strip()
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower()
    netloc = f"{host}:{port}" if port else host
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and not pair.lower().startswith(_TRACKING_PARAMS)
    )
    return urllib.parse.urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def url_key(url: str) -> str:
    """The store's key for a source: a hash of its normalized URL."""
    return hashlib.sha256(normalize_url(url).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Item:
    """An event as relate sees it: its id, date and entity titles."""

    id: str
    date: dt.date
    entities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Related:
    """One entry of an event's list: the related event, its score and the shared entities."""

    id: str
    score: float
    context: tuple[str, ...]


#: Ingest's rule giving each edited event of a day read again the id it had (``reconcile``):
#: (the events stored, the events read) -> the events read, ids reconciled.
Matcher = Callable[[Sequence[Event], Sequence[Event]], Sequence[Event]]


# -- rows: what the store returns -------------------------------------------


@dataclass(frozen=True)
class DayChange:
    """What replacing one day did: ids added, removed, and kept; ``edited``: those kept
    whose content changed (an edit reconciled to its old id, a source added...)."""

    date: dt.date
    added: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    edited: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.edited)


@dataclass(frozen=True)
class Stats:
    """What the store holds."""

    days: int
    events: int
    events_with_sources: int
    sources: int
    entities: int
    first_date: dt.date | None
    last_date: dt.date | None

    def to_json(self) -> dict[str, int | str | None]:
        return {
            "days": self.days,
            "events": self.events,
            "events_with_sources": self.events_with_sources,
            "sources": self.sources,
            "entities": self.entities,
            "first_date": self.first_date.isoformat() if self.first_date else None,
            "last_date": self.last_date.isoformat() if self.last_date else None,
        }


@dataclass(frozen=True)
class ArticleMeta:
    """What enrich kept of one cited source, as pages show it."""

    url: str  # as the citation gives it
    title: str | None
    lede: str | None
    image: str | None
    publisher: str | None
    archived_url: str | None  # the snapshot standing in for a dead link


@dataclass(frozen=True)
class SourceJob:
    """A source to enrich: its key, URL as first cited, outlet, and first day cited."""

    id: str
    url: str
    outlet: str
    date: dt.date | None


@dataclass(frozen=True)
class RawResponse:
    """A fetched page as the store keeps it; ``body`` is zlib-compressed."""

    status: int
    final_url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: str
    archived: bool = False


@dataclass(frozen=True)
class SourceRecord:
    """One source with its enrich result (status None: not enriched yet)."""

    url: str
    outlet: str
    status: int | str | None
    reason: str | None
    final_url: str | None
    archived: bool
    dead_status: int | str | None
    article: Article
    enriched_at: str | None

    def to_json(self) -> dict[str, object]:
        """The record as ``daybook sources --format jsonl`` writes it."""
        return {
            "url": self.url,
            "outlet": self.outlet,
            "status": self.status,
            "reason": self.reason,
            "final_url": self.final_url,
            "archived": self.archived,
            "dead_status": self.dead_status,
            "title": self.article.title,
            "lede": self.article.lede,
            "image": self.article.image,
            "publisher": self.article.publisher,
            "published": self.article.published,
            "enriched_at": self.enriched_at,
        }


@dataclass(frozen=True)
class RelatedEvent:
    """One entry of an event's stored related list, as ``daybook related`` prints it."""

    rank: int
    id: str
    date: dt.date
    text: str
    score: float
    context: tuple[str, ...]  # the shared entities, alphabetical

    def to_json(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "id": self.id,
            "date": self.date.isoformat(),
            "text": self.text,
            "score": self.score,
            "context": list(self.context),
        }


@dataclass(frozen=True)
class SearchRow:
    """One search match: the event, a snippet (matched words between MARK_START and MARK_END)
    and its bm25 score (lower is better)."""

    id: str
    date: dt.date
    text: str
    snippet: str
    score: float


@dataclass(frozen=True)
class EventVersion:
    """One wording of an event, as a pulled portal revision held it (issue 21)."""

    revision: int  # the MediaWiki revision id
    saved_at: str  # when that revision was saved on the wiki (ISO 8601, UTC)
    text: str


@dataclass(frozen=True)
class PortalPage:
    """One portal day's wiki page at one revision, as pulled from the MediaWiki API."""

    date: dt.date
    title: str
    revision: int
    saved_at: str  # when the revision was saved on the wiki (ISO 8601, UTC)
    wikitext: str
    html: str | None = None  # the wiki's rendering of the same revision (None: not kept)

    @property
    def format(self) -> str:
        """What its events are read from: the rendering if kept, else the wikitext."""
        return "wikitext" if self.html is None else "html"

    @property
    def origin(self) -> str:
        """The page and revision, as the store records where a day came from."""
        return f"{self.title} (revision {self.revision})"


@dataclass(frozen=True)
class PendingPublish:
    """What changed since an update last published the site (``Store.pending_publish``)."""

    dates: tuple[dt.date, ...]  # days whose pages to render again
    event_ids: tuple[str, ...]  # event pages to render again (their related lists changed)
    changes: tuple[tuple[str, str], ...]  # (event id, 'added' | 'edited' | 'removed')
    interrupted: bool  # an update was writing the site when it stopped

    @property
    def empty(self) -> bool:
        return not (self.dates or self.event_ids or self.changes or self.interrupted)

    def count(self, change: str) -> int:
        return sum(1 for _, c in self.changes if c == change)


@dataclass(frozen=True)
class EntityInfo:
    """What the MediaWiki API says of one entity title (``daybook entities``).

    ``target``: the article the title redirects to (None: the title is an article, or
    missing); the other fields are the article's (the target's, for a redirect).
    """

    title: str
    target: str | None = None
    missing: bool = False
    qid: str | None = None  # the Wikidata item, "Q42"
    description: str | None = None  # the short description
    zh_title: str | None = None  # the title on the Chinese Wikipedia
    disambiguation: bool = False
    asked_at: str = ""  # ISO 8601, UTC

    @property
    def canonical(self) -> str:
        """The article the title is."""
        return self.target or self.title
