"""The domain objects every stage passes along: frozen, hashable, comparable."""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.parse
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
