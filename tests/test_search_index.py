"""The static search index kept by updates: the same files as a full build of the same
docs, whatever the sequence of updates; the state it keeps; and its shards found by the
reader. Small sizes (docs per file, shard bytes, segment odds) make every case show."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daybook.publish import search_index
from daybook.publish.search_index import (
    IndexStateError,
    SearchDoc,
    StaticIndex,
    build_index,
    build_index_state,
    decode,
    ensure_schema,
    terms,
    update_index,
)

WORDS = ["alpha", "beta", "kyiv", "zürich", "Øresund", "2024", "5", "río", "x10"] + [
    f"w{n}" for n in range(80)
]
NAMES = ["Ukraine", "Ölüdeniz", "United Nations", "Story line", "Kyiv"]


@contextmanager
def small(
    chunk: int = 4, shard_bytes: int = 120, segment_mod: int = 4, recent_span: int = 8
) -> Iterator[None]:
    """Tiny doc files, shards, segments and recent parts, so a few docs make many of each."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_index, "CHUNK", chunk)
        patch.setattr(search_index, "SHARD_BYTES", shard_bytes)
        patch.setattr(search_index, "SEGMENT_MOD", segment_mod)
        patch.setattr(search_index, "RECENT_SPAN", recent_span)
        yield


def doc(n: int, words: list[str], names: list[str]) -> SearchDoc:
    return SearchDoc(f"id{n}", dt.date(2024, 1, 1) + dt.timedelta(days=n // 3), f"Event {n}", f"news/{n}",
                     " ".join(words), "\n".join(names))  # fmt: skip


texts = st.tuples(st.lists(st.sampled_from(WORDS), max_size=5), st.lists(st.sampled_from(NAMES), max_size=2))


def state(conn: sqlite3.Connection) -> list[list[tuple[object, ...]]]:
    return [conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in search_index._TABLES]


def postings(docs: list[SearchDoc]) -> dict[str, list[tuple[int, bool]]]:
    """Each term's docs, found the slow way."""
    found: dict[str, list[tuple[int, bool]]] = {}
    for number, d in enumerate(docs):
        strong = set(terms(d.names))
        for term in sorted(strong | set(terms(d.text))):
            found.setdefault(term, []).append((number, term in strong))
    return found


Texts = list[tuple[list[str], list[str]]]  # each doc's words and names


def check_updates(first: Texts, steps: list[tuple[int, Texts]]) -> None:
    """Build ``first``, then each step: its number of docs dropped from the end, then its
    docs added; after each the files (and at the end the state) must be a full build's."""
    made = 0

    def new(batch: Texts) -> list[SearchDoc]:
        nonlocal made
        made += len(batch)
        return [doc(made - len(batch) + k, w, n) for k, (w, n) in enumerate(batch)]

    docs = new(first)
    conn = sqlite3.connect(":memory:")
    files = build_index_state(conn, docs)
    assert files == build_index(docs)
    for drop, added in steps:
        keep = max(len(docs) - drop, 0)
        docs = docs[:keep] + new(added)
        start = keep // search_index.CHUNK * search_index.CHUNK
        update = update_index(conn, start, docs[start:], len(docs))
        # Written and removed: exactly the change from the old files to the new.
        assert set(update.removed) <= set(files) - set(update.files)
        for path in update.removed:
            del files[path]
        files.update(update.files)
        assert files == build_index(docs)
    fresh = sqlite3.connect(":memory:")
    build_index_state(fresh, docs)
    assert state(conn) == state(fresh)
    # The reader finds each term's docs in the shards it picks.
    index = StaticIndex(lambda name: files[f"search/{name}"])
    for term, expected in postings(docs).items():
        assert index.postings(term) == expected
    assert index.postings("zzz") == []


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    st.lists(texts, max_size=30),
    st.lists(st.tuples(st.integers(0, 40), st.lists(texts, max_size=20)), min_size=1, max_size=6),
)
def test_updates_give_the_files_of_a_full_build(first: Texts, steps: list[tuple[int, Texts]]) -> None:
    with small():
        check_updates(first, steps)


def test_terms_coming_and_going_at_the_ends_and_segment_starts() -> None:
    with small():
        starts = [w for w in WORDS if search_index._starts_segment(w)]
        middle = [([w], []) for w in WORDS[10:] if w != starts[1]]
        check_updates(
            middle,
            [
                (0, [(["0"], [])]),  # before every term: into the first segment
                (1, [([starts[1]], [])]),  # a segment's first term comes, and goes
                (1, [([], [])]),
                (0, [(["zzzz"], [])]),  # after every term
                (2, []),
            ],
        )


def test_an_update_repacks_only_the_segment_of_its_terms() -> None:
    # A recent part of no doc: every doc goes into the base at once.
    with small(chunk=4, shard_bytes=200, segment_mod=8, recent_span=1):
        docs = [doc(n, [f"w{n % 30}", f"v{n % 50}", "common"], []) for n in range(200)]
        conn = sqlite3.connect(":memory:")
        files = build_index_state(conn, docs)
        manifest = json.loads(files["search/manifest.json"])["shards"]
        firsts = [first for first, _ in manifest]
        # A new doc with one new term, not starting a segment, in a segment of several shards.
        term = next(
            t
            for t in (f"v{n}x" for n in range(50))
            if not search_index._starts_segment(t) and "v" < t < firsts[-1]
        )
        segment = [n == 0 or search_index._starts_segment(f) for n, f in enumerate(firsts)]
        at = max(n for n, f in enumerate(firsts) if f <= term)
        begin = max(n for n in range(at + 1) if segment[n])
        end = next((n for n in range(at + 1, len(firsts)) if segment[n]), len(firsts))
        update = update_index(conn, 200, [doc(200, [term], [])], 201)
        assert update.shards_read == end - begin < len(firsts) / 4
        assert update.terms_read == 0  # a new term: no row to read
        written = {path.removeprefix("search/") for path in update.files if "/t/" in path}
        assert written and written <= {
            name for _, name in json.loads(update.files["search/manifest.json"])["shards"]
        }
        kept = {name for n, (_, name) in enumerate(manifest) if not begin <= n < end}
        assert kept.isdisjoint(written)
        assert {p.removeprefix("search/") for p in update.removed} <= {
            name for _, name in manifest[begin:end]
        }


def test_the_caller_commits_so_a_run_rolled_back_leaves_the_old_state(tmp_path: Path) -> None:
    docs = [doc(n, [f"w{n % 7}", "alpha"], ["Kyiv"]) for n in range(40)]
    with small():
        conn = sqlite3.connect(tmp_path / "state.db")
        build_index_state(conn, docs[:30])
        conn.commit()
        before = state(conn)
        update_index(conn, 28, docs[28:], 40)
        assert conn.in_transaction  # never committed by the update
        conn.rollback()
        assert state(conn) == before
        again = sqlite3.connect(tmp_path / "state.db")
        update = update_index(again, 28, docs[28:], 40)
        assert update.files["search/manifest.json"] == build_index(docs)["search/manifest.json"]


def test_a_state_that_cannot_be_updated_says_so() -> None:
    docs = [doc(n, [f"w{n % 7}", "alpha"], ["Kyiv"]) for n in range(20)]
    with small():
        conn = sqlite3.connect(":memory:")
        with pytest.raises(IndexStateError):  # no tables
            update_index(conn, 0, docs, 20)
        ensure_schema(conn)
        with pytest.raises(IndexStateError):  # no state
            update_index(conn, 0, docs, 20)
        build_index_state(conn, docs[:8])
        with pytest.raises(IndexStateError):  # the update thinks the state holds more docs
            update_index(conn, 12, docs[12:], 20)
        with pytest.raises(ValueError):  # not from a doc file's first doc
            update_index(conn, 6, docs[6:], 20)
        with pytest.raises(ValueError):  # not the docs from start
            update_index(conn, 4, docs[5:], 20)
        with small(shard_bytes=500), pytest.raises(IndexStateError):  # other settings
            update_index(conn, 8, docs[8:], 20)
        conn.execute("DELETE FROM search_shards WHERE first = (SELECT min(first) FROM search_shards)")
        with pytest.raises(IndexStateError):  # a shard lost
            update_index(conn, 4, docs[4:], 20)
        build_index_state(conn, docs[:8])
        conn.execute("DELETE FROM search_terms WHERE term = 'alpha'")
        with pytest.raises(IndexStateError):  # a term lost
            update_index(conn, 8, docs[8:], 20)
        build_index_state(conn, docs[:8])
        conn.execute("UPDATE search_terms SET last = last + 100 WHERE term = 'alpha'")
        with pytest.raises(IndexStateError):  # a term's last doc wrong
            update_index(conn, 4, docs[4:], 20)
        build_index_state(conn, docs[:8])
        assert update_index(conn, 8, docs[8:], 20).files["search/d/4.json"]


def test_the_manifest_keeps_the_shape_search_js_reads() -> None:
    with small(recent_span=4):
        files = build_index([doc(n, ["alpha", f"w{n}"], []) for n in range(6)])
        manifest = json.loads(files["search/manifest.json"])
        assert set(manifest) == {"version", "docs", "chunk", "stopwords", "shards", "recent"}
        assert manifest["docs"] == 6 and manifest["chunk"] == search_index.CHUNK
        assert manifest["recent"]["from"] == 4
        assert all(isinstance(first, str) and name.startswith("t/") for first, name in manifest["shards"])
        assert all(
            isinstance(first, str) and name.startswith("r/") for first, name in manifest["recent"]["shards"]
        )
        (empty,) = build_index([]).values()
        recent = {"from": 0, "shards": []}
        assert {**json.loads(empty), "docs": 6, "shards": manifest["shards"]} == {
            **manifest,
            "recent": recent,
        }


@given(st.lists(st.tuples(st.integers(0, 3000), st.booleans()), max_size=60), st.integers(0, 3100))
def test_cutting_postings_keeps_the_docs_before_start(pairs: list[tuple[int, bool]], start: int) -> None:
    docs = sorted(dict(pairs).items())
    out = bytearray()
    previous = -1
    for number, strong in docs:
        search_index._encode((number - previous - 1) * 2 + strong, out)
        previous = number
    kept, last = search_index._cut(out.decode("ascii"), previous, start)
    expected = [(n, s) for n, s in docs if n < start]
    assert decode(kept) == expected
    assert last == (expected[-1][0] if expected else -1)


@given(st.text(max_size=40))
def test_terms_drop_marks_as_the_plain_rule_does(text: str) -> None:
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.category(c).startswith("M")
    )
    expected = [
        t
        for t in search_index._WORD.findall(folded)
        if t not in search_index.STOPWORDS
        and (len(t) > 1 or t.isdigit())
        and len(t) <= 40
        and max(t) < "\U00010000"
    ]
    assert terms(text) == expected


def day_docs(first: int, count: int) -> list[SearchDoc]:
    return [
        doc(n, [f"w{n % 30}", f"v{n % 50}", "common", f"u{n}"], ["Kyiv"][: n % 2])
        for n in range(first, first + count)
    ]


def apply(files: dict[str, bytes], update: search_index.IndexUpdate) -> None:
    for path in update.removed:
        del files[path]
    files.update(update.files)


def test_a_day_within_the_recent_part_writes_no_base_shard_and_one_crossing_it_folds() -> None:
    with small(chunk=4, shard_bytes=200, segment_mod=8, recent_span=64):
        docs = day_docs(0, 130)
        conn = sqlite3.connect(":memory:")
        files = build_index_state(conn, docs)  # the base: docs 0 to 127
        base = {path for path in files if path.startswith("search/t/")}
        assert len(base) > 10
        for _ in range(15):  # to 190 docs: the base stays
            start = len(docs) // 4 * 4
            docs += day_docs(len(docs), 4)
            update = update_index(conn, start, docs[start:], len(docs))
            touched = {*update.files, *update.removed}
            assert not any(path.startswith("search/t/") for path in touched)
            assert (update.terms_read, update.shards_read) == (0, 0)
            assert any(path.startswith("search/r/") for path in update.files)
            apply(files, update)
            assert files == build_index(docs)
        assert {path for path in files if path.startswith("search/t/")} == base
        start = len(docs) // 4 * 4
        docs += day_docs(len(docs), 4)  # 194 docs: docs 128 to 191 go into the base
        update = update_index(conn, start, docs[start:], len(docs))
        assert any(path.startswith("search/t/") for path in update.files)
        apply(files, update)
        assert files == build_index(docs)
        assert json.loads(files["search/manifest.json"])["recent"]["from"] == 192
        fresh = sqlite3.connect(":memory:")
        build_index_state(fresh, docs)
        assert state(conn) == state(fresh)


@pytest.mark.parametrize("query", ["common", "w7 kyiv", "v1", "u13", "u12 w12", "kyi", "nothing", "w2 v3 u"])
def test_the_recent_part_ranks_as_one_index(query: str) -> None:
    """Split into a base and a recent part or not, the same hits (one shard each, so that
    a prefix finds the same terms)."""
    docs = day_docs(0, 150)
    found = []
    for span in (1, 64, 1000):
        with small(chunk=4, shard_bytes=10**6, segment_mod=10**9, recent_span=span):
            files = build_index(docs)
            found.append(StaticIndex(lambda name, files=files: files[f"search/{name}"]).search(query, 30))
    assert found[0] == found[1] == found[2]
    assert found[0] or query == "nothing"


def test_a_state_of_the_layout_before_the_recent_part_is_built_again() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE search_state (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL,"
        " docs INTEGER NOT NULL, chunk INTEGER NOT NULL, shard_bytes INTEGER NOT NULL,"
        " segment_mod INTEGER NOT NULL)"
    )
    conn.execute("INSERT INTO search_state VALUES (1, 2, 8, 8, 24000, 256)")
    ensure_schema(conn)  # the old table stays as it is
    docs = day_docs(0, 12)
    with pytest.raises(IndexStateError):
        update_index(conn, 8, docs[8:], 12)
    assert build_index_state(conn, docs[:8]) == build_index(docs[:8])
    update = update_index(conn, 8, docs[8:], 12)
    assert update.files["search/manifest.json"] == build_index(docs)["search/manifest.json"]
