"""daybook update against the API stand-in: the first build and commit, a run with nothing
new, a new revision of a day, edits keeping their ids, the lock, history, and kill -9 at
any point."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from standin_api import StandInAPI

from daybook.cli import cli
from daybook.enrich import EnrichReport
from daybook.errors import LockedError, UsageError
from daybook.ingest import ingest_paths
from daybook.ingest.html import parse_portal_html
from daybook.ingest.pull import PullSettings
from daybook.ingest.reconcile import reconcile
from daybook.model import Day, Event, Source, event_id
from daybook.net.fetch import FetchSettings
from daybook.publish import build_site
from daybook.publish.folder import locate
from daybook.relate import refresh
from daybook.store import Store
from daybook.update import UpdateOptions, every, parse_interval, update, update_lock

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wikitext"
D0, FILLER = dt.date(2024, 5, 28), dt.date(2024, 5, 31)
D1, D2, D3 = dt.date(2024, 6, 1), dt.date(2024, 6, 2), dt.date(2024, 6, 3)
DAYS = [D0, FILLER, D1, D2, D3]
TITLES = {day: PullSettings().title(day) for day in DAYS}

SUMMIT = "sign a joint statement committing to work towards the [[denuclearization]]"
KABUL = (
    "*[[War in Afghanistan (2001–present)|War in Afghanistan]]\n"
    "**A suicide bomber kills at least 12 people outside the [[Ministry of Rural Rehabilitation and"
    " Development (Afghanistan)|Ministry of Rural Rehabilitation]] in [[Kabul]]."
    " [https://www.reuters.com/article/afghanistan-blast-kabul (Reuters)]\n"
)
NADAL = (
    "*[[Tennis]]\n**[[Rafael Nadal]] wins his first-round match at the [[French Open]] in [[Paris]]."
    " [https://www.espn.com/tennis/story/nadal-first-round (ESPN)]\n"
)


# May 28: one event, whose only related event is one that June 2's second revision
# removes. Its list changes though it lists nothing of June 2 any more, and May 28 is
# neither a neighbour of June 2 nor among the days the front page and feeds show (May 31
# fills the feeds): only the record of changed lists gets its page rendered again.
CONFERENCE = (
    "{{Current events|year=2024|month=5|day=28}}\n'''International relations'''\n"
    "*[[Kabul]] hosts a conference on the [[War in Afghanistan (2001–present)|war in Afghanistan]]."
    " [https://www.example.org/kabul-conference (Example)]\n"
)
FILLERS = "{{Current events|year=2024|month=5|day=31}}\n" + "".join(
    f"*A quiet event number {n} happens.\n" for n in range(100)
)


def first_revision(day: dt.date) -> str:
    if day in (D0, FILLER):
        return CONFERENCE if day == D0 else FILLERS
    name = {D1: "2015-11-18.wiki", D2: "2018-06-12.wiki"}[day]
    return (FIXTURES / name).read_text(encoding="utf-8")


def second_revision() -> str:
    """June 2 edited: one event reworded after its first words, one removed, one added."""
    text = first_revision(D2)
    assert SUMMIT in text and KABUL in text
    text = text.replace(SUMMIT, SUMMIT.replace("the [[", "the complete [["))
    text = text.replace(KABUL, "")
    return text.replace("'''Sports'''\n", "'''Sports'''\n" + NADAL)


@pytest.fixture(scope="module", autouse=True)
def git_of_our_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No user or system git configuration: commits carry daybook's own identity."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path_factory.mktemp("git") / "config"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        yield


def standin(*days: dt.date) -> StandInAPI:
    api = StandInAPI().start()
    for day in days:
        api.edit(TITLES[day], first_revision(day))
    return api


@pytest.fixture
def api() -> Iterator[StandInAPI]:
    server = standin(D0, FILLER, D1, D2)
    yield server
    server.stop()


def options(api: StandInAPI) -> UpdateOptions:
    return UpdateOptions(
        pull=PullSettings(api=api.api, delay=0),
        fetch=FetchSettings(via=api.base, allow_private=True, wayback=None, delay=0),
    )


def cli_args(api: StandInAPI, db: Path, out: Path) -> list[str]:
    return [
        "--db", str(db), "update", str(out), "--api", api.api, "--from", str(D0), "--to", str(D3),
        "--via", api.base, "--allow-private", "--wayback", "off", "--jobs", "1",
    ]  # fmt: skip


def git(out: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=out, capture_output=True, text=True, check=True).stdout


def site_files(out: Path, *, hidden: bool = False) -> dict[str, bytes]:
    """Every file of the site (``hidden``: hidden ones too), never git's."""
    found = {}
    for path in out.rglob("*"):
        rel = path.relative_to(out)
        if path.is_file() and rel.parts[0] != ".git" and (hidden or not rel.name.startswith(".")):
            found[rel.as_posix()] = path.read_bytes()
    return found


def state_rows(path: Path) -> bytes:
    """The site state's content, table by table (its file's bytes depend on its history)."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        rows = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}
    finally:
        conn.close()
    return repr(rows).encode()


def stamps(out: Path) -> dict[str, tuple[int, int]]:
    """Each file's (inode, mtime): a file written again, even with the same bytes, shows."""
    return {
        p.relative_to(out).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in out.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(out).parts
    }


# -- reconciliation: edits keep their ids --------------------------------------------


def event(text: str, *urls: str, day: dt.date = D1) -> Event:
    sources = tuple(Source("Outlet", url) for url in urls)
    return Event(event_id(day, "News", (), text), day, "News", (), text, (), sources)


def test_an_edited_text_keeps_its_id() -> None:
    old = [event("The mayor of Springfield resigns after a corruption inquiry."), event("A storm hits.")]
    typo = event("The mayor of Springfield resigns after a corruption enquiry into the port deal.")
    other = event("A volcano erupts in Iceland.")
    new = reconcile(old, [typo, old[1], other])
    assert [e.id for e in new] == [old[0].id, old[1].id, other.id]
    assert new[0].text == typo.text


def test_same_sources_keep_the_id_and_one_old_event_goes_to_one_new() -> None:
    old = [event("Protests in Tbilisi.", "https://a.example/1")]
    reworded = event(
        "Tens of thousands rally in Tbilisi against the bill.", "https://a.example/1?utm_source=x"
    )
    twin = event("Tens of thousands rally in Tbilisi against the bill, again.", "https://a.example/1")
    assert [e.id for e in reconcile(old, [reworded, twin])] == [old[0].id, twin.id]


def test_short_texts_sharing_letters_are_not_one_event() -> None:
    # Over characters these are 67% alike; over words, a third.
    old = [event("Kharkiv power cut.")]
    assert reconcile(old, [event("Kharkiv metro hit.")])[0].id != old[0].id


def test_ingest_keeps_the_ids_of_edited_events(db: str, tmp_path: Path) -> None:
    page = tmp_path / "2018-06-12.wiki"
    page.write_text(first_revision(D2), encoding="utf-8")
    with Store(db) as store:
        ingest_paths(store, [page])
        before = {e.text[:20]: e.id for e in store.events()}
        page.write_text(second_revision(), encoding="utf-8")
        (change,) = ingest_paths(store, [page]).changes
        after = {e.text[:20]: e.id for e in store.events()}
    assert after["U.S. President Donal"] == before["U.S. President Donal"]
    assert len(change.added) == len(change.removed) == len(change.edited) == 1
    assert change.edited == (before["U.S. President Donal"],)


def test_pending_changes_merge(db: str, tmp_path: Path) -> None:
    with Store(db) as store:
        store.start_publishing()
        a, b = event("A happens in Lyon."), event("B happens in Porto.")
        store.replace_day(day_of(a, b), origin="t", format="jsonl")
        store.replace_day(day_of(b), origin="t", format="jsonl")  # a: added, then removed
        assert dict(store.pending_publish().changes) == {b.id: "added"}
        store.published(store.pending_publish())
        store.replace_day(day_of(), origin="t", format="jsonl")
        store.replace_day(day_of(b), origin="t", format="jsonl")  # b: removed, then back
        pending = store.pending_publish()
        assert dict(pending.changes) == {b.id: "edited"} and pending.dates == (D1,)


def day_of(*events: Event) -> Day:
    return Day(D1, events)


# -- update ---------------------------------------------------------------------------


@pytest.mark.slow
def test_first_update_builds_and_commits(db: str, api: StandInAPI, tmp_path: Path) -> None:
    out = tmp_path / "site"
    with Store(db) as store:
        report = update(store, out, DAYS, options(api))
        build_site(store, tmp_path / "full")
        beside = store.path  # the sites' states live beside the store (for PostgreSQL: XDG_STATE_HOME)
    assert (
        report.commit is not None
        and report.pulled is not None
        and report.pulled.pulled == [D0, FILLER, D1, D2]
    )
    assert report.enriched is not None and report.enriched.fetched == 11
    assert site_files(out) == site_files(tmp_path / "full")
    assert git(out, "log", "--format=%an <%ae>|%s").splitlines() == [
        f"daybook <daybook@localhost>|{report.message}"
    ]
    assert "first build, 110 events on 4 days" in (report.message or "")
    assert git(out, "status", "--porcelain") == "", "every file committed"
    assert not [p for p in out.iterdir() if p.name != ".git" and p.name.startswith(".")], "no state in OUT"
    assert locate(beside, out).state.is_file()
    assert ".daybook-site.db" not in git(out, "ls-files")
    assert git(out, "count-objects").startswith("0 objects"), "the first build is packed"


@pytest.mark.slow
def test_update_keeps_the_rendered_page_and_the_wikitext_and_ingests_the_rendering(
    tmp_path: Path, shared_data: Path
) -> None:
    """The wiki's rendering of a revision is what its events come from; the wikitext of
    the same revision is kept beside it."""
    real = (shared_data / "portal-html-2025" / "2025-09-14.html").read_text(encoding="utf-8")
    api = StandInAPI().start()
    try:
        wikitext = "{{Current events|year=2024|month=6|day=1}}\n'''Sports'''\n*Only the wikitext says this.\n"
        revision = api.edit(TITLES[D1], wikitext, html=real)
        with Store(tmp_path / "t.db") as store:
            update(store, tmp_path / "site", [D1], options(api))
            events = store.events(date=D1)
            origin, form = store.conn.execute("SELECT origin, format FROM days").fetchone()
        with sqlite3.connect(tmp_path / "t.db") as conn:
            kept = conn.execute("SELECT revision, wikitext, html FROM portal_pages").fetchall()
    finally:
        api.stop()
    assert kept == [(revision, wikitext, real)]
    assert api.parse_requests() == [str(revision)]
    expected = parse_portal_html(real, date=D1).events
    assert [e.text for e in events] == [e.text for e in expected] and len(events) > 10
    assert form == "html" and f"revision {revision}" in origin


@pytest.mark.slow
def test_nothing_new_writes_nothing_and_commits_nothing(db: str, api: StandInAPI, tmp_path: Path) -> None:
    out = tmp_path / "site"
    with Store(db) as store:
        update(store, out, DAYS, options(api))
        before, head, asked = stamps(out), git(out, "rev-parse", "HEAD"), len(api.content_requests())
        report = update(store, out, DAYS, options(api))
    assert report.commit is None and report.written is None
    assert stamps(out) == before and git(out, "rev-parse", "HEAD") == head
    # Only June 3, not on the wiki yet, is asked for again.
    assert api.content_requests()[asked:] == [[TITLES[D3]]]


@pytest.mark.slow
# With two processes, the second update relates in the render worker, beside the
# entity and story pages: the same pages and commit as one process makes.
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_new_revision_is_one_commit_of_exactly_the_pages_that_change(
    db: str, api: StandInAPI, tmp_path: Path, jobs: int
) -> None:
    out = tmp_path / "site"
    with Store(db) as store:
        update(store, out, DAYS, dataclasses.replace(options(api), jobs=jobs))
        old_files, old_stamps = site_files(out), stamps(out)
        summit = next(e for e in store.events(date=D2) if e.text.startswith("U.S. President"))
        summit_page = next(p for p in old_files if p.startswith("news/2024/06/2/u-s-president-donald"))
        api.edit(TITLES[D2], second_revision())
        report = update(store, out, DAYS, dataclasses.replace(options(api), jobs=jobs))
        assert ("(relate, beside)" in report.seconds) == (jobs == 2)
        assert report.related is not None and report.related.changed
        build_site(store, tmp_path / "full")  # what the site must now be
        edited = next(e for e in store.events(date=D2) if e.text.startswith("U.S. President"))
    full = site_files(tmp_path / "full")
    assert site_files(out) == full
    should_change = {p for p in {*old_files, *full} if old_files.get(p) != full.get(p)}
    committed = set(git(out, "diff", "--no-renames", "--name-only", "HEAD~1", "HEAD").splitlines())
    assert committed == should_change
    assert git(out, "rev-list", "--count", "HEAD") == "2\n"
    assert report.message is not None and report.message.endswith(": 1 event added, 1 changed, 1 removed")
    # No other file was so much as rewritten.
    now = stamps(out)
    rewritten = {p for p in old_stamps.keys() & now.keys() if old_stamps[p] != now[p]}
    assert rewritten <= should_change
    # The edited event keeps its id and its page, which now says what the portal says.
    assert edited.id == summit.id and "complete denuclearization" in edited.text
    assert summit_page in committed and "complete denuclearization" in (out / summit_page).read_text()
    gone = [p for p in should_change if "suicide-bomber" in p]
    assert len(gone) == 4 and not any((out / p).exists() for p in gone)
    assert any("rafael-nadal-wins" in p for p in committed)
    # June 1's pages change only where a list now shows the match in Paris.
    assert any(p.startswith("news/2024/06/1/") and p not in committed for p in full)
    assert_index_is_head(out)


def assert_index_is_head(out: Path) -> None:
    """Porcelain git tells the truth: nothing to commit, the index lists HEAD's files."""
    assert git(out, "status", "--porcelain") == ""
    assert git(out, "ls-files") == git(out, "ls-tree", "-r", "--name-only", "HEAD")
    assert git(out, "write-tree") == git(out, "rev-parse", "HEAD^{tree}")


def test_an_unchanged_day_changes_nothing_by_file_or_by_pull(
    db: str, api: StandInAPI, tmp_path: Path
) -> None:
    """One rule for ingest and update: a day whose events are those stored queues no
    relate work, renders no page and makes no commit."""
    out = tmp_path / "site"
    with Store(db) as store:
        update(store, out, DAYS, options(api))
        before, head, stored = stamps(out), git(out, "rev-parse", "HEAD"), store.events()

        def nothing_changed() -> None:
            assert store.relate_days()[1] == [] and not store.relate_due()
            assert store.pending_publish().empty
            related = refresh(store)
            assert not related.changed and not related.removed
            assert store.events() == stored

        page = tmp_path / "2024-06-02.wiki"  # June 2 as the wiki has it, from a file
        page.write_text(first_revision(D2), encoding="utf-8")
        (change,) = ingest_paths(store, [page]).changes
        assert change.date == D2 and not change.changed
        nothing_changed()
        exported = tmp_path / "june-1.jsonl"  # June 1 as daybook exports it: ids given
        exported.write_text("".join(json.dumps(e.to_json()) + "\n" for e in store.events(date=D1)))
        (change,) = ingest_paths(store, [exported]).changes
        assert not change.changed
        nothing_changed()
        # A new revision of June 2 that changes nothing daybook keeps, pulled by update.
        api.edit(TITLES[D2], first_revision(D2) + "<!-- a note for editors -->\n")
        report = update(store, out, DAYS, options(api))
        assert report.pulled is not None and D2 in report.pulled.pulled
        assert [c.date for c in report.days] == [D2] and not report.days[0].changed
        assert report.commit is None and report.written is None and report.related is None
        nothing_changed()
    assert stamps(out) == before and git(out, "rev-parse", "HEAD") == head


STORY_DAY = (
    "{{{{Current events|year=2024|month=6|day={day}}}}}\n'''Armed conflicts and attacks'''\n"
    "*[[War in Afghanistan (2001–present)|War in Afghanistan]]\n"
    "**{text} in [[Kabul]]. [https://www.reuters.com/article/kabul-{day} (Reuters)]\n"
)


def test_sources_fetched_late_make_an_older_days_pages_again(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site built before its sources were fetched: the update bringing the next day of the
    same story fetches the older day's sources too, while that day's event page is made
    again as the new event's story neighbour. It is made once more with what enrich found
    (not refused as two contents for one path), and the site is what a full build makes."""
    import daybook.update

    later = daybook.update._enrich_apart

    def enrich_late(*args: Any) -> EnrichReport:
        time.sleep(1.5)  # after publish made the story's neighbours, before the changed days
        return later(*args)

    monkeypatch.setattr(daybook.update, "_enrich_apart", enrich_late)
    page = tmp_path / "2024-06-01.wiki"
    page.write_text(STORY_DAY.format(day=1, text="A market is shelled"), encoding="utf-8")
    api = StandInAPI().start()
    try:
        api.edit(TITLES[D2], STORY_DAY.format(day=2, text="A checkpoint is attacked"))
        out = tmp_path / "site"
        with Store(db) as store:
            ingest_paths(store, [page])
            refresh(store)
            build_site(store, out)
            older = next(p for p in site_files(out) if p.startswith("news/2024/06/1/a-market"))
            assert "/article/kabul-1 says" not in (out / older).read_text()  # no source fetched yet
            report = update(store, out, [D2], options(api))
            build_site(store, tmp_path / "full")
    finally:
        api.stop()
    assert report.enriched is not None and report.enriched.fetched == 2
    assert "/article/kabul-1 says" in (out / older).read_text(), "the older day's page shows its source now"
    assert site_files(out) == site_files(tmp_path / "full")
    assert_index_is_head(out)


@pytest.mark.slow
def test_update_and_history_commands(api: StandInAPI, tmp_path: Path) -> None:
    db, out = tmp_path / "c.db", tmp_path / "site"
    first = CliRunner().invoke(cli, cli_args(api, db, out), obj={})
    assert first.exit_code == 0, first.output
    assert "first build" in first.output
    api.edit(TITLES[D2], second_revision())
    second = CliRunner().invoke(cli, cli_args(api, db, out), obj={})
    assert second.exit_code == 0 and "1 event added, 1 changed, 1 removed" in second.output

    day = CliRunner().invoke(cli, ["history", "news/2024/06/2/index.md", "--site", str(out)])
    assert day.exit_code == 0, day.output
    lines = day.output.splitlines()
    assert len(lines) == 2 and "1 event added" in lines[0] and "first build" in lines[1]
    assert lines[0].split()[1:4][2] == "UTC"
    other = CliRunner().invoke(cli, ["history", str(out / "news/2024/06/1/index.html"), "--site", str(out)])
    assert other.exit_code == 0 and len(other.output.splitlines()) == 1
    missing = CliRunner().invoke(cli, ["history", "news/1999/01/1/index.md", "--site", str(out)])
    assert missing.exit_code == 1 and "no commit" in missing.output


def test_a_second_update_exits_at_once_while_one_runs(api: StandInAPI, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    Store(db).close()
    with update_lock(db):
        result = CliRunner().invoke(cli, cli_args(api, db, tmp_path / "site"), obj={})
        with pytest.raises(LockedError), update_lock(db):
            pass
    assert result.exit_code == 1
    assert "another daybook update is running" in result.output and str(os.getpid()) in result.output
    assert not (tmp_path / "site").exists()


def test_intervals_and_the_schedule() -> None:
    assert parse_interval("2h") == 7200 and parse_interval("1h30m") == 5400 and parse_interval("90s") == 90
    for wrong in ("", "2", "two hours", "0m"):
        with pytest.raises(UsageError, match=r"^every ") as raised:  # the CLI says --every
            parse_interval(wrong)
        assert raised.value.setting == "every"
    runs: list[int] = []
    waits: list[float] = []
    every(60, lambda: runs.append(1), sleep=waits.append, runs=3)
    assert len(runs) == 3 and len(waits) == 2 and all(55 < w <= 60 for w in waits)


# -- kill -9 at any point ---------------------------------------------------------------

# Runs the daybook command given after two arguments (where, nth) and kills itself with
# SIGKILL right after the nth call of a method returns, or, for "git VERB", as that git
# starts, leaving the lock file a git killed there leaves (made a minute old, as the next
# run would find it).
KILLER = """
import importlib, os, signal, subprocess, sys, time
where, nth = sys.argv[1], int(sys.argv[2])
calls = 0
def die_after(result):
    global calls
    calls += 1
    if calls == nth:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
if where.startswith("git "):
    verb, real = where.split()[1], subprocess.run
    def killed(cwd):
        git_dir = os.path.join(cwd, ".git")
        lock = "refs/heads/main.lock" if verb == "update-ref" else "index.lock"
        open(os.path.join(git_dir, lock), "w").close()
        os.utime(os.path.join(git_dir, lock), (time.time() - 60,) * 2)
        os.kill(os.getpid(), signal.SIGKILL)
    def run(command, *args, **kwargs):
        if verb in command:
            killed(kwargs["cwd"])
        return real(command, *args, **kwargs)
    class Popen(subprocess.Popen):
        # A git started early and given its input later (SiteRepo.open_index): killed as given it.
        def __init__(self, command, *args, **kwargs):
            super().__init__(command, *args, **kwargs)
            self.where = kwargs.get("cwd")
        def communicate(self, *args, **kwargs):
            if verb in self.args and self.where is not None:
                killed(self.where)
            return super().communicate(*args, **kwargs)
    subprocess.run = run
    subprocess.Popen = Popen
else:
    module, _, name = where.partition(":")
    owner, method = name.split(".")
    cls = getattr(importlib.import_module(module), owner)
    original = getattr(cls, method)
    setattr(cls, method, lambda *args, **kwargs: die_after(original(*args, **kwargs)))
from daybook.cli import main
sys.argv = ["daybook", *sys.argv[3:]]
main()
"""

KILL_POINTS = [
    ("daybook.store:Store.save_portal_page", 1),  # pulled, nothing ingested
    ("daybook.store:Store.ingest_portal_page", 1),  # ingested, not enriched
    ("daybook.store:Store.save_page", 1),  # a source enriched
    ("daybook.store:Store.save_relation", 1),  # the lists stored, not marked done
    ("daybook.publish.writer:Writer.write", 1),  # the first file written
    ("daybook.publish.writer:Writer.write", 40),  # the site half written
    ("git update-index", 1),  # the objects written, the index being set
    ("git commit-tree", 1),  # the objects written and indexed, no commit yet
    ("git update-ref", 1),  # git committing
    ("daybook.site_repo:SiteRepo.commit_paths", 1),  # committed, the site's state not saved
    ("daybook.publish.state:SiteState.save", 1),  # the state saved, the work not yet forgotten
]


def copy_state(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)


def state(folder: Path) -> dict[str, object]:
    """What an update leaves: site files (hidden ones too), the site's state and journal,
    the commit, the store."""
    out = folder / "site"
    site = locate(folder / "c.db", out)
    with Store(folder / "c.db") as store:
        events = store.events()
        lists = store.related_lists(e.id for e in events)
        pending = store.pending_publish()
        revisions = store.portal_revisions(DAYS)
        unread = store.portal_pages_to_ingest()
    message = git(out, "log", "-1", "--format=%s")
    return {
        "files": site_files(out, hidden=True),
        "site state": state_rows(site.state),
        "journal": site.journal.read_bytes(),
        "tree": git(out, "rev-parse", "HEAD^{tree}"),
        "commits": git(out, "rev-list", "--count", "HEAD"),
        "message": message.split(": ", 1)[1],  # without the wall clock
        "status": git(out, "status", "--porcelain"),
        "index": git(out, "ls-files", "-s"),
        "events": events,
        "lists": lists,
        "pending": pending.empty,
        "revisions": revisions,
        "unread": unread,
    }


def run_update(api: StandInAPI, folder: Path) -> Result:
    result = CliRunner().invoke(cli, cli_args(api, folder / "c.db", folder / "site"), obj={})
    assert result.exit_code == 0, result.output
    return result


def killed_update(api: StandInAPI, folder: Path, where: str, nth: int) -> None:
    args = cli_args(api, folder / "c.db", folder / "site")
    done = subprocess.run(
        [sys.executable, "-c", KILLER, where, str(nth), *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, f"not killed at {where}: {done.stdout}{done.stderr}"


@pytest.fixture(scope="module")
def kill_base(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[StandInAPI, Path, dict[str, object]]]:
    """A store and site after a first update, the wiki's June 2 edited since, and the
    state one uninterrupted update from there ends in."""
    api = standin(D0, FILLER, D1, D2)
    base = tmp_path_factory.mktemp("base")
    run_update(api, base)
    api.edit(TITLES[D2], second_revision())
    reference = tmp_path_factory.mktemp("reference") / "run"
    copy_state(base, reference)
    run_update(api, reference)
    expected = state(reference)
    assert_index_is_head(reference / "site")
    yield api, base, expected
    api.stop()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("where", "nth"), KILL_POINTS, ids=[f"{w.rsplit('.')[-1]}-{n}" for w, n in KILL_POINTS]
)
def test_a_killed_update_is_finished_by_the_next(
    kill_base: tuple[StandInAPI, Path, dict[str, object]], tmp_path: Path, where: str, nth: int
) -> None:
    api, base, expected = kill_base
    folder = tmp_path / "run"
    copy_state(base, folder)
    killed_update(api, folder, where, nth)
    run_update(api, folder)
    assert state(folder) == expected


@pytest.mark.slow
def test_a_killed_first_build_is_finished_by_the_next(tmp_path: Path) -> None:
    api = standin(D0, FILLER, D1, D2)
    try:
        killed, whole = tmp_path / "killed", tmp_path / "whole"
        killed.mkdir()
        whole.mkdir()
        killed_update(api, killed, "daybook.publish.writer:Writer.write", 100)
        run_update(api, killed)
        run_update(api, whole)
        assert state(killed) == state(whole)
        assert json.loads((killed / "site" / "index.json").read_text())["kind"] == "front"
    finally:
        api.stop()
