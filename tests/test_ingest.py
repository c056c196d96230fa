"""Ingest end to end on real files: the CLI, the store, and re-ingesting."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from daybook.cli import cli
from daybook.ingest import ingest_paths
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]


def run(db: Path | str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], obj={})
    assert result.exit_code == 0, result.output
    return result.output


def test_real_days_and_examples_through_the_cli(db: str, shared_data: Path) -> None:
    days = [
        shared_data / "portal-html" / "2022-03-07.html",
        shared_data / "portal-html-2025" / "2026-01-15.html",
    ]
    run(db, "ingest", *map(str, days), str(ROOT / "examples"))
    stats = json.loads(run(db, "stats", "--json"))
    assert stats["days"] == 5 and stats["first_date"] == "2022-03-07" and stats["last_date"] == "2026-01-15"
    events = [
        json.loads(x) for x in run(db, "events", "--date", "2022-03-07", "--format", "jsonl").splitlines()
    ]
    iaea = [e for e in events if "Kharkiv Institute of Physics and Technology" in e["entities"]]
    assert len(iaea) == 1
    assert iaea[0]["story"] == [
        "Russo-Ukrainian War",
        "2022 Russian invasion of Ukraine",
        "Battle of Kharkiv (2022)",
    ]
    assert iaea[0]["sources"] == [
        {
            "outlet": "Bloomberg",
            "url": "https://www.bloomberg.com/news/articles/2022-03-07/"
            "russian-shelling-destroys-ukraine-atomic-lab-built-with-u-s",
        }
    ]


def test_ingesting_again_keeps_ids_and_replaces_only_that_day(
    db: str, tmp_path: Path, shared_data: Path
) -> None:
    folder = tmp_path / "days"
    folder.mkdir()
    for name in ("2022-03-07.html", "2022-03-08.html"):
        shutil.copy(shared_data / "portal-html" / name, folder / name)
    with Store(db) as store:
        ingest_paths(store, [folder])
        before = store.events()
        # A day edited upstream: the 8th loses an event (one with a sibling, so its
        # story line stays a story); the 7th is untouched.
        page = (folder / "2022-03-08.html").read_text(encoding="utf-8")
        leaf = list(re.finditer(r"<li>(?:(?!<li>|<ul|</li>).)*</li>\s*(?=<li>)", page, re.DOTALL))[-1]
        (folder / "2022-03-08.html").write_text(page[: leaf.start()] + page[leaf.end() :], encoding="utf-8")
        report = ingest_paths(store, [folder / "2022-03-08.html"])
        after = store.events()
    assert [c.date.isoformat() for c in report.changes] == ["2022-03-08"]
    assert len(report.changes[0].removed) == 1 and not report.changes[0].added
    assert [e for e in after if e.date.day == 7] == [e for e in before if e.date.day == 7]
    assert {e.id for e in after} < {e.id for e in before}


def test_a_broken_file_is_named_and_the_rest_are_stored(tmp_path: Path, shared_data: Path) -> None:
    bad = tmp_path / "2022-03-09.wiki"
    bad.write_bytes(b"\xff\xfe not utf-8 \x80")
    good = shared_data / "portal-html" / "2022-03-07.html"
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "d.db"), "ingest", str(bad), str(good)], obj={})
    assert result.exit_code == 1
    assert f"failed: {bad}:1: not UTF-8" in result.output
    assert "1 of 2 files ingested" in result.output


def test_ingesting_an_unchanged_day_leaves_nothing_to_relate(db: str, shared_data: Path) -> None:
    days = [str(shared_data / "portal-html" / name) for name in ("2022-03-07.html", "2022-03-08.html")]
    run(db, "ingest", *days)
    assert "computed" in run(db, "relate")
    with Store(db) as store:
        stored = store.events()
        assert store.relate_days()[1] == []
    run(db, "ingest", days[1])
    with Store(db) as store:
        assert store.relate_days()[1] == [], "an unchanged day is queued for nothing"
        assert store.events() == stored
    assert run(db, "relate").rstrip().endswith(": 0 changed, 0 removed")
