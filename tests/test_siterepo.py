"""SiteRepo's index-free commit (commit_paths) against real git: every tree it makes is the
one ``git add -A && git write-tree`` makes of the same files, and git's index is HEAD's after it."""

from __future__ import annotations

import os
import random
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daybook import git_pack
from daybook.errors import GitError
from daybook.site_repo import INDEX_BEHIND, SiteRepo


@pytest.fixture(autouse=True)
def git_of_our_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No user or system git configuration: commits carry daybook's own identity."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path_factory.mktemp("git") / "config"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        yield


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return done.stdout


def reference_tree(root: Path) -> str:
    """The tree ``git add -A`` makes of the folder in an index of its own, fresh."""
    index = root.parent / f"{root.name}-reference-index"
    index.unlink(missing_ok=True)
    env = {"GIT_INDEX_FILE": str(index)}
    git(root, "add", "-A", ".", env=env)
    tree = git(root, "write-tree", env=env).strip()
    index.unlink()
    return tree


def head_tree(root: Path) -> str:
    return git(root, "rev-parse", "HEAD^{tree}").strip()


def assert_sound(root: Path) -> None:
    """HEAD's tree is the reference tree of the files, the index is HEAD's (porcelain git
    sees nothing to commit), and git fsck finds nothing wrong."""
    assert head_tree(root) == reference_tree(root)
    assert_index_is_head(root)
    fsck = subprocess.run(
        ["git", "fsck", "--strict", "--no-dangling", "--no-progress"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert fsck.returncode == 0 and not fsck.stdout and not fsck.stderr, fsck.stdout + fsck.stderr


def assert_index_is_head(root: Path) -> None:
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "ls-files", "-s") == git(root, "ls-tree", "-r", "--full-tree", "HEAD").replace(
        " blob ", " "
    ).replace("\t", " 0\t")
    assert git(root, "write-tree").strip() == head_tree(root)


def write(root: Path, files: Mapping[str, str | None]) -> list[str]:
    """Write (or, for None, remove) files; their paths."""
    for path, text in files.items():
        target = root / path
        if text is None:
            target.unlink(missing_ok=True)
            folder = target.parent
            while folder != root and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return list(files)


def commits(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site, committed once (the first commit: the whole folder)."""
    root = tmp_path / "site"
    write(
        root,
        {
            "index.html": "front",
            "index.md": "front",
            "news/2024/05/8/index.html": "day",
            "news/2024/05/8/a-storm.html": "storm",
            "news/2024/05/8/a-storm.json": "{}",
            "news/2024/05/9/index.html": "next day",
            "entity/france.html": "France",
            "entity/france/page/2.html": "France, page 2",
        },
    )
    (root / ".daybook-site.db").write_text("state")
    (root / ".daybook-site.db-wal").write_text("wal")
    (root / ".daybook-pages.json").write_text("{}")
    (root / "news" / ".tmp-123").write_text("half written")
    repo = SiteRepo(root)
    assert repo.commit_paths([], "first") is not None  # no HEAD yet: everything
    assert commits(root) == 1
    assert_sound(root)
    files = git(root, "ls-tree", "-r", "--name-only", "HEAD").split()
    assert "index.html" in files and not any(part.startswith(".") for f in files for part in f.split("/"))
    return root


def test_adds_changes_and_deletions_in_nested_folders(site: Path) -> None:
    repo = SiteRepo(site)
    steps: list[dict[str, str | None]] = [
        {"news/2024/05/10/index.html": "new day", "news/2024/05/10/a-vote.md": "vote"},
        {"news/2024/05/8/a-storm.html": "storm, edited", "index.html": "front, edited"},
        {"news/2024/05/8/a-storm.json": None, "entity/germany.html": "Germany"},
        # the last file of a folder, and of its parent: both go from the tree
        {"entity/france/page/2.html": None},
        {"news/2024/05/9/index.html": None},
        # a file where a folder was, a folder where a file was
        {"news/2024/05/10/a-vote.md": None, "news/2024/05/10/a-vote.md/x.html": "nested"},
        {"entity/germany.html": None, "entity/germany.html/y.md": "y"},  # listed, a folder now
        {"entity/germany.html/y.md": None, "entity/germany.html": "a file again"},
    ]
    for number, step in enumerate(steps, start=2):
        paths = write(site, step)
        commit = repo.commit_paths(paths, f"step {number}")
        assert commit is not None and commit == git(site, "rev-parse", "HEAD").strip()
        assert commits(site) == number
        assert_sound(site)
    listed = git(site, "ls-tree", "-r", "--name-only", "HEAD").split()
    assert "entity/france/page/2.html" not in listed
    assert "entity/france" not in git(site, "ls-tree", "--name-only", "HEAD", "entity/").split()
    assert "news/2024/05/9" not in git(site, "ls-tree", "--name-only", "HEAD", "news/2024/05/").split()


def test_a_file_replaced_by_a_folder(site: Path) -> None:
    repo = SiteRepo(site)
    (site / "entity" / "france.html").unlink()
    paths = write(site, {"entity/france.html/page.md": "now a folder"})
    assert repo.commit_paths(paths, "file to folder") is not None  # france.html itself not listed
    assert_sound(site)
    paths = write(site, {"entity/france.html/page.md": None})
    (site / "entity" / "france.html").write_text("a file again")
    assert repo.commit_paths(["entity/france.html"], "folder to file") is not None
    assert_sound(site)


def test_names_git_sorts_trickily(site: Path) -> None:
    repo = SiteRepo(site)
    names = ["a.b", "a/x.html", "a-b", "a0", "a_b", "a", "ab/c", "A", "a b", "a=", "b/a/b.html", "~x"]
    tricky = {f"t/{name}" if name != "a" else "t/z/a": "x" for name in names}
    assert repo.commit_paths(write(site, tricky), "tricky") is not None
    assert_sound(site)
    for name in ["a.b", "a0", "a-b"]:  # around the folder t/a
        assert repo.commit_paths(write(site, {f"t/{name}": None}), f"without {name}") is not None
        assert_sound(site)
    assert repo.commit_paths(write(site, {"t/a/x.html": None, "t/a0": "back"}), "folder a gone") is not None
    assert_sound(site)


def test_unicode_names(site: Path) -> None:
    repo = SiteRepo(site)
    files = {"entity/são-paulo.html": "SP", "entity/東京/page/2.md": "Tokyo", "entity/zürich.json": "{}"}
    assert repo.commit_paths(write(site, files), "unicode") is not None
    assert_sound(site)
    assert repo.commit_paths(write(site, {"entity/東京/page/2.md": None}), "gone") is not None
    assert_sound(site)
    assert [c.message for c in repo.history("entity/東京/page/2.md")] == ["gone", "unicode"]


def test_an_executable_keeps_its_mode(site: Path) -> None:
    repo = SiteRepo(site)
    write(site, {"tool.sh": "#!/bin/sh\n"})
    (site / "tool.sh").chmod(0o755)
    assert repo.commit_paths(["tool.sh"], "executable") is not None
    assert_sound(site)


def test_random_changes_match_git(site: Path) -> None:
    """Many rounds of random adds, edits and deletions over names that sort close together."""
    repo = SiteRepo(site)
    rng = random.Random(7)
    stems = ["a", "a.b", "a-b", "a0", "b", "é", "z"]
    present: set[str] = set()
    made = 0
    for round_ in range(16):
        step: dict[str, str | None] = {}
        for _ in range(rng.randint(1, 25)):
            depth = rng.randint(0, 2)
            folders = [rng.choice(stems) for _ in range(depth)]  # a folder "a" beside a file "a.b"
            path = "/".join(["r", *folders, rng.choice(stems) + rng.choice(["", ".html", ".md"])])
            step[path] = f"{round_} {path}"
        for path in rng.sample(sorted(present), min(len(present), rng.randint(0, 10))):
            step[path] = None
        # what the disk allows: no file where another path needs a folder
        for path in sorted(step, key=len):
            parts = path.split("/")
            if any("/".join(parts[:i]) in step for i in range(1, len(parts))):
                del step[path]
        for path in list(step):
            blocked = (site / path).is_dir() or any(parent.is_file() for parent in (site / path).parents)
            if step[path] is not None and blocked:
                del step[path]
        write(site, step)
        present = {p for p in present | set(step) if (site / p).is_file()}
        made += repo.commit_paths(list(step), f"round {round_}") is not None
        assert_sound(site)
    assert made >= 12 and len(present) > 20


def test_objects_stored_uncompressed_are_sound(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large objects are packed at zlib level 0: here every one."""
    monkeypatch.setattr(git_pack, "STORE_ABOVE", 0)
    repo = SiteRepo(site)
    assert repo.commit_paths(
        write(site, {"entity/spain.html": "Spain", "news/2024/05/8/index.html": None}), "x"
    )
    assert_sound(site)
    packs = list((site / ".git" / "objects" / "pack").glob("pack-*"))
    assert packs and all(p.stat().st_mode & 0o777 == 0o444 for p in packs)  # read-only, as git makes them


def test_a_commit_stores_its_objects_as_one_pack(site: Path) -> None:
    """Not a loose file per object: one pack and its index, which git verifies."""
    repo = SiteRepo(site)
    repo.pack()
    before = set((site / ".git" / "objects" / "pack").glob("pack-*.pack"))
    many = {f"entity/name-{n}.html": f"entity number {n}" for n in range(300)}
    assert repo.commit_paths(write(site, many), "many") is not None
    assert loose_objects(site) == 1  # the commit, which git commit-tree writes
    made = set((site / ".git" / "objects" / "pack").glob("pack-*.pack")) - before
    assert len(made) == 1
    verified = git(site, "verify-pack", "-v", str(made.pop().with_suffix(".idx")))
    assert "blob" in verified and "tree" in verified
    assert git(site, "show", "HEAD:entity/name-7.html") == "entity number 7"
    assert_sound(site)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=12))
def test_git_reads_every_object_of_a_pack_as_written(tmp_path: Path, bodies: list[bytes]) -> None:
    """Sizes across the header's 4- and 7-bit steps, repeats, empty bodies: git reads each back."""
    repo = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    writer = git_pack.PackWriter(os.fsencode(repo / ".git" / "objects" / "pack"), str(repo))
    ids = [writer.write(b"blob", body) for body in [*bodies, b"x" * 70_000]]
    assert writer.finish() is not None and writer.finish() is None  # the second: nothing new
    for oid, body in zip(ids, [*bodies, b"x" * 70_000], strict=True):
        read = subprocess.run(
            ["git", "cat-file", "blob", oid.hex()], cwd=repo, capture_output=True, check=True
        )
        assert read.stdout == body


def test_a_killed_runs_half_written_pack_goes(site: Path) -> None:
    pack = site / ".git" / "objects" / "pack"
    pack.mkdir(parents=True, exist_ok=True)
    leftover = pack / f"{git_pack.TEMPORARY_PREFIX}abc"
    leftover.write_bytes(b"PACK")
    os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    repo = SiteRepo(site)
    assert repo.commit_paths(write(site, {"index.html": "front, again"}), "x") is not None
    assert not leftover.exists()
    assert_sound(site)


def test_nothing_changed_makes_no_commit(site: Path) -> None:
    repo = SiteRepo(site)
    before = git(site, "rev-parse", "HEAD")
    assert repo.commit_paths([], "nothing") is None
    assert repo.commit_paths(write(site, {"index.html": "front"}), "same bytes") is None
    assert repo.commit_paths(["news/1999/01/1/index.html"], "never there") is None
    assert git(site, "rev-parse", "HEAD") == before


@pytest.mark.parametrize(
    "path",
    [
        "../outside.html",
        "/etc/passwd",
        ".daybook-site.db",
        ".daybook-site.db-wal",
        "news/.tmp-123",
        ".git/config",
        "news//index.html",
        "news/./index.html",
        "",
    ],
)
def test_paths_outside_or_hidden_are_refused(site: Path, path: str) -> None:
    before = git(site, "rev-parse", "HEAD")
    with pytest.raises(GitError, match="not a path of the site"):
        SiteRepo(site).commit_paths(["index.html", path], "refused")
    assert git(site, "rev-parse", "HEAD") == before


def test_what_is_not_a_regular_file_is_refused(site: Path) -> None:
    repo = SiteRepo(site)
    (site / "link.html").symlink_to("index.html")
    with pytest.raises(GitError, match=r"link\.html is not a regular file"):
        repo.commit_paths(["link.html"], "a link")
    os.mkfifo(site / "pipe.html")
    with pytest.raises(GitError, match=r"pipe\.html is not a regular file"):
        repo.commit_paths(["pipe.html"], "a pipe")
    assert repo.commit_paths(["news"], "a folder: no file there") is None
    (site / "linked").symlink_to(site / "news")
    with pytest.raises(GitError, match="linked is a symbolic link"):
        repo.commit_paths(["linked/2024/05/8/index.html"], "through a link")
    assert commits(site) == 1


def test_a_concurrent_commit_is_not_overwritten(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = SiteRepo(site)
    edited = SiteRepo._edited_tree

    def meanwhile(self: SiteRepo, *args: object) -> str:
        tree = head_tree(site)
        me = ["-c", "user.name=someone", "-c", "user.email=someone@localhost"]
        other = git(site, *me, "commit-tree", tree, "-p", "HEAD", "-m", "meanwhile").strip()
        git(site, "update-ref", "HEAD", other)
        return edited(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SiteRepo, "_edited_tree", meanwhile)
    with pytest.raises(GitError, match=f"{site}: git update-ref failed"):
        repo.commit_paths(write(site, {"index.html": "edited"}), "lost race")
    assert git(site, "log", "-1", "--format=%s").strip() == "meanwhile"


def test_everything_deleted_is_the_empty_tree(site: Path) -> None:
    files = git(site, "ls-tree", "-r", "--name-only", "HEAD").split()
    for path in files:
        (site / path).unlink()
    assert SiteRepo(site).commit_paths(files, "all gone") is not None
    assert head_tree(site) == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    assert_sound(site)


def test_a_whole_stage_and_commit_after_index_free_commits(site: Path) -> None:
    repo = SiteRepo(site)
    repo.commit_paths(write(site, {"news/2024/05/10/index.html": "new", "entity/france.html": None}), "one")
    repo.commit_paths(write(site, {"index.html": "edited", "entity/spain.html": "Spain"}), "two")
    # an interrupted update: files written, never committed
    write(site, {"news/2024/05/11/index.html": "half", "entity/spain.html": None, "index.md": "edited"})
    repo.stage(None)
    assert repo.commit("whole") is not None
    assert_sound(site)
    assert git(site, "status", "--porcelain") == ""
    repo.stage(None)
    assert repo.commit("again") is None
    # the index-free commits are history, not undone
    assert git(site, "log", "--format=%s").split() == ["whole", "two", "one", "first"]


def test_stage_of_some_paths_after_index_free_commits(site: Path) -> None:
    repo = SiteRepo(site)
    changes = {"entity/spain.html": "Spain", "entity/france.html": None, "news/2024/05/8/index.html": "v2"}
    repo.commit_paths(write(site, changes), "one")
    write(site, {"index.html": "edited", "index.md": "not staged", "news/2024/05/8/index.html": "v3"})
    repo.stage(["index.html", "news/2024/05/8/index.html"])
    assert repo.commit("some") is not None
    assert git(site, "diff", "--name-only", "HEAD~", "HEAD").split() == [
        "index.html",
        "news/2024/05/8/index.html",
    ]
    assert git(site, "show", "HEAD:entity/spain.html") == "Spain"
    assert git(site, "show", "HEAD:index.md") != "not staged"
    assert repo.commit("nothing staged") is None


def test_commit_alone_after_an_index_free_commit_undoes_nothing(site: Path) -> None:
    repo = SiteRepo(site)
    repo.commit_paths(write(site, {"entity/spain.html": "Spain"}), "one")
    assert repo.commit("nothing staged") is None
    assert git(site, "show", "HEAD:entity/spain.html") == "Spain"


def test_porcelain_git_is_right_after_index_free_commits(site: Path) -> None:
    repo = SiteRepo(site)
    changes = {"entity/spain.html": "Spain", "entity/france.html": None, "index.html": "edited"}
    repo.commit_paths(write(site, changes), "one")
    assert_index_is_head(site)
    assert "entity/france.html" not in git(site, "ls-files")
    # a commit by hand in the folder, on top, undoes nothing of it
    write(site, {"index.md": "by hand"})
    git(site, "add", "index.md")
    git(site, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "by hand")
    assert git(site, "show", "HEAD:entity/spain.html") == "Spain"
    assert git(site, "diff", "--name-only", "HEAD~", "HEAD").split() == ["index.md"]
    assert not (site / ".git" / INDEX_BEHIND).exists()


def test_an_index_update_started_early_takes_the_paths_at_the_commit(site: Path) -> None:
    """``open_index`` starts git before the files are written (it holds the index's lock
    meanwhile); the commit gives it the paths, files and folders alike."""
    repo = SiteRepo(site)
    repo.open_index()
    waited = time.monotonic() + 30
    while not (site / ".git" / "index.lock").exists() and time.monotonic() < waited:
        time.sleep(0.01)  # git starting
    assert (site / ".git" / "index.lock").exists()
    paths = write(site, {"entity/spain.html": "Spain", "entity/france.html": None, "index.html": "edited"})
    (site / "index.md").unlink()
    paths += ["index.md", *write(site, {"index.md/front.md": "a file that became a folder"})]
    assert repo.commit_paths(paths, "one") is not None
    assert not (site / ".git" / "index.lock").exists()
    assert_sound(site)
    assert "entity/france.html" not in git(site, "ls-files")
    repo.close_index()  # nothing left to stop
    # Stopped unused (the update failed before its commit): the index is as it was.
    before = git(site, "ls-files", "-s")
    repo.open_index()
    write(site, {"index.html": "edited again"})
    repo.close_index()
    assert not (site / ".git" / "index.lock").exists()
    assert git(site, "ls-files", "-s") == before
    assert repo.commit_paths(["index.html"], "two") is not None
    assert_sound(site)


def test_the_index_catches_up_with_paths_committed_unindexed(site: Path) -> None:
    """A run killed after its commit, before its index was written (or an older daybook,
    which left the index behind): committing the same paths again indexes them."""
    repo = SiteRepo(site)
    paths = write(site, {"entity/spain.html": "Spain", "index.html": "edited"})
    repo.commit_paths(paths, "one")
    git(site, "read-tree", "HEAD~")  # the index as before that commit
    assert git(site, "status", "--porcelain") != ""
    assert repo.commit_paths(paths, "again") is None
    assert_index_is_head(site)


def test_an_index_left_behind_by_an_older_daybook_is_caught_up_once(site: Path) -> None:
    repo = SiteRepo(site)
    repo.commit_paths(write(site, {"entity/spain.html": "Spain"}), "one")
    git(site, "read-tree", "HEAD~")
    (site / ".git" / INDEX_BEHIND).touch()  # as an older daybook said so
    assert repo.commit_paths(write(site, {"index.html": "edited"}), "two") is not None
    assert_sound(site)
    assert not (site / ".git" / INDEX_BEHIND).exists()


def test_history_after_index_free_commits(site: Path) -> None:
    repo = SiteRepo(site)
    repo.commit_paths(write(site, {"news/2024/05/8/a-storm.html": "v2"}), "second")
    repo.commit_paths(write(site, {"index.html": "v2"}), "third")
    repo.commit_paths(write(site, {"news/2024/05/8/a-storm.html": "v3"}), "fourth")
    assert [c.message for c in repo.history("news/2024/05/8/a-storm.html")] == ["fourth", "second", "first"]
    assert [c.message for c in repo.history("index.html")] == ["third", "first"]
    assert git(site, "show", "HEAD~1:index.html") == "v2"


def test_the_first_commit_makes_the_repository(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    write(root, {"index.html": "front", "news/index.md": "news"})
    repo = SiteRepo(root)
    assert not repo.exists
    commit = repo.commit_paths(["index.html"], "first")
    assert commit is not None and repo.head() == commit
    assert git(root, "ls-tree", "-r", "--name-only", "HEAD").split() == ["index.html", "news/index.md"]
    assert_sound(root)


def test_prepared_blobs_are_used_only_for_files_unchanged_since(site: Path) -> None:
    repo = SiteRepo(site)
    paths = write(site, {"index.html": "front, new", "news/2024/05/10/index.html": "a day", "index.md": None})
    repo.prepare(paths)
    # After prepare, one file is replaced (as the writer does: a new file renamed over it).
    replacement = site / "news" / "2024" / "05" / "10" / "new.tmp"
    replacement.write_text("the day, rendered again", encoding="utf-8")
    os.replace(replacement, site / "news/2024/05/10/index.html")
    assert repo.commit_paths(paths, "prepared") is not None
    assert_sound(site)
    assert git(site, "show", "HEAD:news/2024/05/10/index.html") == "the day, rendered again"
    assert git(site, "show", "HEAD:index.html") == "front, new"


def loose_objects(root: Path) -> int:
    counts = dict(line.split(": ") for line in git(root, "count-objects", "-v").splitlines())
    return int(counts["count"])


def test_maintenance_leaves_the_large_first_pack_as_it_is(site: Path) -> None:
    """The updates' small packs are put together; the first build's large one stays."""
    repo = SiteRepo(site)
    first = {f"entity/first-{n}.html": os.urandom(600).hex() for n in range(1500)}  # ~1 MB packed
    assert repo.commit_paths(write(site, first), "first") is not None
    repo.pack()
    packs = site / ".git" / "objects" / "pack"
    (base,) = packs.glob("pack-*.pack")
    assert repo.maintain() is None
    assert git(site, "config", "gc.autoPackLimit").strip() == "8"  # daybook's, where none was set
    git(site, "config", "gc.bigPackThreshold", "500k")
    git(site, "config", "gc.autoPackLimit", "3")
    git(site, "config", "gc.autoDetach", "false")
    for round_ in range(4):
        made = repo.commit_paths(write(site, {"index.html": f"front {round_}"}), f"update {round_}")
        assert made is not None
    assert repo.maintain() is None
    assert base.exists() and len(list(packs.glob("pack-*.pack"))) == 2
    assert git(site, "show", "HEAD:index.html") == "front 3"
    assert_sound(site)


def test_maintenance_packs_what_updates_leave_loose(site: Path) -> None:
    """Each commit adds a pack; past ``gc.autoPackLimit`` git's maintenance makes them one."""
    repo = SiteRepo(site)
    repo.pack()
    packs = site / ".git" / "objects" / "pack"
    git(site, "config", "gc.auto", "0")  # git's switch: maintenance off
    for round_ in range(4):
        many = {f"entity/name-{n}.html": f"entity number {n}, {round_}" for n in range(200)}
        assert repo.commit_paths(write(site, many), f"many {round_}") is not None
        repo.maintain()
    assert len(list(packs.glob("pack-*.pack"))) == 5
    git(site, "config", "gc.auto", "100")
    git(site, "config", "gc.autoPackLimit", "3")
    git(site, "config", "gc.autoDetach", "false")  # in the foreground, for the test to see
    assert repo.maintain() is None
    assert len(list(packs.glob("pack-*.pack"))) == 1
    assert git(site, "show", "HEAD:entity/name-7.html") == "entity number 7, 3"
    assert_sound(site)
    git(site, "config", "gc.auto", "many")  # git then refuses: said, not raised
    assert "gc.auto" in (repo.maintain() or "")
