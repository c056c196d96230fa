"""The site's git repository: each update one commit, so every page has a history.

The output folder is a repository of its own, initialised on first use. A commit is
made with git's plumbing over the paths an update wrote or removed (``update-index``,
``write-tree``, ``commit-tree``, ``update-ref``): the porcelain ``git commit`` would
first look at every file of a site that has hundreds of thousands. The page cache
and the writer's temporary files are never committed. Commits carry the user's git
identity where one is configured, else daybook's own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from daybook.errors import GitError, UsageError
from daybook.pagecache import OLD_CACHE_NAME, STATE_NAME

IDENTITY = {"user.name": "daybook", "user.email": "daybook@localhost"}
# Never part of the site: the page cache, the writer's temporary files.
EXCLUDED = (f"/{OLD_CACHE_NAME}", f"/{STATE_NAME}*", ".tmp-*")
# A git lock file this old is stale: git holds its locks for moments.
STALE_LOCK_SECONDS = 10.0


@dataclass(frozen=True)
class Change:
    """One commit that changed a page."""

    commit: str
    date: str  # committer date, ISO 8601
    message: str  # the first line


class SiteRepo:
    """The git repository at ``root`` (which need not exist yet)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._git_dir = root / ".git"
        self._identity: list[str] | None = None

    @property
    def exists(self) -> bool:
        return self._git_dir.is_dir()

    def init(self) -> None:
        """Make the folder a repository, if it is not one yet, that ignores what is not
        the site (checked every time: a run killed halfway through may have left it half made)."""
        if not self.exists:
            self.root.mkdir(parents=True, exist_ok=True)
            self._git("-c", "init.defaultBranch=main", "init", "-q")
            # Index version 4, the untracked cache and a split index (each commit rewrites a small
            # index, not the whole one): git's settings for repositories of many files.
            self._git("config", "feature.manyFiles", "true")
            self._git("config", "core.splitIndex", "true")
        exclude = self._git_dir / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        listed = exclude.read_text(encoding="utf-8").splitlines() if exclude.exists() else []
        missing = [pattern for pattern in EXCLUDED if pattern not in listed]
        if missing:
            with exclude.open("a", encoding="utf-8") as handle:
                handle.write("".join(f"{pattern}\n" for pattern in ["# daybook: not the site", *missing]))

    def head(self) -> str | None:
        """The current commit, or None before the first."""
        if not self.exists:
            return None
        found = self._run("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
        if found.returncode != 0:
            return None
        return found.stdout.strip() or None

    def stage(self, paths: Sequence[str] | None) -> None:
        """Stage these paths (written or removed) as they are on disk; None: everything."""
        self._clear_stale_locks()
        if paths is None:
            self._git("add", "-A", ".")
        elif paths:
            listing = "".join(f"{p}\0" for p in sorted(set(paths)))
            self._git("update-index", "--add", "--remove", "-z", "--stdin", stdin=listing)

    def commit(self, message: str) -> str | None:
        """Commit what is staged; None (and no commit) if the tree is the last commit's."""
        tree = self._git("write-tree").strip()
        parent = self.head()
        if parent is not None and self._git("rev-parse", f"{parent}^{{tree}}").strip() == tree:
            return None
        args = ["commit-tree", tree, *(["-p", parent] if parent else []), "-F", "-"]
        commit = self._git(*args, stdin=message).strip()
        self._git("update-ref", "-m", "daybook update", "HEAD", commit, parent or "")
        return commit

    def history(self, path: str) -> list[Change]:
        """The commits that changed ``path`` (relative to the root), newest first."""
        if self.head() is None:
            return []
        out = self._git("log", "--format=%H%x1f%cI%x1f%s", "--", path)
        return [Change(*line.split("\x1f", 2)) for line in out.splitlines() if line]

    # -- running git ---------------------------------------------------------------

    def _clear_stale_locks(self) -> None:
        """Remove the lock files a killed git left behind. A lock younger than
        ``STALE_LOCK_SECONDS`` may be held by a git still at work (one a killed update
        started), so it is waited for until it goes or grows old."""
        if not self.exists:
            return
        locks = [self._git_dir / "index.lock", self._git_dir / "HEAD.lock"]
        locks += list((self._git_dir / "refs" / "heads").glob("*.lock"))
        for lock in locks:
            while (age := _age(lock)) is not None and age < STALE_LOCK_SECONDS:
                time.sleep(0.1)
            lock.unlink(missing_ok=True)

    def _git(self, *args: str, stdin: str | None = None) -> str:
        return self._run(*args, stdin=stdin).stdout

    def _run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        git = shutil.which("git")
        if git is None:
            raise GitError("git is not installed; daybook update commits the site with it")
        command = [git, *self._identity_args(git), *args]
        result = subprocess.run(
            command, cwd=self.root, input=stdin, capture_output=True, text=True, check=False, env=_env()
        )
        if check and result.returncode != 0:
            said = (result.stderr or result.stdout).strip().splitlines()
            raise GitError(f"{self.root}: git {args[0]} failed: {said[-1] if said else result.returncode}")
        return result

    def _identity_args(self, git: str) -> list[str]:
        """``-c user.name=daybook ...`` for whatever identity git has not been given."""
        if self._identity is None:
            self._identity = []
            folder = self.root if self.root.is_dir() else Path.cwd()
            for key, value in IDENTITY.items():
                configured = subprocess.run(
                    [git, "config", "--get", key], cwd=folder, capture_output=True, text=True, check=False
                )
                if configured.returncode != 0 or not configured.stdout.strip():
                    self._identity += ["-c", f"{key}={value}"]
        return self._identity


def _age(path: Path) -> float | None:
    """Seconds since a file was last changed, or None if it is not there."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None


def _env() -> dict[str, str]:
    # Dates and messages as git writes them for machines, whatever the user's locale.
    return {**os.environ, "LC_ALL": "C", "TZ": "UTC"}


def site_path(page: str, site: Path) -> str:
    """A page's path relative to the site root: as given, unless it names an existing file
    from here (``site/news/...``, or absolute), which must then lie in the site."""
    path = Path(page)
    if path.is_absolute() or (path.exists() and not (site / path).exists()):
        try:
            return path.resolve().relative_to(site.resolve()).as_posix()
        except ValueError:
            raise UsageError(f"{page}: not a file of the site {site}") from None
    return path.as_posix()
