"""The site folder: daybook writes only into a new or empty folder or a site it built,
removes only files it wrote, keeps the site's state beside the store (never in the
site), one build of a site at a time, and a full disk leaves no half page."""

from __future__ import annotations

import datetime as dt
import errno
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from daybook.cli import cli
from daybook.ingest import ingest_paths
from daybook.publish import build_site, update_site
from daybook.publish.folder import OLD_STATE_NAME, locate, site_lock
from daybook.publish.writer import temporary_name
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
MAY_8 = dt.date(2024, 5, 8)
FUND = "federal government announces an emergency fund"
USER_FILES = {
    "notes.txt": b"my notes",
    "sub/photo.jpg": b"\xff\xd8 a photo",
    ".well-known/security.txt": b"Contact: me",
    "news/2024/05/8/notes.md": b"beside daybook's pages",
    "news/.keep": b"",
    "search/mine.json": b"{}",  # where daybook keeps its search index
    "sitemap-mine.xml": b"<urlset/>",  # named like daybook's sitemap sections
}
NEW_DAY = (
    "{{Current events|year=2024|month=05|day=09}}\n'''Sports'''\n"
    "*A [[marathon]] is run in [[Porto]]. [https://news.example.org/2024/05/09/porto (Example Wire)]\n"
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "daybook.db"
    with Store(path) as store:
        ingest_paths(store, [EXAMPLES])
    return path


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too, but not git's)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


def put(folder: Path, found: dict[str, bytes]) -> None:
    for rel, data in found.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)


def build(db: Path, out: Path) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), "build", str(out)], obj={})
    assert result.exit_code == 0, result.output
    return result.output


def refused(db: Path, out: Path) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), "build", str(out)], obj={})
    assert result.exit_code == 1
    return result.output


def drop_the_fund_event(db: Path, tmp_path: Path) -> None:
    """May 8 ingested again without one of its events."""
    day = tmp_path / "edited" / "2024-05-08.wiki"
    day.parent.mkdir(exist_ok=True)
    lines = (EXAMPLES / "2024-05-08.wiki").read_text(encoding="utf-8").splitlines(keepends=True)
    day.write_text("".join(line for line in lines if FUND not in line), encoding="utf-8")
    with Store(db) as store:
        (change,) = ingest_paths(store, [day]).changes
        assert len(change.removed) == 1


# -- a folder daybook did not make is refused ---------------------------------------


@pytest.mark.parametrize(
    ("held", "first"),
    [
        ({"README.txt": b"read me", "sub/photo.jpg": b"jpg"}, "README.txt"),
        ({"sub/deeper/photo.jpg": b"jpg", "sub/z.txt": b"z"}, "sub/z.txt"),
        ({".DS_Store": b"finder", ".git/HEAD": b"ref: refs/heads/main\n"}, ".DS_Store"),
        ({".git/HEAD": b"ref: refs/heads/main\n", "index.html": b"<p>mine</p>"}, "index.html"),
    ],
    ids=["top-level", "nested", "hidden", "beside-git"],
)
def test_a_folder_holding_files_daybook_did_not_write_is_refused(
    db: Path, tmp_path: Path, held: dict[str, bytes], first: str
) -> None:
    out = tmp_path / "out"
    put(out, held)
    output = refused(db, out)
    assert output == (
        f"Error: {out}: not a daybook site (holds {first}, which daybook did not write);"
        " build into a new or empty folder\n"
    )
    assert files(out) == {k: v for k, v in held.items() if not k.startswith(".git/")}
    assert (out / ".git" / "HEAD").exists() == (".git/HEAD" in held)
    assert not locate(db, out).state.exists()


def test_an_empty_folder_inside_counts_as_a_file(db: Path, tmp_path: Path) -> None:
    (tmp_path / "out" / "empty").mkdir(parents=True)
    assert "(holds empty/, which daybook did not write)" in refused(db, tmp_path / "out")


def test_the_update_command_refuses_before_it_pulls(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    put(out, {"README.txt": b"read me"})
    result = CliRunner().invoke(
        cli,
        ["--db", str(db), "update", str(out), "--api", "http://127.0.0.1:9/w/api.php", "--wayback", "off",
         "--jobs", "1"],
        obj={},
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {out}: not a daybook site (holds README.txt, which daybook did not write);"
        " build into a new or empty folder\n"
    )
    assert files(out) == {"README.txt": b"read me"}


def test_a_folder_holding_only_git_is_empty(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    subprocess.run(["git", "init", "-q", str(out)], check=True)
    head = (out / ".git" / "HEAD").read_bytes()
    build(db, out)
    assert (out / "index.html").is_file() and (out / ".git" / "HEAD").read_bytes() == head


# -- in a daybook site, the user's files are never touched -----------------------------


def rebuild_whole(db: Path, out: Path) -> None:
    with Store(db) as store:
        build_site(store, out)


def rebuild_may_8(db: Path, out: Path) -> None:
    with Store(db) as store:
        update_site(store, out, dates=[MAY_8])


@pytest.mark.parametrize("rebuild", [rebuild_whole, rebuild_may_8], ids=["build", "update"])
def test_stale_pages_go_and_the_users_files_stay(
    db: Path, tmp_path: Path, rebuild: Callable[[Path, Path], None]
) -> None:
    out = tmp_path / "site"
    build(db, out)
    fund = sorted(p for p in files(out) if "emergency-fund" in p and p.startswith("news/"))
    assert len(fund) == 4  # the event's page in each format
    put(out, USER_FILES)
    drop_the_fund_event(db, tmp_path)
    rebuild(db, out)
    left = files(out)
    assert not set(fund) & set(left)
    assert {k: left.get(k) for k in USER_FILES} == USER_FILES
    build(db, tmp_path / "fresh")  # what the site is now, into a new folder
    assert {k: v for k, v in left.items() if k not in USER_FILES} == files(tmp_path / "fresh")


def test_the_state_is_beside_the_store_and_a_rebuild_with_no_change_leaves_it(
    db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(db, out)
    site = locate(db, out)
    assert site.state.parent == tmp_path / "daybook.db.sites" and site.state.is_file()
    assert not [p for p in files(out) if p.startswith(".") or "/." in p], "nothing hidden in the site"
    with sqlite3.connect(site.state) as conn:
        assert dict(conn.execute("SELECT key, value FROM meta"))["site"] == "site"
        recorded = {row[0] for row in conn.execute("SELECT path FROM files")}
    conn.close()
    assert recorded == set(files(out)), "every file daybook wrote is recorded"
    before = site.state.read_bytes(), site.state.stat().st_mtime_ns, site.state.stat().st_ino
    assert build(db, out).startswith("0 written,")
    assert (site.state.read_bytes(), site.state.stat().st_mtime_ns, site.state.stat().st_ino) == before


def test_a_file_where_a_new_page_goes_stops_the_build(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(db, out)
    put(out, {"news/2024/05/9/index.md": b"my own page"})
    new_day = tmp_path / "2024-05-09.wiki"
    new_day.write_text(NEW_DAY, encoding="utf-8")
    with Store(db) as store:
        ingest_paths(store, [new_day])
    output = refused(db, out)
    assert output == (
        f"Error: {out.resolve()}/news/2024/05/9/index.md: in the way (daybook did not write this file);"
        " move it out of the site folder and build again\n"
    )
    assert (out / "news/2024/05/9/index.md").read_bytes() == b"my own page"
    (out / "news/2024/05/9/index.md").unlink()
    build(db, out)
    assert files(out) == (build(db, tmp_path / "fresh") and files(tmp_path / "fresh"))


def test_a_site_an_older_daybook_built_is_adopted_once(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(db, out)
    # As an older daybook left it: the state in the site, without the record of files.
    site = locate(db, out)
    with sqlite3.connect(site.state) as conn:
        conn.execute("DROP TABLE files")
        conn.execute("DELETE FROM meta WHERE key = 'site'")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'format'")
    conn.close()
    site.state.rename(out / OLD_STATE_NAME)
    site.journal.unlink()
    fund = sorted(p for p in files(out) if "emergency-fund" in p and p.startswith("news/"))
    put(out, USER_FILES)
    drop_the_fund_event(db, tmp_path)
    output = build(db, out)
    assert not (out / OLD_STATE_NAME).exists() and site.state.is_file()
    left = files(out)
    assert not set(fund) & set(left) and {k: left.get(k) for k in USER_FILES} == USER_FILES
    build(db, tmp_path / "fresh")
    assert {k: v for k, v in left.items() if k not in USER_FILES} == files(tmp_path / "fresh")
    assert " 5 removed;" in output  # the event's four files, and the search shard that held it
    before = site.state.stat().st_mtime_ns
    assert build(db, out).startswith("0 written,") and site.state.stat().st_mtime_ns == before


# -- one build at a time -------------------------------------------------------------


def test_a_build_while_another_writes_the_site_is_refused(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(db, out)
    with site_lock(locate(db, out)):
        output = refused(db, out)
    assert output == (
        f"Error: {out}: another daybook build or update is writing this site (pid {os.getpid()});"
        " try again when it is done\n"
    )
    assert build(db, out).startswith("0 written,")


def test_two_builds_at_once_leave_one_whole_site(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    command = [sys.executable, "-m", "daybook", "--db", str(db), "build", str(out)]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"
    ]
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    assert any(code == 0 for code, _, _ in results), results
    for code, stdout, stderr in results:
        if code != 0:  # the one that found the other at work
            assert code == 1 and stdout == ""
            assert stderr.startswith(
                f"Error: {out}: another daybook build or update is writing this site (pid "
            )
            assert stderr.count("\n") == 1
    build(db, tmp_path / "fresh")
    assert files(out) == files(tmp_path / "fresh")
    assert build(db, out).startswith("0 written, ")


# -- a full disk ------------------------------------------------------------------------


def test_a_full_disk_stops_the_build_with_no_half_file_left(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    real_write = os.write
    temporary: list[str] = []  # the temporary files written to, in order

    def write(fd: int, data: bytes | memoryview) -> int:
        """The disk fills up halfway through the 40th file of the site."""
        name = os.readlink(f"/proc/self/fd/{fd}")
        if not (name.startswith(f"{out}/") and Path(name).name.startswith(".tmp-")):
            return real_write(fd, data)
        if name not in temporary:
            temporary.append(name)
            if len(temporary) == 40:  # half of it goes down, then no more
                return real_write(fd, bytes(data)[: len(data) // 2])
        if len(temporary) < 40:
            return real_write(fd, data)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write)
    output = refused(db, out)
    monkeypatch.undo()
    assert len(temporary) == 40
    assert output.count("\n") == 1 and output.endswith(": cannot write (No space left on device)\n")
    page = Path(output.removeprefix("Error: ").split(": cannot write")[0])
    assert page.parent == Path(temporary[-1]).parent and temporary_name(page.name) == Path(temporary[-1]).name
    left = files(out)
    assert not page.exists() and not [p for p in left if Path(p).name.startswith(".tmp-")], "no half file"
    build(db, tmp_path / "fresh")
    fresh = files(tmp_path / "fresh")
    assert len(left) >= 39 and all(fresh[p] == data for p, data in left.items()), "every file there is whole"
    build(db, out)  # room again: the next build finishes the job
    assert files(out) == fresh


def test_the_sitemaps_rest_is_found_by_shape_as_section_sorts_it(db: Path, tmp_path: Path) -> None:
    """The "site" section's stems, read without every stem of the site: the same as every
    stem sorted by ``sitemap.section``, odd stems too."""
    from types import SimpleNamespace

    from daybook.publish import sitemap
    from daybook.publish.state import SiteState

    out = tmp_path / "site"
    build(db, out)
    odd = [
        "entity/",
        "story/",
        "news/",
        "news/202",
        "news/2024x",
        "news/٢٠٢٤/1",
        "newsy/2024",
        "week/2024-W19",
    ]
    conn = sqlite3.connect(locate(db, out).state)
    try:
        conn.executemany("INSERT OR IGNORE INTO pages (stem, digest) VALUES (?, 'x')", [(s,) for s in odd])
        every = [row[0] for row in conn.execute("SELECT stem FROM pages ORDER BY stem")]
        found = SiteState.rest_stems(SimpleNamespace(conn=conn, _flush=lambda: None))  # type: ignore[arg-type]
    finally:
        conn.close()
    rest = [s for s in every if sitemap.section(s) == sitemap.REST]
    assert [s for s in found if sitemap.section(s) == sitemap.REST] == rest
    assert "news/2024x" not in rest and "entity/" in rest and "category/law-and-crime" in rest
    assert len(found) < len(every) / 4
