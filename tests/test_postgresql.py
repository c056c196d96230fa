"""The same daybook on PostgreSQL: the commands give the same bytes as on SQLite, a store
copies either way (and a copy stopped midway finishes), the real data gives the same
stats and site. Runs against the session's throwaway cluster (``postgres`` fixture)."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pg_cluster
import psycopg
import pytest
from click.testing import CliRunner, Result
from conftest import FIXTURES, RealSite

from daybook.cli import cli
from daybook.publish import BuildOptions, build_site
from daybook.store import Store, copy_store
from daybook.store.copy import NOT_COPIED, TABLES, TRIGGERED

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run(db: str, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--db", db, *args], obj={})
    assert result.exit_code == 0, result.output
    return result


def outputs(db: str, out: Path) -> dict[str, str]:
    """What the read commands print, and the site built."""
    events = [json.loads(line) for line in run(db, "events", "--format", "jsonl").output.splitlines()]
    found = {
        "events": run(db, "events", "--format", "jsonl").output,
        "stats": run(db, "stats", "--json").output,
        "sources": run(db, "sources", "--format", "jsonl").output,
    }
    for event in events[::4]:
        found[f"related {event['id']}"] = run(db, "related", event["id"], "--format", "jsonl").output
    # The events found, with their pages; the order (bm25 or ts_rank), the score and the
    # snippet are each engine's own (README: PostgreSQL).
    for words in ("Goma", "rio grande floods", "Xi Jinping", "united nations", "macron*"):
        hits = [
            json.loads(line) for line in run(db, "search", "--format", "jsonl", words).output.splitlines()
        ]
        found[f"search {words}"] = json.dumps(sorted((hit["id"], hit["url"], hit["text"]) for hit in hits))
    run(db, "build", str(out), "--opinion", str(EXAMPLES / "opinion"))
    return found


def same_tree(a: Path, b: Path) -> list[str]:
    """The files that differ between two folders (or are in one only)."""
    compared = filecmp.dircmp(a, b)
    differ = [*compared.left_only, *compared.right_only, *compared.diff_files, *compared.funny_files]
    (_, mismatch, errors) = filecmp.cmpfiles(a, b, compared.common_files, shallow=False)
    differ += mismatch + errors
    for sub in compared.common_dirs:
        differ += [f"{sub}/{name}" for name in same_tree(a / sub, b / sub)]
    return sorted(set(differ))


def test_commands_print_the_same_bytes_on_both_backends(postgres: pg_cluster.Cluster, tmp_path: Path) -> None:
    lite, pg = str(tmp_path / "t.db"), postgres.new_database()
    for db in (lite, pg):
        run(db, "ingest", str(EXAMPLES))
        run(db, "relate")
    on_lite, on_pg = outputs(lite, tmp_path / "site-lite"), outputs(pg, tmp_path / "site-pg")
    assert on_lite.keys() == on_pg.keys()
    for key in on_lite:
        assert on_lite[key] == on_pg[key], key
    assert same_tree(tmp_path / "site-lite", tmp_path / "site-pg") == []
    # Relate again after a day changes: the incremental path, on both.
    for db in (lite, pg):
        run(db, "ingest", str(EXAMPLES / "2024-05-07.html"))
        run(db, "relate")
    assert outputs(lite, tmp_path / "site-lite")["events"] == outputs(pg, tmp_path / "site-pg")["events"]
    assert same_tree(tmp_path / "site-lite", tmp_path / "site-pg") == []


def test_copy_covers_every_table(tmp_path: Path) -> None:
    """A table added to the schema must be copied, or said not to be (store/copy.py)."""
    copied = {name for name, _ in (*TABLES, *TRIGGERED)} | NOT_COPIED
    with Store(tmp_path / "schema.db") as store:
        tables = {
            row[0]
            for row in store.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT LIKE 'event_search_%'"
            )
        }
    assert tables == copied


def tables_of(db: str) -> dict[str, list[tuple[object, ...]]]:
    """Every copied table's rows, in key order (the times enrich and relate stamp included)."""
    with Store(db, create=False) as store:
        return {
            name: [
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in store.conn.execute(f"SELECT * FROM {name} ORDER BY {', '.join(key)}")
            ]
            for name, key in (*TABLES, *TRIGGERED)
        }


def test_copy_both_ways_keeps_every_row_and_output(postgres: pg_cluster.Cluster, tmp_path: Path) -> None:
    lite = str(tmp_path / "t.db")
    run(lite, "ingest", str(EXAMPLES))
    run(lite, "relate")
    pg, back = postgres.new_database(), str(tmp_path / "back.db")
    result = CliRunner().invoke(cli, ["copy", lite, pg], obj={})
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, ["copy", pg, back], obj={}).exit_code == 0
    original = tables_of(lite)
    assert tables_of(pg) == original and tables_of(back) == original
    assert outputs(pg, tmp_path / "site-pg") == outputs(lite, tmp_path / "site-lite")
    assert same_tree(tmp_path / "site-lite", tmp_path / "site-pg") == []
    # The copy is a store like any: ingest goes on (entity numbers follow the copied ones).
    run(pg, "ingest", str(EXAMPLES / "2024-05-08.wiki"))
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 16


class Stop(Exception):
    pass


def test_a_copy_stopped_midway_finishes_with_nothing_twice(
    postgres: pg_cluster.Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lite = str(tmp_path / "t.db")
    run(lite, "ingest", str(EXAMPLES))
    run(lite, "relate")
    pg = postgres.new_database()
    monkeypatch.setattr("daybook.store.copy.BATCH", 7)
    seen = []

    def stop_after_some(count: int) -> None:
        seen.append(count)
        if len(seen) == 6:  # a kill between two batches
            raise Stop

    with Store(lite, create=False) as source, Store(pg) as target, pytest.raises(Stop):
        copy_store(source, target, on_rows=stop_after_some)
    assert len(tables_of(pg)["events"]) > 0 or len(tables_of(pg)["entities"]) > 0
    result = CliRunner().invoke(cli, ["copy", lite, pg], obj={})
    assert result.exit_code == 0, result.output
    assert tables_of(pg) == tables_of(lite)


def test_copy_refuses_a_store_onto_itself(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    result = CliRunner().invoke(cli, ["copy", db, db], obj={})
    assert result.exit_code == 2 and "onto itself" in result.output


@pytest.mark.slow
def test_real_data_gives_the_same_stats_and_site(
    postgres: pg_cluster.Cluster, real_site: RealSite, shared_data: Path, tmp_path: Path
) -> None:
    """Both shared portal sets, ingested and related on PostgreSQL as on SQLite (the
    session's ``real_store`` and ``real_site``): the same stats, the same site."""
    pg = postgres.new_database()
    run(pg, "ingest", str(shared_data / "portal-html"), str(shared_data / "portal-html-2025"))
    run(pg, "relate")
    assert run(pg, "stats", "--json").output == run(str(real_site.db), "stats", "--json").output
    with Store(pg, create=False) as store:
        build_site(store, tmp_path / "site", BuildOptions(opinion_dir=FIXTURES / "opinion"))
    assert same_tree(real_site.root, tmp_path / "site") == []
