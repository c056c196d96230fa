"""Search: the FTS5 index kept current by ingest and enrich, the query language, the
command, and the static site's prebuilt index."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from daybook.cli import cli
from daybook.ingest import ingest_paths
from daybook.model import Article, Day
from daybook.publish import search_index
from daybook.publish.search_index import SearchDoc, StaticIndex, build_index, decode
from daybook.search import PageLocator, fts_terms, search
from daybook.store import MIGRATIONS, RawResponse, Store

ROOT = Path(__file__).resolve().parents[1]
MAY_7 = dt.date(2024, 5, 7)


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    """The example days, in a store on each backend."""
    with Store(db) as opened:
        assert not ingest_paths(opened, [ROOT / "examples"]).failures
        yield opened


def ids(hits: list[object]) -> list[str]:
    return [getattr(h, "id") for h in hits]  # noqa: B009 - hits of either kind


def test_search_finds_text_entities_and_story_with_snippets(store: Store) -> None:
    hits = search(store, "airport porto alegre", locate=PageLocator())
    assert hits[0].text.startswith("The airport of Porto Alegre")
    assert hits[0].url == "/news/2024/05/7/" + (
        "the-airport-of-porto-alegre-suspends-all-flights-until-the-end-of-may-as-water-covers-its-runway.html"
    )
    assert "**airport**" in hits[0].snippet and "<mark>Porto</mark>" in hits[0].snippet_html()
    # An entity name the text does not spell out, and a story line.
    assert ids(search(store, "Armed Forces of the Democratic Republic of the Congo"))
    assert len(search(store, "M23 campaign")) == 2


def test_index_follows_days_ingested_again_and_removed(store: Store) -> None:
    day = Day(MAY_7, tuple(store.events(date=MAY_7)))
    edited = dataclasses.replace(day.events[1], id="20240507-edited000001", text="Zeppelins land in Porto.")
    store.replace_day(Day(MAY_7, (day.events[0], edited)), origin="t", format="jsonl")
    assert [h.text for h in search(store, "zeppelins")] == ["Zeppelins land in Porto."]
    assert not search(store, "runway")
    store.conn.execute("DELETE FROM days WHERE date = ?", (MAY_7.isoformat(),))
    assert not search(store, "zeppelins")
    count = store.conn.execute("SELECT count(*) FROM event_search").fetchone()[0]
    assert count == len(store.events())


def test_index_follows_what_enrich_finds(store: Store) -> None:
    job = next(j for j in store.sources_to_enrich() if "porto-alegre" in j.url)
    page = RawResponse(200, job.url, (), b"", "2024-05-07T00:00:00+00:00")
    store.save_page(job.id, page, Article(title="Runway under water", lede="Salgado Filho closes"), dead=None)
    (hit,) = search(store, "salgado filho")
    assert hit.text.startswith("The airport of Porto Alegre") and "**Salgado**" in hit.snippet
    store.save_failure(job.id, "timeout", "no answer")  # a later failure keeps what was found
    assert ids(search(store, "salgado")) == [hit.id]
    store.conn.execute("DELETE FROM source_articles WHERE source_id = ?", (job.id,))
    assert not search(store, "salgado")


def test_filters_and_recency_tie_break(store: Store, tmp_path: Path) -> None:
    twins = tmp_path / "twins.jsonl"
    twins.write_text(
        "".join(
            json.dumps(
                {"date": d, "category": "X", "story": [], "text": "Identical twin event.", "entities": []}
            )
            + "\n"
            for d in ("2020-01-01", "2021-01-01", "2020-06-01")
        ),
        encoding="utf-8",
    )
    assert not ingest_paths(store, [twins]).failures
    assert [h.date.year for h in search(store, "identical twin")] == [2021, 2020, 2020]
    assert [h.date.month for h in search(store, "identical twin")][1:] == [6, 1]
    between = search(store, "identical", start=dt.date(2020, 3, 1), end=dt.date(2020, 12, 31))
    assert [h.date for h in between] == [dt.date(2020, 6, 1)]
    assert {h.date for h in search(store, "porto", entity="guaíba river")} == {dt.date(2024, 5, 8)}


def test_any_words_but_more_words_first(store: Store) -> None:
    hits = search(store, "airport sheffield")
    assert "airport" in hits[0].text.lower() or "sheffield" in hits[0].text.lower()
    assert len(hits) >= 3  # neither event holds both: the events holding one of them follow


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "NEAR(a b)",
        "a AND OR NOT",
        "text:airport",
        "*",
        "-airport",
        "^x",
        "a'b",
        "((",
        "\x00",
        "é*",
    ],
)
def test_nothing_a_reader_types_is_query_syntax(store: Store, query: str) -> None:
    search(store, query)  # never raises
    assert all(term.startswith('"') for term in fts_terms(query))


def test_query_words_phrases_prefixes_and_stopwords() -> None:
    assert fts_terms('the flood "Porto Alegre" elect*') == ['"flood"', '"Porto Alegre"', '"elect"*']
    assert fts_terms("the") == ['"the"']  # only stopwords: keep them
    assert fts_terms('say "hi') == ['"say"', '"hi"']


def test_search_command(db: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "ingest", str(ROOT / "examples")], obj={}).exit_code == 0
    result = runner.invoke(cli, ["--db", db, "search", "porto", "alegre", "--format", "jsonl"], obj={})
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows[0]["rank"] == 1 and rows[0]["url"].startswith("/news/2024/05/")
    assert {"id", "date", "text", "url", "snippet", "score"} <= set(rows[0])
    table = runner.invoke(
        cli, ["--db", db, "search", "flood", "--from", "2024-05-07", "--entity", "Brazil"], obj={}
    )
    assert table.exit_code == 0 and "2024-05-08" in table.output and "2024-05-06" not in table.output
    bad = runner.invoke(cli, ["--db", db, "search", "x", "--from", "May"], obj={})
    assert bad.exit_code != 0 and "not a date" in bad.output


def test_store_of_an_older_schema_gets_its_events_indexed(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript("\n".join(MIGRATIONS[:3]) + "\nPRAGMA user_version = 3;")  # before search
    conn.executescript(
        "INSERT INTO days VALUES ('2020-01-01', 'x', 'jsonl', '', '');"
        "INSERT INTO events VALUES ('20200101-x', '2020-01-01', 0, 'X', '[\"A storyline\"]', 'Old news.');"
        "INSERT INTO entities VALUES (1, 'Oldtown');"
        "INSERT INTO event_entities VALUES ('20200101-x', 1, 0);"
    )
    conn.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        for words in ("old news", "oldtown", "storyline"):
            assert ids(search(store, words)) == ["20200101-x"]


# -- the static index -------------------------------------------------------------


@given(st.lists(st.tuples(st.integers(0, 5000), st.booleans()), max_size=60))
def test_postings_round_trip(pairs: list[tuple[int, bool]]) -> None:
    docs = sorted({doc: strong for doc, strong in pairs}.items())
    out = bytearray()
    previous = -1
    for doc, strong in docs:
        search_index._encode((doc - previous - 1) * 2 + strong, out)
        previous = doc
    assert decode(out.decode("ascii")) == docs


def test_terms_fold_case_and_accents_and_drop_stopwords() -> None:
    assert search_index.terms("The Guaíba River's 5.3 m rise, İzmir") == [
        "guaiba",
        "river",
        "5",
        "3",
        "rise",
        "izmir",
    ]


def test_static_index_finds_events_and_fetches_little(tmp_path: Path) -> None:
    docs = [
        SearchDoc(f"id{n}", dt.date(2020, 1, 1) + dt.timedelta(days=n), f"Event {n}", f"news/x/{n}",
                  f"Common words and a word{n % 97} here", "Entity" + str(n % 13))
        for n in range(5000)
    ]  # fmt: skip
    files = build_index(docs)
    index = StaticIndex(lambda name: files[f"search/{name}"])
    hits = index.search("word5 entity5")
    # Every doc holding both words first, the newest first (equal scores).
    assert hits[0].id == max((d for d in docs if d.text.endswith("word5 here") and d.names == "Entity5"),
                             key=lambda d: d.date).id  # fmt: skip
    assert all(h.id.startswith("id") for h in hits) and len(hits) == 20
    total = sum(len(v) for v in files.values())
    assert sum(index.fetched.values()) < total / 4
    assert len([n for n in index.fetched if n.startswith("t/")]) <= 2  # a shard a word, of the base
    assert len([n for n in index.fetched if n.startswith("r/")]) <= 2  # and of the recent part
    assert StaticIndex(lambda name: files[f"search/{name}"]).search("the and of") == []
