"""The writer: atomic writes, unchanged files untouched, conflicts refused, no escape."""

from __future__ import annotations

from pathlib import Path

import pytest

from daybook.errors import WriteError
from daybook.publish.writer import Recorded, Writer


def test_writes_then_leaves_unchanged_files_alone(tmp_path: Path) -> None:
    first = Writer(tmp_path)
    assert first.write("news/2024/05/6/index.md", "hello\n")
    mtime = (tmp_path / "news/2024/05/6/index.md").stat().st_mtime_ns
    second = Writer(tmp_path)
    assert not second.write("news/2024/05/6/index.md", "hello\n")
    assert second.report.written == [] and second.report.unchanged == 1
    assert (tmp_path / "news/2024/05/6/index.md").stat().st_mtime_ns == mtime


def test_two_contents_for_one_path_are_refused(tmp_path: Path) -> None:
    writer = Writer(tmp_path)
    writer.write("a.md", "one")
    writer.write("a.md", "one")  # the same content twice is harmless
    with pytest.raises(WriteError, match="two different contents"):
        writer.write("a.md", "two")
    assert (tmp_path / "a.md").read_text() == "one"


@pytest.mark.parametrize(
    "path", ["../evil.md", "/etc/passwd", "news/../../x.md", ".git/config", "news\\..\\x"]
)
def test_paths_cannot_leave_the_output_folder(tmp_path: Path, path: str) -> None:
    with pytest.raises(WriteError):
        Writer(tmp_path / "out").write(path, "x")
    assert not (tmp_path / "evil.md").exists()


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "news").symlink_to(tmp_path)
    with pytest.raises(WriteError, match="leaves the output folder"):
        Writer(out).write("news/x.md", "x")


def test_prune_removes_what_daybook_wrote_before_and_this_build_did_not(tmp_path: Path) -> None:
    first = Writer(tmp_path)
    first.write("news/2024/05/6/old.md", "x")
    first.write("index.md", "y")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    (tmp_path / "news/2024/05/6/notes.txt").write_text("mine")
    (tmp_path / "photo.jpg").write_text("mine too")
    writer = Writer(tmp_path, Recorded(first.made))
    writer.write("index.md", "y")
    writer.prune()
    assert writer.report.removed == ["news/2024/05/6/old.md"]
    assert not writer.remove("photo.jpg")  # not daybook's to remove, whoever asks
    assert (tmp_path / ".git" / "HEAD").exists()
    assert (tmp_path / "news/2024/05/6/notes.txt").read_text() == "mine"
    assert (tmp_path / "photo.jpg").read_text() == "mine too"
    Writer(tmp_path, Recorded(["news/2024/05/6/notes.txt"])).remove("news/2024/05/6/notes.txt")
    assert not (tmp_path / "news").exists()  # the folders it leaves empty go too


def test_a_file_daybook_did_not_write_in_the_way_stops_the_build(tmp_path: Path) -> None:
    (tmp_path / "index.md").write_text("the user's")
    writer = Writer(tmp_path)
    assert not writer.write("index.md", "the user's")  # the same bytes: nothing to do
    with pytest.raises(WriteError, match=r"index.md: in the way \(daybook did not write this file\)"):
        Writer(tmp_path).write("index.md", "daybook's")
    assert (tmp_path / "index.md").read_text() == "the user's"
    assert Writer(tmp_path, Recorded(["index.md"])).write("index.md", "daybook's")


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    writer = Writer(tmp_path)
    for n in range(5):
        writer.write(f"p{n}.json", "{}" * n)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"p{n}.json" for n in range(5)]


def test_keep_all_keeps_every_file_or_none(tmp_path: Path) -> None:
    for name in ("a.md", "a.html"):
        Writer(tmp_path).write(f"news/{name}", "x")
    (tmp_path / "news/b.md").symlink_to(tmp_path / "news/a.md")
    writer = Writer(tmp_path)
    assert not writer.keep_all(["news/a.md", "news/a.json"])  # one is not there
    assert not writer.keep_all(["news/a.md", "news/b.md"])  # one is a symlink
    assert writer.report.unchanged == 0 and not writer.made
    assert writer.keep_all(["news/a.md", "news/a.html"])
    assert writer.report.unchanged == 2 and set(writer.made) == {"news/a.md", "news/a.html"}
    assert not writer.keep_all(["news/a.md"])  # kept already
    with pytest.raises(WriteError):
        writer.keep_all(["news/../../x.md"])
    with pytest.raises(WriteError):
        writer.keep_all(["news/.hidden"])
    # A file removed since the folder was listed is not there to keep.
    assert writer.remove("news/a.html")
    assert not writer.keep_all(["news/a.html"])
