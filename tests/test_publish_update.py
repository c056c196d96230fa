"""Incremental publish: update_site renders only what a change touches, and ends with
exactly the files a full build would make."""

from __future__ import annotations

import dataclasses
import datetime as dt
import filecmp
import json
import shutil
from pathlib import Path

from daybook.ingest import ingest_paths
from daybook.model import Day
from daybook.publish import BuildOptions, build_site, update_site
from daybook.relate import Settings
from daybook.relation import refresh
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
MAY_7, MAY_8 = dt.date(2024, 5, 7), dt.date(2024, 5, 8)


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def edit_day(store: Store) -> set[str]:
    """One event edited (same id, new text, so a new slug), one removed, one added."""
    day = Day(MAY_7, tuple(store.events(date=MAY_7)))
    edited = dataclasses.replace(day.events[1], text="The Porto Alegre airport closes until the end of May.")
    added = dataclasses.replace(
        day.events[0], id="20240507-added000001", text="A new event about Goma.", sources=()
    )
    store.replace_day(Day(MAY_7, (day.events[0], edited, *day.events[3:], added)), origin="t", format="jsonl")
    report = refresh(store, Settings(), workers=1)
    return set(report.changed)


def test_update_equals_full_build_and_touches_only_what_changed(tmp_path: Path) -> None:
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    with Store(tmp_path / "a.db") as store:
        ingest_paths(store, [ROOT / "examples"])
        refresh(store, Settings(), workers=1)
        build_site(store, incremental)
        old_airport = next(incremental.glob("news/2024/05/7/the-airport-of-porto-alegre*.md"))
        before = files(incremental)
        shutil.copytree(incremental, full)  # the same site, to be rebuilt whole
        changed_lists = edit_day(store)
        report = update_site(store, incremental, dates=[MAY_7], event_ids=changed_lists)
        build_site(store, full)
    after = files(incremental)
    assert after == files(full), "an update ends where a full rebuild would"
    # The written files are exactly those whose bytes changed (or are new).
    changed = {p for p in after if before.get(p) != after[p]}
    assert set(report.written) == changed
    assert set(report.removed) == set(before) - set(after)
    # Pages untouched by the change were not rewritten: May 6's flood page shows no May 7 event.
    assert not any(p.startswith("news/2024/05/6/a-mudslide") for p in report.written)
    # The edited event's old address answers with a pointer to the new one.
    redirect = old_airport.read_text(encoding="utf-8")
    assert redirect.startswith("Moved to [The Porto Alegre airport closes")
    html = old_airport.with_suffix(".html").read_text(encoding="utf-8")
    assert 'http-equiv="refresh"' in html and "the-porto-alegre-airport-closes" in html
    assert json.loads(old_airport.with_suffix(".json").read_text())["kind"] == "redirect"


def test_update_with_nothing_new_writes_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as store:
        ingest_paths(store, [ROOT / "examples"])
        refresh(store, Settings(), workers=1)
        build_site(store, tmp_path / "site")
        report = update_site(store, tmp_path / "site", dates=[MAY_8])
    assert not report.written and not report.removed


def test_update_of_a_never_built_folder_builds_it_all(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as store:
        ingest_paths(store, [ROOT / "examples"])
        update_site(store, tmp_path / "site", BuildOptions(), dates=[MAY_8])
        build_site(store, tmp_path / "full")
    assert not filecmp.dircmp(tmp_path / "site", tmp_path / "full").diff_files
    assert files(tmp_path / "site") == files(tmp_path / "full")
