"""Golden tests of whole builds: the bundled example (as ``make demo`` builds it) and one
real day of the shared data, each built in a fresh folder and compared, file by file and
byte for byte, with the tree committed under ``tests/golden/site-<name>/``.

Hidden files (the site's state ``.daybook-site.db``, a ``.git``) are not the site and are
not compared. When a change of the output is intended, ``scripts/regenerate-golden-sites``
rebuilds the trees; review ``git diff tests/golden`` and commit it with the change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from golden_sites import DAY, EXAMPLE, GoldenSite, build, compare, published


def check(site: GoldenSite, work: Path) -> None:
    assert site.expected.is_dir(), f"{site.expected} missing: run scripts/regenerate-golden-sites"
    built = build(site, work)
    difference = compare(site.expected, built)
    if difference:
        pytest.fail(difference.report(site.expected, built), pytrace=False)


def test_example_site_is_golden(tmp_path: Path) -> None:
    check(EXAMPLE, tmp_path)


def test_real_day_site_is_golden(tmp_path: Path, shared_data: Path) -> None:
    check(DAY, tmp_path)


def test_build_is_deterministic(tmp_path: Path) -> None:
    """Two builds in fresh folders of different names publish the same bytes."""
    first = build(EXAMPLE, tmp_path / "a")
    second = build(EXAMPLE, tmp_path / "another-folder")
    difference = compare(first, second)
    assert not difference, difference.report(first, second)


def test_one_process_or_several_write_the_same_bytes(tmp_path: Path, shared_data: Path) -> None:
    """Pages rendered in worker processes (in batches, several at once) are the bytes one
    process writes: the golden tree's, both."""
    serial = build(DAY, tmp_path / "one", jobs=1)
    parallel = build(DAY, tmp_path / "three", jobs=3)
    difference = compare(serial, parallel)
    assert not difference, difference.report(serial, parallel)
    difference = compare(DAY.expected, serial)
    assert not difference, difference.report(DAY.expected, serial)


def test_batches_rendered_here_while_the_worker_has_enough_are_the_same_bytes(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no batch left waiting for the worker, the building process renders most batches
    itself, written in their turn: the golden tree's bytes still."""
    from daybook.publish import build as build_module

    monkeypatch.setattr(build_module, "RENDER_AHEAD", 1)
    here: list[object] = []

    class Counted(build_module._Rendered):
        def __init__(self, files: list[dict[str, str]]) -> None:
            super().__init__(files)
            here.append(self)

    monkeypatch.setattr(build_module, "_Rendered", Counted)
    built = build(DAY, tmp_path / "two", jobs=2)
    assert here, "the building process rendered batches"
    difference = compare(DAY.expected, built)
    assert not difference, difference.report(DAY.expected, built)


def test_comparison_reports_missing_extra_and_differing_files(tmp_path: Path) -> None:
    expected, actual = tmp_path / "expected", tmp_path / "actual"
    for root in (expected, actual):
        (root / "news").mkdir(parents=True)
        (root / "same.md").write_text("same\n")
        (root / ".daybook-site.db").write_bytes(root.name.encode())  # hidden: ignored
        (root / ".git").mkdir()
        (root / ".git" / "HEAD").write_text(root.name)
    (expected / "gone.html").write_text("gone\n")
    (actual / "new.json").write_text("{}\n")
    (expected / "news" / "day.md").write_text("# Day\n\nold line\n")
    (actual / "news" / "day.md").write_text("# Day\n\nnew line\n")
    (expected / "news" / "image.bin").write_bytes(b"\xff\x00")
    (actual / "news" / "image.bin").write_bytes(b"\xfe\x00")

    assert sorted(published(actual)) == ["new.json", "news/day.md", "news/image.bin", "same.md"]
    difference = compare(expected, actual)
    assert difference.missing == ["gone.html"]
    assert difference.extra == ["new.json"]
    assert difference.differing == ["news/day.md", "news/image.bin"]
    report = difference.report(expected, actual)
    assert "-old line\n+new line" in report
    assert "news/image.bin: binary, 2 bytes expected, 2 built" in report
    assert "scripts/regenerate-golden-sites" in report
    assert not compare(expected, expected)
