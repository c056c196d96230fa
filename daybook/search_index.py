"""The static site's search: an index built with the site, split so that a reader
downloads only a small part of it for a query, however large the archive.

Terms are words lower-cased, accents dropped (NFKD, combining marks removed), split
on anything but letters and digits, without a few English stopwords and single
letters. ``assets/search.js`` applies the same rule in the browser, and the same
ranking as ``StaticIndex`` here, which the tests and benchmarks use.

Files under ``search/``:

- ``manifest.json``: ``{"version", "docs", "chunk", "shards": [[first term, file], ...]}``;
- ``t/<hash>.json``: one shard, ``{term: postings}`` for a run of terms in sorted order
  (about ``SHARD_BYTES``); named by content, so a cached shard is never stale;
- ``d/<k>.json``: the docs ``k * chunk`` to ``(k + 1) * chunk - 1``, each
  ``[event id, date, headline, page stem]``.

Docs are numbered in site order, oldest first: a new day appends docs and leaves the
doc files already written as they are. A term's postings are its docs in ascending
order, each written as ``(doc - previous doc - 1) * 2 + strong`` (``strong``: the term
is one of the event's entity or story names) in base 32 with a continuation bit, one
character of ``ALPHABET`` per 5 bits: most postings take one or two characters.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from daybook import urls

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
_DIGIT = {c: i for i, c in enumerate(ALPHABET)}
SHARD_BYTES = 24_000
CHUNK = 16  # docs per doc file: each result shown costs at most one such file
HEADLINE_CHARS = 160
STOPWORDS = frozenset(
    (  # noqa: SIM905 - two lines of words read better than a column of forty strings
        "a an and are as at be by for from has had have he her his in into is it its of on or over"
        " she that the their they this to was were which while who will with"
    ).split()
)
_WORD = re.compile(r"[^\W_]+")  # letters and digits: \p{L}\p{N} in search.js
PREFIX_WEIGHT = 0.7  # a word that only begins a term counts for less than the term itself


def terms(text: str) -> list[str]:
    """The index terms of a text, in order (see the module docstring for the rule)."""
    folded = text.lower()
    if not folded.isascii():
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.category(c).startswith("M")
        )
    return [
        t
        for t in _WORD.findall(folded)
        if t not in STOPWORDS and (len(t) > 1 or t.isdigit()) and len(t) <= 40 and max(t) < "\U00010000"
    ]


@dataclass(frozen=True)
class SearchDoc:
    """An event as the static index holds it."""

    id: str
    date: dt.date
    headline: str
    stem: str  # its page, without extension
    text: str  # its own words and its sources' ledes
    names: str  # its entities and story lines


def _encode(value: int, out: bytearray) -> None:
    while value >= 32:
        out.append(ord(ALPHABET[32 + (value & 31)]))
        value >>= 5
    out.append(ord(ALPHABET[value]))


def decode(postings: str) -> list[tuple[int, bool]]:
    """A term's postings: (doc, strong) pairs, ascending."""
    found: list[tuple[int, bool]] = []
    doc, value, shift = -1, 0, 0
    for char in postings:
        digit = _DIGIT[char]
        value |= (digit & 31) << shift
        if digit >= 32:
            shift += 5
            continue
        doc += (value >> 1) + 1
        found.append((doc, bool(value & 1)))
        value, shift = 0, 0
    return found


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_index(docs: Iterable[SearchDoc]) -> dict[str, bytes]:
    """Every file of the index, keyed by its path in the site."""
    postings: dict[str, tuple[int, bytearray]] = {}  # term -> (last doc, postings so far)
    chunks: list[list[list[str]]] = []
    count = 0
    for number, doc in enumerate(docs):
        count = number + 1
        if number % CHUNK == 0:
            chunks.append([])
        headline = (
            doc.headline if len(doc.headline) <= HEADLINE_CHARS else doc.headline[:HEADLINE_CHARS] + "…"
        )
        chunks[-1].append([doc.id, doc.date.isoformat(), headline, doc.stem])
        strong = set(terms(doc.names))
        for term in strong.union(terms(doc.text)):
            last, out = postings.get(term, (-1, bytearray()))
            _encode((number - last - 1) * 2 + (term in strong), out)
            postings[term] = (number, out)
    base = urls.SEARCH_INDEX_DIR
    files: dict[str, bytes] = {f"{base}/d/{k}.json": _json(chunk) for k, chunk in enumerate(chunks)}
    shards: list[list[str]] = []
    shard: dict[str, str] = {}
    size = 0
    for term in sorted(postings):
        encoded = postings[term][1].decode("ascii")
        if shard and size + len(term) + len(encoded) > SHARD_BYTES:
            shards.append(_write_shard(shard, files))
            shard, size = {}, 0
        shard[term] = encoded
        size += len(term.encode("utf-8")) + len(encoded) + 6
    if shard:
        shards.append(_write_shard(shard, files))
    manifest = {
        "version": 1,
        "docs": count,
        "chunk": CHUNK,
        "stopwords": sorted(STOPWORDS),  # search.js takes them from here
        "shards": shards,
    }
    files[f"{base}/manifest.json"] = _json(manifest)
    return files


def _write_shard(shard: dict[str, str], files: dict[str, bytes]) -> list[str]:
    data = _json(shard)
    name = f"t/{hashlib.blake2b(data, digest_size=6).hexdigest()}.json"
    files[f"{urls.SEARCH_INDEX_DIR}/{name}"] = data
    return [next(iter(shard)), name]


# -- reading: what search.js does, in Python -----------------------------------


@dataclass(frozen=True)
class StaticHit:
    """A result of the static search."""

    id: str
    date: dt.date
    headline: str
    stem: str
    score: float


class StaticIndex:
    """The index of a built site, read file by file as the browser reads it.

    ``read`` returns a file's bytes from its path under ``search/``; ``fetched``
    records each file read, so the bytes one query costs can be measured.
    """

    def __init__(self, read: Callable[[str], bytes]) -> None:
        self._read = read
        self.fetched: dict[str, int] = {}
        self._files: dict[str, Any] = {}
        manifest = self._load("manifest.json")
        self.docs: int = manifest["docs"]
        self.chunk: int = manifest["chunk"]
        self.firsts: list[str] = [first for first, _ in manifest["shards"]]
        self.names: list[str] = [name for _, name in manifest["shards"]]

    def _load(self, name: str) -> Any:
        """One file of the index, read once (a browser caches it too)."""
        if name not in self._files:
            data = self._read(name)
            self.fetched[name] = len(data)
            self._files[name] = json.loads(data)
        return self._files[name]

    def _shard(self, term: str) -> dict[str, str]:
        at = bisect.bisect_right(self.firsts, term) - 1
        if at < 0:
            return {}
        shard: dict[str, str] = self._load(self.names[at])
        return shard

    def _matches(self, word: str) -> dict[int, float]:
        """Docs holding ``word`` (or, for 3 letters or more, a term it begins in its shard)."""
        shard = self._shard(word)
        weights: dict[int, float] = {}
        for term, postings in shard.items():
            exact = term == word
            if not (exact or (len(word) >= 3 and term.startswith(word))):
                continue
            factor = 1.0 if exact else PREFIX_WEIGHT
            for doc, strong in decode(postings):
                weight = factor * (2.0 if strong else 1.0)
                if weight > weights.get(doc, 0.0):
                    weights[doc] = weight
        return weights

    def search(self, query: str, limit: int = 20) -> list[StaticHit]:
        """The best ``limit`` docs: all the words first, then most words; by score, then newest."""
        words = list(dict.fromkeys(terms(query)))
        if not words or not self.docs:
            return []
        scores: dict[int, float] = {}
        matched: dict[int, int] = {}
        for word in words:
            weights = self._matches(word)
            if not weights:
                continue
            idf = math.log(1 + self.docs / len(weights))
            for doc, weight in weights.items():
                scores[doc] = scores.get(doc, 0.0) + idf * weight
                matched[doc] = matched.get(doc, 0) + 1
        # Scores compared to a millionth, as search.js rounds them (Math.round).
        best = sorted(scores, key=lambda d: (-matched[d], -math.floor(scores[d] * 1e6 + 0.5), -d))[:limit]
        hits = []
        for doc in best:
            chunk = self._load(f"d/{doc // self.chunk}.json")
            ident, date, headline, stem = chunk[doc % self.chunk]
            hits.append(StaticHit(ident, dt.date.fromisoformat(date), headline, stem, scores[doc]))
        return hits
