"""The fault suite: faults injected on purpose, each compared with the result of the same
work left uninterrupted, byte for byte.

- kill -9 of ``daybook build`` and of ``daybook update`` at 20 seeded random moments each, over
  the bundled example and one real month, then a rerun;
- two ``build`` (and two ``update``) into one folder at once;
- a store truncated, or with bytes overwritten;
- a full disk during a build.

Each test's name says which fault it injects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from standin_api import StandInAPI

from daybook.ingest import ingest_paths
from daybook.ingest.pull import PullSettings
from daybook.relate import Settings, refresh
from daybook.store import Store

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
REAL_MONTH = ROOT.parent / "shared" / "data" / "portal-html-2025"
MONTH_GLOB = "2026-02-*.html"  # 28 real days of the MediaWiki parser's output
KILLS = 10  # seeded kill moments per command and data set: 20 per command over both
DAYBOOK = [sys.executable, "-m", "daybook"]

# The day each update pulls: new to both data sets, with links and sources.
NEW_DAY = {"example": dt.date(2024, 5, 9), "month": dt.date(2026, 3, 1)}


def new_day_text(day: dt.date) -> str:
    lines = [f"{{{{Current events|year={day.year}|month={day.month}|day={day.day}|content=", ";Science"]
    for n in range(12):
        lines.append(
            f"*The [[European Space Agency]] reports finding number {n} about [[Mars]] and"
            f" [[Jupiter]]. [https://news.example.org/science/{day}/{n} (Example News)]"
        )
    lines.append("}}")
    return "\n".join(lines) + "\n"


@dataclasses.dataclass
class DataSet:
    name: str
    folder: Path  # holds the base store, daybook.db, which the runs copy
    build_args: list[str]


def site_files(out: Path) -> dict[str, bytes]:
    """Every file of the site, hidden or not, but git's own."""
    found: dict[str, bytes] = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if rel.parts[0] != ".git" and path.is_file():
            found[rel.as_posix()] = path.read_bytes()
    return found


def published(files: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in files.items() if not any(p.startswith(".") for p in path.split("/"))}


def assert_same_site(got: dict[str, bytes], expected: dict[str, bytes]) -> None:
    temporary = sorted(path for path in got if path.rsplit("/", 1)[-1].startswith(".tmp"))
    assert not temporary, f"temporary files left behind: {temporary[:5]}"
    got, expected = published(got), published(expected)
    stray = sorted(path for path in got if path not in expected)
    assert not stray, f"files the uninterrupted run does not leave: {stray[:5]}"
    missing = sorted(path for path in expected if path not in got)
    assert not missing, f"files missing: {missing[:5]}"
    differ = sorted(path for path in expected if got[path] != expected[path])
    assert not differ, f"files that differ: {differ[:5]}"


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DAYBOOK, *args], capture_output=True, text=True, timeout=300, **kwargs)  # type: ignore[call-overload, no-any-return]


def kill_at(args: list[str], delay: float, **kwargs: object) -> int:
    """Start a daybook command, SIGKILL it after ``delay`` seconds; its exit status."""
    process = subprocess.Popen(  # type: ignore[call-overload]
        [*DAYBOOK, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs
    )
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    return int(process.wait())


@pytest.fixture(scope="module", autouse=True)
def git_of_our_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path_factory.mktemp("git") / "config"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        yield


@pytest.fixture(scope="module", params=["example", "month"])
def dataset(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> DataSet:
    name: str = request.param
    folder = tmp_path_factory.mktemp(f"base-{name}")
    if name == "example":
        paths, build_args = [EXAMPLES], ["--opinion", str(EXAMPLES / "opinion")]
    else:
        paths, build_args = sorted(REAL_MONTH.glob(MONTH_GLOB)), []
        assert len(paths) == 28, f"the real month is missing from {REAL_MONTH}"
    with Store(folder / "daybook.db") as store:
        ingest_paths(store, paths)
        refresh(store, Settings())
    return DataSet(name, folder, build_args)


def fresh_copy(data: DataSet, target: Path) -> Path:
    """A copy of the data set's store in a folder of the test's own."""
    target.mkdir(parents=True)
    shutil.copy2(data.folder / "daybook.db", target / "daybook.db")
    return target / "daybook.db"


# -- kill -9 of build --------------------------------------------------------------------


@dataclasses.dataclass
class BuildReference:
    files: dict[str, bytes]
    seconds: float


@pytest.fixture(scope="module")
def build_reference(dataset: DataSet, tmp_path_factory: pytest.TempPathFactory) -> BuildReference:
    folder = tmp_path_factory.mktemp(f"build-ref-{dataset.name}")
    db = fresh_copy(dataset, folder / "store")
    started = time.monotonic()
    done = run(["--db", str(db), "build", str(folder / "site"), *dataset.build_args])
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    return BuildReference(site_files(folder / "site"), seconds)


@pytest.mark.parametrize("seed", range(KILLS))
def test_kill_9_of_build_at_a_random_moment_then_a_rerun(
    dataset: DataSet, build_reference: BuildReference, tmp_path: Path, seed: int
) -> None:
    db = fresh_copy(dataset, tmp_path / "store")
    args = ["--db", str(db), "build", str(tmp_path / "site"), *dataset.build_args]
    delay = random.Random(f"build-{dataset.name}-{seed}").uniform(0.2, build_reference.seconds)
    kill_at(args, delay)
    done = run(args)
    assert done.returncode == 0, done.stderr
    assert_same_site(site_files(tmp_path / "site"), build_reference.files)


# -- kill -9 of update -------------------------------------------------------------------


@dataclasses.dataclass
class UpdateReference:
    files: dict[str, bytes]
    tree: str
    events: str
    seconds: float


def git(out: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=out, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def wiki(dataset: DataSet) -> Iterator[StandInAPI]:
    api = StandInAPI().start()
    day = NEW_DAY[dataset.name]
    api.edit(PullSettings().title(day), new_day_text(day))
    yield api
    api.stop()


def update_args(data: DataSet, api: StandInAPI, db: Path, out: Path) -> list[str]:
    day = NEW_DAY[data.name].isoformat()
    return [
        "--db", str(db), "update", str(out), "--api", api.api, "--from", day, "--to", day,
        "--via", api.base, "--allow-private", "--wayback", "off", "--delay", "0", "--per-host", "8",
        "--jobs", "1", *data.build_args,
    ]  # fmt: skip


def events_of(db: Path) -> str:
    done = run(["--db", str(db), "events", "--format", "jsonl"])
    assert done.returncode == 0, done.stderr
    return done.stdout


def assert_git_tells_the_truth(out: Path) -> None:
    assert git(out, "status", "--porcelain") == ""
    assert git(out, "ls-files") == git(out, "ls-tree", "-r", "--name-only", "HEAD")


@pytest.fixture(scope="module")
def update_reference(
    dataset: DataSet, wiki: StandInAPI, tmp_path_factory: pytest.TempPathFactory
) -> UpdateReference:
    folder = tmp_path_factory.mktemp(f"update-ref-{dataset.name}")
    db = fresh_copy(dataset, folder / "store")
    started = time.monotonic()
    done = run(update_args(dataset, wiki, db, folder / "site"))
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    out = folder / "site"
    assert_git_tells_the_truth(out)
    return UpdateReference(site_files(out), git(out, "rev-parse", "HEAD^{tree}"), events_of(db), seconds)


@pytest.mark.parametrize("seed", range(KILLS))
def test_kill_9_of_update_at_a_random_moment_then_a_rerun(
    dataset: DataSet, wiki: StandInAPI, update_reference: UpdateReference, tmp_path: Path, seed: int
) -> None:
    db = fresh_copy(dataset, tmp_path / "store")
    out = tmp_path / "site"
    args = update_args(dataset, wiki, db, out)
    delay = random.Random(f"update-{dataset.name}-{seed}").uniform(0.2, update_reference.seconds)
    kill_at(args, delay)
    done = run(args)
    assert done.returncode == 0, done.stderr
    assert_same_site(site_files(out), update_reference.files)
    assert git(out, "rev-parse", "HEAD^{tree}") == update_reference.tree
    assert_git_tells_the_truth(out)
    assert events_of(db) == update_reference.events


# -- two at once -------------------------------------------------------------------------


def test_two_builds_into_one_folder_at_once(
    dataset: DataSet, build_reference: BuildReference, tmp_path: Path
) -> None:
    db = fresh_copy(dataset, tmp_path / "store")
    args = ["--db", str(db), "build", str(tmp_path / "site"), *dataset.build_args]
    first = subprocess.Popen([*DAYBOOK, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen([*DAYBOOK, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = [(p.wait(timeout=300), *p.communicate()) for p in (first, second)]
    assert any(code == 0 for code, _, _ in results), results
    for code, _, err in results:
        # The other one waited, or was refused in one line.
        assert code == 0 or (len(err.strip().splitlines()) == 1 and "Traceback" not in err), err
    assert_same_site(site_files(tmp_path / "site"), build_reference.files)
    done = run(args)
    assert done.returncode == 0, done.stderr
    assert_same_site(site_files(tmp_path / "site"), build_reference.files)


def test_two_updates_into_one_folder_at_once(
    dataset: DataSet, wiki: StandInAPI, update_reference: UpdateReference, tmp_path: Path
) -> None:
    db = fresh_copy(dataset, tmp_path / "store")
    out = tmp_path / "site"
    args = update_args(dataset, wiki, db, out)
    first = subprocess.Popen([*DAYBOOK, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen([*DAYBOOK, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = [(p.wait(timeout=300), *p.communicate()) for p in (first, second)]
    assert any(code == 0 for code, _, _ in results), results
    for code, _, err in results:
        assert code == 0 or (len(err.strip().splitlines()) == 1 and "Traceback" not in err), err
    assert_same_site(site_files(out), update_reference.files)
    assert git(out, "rev-parse", "HEAD^{tree}") == update_reference.tree
    assert_git_tells_the_truth(out)


# -- a damaged store ---------------------------------------------------------------------


def damage(db: Path, how: str) -> None:
    data = bytearray(db.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "header-overwritten":
        data[0:16] = b"this is no store"
    else:  # pages in the middle overwritten with noise
        noise = random.Random(how).randbytes(8192)
        middle = len(data) // 2
        data[middle : middle + len(noise)] = noise
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "header-overwritten", "middle-overwritten"])
@pytest.mark.parametrize(
    "command",
    [["stats"], ["events"], ["search", "the"], ["relate", "--full"], ["build", "{out}"], ["ingest", "{day}"]],
    ids=lambda c: c[0],
)
def test_a_damaged_store_gets_one_line_naming_it(tmp_path: Path, how: str, command: list[str]) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    db = folder / "daybook.db"
    with Store(db) as store:
        ingest_paths(store, [EXAMPLES])
    damage(db, how)
    before = sorted(p.name for p in folder.iterdir()), db.read_bytes()
    out = tmp_path / "site"
    args = [a.format(out=out, day=EXAMPLES / "2024-05-06.wiki") for a in command]
    done = run(["--db", str(db), *args])
    if done.returncode == 0:
        # SQLite found nothing wrong on the pages this command read: then its answer must
        # be a real one, and it must have left the store alone.
        writes = command[0] in ("relate", "ingest", "build")  # the store, or the site and its state
        assert writes or (sorted(p.name for p in folder.iterdir()), db.read_bytes()) == before
        return
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(db) in lines[0], lines[0]
    assert (sorted(p.name for p in folder.iterdir()), db.read_bytes()) == before
    assert not out.exists() or not any(out.iterdir())


# -- a full disk -------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs, where the test may mount one; else None."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}); see the writer's ENOSPC test")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_during_a_build(tmp_path: Path, small_disk: Path) -> None:
    db = tmp_path / "daybook.db"
    month = sorted(REAL_MONTH.glob(MONTH_GLOB))
    with Store(db) as store:
        ingest_paths(store, month)
        refresh(store, Settings())
    out = small_disk / "site"
    done = run(["--db", str(db), "build", str(out)])
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0], done.stderr
    assert os.strerror(errno.ENOSPC).lower() in lines[0].lower() or "space" in lines[0].lower(), lines[0]
    # No half-written page: every file left is whole (parses as what its extension says), and no
    # temporary file is left behind.
    leftovers = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in leftovers if p.name.startswith(".tmp")], leftovers
    reference = tmp_path / "reference"
    assert run(["--db", str(db), "build", str(reference)]).returncode == 0
    for path in leftovers:
        rel = path.relative_to(out).as_posix()
        if not rel.startswith("."):
            assert path.read_bytes() == (reference / rel).read_bytes(), rel
