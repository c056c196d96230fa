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
from collections.abc import Callable, Iterable, Iterator, Sequence
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
# The docs from the last multiple of this on are the index's recent part, in shards of
# their own: a daily update rewrites those few, the base's only when the total crosses a
# multiple (every ~100 days of ~20 events).
RECENT_SPAN = 2048


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


def decode(postings: str, before: int = -1) -> list[tuple[int, bool]]:
    """A term's postings: (doc, strong) pairs, ascending; ``before``: the doc the first
    counts from (that before the recent part's first doc, for its shards)."""
    found: list[tuple[int, bool]] = []
    doc, value, shift = before, 0, 0
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
Terms = tuple[set[str], set[str]]  # a doc's terms, and those of them that are strong


def _shards(keys: list[str], values: list[str], starts: Iterable[int], folder: str = "t") -> list[Shard]:
    """The shards of sorted terms and their postings: cut into segments at ``starts``
    (0 among them), each packed greedily up to SHARD_BYTES; files under ``folder``."""
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
            name = f"{folder}/{hashlib.blake2b(data, digest_size=6).hexdigest()}.json"
            shards.append((keys[at], name, data))
            at = stop
    return shards


def _add(postings: dict[str, list[Any]], number: int, held: Terms, before: int = -1) -> None:
    """Doc ``number``'s terms appended to ``postings`` (term -> [last doc, postings]);
    a term's first posting counts from ``before``."""
    holds, strong = held
    for term in holds:
        entry = postings.get(term)
        if entry is None:
            entry = postings[term] = [before, bytearray()]
        _encode((number - entry[0] - 1) * 2 + (term in strong), entry[1])
        entry[0] = number


def _recent_shards(first: int, held: Sequence[Terms]) -> list[Shard]:
    """The recent part's shards: the postings of docs ``first`` on (``held``, in order),
    counted from ``first - 1``; one segment, as every shard of it changes with a day."""
    # Each term's docs first, then each list coded at once: an update makes these again
    # each time, so they are made without a call per posting.
    found: dict[str, list[int]] = {}  # term -> its docs, each doc * 2 + strong
    for number, (holds, strong) in enumerate(held, first):
        for term in holds:
            found.setdefault(term, []).append(number * 2 + (term in strong))
    keys = sorted(found)
    alphabet = ALPHABET
    values = []
    for key in keys:
        out: list[str] = []
        last = first - 1
        for value in found[key]:
            number = value >> 1
            code = (number - last - 1) * 2 + (value & 1)
            last = number
            while code >= 32:  # as _encode
                out.append(alphabet[32 + (code & 31)])
                code >>= 5
            out.append(alphabet[code])
        values.append("".join(out))
    return _shards(keys, values, [0], "r")


def recent_from(docs: int) -> int:
    """The first doc of the recent part of an index of ``docs`` docs."""
    return docs // RECENT_SPAN * RECENT_SPAN


def _manifest(docs: int, shards: Iterable[tuple[str, str]], recent: Iterable[tuple[str, str]]) -> bytes:
    manifest = {
        "version": 3,
        "docs": docs,
        "chunk": CHUNK,
        "stopwords": sorted(STOPWORDS),  # search.js takes them from here
        "shards": [[first, name] for first, name in shards],
        "recent": {"from": recent_from(docs), "shards": [[first, name] for first, name in recent]},
    }
    return _json(manifest)


@dataclass(frozen=True)
class _Built:
    files: dict[str, bytes]  # every file, by its path in the site
    docs: int
    lasts: dict[str, int]  # each base term's last doc
    shards: list[Shard]  # the base's
    recent: list[Terms]  # the terms of the recent part's docs
    recent_shards: list[Shard]


def _build(docs: Iterable[SearchDoc]) -> _Built:
    """Every file of the index, and what its state keeps."""
    postings: dict[str, list[Any]] = {}  # term -> [last doc, postings so far]
    # Each doc file is encoded once its CHUNK docs are read: the rows of every doc at once
    # were some 100 MB of the full build's peak at 150,000 events.
    files: dict[str, bytes] = {}
    rows: list[list[str]] = []  # the docs of the doc file being read
    count = 0
    recent: list[Terms] = []  # the docs from the last multiple of RECENT_SPAN
    for number, doc in enumerate(docs):
        if len(recent) == RECENT_SPAN:
            for at, held in enumerate(recent, number - RECENT_SPAN):
                _add(postings, at, held)
            recent = []
        if len(rows) == CHUNK:
            files.update(_doc_files(number - CHUNK, rows))
            rows = []
        rows.append(_doc_row(doc))
        recent.append(_doc_terms(doc))
        count = number + 1
    files.update(_doc_files(count - len(rows), rows))
    if len(recent) == RECENT_SPAN:
        for at, held in enumerate(recent, count - RECENT_SPAN):
            _add(postings, at, held)
        recent = []
    keys = sorted(postings)
    values = [postings[k][1].decode("ascii") for k in keys]
    shards = _shards(keys, values, [0, *(at for at, k in enumerate(keys) if _starts_segment(k))])
    recent_shards = _recent_shards(count - len(recent), recent)
    files.update((f"{urls.SEARCH_INDEX_DIR}/{name}", data) for _, name, data in [*shards, *recent_shards])
    files[f"{urls.SEARCH_INDEX_DIR}/manifest.json"] = _manifest(
        count, ((f, n) for f, n, _ in shards), ((f, n) for f, n, _ in recent_shards)
    )
    return _Built(files, count, {k: postings[k][0] for k in keys}, shards, recent, recent_shards)


def build_index(docs: Iterable[SearchDoc]) -> dict[str, bytes]:
    """Every file of the index, keyed by its path in the site."""
    return _build(docs).files


# -- the state kept for updates (see the module docstring) ----------------------

STATE_VERSION = 3  # of the search_* tables: another version is rebuilt, never read (3: the recent part)
_TABLES = ("search_state", "search_terms", "search_shards", "search_recent")


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
        " shard_bytes INTEGER NOT NULL, segment_mod INTEGER NOT NULL, recent_span INTEGER NOT NULL,"
        " recent_shards TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS search_terms (term TEXT PRIMARY KEY, last INTEGER NOT NULL)"
        " WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS search_terms_last ON search_terms (last)",
        "CREATE TABLE IF NOT EXISTS search_shards (first TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " data BLOB NOT NULL) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS search_recent (doc INTEGER PRIMARY KEY, terms TEXT NOT NULL,"
        " strong TEXT NOT NULL)",
    ):
        conn.execute(statement)


def _settings() -> tuple[int, int, int, int, int]:
    return STATE_VERSION, CHUNK, SHARD_BYTES, SEGMENT_MOD, RECENT_SPAN


def _recent_rows(first: int, held: Iterable[Terms]) -> list[tuple[int, str, str]]:
    """The ``search_recent`` rows of docs numbered from ``first``: their terms, space-separated."""
    return [(n, " ".join(sorted(h)), " ".join(sorted(s))) for n, (h, s) in enumerate(held, first)]


def _recent_json(shards: Iterable[Shard]) -> str:
    return json.dumps([[first, name] for first, name, _ in shards])


def build_index_state(conn: sqlite3.Connection, docs: Iterable[SearchDoc]) -> dict[str, bytes]:
    """Every file of the index (as ``build_index``), and the state in ``conn`` replaced
    by theirs. The caller commits, once the files are written."""
    for table in _TABLES:  # made again: a state of another version may have other columns
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    ensure_schema(conn)
    built = _build(docs)
    version, chunk, shard_bytes, segment_mod, span = _settings()
    conn.execute(
        "INSERT INTO search_state VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
        (version, built.docs, chunk, shard_bytes, segment_mod, span, _recent_json(built.recent_shards)),
    )
    conn.executemany("INSERT INTO search_terms VALUES (?, ?)", built.lasts.items())
    conn.executemany("INSERT INTO search_shards VALUES (?, ?, ?)", built.shards)
    conn.executemany(
        "INSERT INTO search_recent VALUES (?, ?, ?)", _recent_rows(recent_from(built.docs), built.recent)
    )
    return built.files


class DocsDigest:
    """What an index is made from (its docs in order, its settings and ``made_with``, such
    as daybook's code), digested as the docs go by: a full build whose docs digest as the
    last one's keeps that build's index (``copy_state``) instead of making it again."""

    def __init__(self, made_with: str) -> None:
        self._hash = hashlib.blake2b(f"{made_with}|{_settings()}".encode(), digest_size=16)

    def through(self, docs: Iterable[SearchDoc]) -> Iterator[SearchDoc]:
        for doc in docs:
            self._hash.update(repr(doc).encode("utf-8", "surrogatepass"))
            yield doc

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def copy_state(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """The state ``source`` keeps (a last build's) put in ``target`` in place of its own, for
    the index files that build wrote; IndexStateError if it cannot be used."""
    _saved(source)
    for table in _TABLES:
        target.execute(f"DROP TABLE IF EXISTS {table}")
    ensure_schema(target)
    for table in _TABLES:
        rows = source.execute(f"SELECT * FROM {table}")
        while batch := rows.fetchmany(10_000):
            target.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(batch[0]))})", batch)


def _saved(conn: sqlite3.Connection) -> tuple[int, list[tuple[str, str]]]:
    """The number of docs the saved state holds, and its recent shards; IndexStateError
    if it cannot be used."""
    try:
        row = conn.execute(
            "SELECT version, chunk, shard_bytes, segment_mod, recent_span, docs, recent_shards"
            " FROM search_state WHERE one = 1"
        ).fetchone()
    except sqlite3.OperationalError as error:  # no table, or one of an older version
        raise IndexStateError(f"no search index state: {error}") from error
    if row is None:
        raise IndexStateError("no search index state")
    if tuple(row[:5]) != _settings():
        raise IndexStateError(f"search index state of other settings: {row[:5]}, now {_settings()}")
    return row[5], [(first, name) for first, name in json.loads(row[6])]


def _in(values: Iterable[str]) -> str:
    """One parameter for ``IN (SELECT value FROM json_each(?))``: any number of values."""
    return json.dumps(list(values))


@dataclass
class _BaseUpdate:
    """What updating the base changed: its shard files written and deleted, its shards
    now; the docs cut from it (below a given doc), as the postings held them."""

    files: dict[str, bytes]
    removed: list[str]
    shards: list[tuple[str, str]]
    cut: dict[int, Terms]
    terms_read: int
    shards_read: int
    shard_bytes_read: int


def _update_base(
    conn: sqlite3.Connection, start: int, gains_of: Iterable[tuple[int, Terms]], below: int
) -> _BaseUpdate:
    """The base's postings cut at ``start``, then given the docs of ``gains_of``
    (numbered, from ``start`` on, ascending); the terms of the docs cut below ``below``
    recovered from their postings. Changes the state's base tables."""
    base = urls.SEARCH_INDEX_DIR
    # The docs each term of the new docs gains, in order.
    gains: dict[str, list[tuple[int, bool]]] = {}
    for number, (holds, strong) in gains_of:
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
    cut: dict[int, Terms] = {n: (set(), set()) for n in range(start, below)}  # a doc may hold no term
    reordered = False  # a term put back into postings, out of order
    for term, last in losing.items():
        if term not in postings:
            raise IndexStateError(f"search index state: term {term!r} not in its shard")
        try:
            kept, lasts[term] = _cut(postings[term], last, start)
        except ValueError as error:
            raise IndexStateError(f"search index state: term {term!r}: {error}") from error
        if start < below:  # the docs cut, as far as wanted: their terms
            for number, is_strong in decode(postings[term][len(kept) :], lasts[term]):
                if number >= below:
                    break
                held = cut.setdefault(number, (set(), set()))
                held[0].add(term)
                if is_strong:
                    held[1].add(term)
        if kept:
            postings[term] = kept
        else:
            del postings[term]
    for term, gained in gains.items():
        last = lasts.get(term, -1)
        held_postings = postings.get(term)
        if (held_postings is None) != (last < 0):
            raise IndexStateError(f"search index state: term {term!r} in shards and terms differently")
        out = bytearray(held_postings or "", "ascii")
        for number, is_strong in gained:
            _encode((number - last - 1) * 2 + is_strong, out)
            last = number
        reordered |= held_postings is None
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
    files = {f"{base}/{name}": data for _, name, data in packed if name not in names}
    kept_names = set(new.values())
    removed = [f"{base}/{name}" for name in old.values() if name not in kept_names]
    now = sorted([*(shards[at] for at in range(len(shards)) if segment[at] not in touched), *new.items()])

    conn.executemany(
        "DELETE FROM search_terms WHERE term = ?", [(t,) for t, last in lasts.items() if last < 0]
    )
    conn.executemany(
        "INSERT OR REPLACE INTO search_terms VALUES (?, ?)",
        [(t, last) for t, last in lasts.items() if last >= 0],
    )
    return _BaseUpdate(files, removed, now, cut, terms_read, len(load), read)


def update_index(conn: sqlite3.Connection, start: int, docs: Sequence[SearchDoc], total: int) -> IndexUpdate:
    """Update the index and its state in ``conn`` to ``total`` docs, of which ``docs``
    are those numbered ``start`` to ``total - 1`` and the ones before ``start`` are as
    the state last saw them. ``start`` is a multiple of ``CHUNK``.

    Returns the files to write (those new or changed) and to delete; the state is
    changed in ``conn``, not committed. Raises ``IndexStateError`` when the state
    cannot be updated (missing, other settings, fewer docs than ``start``,
    inconsistent): build in full instead. Its cost follows the recent part, and, when
    the base changes (docs before it changed, or the total crossed a multiple of
    RECENT_SPAN), the terms of the docs from ``start`` on, old and new, and the
    segments holding them, whatever the total.
    """
    if start < 0 or start % CHUNK or len(docs) != total - start:
        raise ValueError(f"docs {start} to {total - 1} given as {len(docs)} docs, from a multiple of {CHUNK}")
    saved, old_recent = _saved(conn)
    if start > saved:
        raise IndexStateError(f"search index state has {saved} docs, the update starts at {start}")
    base = urls.SEARCH_INDEX_DIR
    files = _doc_files(start, [_doc_row(doc) for doc in docs])
    removed = [f"{base}/d/{k}.json" for k in range(-(-total // CHUNK), -(-saved // CHUNK))]
    old_from, new_from = recent_from(saved), recent_from(total)

    # The terms of every doc of the recent part from here: those the state keeps (the
    # docs before start), those given, and those cut from the base (its end moved back).
    known: dict[int, Terms] = {}
    for number, holds, strong in conn.execute(
        "SELECT doc, terms, strong FROM search_recent WHERE doc < ? ORDER BY doc", (start,)
    ):
        known[number] = (set(holds.split()), set(strong.split()))
    if list(known) != list(range(old_from, max(start, old_from))):
        raise IndexStateError(f"search index state: recent docs {old_from} to {start - 1} not all kept")
    known.update(enumerate(map(_doc_terms, docs), start))

    stats = (0, 0, 0)
    low = min(start, old_from, new_from)  # where the base is cut
    if low < old_from or new_from != old_from:
        changed = _update_base(conn, low, ((n, known[n]) for n in range(low, new_from)), min(start, old_from))
        known.update(changed.cut)
        files.update(changed.files)
        removed += changed.removed
        shards = changed.shards
        stats = (changed.terms_read, changed.shards_read, changed.shard_bytes_read)
    else:
        shards = conn.execute("SELECT first, name FROM search_shards ORDER BY first").fetchall()

    recent = _recent_shards(new_from, [known[n] for n in range(new_from, total)])
    old_names = {name for _, name in old_recent}
    files.update((f"{base}/{name}", data) for _, name, data in recent if name not in old_names)
    new_names = {name for _, name, _ in recent}
    removed += [f"{base}/{name}" for name in old_names if name not in new_names]
    files[f"{base}/manifest.json"] = _manifest(total, shards, ((f, n) for f, n, _ in recent))

    # The recent docs the state keeps: those from new_from on, as given or cut from the base.
    conn.execute("DELETE FROM search_recent WHERE doc >= ? OR doc < ?", (start, new_from))
    fresh = [n for n in range(new_from, total) if n >= start or n < old_from]
    conn.executemany(
        "INSERT INTO search_recent VALUES (?, ?, ?)",
        [row for n in fresh for row in _recent_rows(n, [known[n]])],
    )
    conn.execute(
        "UPDATE search_state SET docs = ?, recent_shards = ? WHERE one = 1", (total, _recent_json(recent))
    )
    return IndexUpdate(files, removed, *stats)


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
        # The base's shards, and the recent part's (none in a site built before version 3).
        recent = manifest.get("recent", {"from": self.docs, "shards": []})
        self.parts: list[tuple[int, list[str], list[str]]] = [
            (-1, [first for first, _ in manifest["shards"]], [name for _, name in manifest["shards"]]),
            (
                recent["from"] - 1,
                [first for first, _ in recent["shards"]],
                [name for _, name in recent["shards"]],
            ),
        ]

    def _load(self, name: str) -> Any:
        """One file of the index, read once (a browser caches it too)."""
        if name not in self._files:
            data = self._read(name)
            self.fetched[name] = len(data)
            self._files[name] = json.loads(data)
        return self._files[name]

    def _shards(self, term: str) -> Iterator[tuple[int, dict[str, str]]]:
        """The shards where ``term`` would be, of the base then of the recent part, each
        with the doc its postings count from."""
        for before, firsts, names in self.parts:
            at = bisect.bisect_right(firsts, term) - 1
            if at >= 0:
                yield before, self._load(names[at])

    def postings(self, term: str) -> list[tuple[int, bool]]:
        """The docs holding ``term``: (doc, strong) pairs, ascending."""
        return [
            found for before, shard in self._shards(term) for found in decode(shard.get(term, ""), before)
        ]

    def _matches(self, word: str) -> dict[int, float]:
        """Docs holding ``word`` (or, for 3 letters or more, a term it begins in its shards)."""
        weights: dict[int, float] = {}
        for before, shard in self._shards(word):
            for term, postings in shard.items():
                factor = _matches_word(term, word)
                if not factor:
                    continue
                for doc, strong in decode(postings, before):
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
