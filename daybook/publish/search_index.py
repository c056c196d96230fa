"""The static site's search: an index built with the site, split so that a reader
downloads only a small part of it for a query, however large the archive; and kept
up to date by updates that cost in proportion to what changed.

How it works: docs/ARCHITECTURE.md, "The static site's search index".
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import json
import math
import operator
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from daybook import urls

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
_DIGIT = {c: i for i, c in enumerate(ALPHABET)}
SHARD_BYTES = 24_000
# About one term in this many starts a segment (see the module docstring): some 3 shards
# each. Smaller ones save an update little and make the manifest, read by every query,
# grow (benchmarks/search_index.py, 150,000 docs: 64 reads 15 % fewer shard bytes than
# 256, for a manifest of 587 shards rather than 377).
SEGMENT_MOD = 256
# Docs per doc file: each result shown costs at most one such file. 8 rather than 16 since
# rows carry their snippets' text: a query then reads about as many bytes as before
# (benchmarks/search_index.py).
CHUNK = 8
TEXT_CHARS = 320  # of the event's text kept in its doc row: its headline, and its snippet's text
MORE_CHARS = 240  # of its sources' titles and ledes kept there, for a snippet where only they match
SNIPPET_WORDS = 24
MARK_START, MARK_END = "\x02", "\x03"  # around matched words in a snippet (as the store's search)
STOPWORDS = frozenset(
    (  # noqa: SIM905 - two lines of words read better than a column of forty strings
        "a an and are as at be by for from has had have he her his in into is it its of on or over"
        " she that the their they this to was were which while who will with"
    ).split()
)
_WORD = re.compile(r"[^\W_]+")  # letters and digits: \p{L}\p{N} in search.js
PREFIX_WEIGHT = 0.7  # a word that only begins a term counts for less than the term itself


class _Unmarked(dict[int, int | None]):
    """A ``str.translate`` table that drops combining marks, filled as characters come
    (a table of every code point would take longer to make than most builds)."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.category(chr(code)).startswith("M") else code
        self[code] = kept
        return kept


_UNMARKED = _Unmarked()


def terms(text: str) -> list[str]:
    """The index terms of a text, in order (see the module docstring for the rule)."""
    folded = text.lower()
    if folded.isascii():
        astral = False
    else:
        folded = unicodedata.normalize("NFKD", folded).translate(_UNMARKED)
        astral = max(folded) >= "\U00010000"
    return [
        t
        for t in _WORD.findall(folded)
        if t not in STOPWORDS
        and (len(t) > 1 or t.isdigit())
        and len(t) <= 40
        and not (astral and max(t) >= "\U00010000")
    ]


@dataclass(frozen=True)
class SearchDoc:
    """An event as the static index holds it."""

    id: str
    date: dt.date
    headline: str
    stem: str  # its page, without extension
    text: str  # its own words
    names: str  # its entities and story lines
    more: str = ""  # its sources' titles and ledes


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


def _cut(postings: str, last: int, start: int) -> tuple[str, int]:
    """``postings`` (whose last doc is ``last``) without its docs from ``start`` on, and
    its new last doc (-1: none left). Read backwards, so the cost is what is cut.
    ValueError if ``last`` does not fit ``postings``."""
    end = len(postings)
    while last >= start and end:
        # The last posting: its final digit (< 32), after its continuation digits.
        at = end - 1
        value = _DIGIT[postings[at]]
        while at > 0 and _DIGIT[postings[at - 1]] >= 32:
            at -= 1
            value = (value << 5) | (_DIGIT[postings[at]] & 31)
        end = at
        last -= (value >> 1) + 1
    if (end == 0) != (last == -1):  # the first posting counts from doc -1
        raise ValueError("postings and last doc disagree")
    return postings[:end], last


def _cut_text(text: str, limit: int) -> str:
    """``text`` with collapsed spaces, cut at a word within ``limit`` characters (then "…")."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut + "…"


def _doc_row(doc: SearchDoc) -> list[str]:
    return [doc.id, doc.date.isoformat(), _cut_text(doc.headline, TEXT_CHARS), doc.stem,
            _cut_text(doc.more, MORE_CHARS)]  # fmt: skip


def _doc_terms(doc: SearchDoc) -> tuple[set[str], set[str]]:
    """A doc's terms, and those of them that are its names (its strong terms)."""
    strong = set(terms(doc.names))
    return strong.union(terms(doc.text), terms(doc.more)), strong


def _doc_files(first: int, rows: list[list[str]]) -> dict[str, bytes]:
    """The doc files of ``rows``, the docs numbered from ``first`` (a multiple of CHUNK)."""
    return {
        f"{urls.SEARCH_INDEX_DIR}/d/{(first + at) // CHUNK}.json": _json(rows[at : at + CHUNK])
        for at in range(0, len(rows), CHUNK)
    }


def _starts_segment(term: str) -> bool:
    """Whether ``term`` starts a segment: decided by the term alone, never by its neighbours."""
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % SEGMENT_MOD == 0


Shard = tuple[str, str, bytes]  # first term, file name under search/, bytes


def _shards(keys: list[str], values: list[str], starts: Iterable[int]) -> list[Shard]:
    """The shards of sorted terms and their postings: cut into segments at ``starts``
    (0 among them), each packed greedily up to SHARD_BYTES."""
    # ends[i]: the bytes of the terms before the i-th as JSON ("term":"postings",).
    lengths = map(operator.add, map(len, map(str.encode, keys)), map(len, values))
    ends = list(itertools.accumulate(map(operator.add, lengths, itertools.repeat(6)), initial=0))
    cuts = [*sorted(set(starts)), len(keys)]
    shards: list[Shard] = []
    for at, end in itertools.pairwise(cuts):
        while at < end:
            # The most terms from ``at`` within SHARD_BYTES, and at least one.
            stop = max(bisect.bisect_right(ends, ends[at] + SHARD_BYTES, at, end + 1) - 1, at + 1)
            data = _json(dict(zip(keys[at:stop], values[at:stop], strict=True)))
            shards.append((keys[at], f"t/{hashlib.blake2b(data, digest_size=6).hexdigest()}.json", data))
            at = stop
    return shards


def _manifest(docs: int, shards: Iterable[tuple[str, str]]) -> bytes:
    manifest = {
        "version": 2,
        "docs": docs,
        "chunk": CHUNK,
        "stopwords": sorted(STOPWORDS),  # search.js takes them from here
        "shards": [[first, name] for first, name in shards],
    }
    return _json(manifest)


def _build(docs: Iterable[SearchDoc]) -> tuple[dict[str, bytes], dict[str, int], list[Shard], int]:
    """Every file of the index; each term's last doc; the shards; the number of docs."""
    postings: dict[str, list[Any]] = {}  # term -> [last doc, postings so far]
    rows: list[list[str]] = []
    for number, doc in enumerate(docs):
        rows.append(_doc_row(doc))
        held, strong = _doc_terms(doc)
        for term in held:
            entry = postings.get(term)
            if entry is None:
                entry = postings[term] = [-1, bytearray()]
            _encode((number - entry[0] - 1) * 2 + (term in strong), entry[1])
            entry[0] = number
    keys = sorted(postings)
    values = [postings[k][1].decode("ascii") for k in keys]
    shards = _shards(keys, values, [0, *(at for at, k in enumerate(keys) if _starts_segment(k))])
    files = _doc_files(0, rows)
    files.update((f"{urls.SEARCH_INDEX_DIR}/{name}", data) for _, name, data in shards)
    files[f"{urls.SEARCH_INDEX_DIR}/manifest.json"] = _manifest(len(rows), ((f, n) for f, n, _ in shards))
    return files, {k: postings[k][0] for k in keys}, shards, len(rows)


def build_index(docs: Iterable[SearchDoc]) -> dict[str, bytes]:
    """Every file of the index, keyed by its path in the site."""
    return _build(docs)[0]


# -- the state kept for updates (see the module docstring) ----------------------

STATE_VERSION = 2  # of the search_* tables: another version is rebuilt, never read (2: rows with text)


class IndexStateError(Exception):
    """The saved state cannot be updated (missing, other settings, inconsistent):
    build the index in full with ``build_index_state``."""


@dataclass(frozen=True)
class IndexUpdate:
    """What an update changes under the site: files to write, and files to delete;
    and what it read of the state (for benchmarks)."""

    files: dict[str, bytes]
    removed: list[str]
    terms_read: int = 0
    shards_read: int = 0
    shard_bytes_read: int = 0


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the state's tables if missing (statement by statement: ``executescript``
    would commit the caller's transaction)."""
    for statement in (
        "CREATE TABLE IF NOT EXISTS search_state (one INTEGER PRIMARY KEY CHECK (one = 1),"
        " version INTEGER NOT NULL, docs INTEGER NOT NULL, chunk INTEGER NOT NULL,"
        " shard_bytes INTEGER NOT NULL, segment_mod INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS search_terms (term TEXT PRIMARY KEY, last INTEGER NOT NULL)"
        " WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS search_terms_last ON search_terms (last)",
        "CREATE TABLE IF NOT EXISTS search_shards (first TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " data BLOB NOT NULL) WITHOUT ROWID",
    ):
        conn.execute(statement)


def _settings() -> tuple[int, int, int, int]:
    return STATE_VERSION, CHUNK, SHARD_BYTES, SEGMENT_MOD


def build_index_state(conn: sqlite3.Connection, docs: Iterable[SearchDoc]) -> dict[str, bytes]:
    """Every file of the index (as ``build_index``), and the state in ``conn`` replaced
    by theirs. The caller commits, once the files are written."""
    ensure_schema(conn)
    files, lasts, shards, count = _build(docs)
    conn.execute("DELETE FROM search_state")
    conn.execute("DELETE FROM search_terms")
    conn.execute("DELETE FROM search_shards")
    version, chunk, shard_bytes, segment_mod = _settings()
    conn.execute(
        "INSERT INTO search_state VALUES (1, ?, ?, ?, ?, ?)",
        (version, count, chunk, shard_bytes, segment_mod),
    )
    conn.executemany("INSERT INTO search_terms VALUES (?, ?)", lasts.items())
    conn.executemany("INSERT INTO search_shards VALUES (?, ?, ?)", shards)
    return files


def _saved_docs(conn: sqlite3.Connection) -> int:
    """The number of docs the saved state holds; IndexStateError if it cannot be used."""
    try:
        row = conn.execute(
            "SELECT version, chunk, shard_bytes, segment_mod, docs FROM search_state WHERE one = 1"
        ).fetchone()
    except sqlite3.OperationalError as error:  # no table
        raise IndexStateError(f"no search index state: {error}") from error
    if row is None:
        raise IndexStateError("no search index state")
    if tuple(row[:4]) != _settings():
        raise IndexStateError(f"search index state of other settings: {row[:4]}, now {_settings()}")
    docs: int = row[4]
    return docs


def _in(values: Iterable[str]) -> str:
    """One parameter for ``IN (SELECT value FROM json_each(?))``: any number of values."""
    return json.dumps(list(values))


def update_index(conn: sqlite3.Connection, start: int, docs: Sequence[SearchDoc], total: int) -> IndexUpdate:
    """Update the index and its state in ``conn`` to ``total`` docs, of which ``docs``
    are those numbered ``start`` to ``total - 1`` and the ones before ``start`` are as
    the state last saw them. ``start`` is a multiple of ``CHUNK``.

    Returns the files to write (those new or changed) and to delete; the state is
    changed in ``conn``, not committed. Raises ``IndexStateError`` when the state
    cannot be updated (missing, other settings, fewer docs than ``start``,
    inconsistent): build in full instead. Its cost follows the terms of the docs from
    ``start`` on, old and new, and the segments holding them, whatever the total.
    """
    if start < 0 or start % CHUNK or len(docs) != total - start:
        raise ValueError(f"docs {start} to {total - 1} given as {len(docs)} docs, from a multiple of {CHUNK}")
    saved = _saved_docs(conn)
    if start > saved:
        raise IndexStateError(f"search index state has {saved} docs, the update starts at {start}")
    base = urls.SEARCH_INDEX_DIR
    files = _doc_files(start, [_doc_row(doc) for doc in docs])
    removed = [f"{base}/d/{k}.json" for k in range(-(-total // CHUNK), -(-saved // CHUNK))]

    # The docs each term of the new docs gains, in order.
    gains: dict[str, list[tuple[int, bool]]] = {}
    for number, doc in enumerate(docs, start):
        holds, strong = _doc_terms(doc)
        for term in holds:
            gains.setdefault(term, []).append((number, term in strong))
    # The last doc of each term that loses docs (all from start on) or gains some.
    losing: dict[str, int] = dict(
        conn.execute("SELECT term, last FROM search_terms WHERE last >= ?", (start,))
    )
    lasts = dict(losing)
    lasts.update(
        conn.execute(
            "SELECT term, last FROM search_terms WHERE term IN (SELECT value FROM json_each(?))",
            (_in(t for t in gains if t not in losing),),
        )
    )
    terms_read = len(lasts)

    # The segments holding those terms, and the one before a segment whose first term
    # may go (its other terms join that one). Segments are numbered in term order.
    shards: list[tuple[str, str]] = conn.execute(
        "SELECT first, name FROM search_shards ORDER BY first"
    ).fetchall()
    firsts = [first for first, _ in shards]
    segment = list(itertools.accumulate(int(at == 0 or _starts_segment(f)) for at, f in enumerate(firsts)))
    touched: set[int] = set()
    if shards:
        for term in itertools.chain(losing, gains):
            at = max(bisect.bisect_right(firsts, term) - 1, 0)
            touched.add(segment[at])
            if term in losing and firsts[at] == term and at > 0 and segment[at - 1] != segment[at]:
                touched.add(segment[at - 1])
    load = [at for at in range(len(shards)) if segment[at] in touched]
    postings: dict[str, str] = {}  # every term of those segments, in order
    read = 0
    for (data,) in conn.execute(
        "SELECT data FROM search_shards WHERE first IN (SELECT value FROM json_each(?)) ORDER BY first",
        (_in(firsts[at] for at in load),),
    ):
        postings.update(json.loads(data))
        read += len(data)

    # Each changed term's postings: cut at start, then the docs it gains appended.
    reordered = False  # a term put back into postings, out of order
    for term, last in losing.items():
        if term not in postings:
            raise IndexStateError(f"search index state: term {term!r} not in its shard")
        try:
            kept, lasts[term] = _cut(postings[term], last, start)
        except ValueError as error:
            raise IndexStateError(f"search index state: term {term!r}: {error}") from error
        if kept:
            postings[term] = kept
        else:
            del postings[term]
    for term, gained in gains.items():
        last = lasts.get(term, -1)
        held = postings.get(term)
        if (held is None) != (last < 0):
            raise IndexStateError(f"search index state: term {term!r} in shards and terms differently")
        out = bytearray(held or "", "ascii")
        for number, is_strong in gained:
            _encode((number - last - 1) * 2 + is_strong, out)
            last = number
        reordered |= held is None
        postings[term], lasts[term] = out.decode("ascii"), last

    # Re-pack the segments loaded: their terms cut where a term starts a segment (one
    # already did, or a new term's hash says so), the first term loaded too.
    keys = sorted(postings) if reordered else list(postings)
    old_firsts = {firsts[at] for at in load}
    new_terms = (t for t in gains if t not in old_firsts)
    starts = [0]
    for term in itertools.chain(old_firsts, new_terms):
        if term in postings and _starts_segment(term):
            starts.append(bisect.bisect_left(keys, term))
    packed = _shards(keys, list(map(postings.__getitem__, keys)), starts)

    # The shards replaced go, those new come (a file named by its content is either).
    old = {firsts[at]: shards[at][1] for at in load}
    new = {first: name for first, name, _ in packed}
    conn.executemany(
        "DELETE FROM search_shards WHERE first = ?", [(f,) for f, name in old.items() if new.get(f) != name]
    )
    conn.executemany(
        "INSERT INTO search_shards VALUES (?, ?, ?)", [s for s in packed if old.get(s[0]) != s[1]]
    )
    names = {name for _, name in shards}
    files.update((f"{base}/{name}", data) for _, name, data in packed if name not in names)
    kept_names = set(new.values())
    removed += [f"{base}/{name}" for name in old.values() if name not in kept_names]
    manifest = sorted(
        [*(shards[at] for at in range(len(shards)) if segment[at] not in touched), *new.items()]
    )
    files[f"{base}/manifest.json"] = _manifest(total, manifest)

    conn.executemany(
        "DELETE FROM search_terms WHERE term = ?", [(t,) for t, last in lasts.items() if last < 0]
    )
    conn.executemany(
        "INSERT OR REPLACE INTO search_terms VALUES (?, ?)",
        [(t, last) for t, last in lasts.items() if last >= 0],
    )
    conn.execute("UPDATE search_state SET docs = ? WHERE one = 1", (total,))
    return IndexUpdate(files, removed, terms_read, len(load), read)


# -- reading: what search.js does, in Python -----------------------------------


def _matches_word(term: str, word: str) -> float:
    """How a term counts for a query word: 1 the word itself, PREFIX_WEIGHT a longer term it
    begins (a word of 3 letters or more), else 0."""
    if term == word:
        return 1.0
    return PREFIX_WEIGHT if len(word) >= 3 and term.startswith(word) else 0.0


def _fold(word: str) -> str:
    """A word of a text as a term: lower-cased, marks dropped (as ``terms``)."""
    folded = word.lower()
    return folded if folded.isascii() else unicodedata.normalize("NFKD", folded).translate(_UNMARKED)


def _mark(piece: str, words: Sequence[str]) -> str | None:
    """A whitespace-separated piece of text with its matching words marked, or None."""
    found = False

    def mark(match: re.Match[str]) -> str:
        nonlocal found
        term = _fold(match[0])
        if any(_matches_word(term, word) for word in words):
            found = True
            return f"{MARK_START}{match[0]}{MARK_END}"
        return match[0]

    marked = _WORD.sub(mark, piece)
    return marked if found else None


def snippet(text: str, more: str, words: Sequence[str]) -> str:
    """A hit's snippet: from its text, else (no query word matched there) its sources'
    titles and ledes, at most SNIPPET_WORDS pieces from 4 before the first one matched;
    matched words between MARK_START and MARK_END. search.js cuts the same."""
    pieces: list[str] = []
    first = None
    for field in (text, more):
        # Rows hold text with single spaces (``_cut_text``): split as search.js splits.
        marked = [_mark(piece, words) or piece for piece in field.split(" ") if piece]
        first = next((at for at, m in enumerate(marked) if MARK_START in m), None)
        if first is not None:
            pieces = marked
            break
    if first is None:  # matched by its names alone
        pieces, first = [piece for piece in text.split(" ") if piece], 0
    begin = max(0, min(first - 4, len(pieces) - SNIPPET_WORDS))
    end = min(len(pieces), begin + SNIPPET_WORDS)
    return ("… " if begin else "") + " ".join(pieces[begin:end]) + (" …" if end < len(pieces) else "")


@dataclass(frozen=True)
class StaticHit:
    """A result of the static search."""

    id: str
    date: dt.date
    headline: str  # the event's text, cut at TEXT_CHARS
    stem: str
    score: float
    snippet: str  # matched words between MARK_START and MARK_END


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
            factor = _matches_word(term, word)
            if not factor:
                continue
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
            ident, date, text, stem, *rest = chunk[doc % self.chunk]
            more = rest[0] if rest else ""  # rows of a site built before they held it
            hits.append(
                StaticHit(
                    ident, dt.date.fromisoformat(date), text, stem, scores[doc], snippet(text, more, words)
                )
            )
        return hits
