"""Incremental publish: update_site renders only what a change touches, and ends with
exactly the files a full build would make."""

from __future__ import annotations

import dataclasses
import datetime as dt
import filecmp
import json
import shutil
from pathlib import Path

import pytest

from daybook.ingest import ingest_paths
from daybook.model import Day, Event, event_id
from daybook.publish import BuildOptions, build_site, sitemap, update_site
from daybook.publish.folder import locate
from daybook.relate import Settings, refresh
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
        # The same site, to be rebuilt whole: the folder, and the state beside the store.
        shutil.copytree(incremental, full)
        shutil.copyfile(locate(tmp_path / "a.db", incremental).state, locate(tmp_path / "a.db", full).state)
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


# -- entity and story pages, name slugs: updates against full builds -------------------


def thread_day(date: dt.date, n: int, entities: tuple[str, ...], story: str = "The long story") -> Day:
    text = f"Event number {n} of the long thread."
    ident = event_id(date, "Politics", (story,), text)
    return Day(date, (Event(ident, date, "Politics", (story,), text, entities, ()),))


def check_update_equals_full(store: Store, site: Path, full: Path, dates: list[dt.date]) -> None:
    report = refresh(store, Settings(), workers=1)
    update_site(store, site, BuildOptions(formats=("json", "md")), dates=dates, event_ids=report.changed)
    shutil.rmtree(full, ignore_errors=True)
    build_site(store, full, BuildOptions(formats=("json", "md")))
    assert files(site) == files(full)


@pytest.mark.slow
@pytest.mark.parametrize("sitemap_limit", [sitemap.LIMIT, 150])
def test_updates_of_long_threads_and_colliding_names_equal_full_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sitemap_limit: int
) -> None:
    """Parts appear and go, a day in the middle changes, a name goes, a new name takes
    over a bare slug (and gives it back): after each update the site is what a full
    build of the same store makes (with a sitemap in one file, or in sections split
    in parts)."""
    monkeypatch.setattr(sitemap, "LIMIT", sitemap_limit)
    site, full = tmp_path / "site", tmp_path / "full"
    first = dt.date(2023, 1, 1)
    with Store(tmp_path / "t.db") as store:
        for n in range(195):
            store.replace_day(
                thread_day(first + dt.timedelta(days=n), n, ("Long thread", "Kharkív")),
                origin="t",
                format="jsonl",
            )
        refresh(store, Settings(), workers=1)
        build_site(store, site, BuildOptions(formats=("json", "md")))
        steps: list[tuple[int, tuple[str, ...]] | tuple[int, None]] = [
            *((n, ("Long thread", "Kharkív")) for n in range(195, 215)),  # a first part appears
            (100, ("Long thread", "Kharkiv")),  # a day in the middle: a name taking over Kharkív's slug
            (100, ("Long thread",)),  # and gone again: the slug goes back
            (214, None),  # the newest day emptied
            (213, None),
            *((n, None) for n in range(212, 199, -1)),  # the part goes again
        ]
        for n, entities in steps:
            date = first + dt.timedelta(days=n)
            day = thread_day(date, n, entities) if entities is not None else Day(date, ())
            store.replace_day(day, origin="t", format="jsonl")
            check_update_equals_full(store, site, full, [date])
        if sitemap_limit < 1000:
            assert (site / "sitemap-news-2023-2.xml").exists() and (site / "sitemap-entity-k.xml").exists()
        assert (site / "entity/kharkiv.json").exists()
        assert not list(site.glob("entity/kharkiv-*"))
