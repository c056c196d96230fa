"""The command line, run in-process: store path, ingest, stats, events, errors."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from daybook.cli import cli

EVENTS = [
    {
        "id": "20220307-aaaaaaaaaaaa",
        "date": "2022-03-07",
        "category": "Armed conflicts and attacks",
        "story": ["Russo-Ukrainian War", "Battle of Kharkiv (2022)"],
        "text": "Shelling damages a research institute in Kharkiv.",
        "entities": ["Kharkiv", "Russo-Ukrainian War", "Battle of Kharkiv (2022)"],
        "sources": [{"outlet": "Bloomberg", "url": "https://www.bloomberg.com/a"}],
        "parent": None,
    },
    {
        "id": "20220308-bbbbbbbbbbbb",
        "date": "2022-03-08",
        "category": "Sports",
        "story": [],
        "text": "A match is played — “in the rain”.",
        "entities": [],
        "sources": [],
        "parent": None,
    },
]


def run(*args: str, db: Path | str, input: str | None = None) -> click.testing.Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], input=input, obj={})


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in EVENTS), encoding="utf-8")
    return path


def test_every_command_has_help() -> None:
    for name, command in cli.commands.items():
        assert command.help, f"command {name} has no help"


def test_jsonl_round_trips_through_ingest(db: str, tmp_path: Path, jsonl: Path) -> None:
    result = run("ingest", str(jsonl), db=db)
    assert result.exit_code == 0, result.output
    exported = run("events", "--format", "jsonl", db=db).output
    assert [json.loads(line) for line in exported.splitlines()] == EVENTS
    again = tmp_path / "again.jsonl"
    again.write_text(exported, encoding="utf-8")
    db2 = tmp_path / "b.db"
    assert run("ingest", str(again), db=db2).exit_code == 0
    assert run("events", "--format", "jsonl", db=db2).output == exported


def test_a_follow_up_keeps_its_parent_through_jsonl(db: str, tmp_path: Path) -> None:
    follow_up = {**EVENTS[0], "id": "20220307-cccccccccccc", "text": "The institute is evacuated."}
    path = tmp_path / "f.jsonl"
    lines = [EVENTS[0], {**follow_up, "parent": EVENTS[0]["id"]}]
    path.write_text("".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8")
    assert run("ingest", str(path), db=db).exit_code == 0
    exported = [json.loads(line) for line in run("events", "--format", "jsonl", db=db).output.splitlines()]
    assert [e["parent"] for e in exported] == [None, "20220307-aaaaaaaaaaaa"]
    path.write_text(json.dumps({**follow_up, "parent": 7}) + "\n", encoding="utf-8")
    assert "'parent' must be an event id or null" in run("ingest", str(path), db=db).output


def test_stats_json_has_the_documented_keys(db: str, tmp_path: Path, jsonl: Path) -> None:
    run("ingest", str(jsonl), db=db)
    stats = json.loads(run("stats", "--json", db=db).output)
    assert stats == {
        "days": 2,
        "events": 2,
        "events_with_sources": 1,
        "sources": 1,
        "entities": 3,
        "first_date": "2022-03-07",
        "last_date": "2022-03-08",
    }


def test_db_from_environment(tmp_path: Path, jsonl: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "env.db"
    monkeypatch.setenv("DAYBOOK_DB", str(db))
    assert CliRunner().invoke(cli, ["ingest", str(jsonl)], obj={}).exit_code == 0
    assert db.exists()


def test_events_filters_by_date(db: str, tmp_path: Path, jsonl: Path) -> None:
    run("ingest", str(jsonl), db=db)
    one = run("events", "--date", "2022-03-08", "--format", "jsonl", db=db).output.splitlines()
    assert [json.loads(x)["id"] for x in one] == ["20220308-bbbbbbbbbbbb"]
    both = run("events", "--from", "2022-03-01", "--to", "2022-03-31", "--format", "jsonl", db=db)
    assert len(both.output.splitlines()) == 2
    table = run("events", db=db)
    assert table.exit_code == 0 and "Kharkiv" in table.output


def test_bad_date_is_a_usage_error(tmp_path: Path) -> None:
    result = run("events", "--date", "2022-13-40", db=tmp_path / "a.db")
    assert result.exit_code == 2 and "not a date" in result.output


def test_failed_file_is_named_others_are_stored(db: str, tmp_path: Path, jsonl: Path) -> None:
    bad = tmp_path / "2022-03-09.jsonl"
    bad.write_text('{"date": "2022-03-09", "text": "ok"}\n{not json\n', encoding="utf-8")
    result = run("ingest", str(jsonl), str(bad), db=db)
    assert result.exit_code == 1
    assert f"{bad}:2: invalid JSON" in result.output
    assert json.loads(run("stats", "--json", db=db).output)["events"] == 2


def test_missing_file_and_unknown_type_fail_cleanly(tmp_path: Path) -> None:
    odd = tmp_path / "notes.pdf"
    odd.write_bytes(b"%PDF")
    result = run("ingest", str(tmp_path / "nope.wiki"), str(odd), db=tmp_path / "a.db")
    assert result.exit_code == 1
    assert "nope.wiki: no such file or folder" in result.output
    assert "notes.pdf: unknown file type '.pdf'" in result.output


def test_unusable_store_is_one_line_error(tmp_path: Path) -> None:
    result = run("stats", db=tmp_path)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1
