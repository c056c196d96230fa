"""The site's git repository: each update one commit, so every page has a history.

How it works: docs/ARCHITECTURE.md, "The site's git repository".
"""

from __future__ import annotations

import bisect
import concurrent.futures
import contextlib
import os
import re
import shutil
import stat
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from daybook.errors import GitError, UsageError
from daybook.git_pack import PackWriter, remove_leftovers

IDENTITY = {"user.name": "daybook", "user.email": "daybook@localhost"}
# Never part of the site: what older builds kept in it (a page cache, the site's state database
# and its -wal and -journal files), the writer's temporary files; in fact nothing hidden at any depth.
EXCLUDED = ("/.daybook-pages.json", "/.daybook-site.db*", ".tmp-*", ".*")
# A git lock file this old is stale: git holds its locks for moments.
STALE_LOCK_SECONDS = 10.0
# Left in .git by earlier versions of daybook, whose commit_paths left the index behind
# HEAD: the next commit catches the index up once (``sync_index``) and removes it.
INDEX_BEHIND = "daybook-index-behind"
# git gc's settings for the site, unless its configuration has its own. Each update adds a
# pack of some 17 MB (150,000 events) with no deltas: past 8 of them, gc --auto packs them
# together (deltas and all, a few MB), leaving every pack over 256 MB (the first build's,
# and later the joined ones once that large) as it is, rather than repacking a GB each time.
MAINTENANCE = {"gc.autoPackLimit": "8", "gc.bigPackThreshold": "256m"}
# What _blob_entry says of a path that is a folder on disk: the file there is gone.
_A_FOLDER = b""
# A tree entry: ``<mode> <name>\0<20-byte id>``.
_ENTRY = re.compile(rb"[0-7]+ [^\0]*\0.{20}", re.DOTALL)
# Sets the index entries of the paths given (NUL-ended) to the files there, or removes them.
_UPDATE_INDEX = ("update-index", "--add", "--remove", "--replace", "--info-only", "-z", "--stdin")
# Requests written to ``git cat-file --batch`` before reading the answers: well under what
# a pipe holds, so writing them never waits for git, which may be waiting for us to read.
BATCH = 256


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
        # Tree entries of files whose blobs ``prepare`` wrote, by path, with the file's
        # (inode, size, mtime) then: a file replaced since is read again at the commit.
        self._prepared: dict[bytes, tuple[tuple[int, int, int] | None, bytes | None]] = {}
        # HEAD's trees read so far, by folder: (tree id, body, entries); kept by id, so a
        # tree read for ``prepare`` serves the commit if HEAD has it still.
        self._trees: dict[bytes, tuple[bytes, bytes, list[bytes]]] = {}
        # The objects ``prepare`` and ``commit_paths`` store: one pack, written before the commit.
        self._objects = PackWriter(os.fsencode(self._git_dir / "objects" / "pack"), str(root))
        self.index_seconds = 0.0  # what the last commit_paths spent on the index (benchmarks)
        # ``git update-index --stdin`` started by ``open_index``: it reads the index (and
        # holds its lock) while the site is written, and takes the paths at the commit.
        self._indexer: subprocess.Popen[bytes] | None = None

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

    # -- the index-free commit -----------------------------------------------------

    def commit_paths(self, paths: Iterable[str], message: str) -> str | None:
        """Commit HEAD with these paths (relative to the root) as they are on disk: a
        file there is added or updated, a path with nothing there (or a folder: its own
        files are paths of their own) is deleted, and a folder left empty goes too. The
        new commit, or None (and no commit) if the tree is HEAD's. The first commit takes
        the whole folder (``git add -A``), whatever the paths.

        Raises GitError for a path that is not a plain relative path in the site or is
        hidden (a part starting with ``.``), for one that is on disk but not a regular
        file, and if HEAD moved while the commit was made."""
        changed = sorted({self._site_path(path) for path in paths})
        if not self.exists:
            self.init()
        self._clear_stale_locks()
        folders: list[bytes] = []  # changed paths that are folders on disk now
        with _ObjectReader(self) as reader:
            head = reader.read(["HEAD"])[0]
            if head is not None:
                parent, tree = _commit_of(self.root, head)
                new_tree = self._edited_tree(reader, tree, changed, folders) if changed else tree
        self._objects.finish()  # what the new tree needs, stored before anything names it
        if head is None:  # the first commit
            self.stage(None)
            return self.commit(message)
        # Also when the tree is HEAD's: a killed run may have committed these paths, not indexed them.
        self._index_paths(changed, folders)
        if new_tree == tree:
            return None
        commit = self._git("commit-tree", new_tree, "-p", parent, "-F", "-", stdin=message).strip()
        self._git("update-ref", "-m", "daybook update", "HEAD", commit, parent)
        return commit

    def open_index(self) -> None:
        """Start now the index update of the next ``commit_paths``: git reads the index
        (tens of MB for a site of 800,000 files) while the caller writes the site, and is
        given the paths at the commit. It holds the index's lock meanwhile; ``close_index``
        stops it unused. Nothing is started before the first commit."""
        if self._indexer is not None or self.head() is None or (self._git_dir / INDEX_BEHIND).exists():
            return
        self._clear_stale_locks()
        self._indexer = subprocess.Popen(
            [self._git_binary(), *self._identity_args(self._git_binary()), *_UPDATE_INDEX],
            cwd=self.root,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=_env(),
        )

    def close_index(self) -> None:
        """Stop the index update ``open_index`` started, if no commit took it: the index
        is left as it was (git removes its lock as it stops)."""
        indexer, self._indexer = self._indexer, None
        if indexer is not None:
            indexer.terminate()
            indexer.communicate()

    def _index_paths(self, changed: list[bytes], folders: list[bytes]) -> None:
        """Set the index entries of ``changed`` to the files on disk (hashed, with their
        stat data), or remove them where there is no file; the rest of the index is left
        as it is (git still reads and writes it whole, in the process ``open_index``
        started early if it did: see BENCHMARKS.md, Update)."""
        started = time.perf_counter()
        not_files = set(folders)
        files = [path for path in changed if path not in not_files]
        indexer, self._indexer = self._indexer, None
        if indexer is not None:
            _, said = indexer.communicate(_nul_ended(files))
            if indexer.returncode != 0:
                lines = said.decode(errors="replace").strip().splitlines()
                last = lines[-1] if lines else indexer.returncode
                raise GitError(f"{self.root}: git update-index failed: {last}")
            files = []
        self.sync_index()
        if folders:  # a file that became a folder: its entry goes (its own files are paths)
            self._git_bytes("update-index", "--force-remove", "-z", "--stdin", stdin=_nul_ended(folders))
        if files:
            self._git_bytes(*_UPDATE_INDEX, stdin=_nul_ended(files))
        self.index_seconds = time.perf_counter() - started

    def prepare(self, paths: Iterable[str]) -> None:
        """Write the blobs of these files now, for a ``commit_paths`` to come: an update
        does so while it waits for enrich, and the commit then reads and writes only the
        files changed since."""
        if not self.exists:
            return
        changed = sorted({self._site_path(p) for p in paths})
        for path in changed:
            key = self._stat_key(path)
            self._prepared[path] = (key, self._blob_entry(path, path.rpartition(b"/")[2]))
        with _ObjectReader(self) as reader:  # and HEAD's trees on the way to them
            head = reader.read(["HEAD"])[0]
            if head is not None and changed:
                self._head_trees(reader, _commit_of(self.root, head)[1], _folders_of(changed))

    def _stat_key(self, path: bytes) -> tuple[int, int, int] | None:
        try:
            info = os.lstat(os.path.join(os.fsencode(self.root), path))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def _entry(self, path: bytes, name: bytes) -> bytes | None:
        """``_blob_entry``, or what ``prepare`` found if the file is as it was then."""
        prepared = self._prepared.pop(path, None)
        if prepared is not None and prepared[0] == self._stat_key(path) and prepared[1] != _A_FOLDER:
            return prepared[1]
        return self._blob_entry(path, name)

    def _site_path(self, path: str) -> bytes:
        parts = path.split("/")
        if "\0" in path or any(not part or part.startswith(".") for part in parts):
            raise GitError(
                f"{self.root}: {path!r} is not a path of the site (relative, no empty or hidden part)"
            )
        return os.fsencode(path)

    def _edited_tree(
        self, reader: _ObjectReader, root_tree: str, changed: list[bytes], now_folders: list[bytes]
    ) -> str:
        """The tree ``root_tree`` with ``changed`` as on disk (its hex id); the changed
        paths that are folders on disk are added to ``now_folders``."""
        # What changes in each folder: file name -> its blob entry, or None (gone), and the
        # folders beneath with changes of their own.
        files: dict[bytes, dict[bytes, bytes | None]] = {}
        folders: dict[bytes, set[bytes]] = {}
        for path in changed:
            folder, _, name = path.rpartition(b"/")
            files.setdefault(folder, {})[name] = None
            _mark_parents(folder, folders)
        depth_first = sorted(set(files) | set(folders), key=_depth)
        for folder in depth_first:
            if os.path.islink(os.path.join(os.fsencode(self.root), folder)):
                raise GitError(
                    f"{self.root}: {os.fsdecode(folder)} is a symbolic link, not a folder of the site"
                )
        # HEAD's trees read (by git, mostly) while the files are read and their blobs written.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as beside:
            reading = beside.submit(self._head_trees, reader, root_tree, depth_first)
            for folder, here in files.items():
                for name in here:
                    here[name] = self._entry(_join(folder, name), name)
                    if here[name] == _A_FOLDER:
                        now_folders.append(_join(folder, name))
            old_id, old_raw, old = reading.result()

        # The new trees, deepest first; an empty one is left out of its parent.
        new_id: dict[bytes, bytes | None] = {}
        for folder in reversed(depth_first):
            edits: dict[bytes, bytes | None] = {}  # sort key -> the entry there, or None
            here = files.get(folder, {})
            for name, entry in here.items():
                edits[name] = entry or None
                if entry != _A_FOLDER:
                    edits[name + b"/"] = None  # a file or nothing: no folder either
            for base in folders.get(folder, ()):
                if here.get(base, _A_FOLDER) != _A_FOLDER:  # a file or nothing: nothing beneath
                    continue
                tree = new_id[_join(folder, base)]
                edits[base + b"/"] = None if tree is None else b"40000 " + base + b"\0" + tree
                if tree is not None:
                    edits[base] = None  # a folder where a file was
            raw = _edit(old[folder], edits)
            if raw == old_raw[folder]:
                new_id[folder] = old_id[folder]
            elif raw or not folder:
                new_id[folder] = self._objects.write(b"tree", raw)
            else:
                new_id[folder] = None
        top = new_id[b""]
        assert top is not None
        return top.hex()

    def _head_trees(
        self, reader: _ObjectReader, root_tree: str, depth_first: list[bytes]
    ) -> tuple[dict[bytes, bytes | None], dict[bytes, bytes], dict[bytes, list[bytes]]]:
        """HEAD's trees of these folders (parents first), read a level at a time: for each,
        its id (None if HEAD has no such folder), its body and its entries (b"" and [] if none)."""
        old_id: dict[bytes, bytes | None] = {b"": bytes.fromhex(root_tree)}
        old_raw: dict[bytes, bytes] = {}
        old: dict[bytes, list[bytes]] = {}
        for depth in range(_depth(depth_first[-1]) + 1):
            level = [folder for folder in depth_first if _depth(folder) == depth]
            for folder in level:
                if folder:
                    parent, _, base = folder.rpartition(b"/")
                    at = _find(old[parent], base + b"/")
                    old_id[folder] = None if at is None else old[parent][at][-20:]
            for folder in level:
                kept = self._trees.get(folder)
                if kept is not None and kept[0] == old_id[folder]:  # read by ``prepare``
                    old_raw[folder], old[folder] = kept[1], kept[2]
            present = [folder for folder in level if old_id[folder] is not None and folder not in old]
            found = reader.read([(old_id[folder] or b"").hex() for folder in present])
            for folder, obj in zip(present, found, strict=True):
                if obj is None or obj[1] != "tree":
                    raise GitError(f"{self.root}: HEAD's tree of {os.fsdecode(folder) or '.'} is unreadable")
                old_raw[folder] = obj[2]
                old[folder] = _entries(self.root, obj[2])
            for folder in level:
                if old_id[folder] is None:
                    old_raw[folder], old[folder] = b"", []
        for folder, body in old_raw.items():
            tree_id = old_id[folder]
            if tree_id is not None:
                self._trees[folder] = (tree_id, body, old[folder])
        return old_id, old_raw, old

    def _blob_entry(self, path: bytes, name: bytes) -> bytes | None:
        """The tree entry of the file at ``path`` (its blob written), None if there is
        nothing there, ``_A_FOLDER`` if a folder (whose files are paths of their own)."""
        full = os.path.join(os.fsencode(self.root), path)
        try:
            info = os.lstat(full)
            if stat.S_ISDIR(info.st_mode):
                return _A_FOLDER
            if not stat.S_ISREG(info.st_mode):
                raise GitError(f"{self.root}: {os.fsdecode(path)} is not a regular file")
            with open(full, "rb") as handle:
                data = handle.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise GitError(f"{self.root}: cannot read {os.fsdecode(path)}: {error.strerror}") from None
        mode = b"100755" if info.st_mode & stat.S_IXUSR else b"100644"  # as git add has it
        return mode + b" " + name + b"\0" + self._objects.write(b"blob", data)

    # -- the index -----------------------------------------------------------------

    def stage(self, paths: Sequence[str] | None) -> None:
        """Stage these paths (written or removed) as they are on disk; None: everything."""
        self._clear_stale_locks()
        if paths is None:
            # The index, however far behind, then holds the folder as it is.
            self._git("add", "-A", ".")
            (self._git_dir / INDEX_BEHIND).unlink(missing_ok=True)
        else:
            self.sync_index()
            visible = sorted({p for p in paths if not any(part.startswith(".") for part in p.split("/"))})
            if visible:
                listing = "".join(f"{p}\0" for p in visible)
                self._git("update-index", "--add", "--remove", "-z", "--stdin", stdin=listing)

    def commit(self, message: str) -> str | None:
        """Commit what is staged; None (and no commit) if the tree is the last commit's."""
        self.sync_index()
        tree = self._git("write-tree").strip()
        parent = self.head()
        if parent is not None and self._git("rev-parse", f"{parent}^{{tree}}").strip() == tree:
            return None
        args = ["commit-tree", tree, *(["-p", parent] if parent else []), "-F", "-"]
        commit = self._git(*args, stdin=message).strip()
        self._git("update-ref", "-m", "daybook update", "HEAD", commit, parent or "")
        return commit

    def sync_index(self) -> None:
        """Bring ``.git/index`` to HEAD if an older daybook's ``commit_paths`` left it
        behind (keeping the stat data of what did not change): once, 3 s on 1.6 million files."""
        behind = self._git_dir / INDEX_BEHIND
        if not behind.exists():
            return
        self._clear_stale_locks()
        if self.head() is not None:
            self._git("read-tree", "--reset", "HEAD")
        behind.unlink(missing_ok=True)

    # -- maintenance ---------------------------------------------------------------

    def pack(self) -> None:
        """Pack every object into one pack (deltas and all) and drop the loose ones: after
        the first commit, which ``git add -A`` writes as one loose object per file."""
        self._git("repack", "-a", "-d", "-q")

    def maintain(self) -> str | None:
        """``git gc --auto``: once the packs (one an update) are more than
        ``gc.autoPackLimit``, git packs them into one in a process it detaches, so this
        returns in milliseconds; ``gc.auto=0`` turns it off. Where the repository's
        configuration does not say otherwise, ``MAINTENANCE`` holds: the small packs are
        put together every few updates, and the large ones (the first build's) are left
        as they are. What git said if it failed (the commit is made: only its packing is
        left undone)."""
        self._clear_stale_locks()
        settings = self._run("config", "--get-regexp", r"^gc\.", check=False).stdout.lower()
        configured = {line.split(" ", 1)[0] for line in settings.splitlines()}
        for key, value in MAINTENANCE.items():
            if key.lower() not in configured:
                self._git("config", key, value)
        done = self._run("gc", "--auto", "--quiet", check=False)
        if done.returncode == 0:
            return None
        said = (done.stderr or done.stdout).strip().splitlines()
        return said[-1] if said else f"exit status {done.returncode}"

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
        # The index's lock is held by ``open_index``'s git while it runs.
        held = self._indexer is not None and self._indexer.poll() is None
        locks = [] if held else [self._git_dir / "index.lock"]
        locks.append(self._git_dir / "HEAD.lock")
        locks += list((self._git_dir / "refs" / "heads").glob("*.lock"))
        for lock in locks:
            while (age := _age(lock)) is not None and age < STALE_LOCK_SECONDS:
                time.sleep(0.1)
            lock.unlink(missing_ok=True)
        remove_leftovers(os.fsencode(self._git_dir / "objects" / "pack"), STALE_LOCK_SECONDS, time.time())

    def _git(self, *args: str, stdin: str | None = None) -> str:
        return self._run(*args, stdin=stdin).stdout

    def _git_bytes(self, *args: str, stdin: bytes) -> None:
        """Run git given bytes (paths as they are on disk, whatever their encoding)."""
        command = [self._git_binary(), *self._identity_args(self._git_binary()), *args]
        result = subprocess.run(
            command, cwd=self.root, input=stdin, capture_output=True, check=False, env=_env()
        )
        if result.returncode != 0:
            said = (result.stderr or result.stdout).decode(errors="replace").strip().splitlines()
            raise GitError(f"{self.root}: git {args[0]} failed: {said[-1] if said else result.returncode}")

    def _run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [self._git_binary(), *self._identity_args(self._git_binary()), *args]
        result = subprocess.run(
            command, cwd=self.root, input=stdin, capture_output=True, text=True, check=False, env=_env()
        )
        if check and result.returncode != 0:
            said = (result.stderr or result.stdout).strip().splitlines()
            raise GitError(f"{self.root}: git {args[0]} failed: {said[-1] if said else result.returncode}")
        return result

    def _git_binary(self) -> str:
        git = shutil.which("git")
        if git is None:
            raise GitError("git is not installed; daybook update commits the site with it")
        return git

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


class _ObjectReader:
    """One ``git cat-file --batch`` answering every read of a commit."""

    def __init__(self, repo: SiteRepo) -> None:
        self._root = repo.root
        self._proc = subprocess.Popen(
            [repo._git_binary(), "cat-file", "--batch"],
            cwd=repo.root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )

    def __enter__(self) -> _ObjectReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def read(self, names: list[str]) -> list[tuple[str, str, bytes] | None]:
        """Each object's id, type and body, or None where there is none."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        found: list[tuple[str, str, bytes] | None] = []
        for start in range(0, len(names), BATCH):
            batch = names[start : start + BATCH]
            try:
                self._proc.stdin.write("".join(f"{name}\n" for name in batch).encode())
                self._proc.stdin.flush()
            except BrokenPipeError:
                self._failed()
            for _ in batch:
                header = self._proc.stdout.readline().split()
                if len(header) == 2 and header[1] == b"missing":
                    found.append(None)
                    continue
                if len(header) != 3:
                    self._failed()
                body = self._proc.stdout.read(int(header[2]) + 1)
                if len(body) != int(header[2]) + 1:
                    self._failed()
                found.append((header[0].decode(), header[1].decode(), body[:-1]))
        return found

    def _failed(self) -> None:
        self.close()
        said = self._proc.stderr.read().decode(errors="replace").strip() if self._proc.stderr else ""
        last = said.splitlines()[-1] if said else self._proc.returncode
        raise GitError(f"{self._root}: git cat-file failed: {last}")

    def close(self) -> None:
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc.wait()


def _commit_of(root: Path, obj: tuple[str, str, bytes]) -> tuple[str, str]:
    """A commit's id and its tree's, from ``git cat-file --batch``'s answer for HEAD."""
    oid, kind, body = obj
    if kind != "commit" or not body.startswith(b"tree ") or body[45:46] != b"\n":
        raise GitError(f"{root}: HEAD is not a commit of a SHA-1 repository")
    return oid, body[5:45].decode()


def _mark_parents(folder: bytes, folders: dict[bytes, set[bytes]]) -> None:
    """Note ``folder`` in its parent's set, and so on up (folder -> the folders beneath it)."""
    while folder:
        parent, _, base = folder.rpartition(b"/")
        below = folders.setdefault(parent, set())
        if base in below:
            return
        below.add(base)
        folder = parent


def _folders_of(paths: list[bytes]) -> list[bytes]:
    """The folders of these paths and every folder above them, parents first."""
    folders: dict[bytes, set[bytes]] = {}
    files = set()
    for path in paths:
        folder = path.rpartition(b"/")[0]
        files.add(folder)
        _mark_parents(folder, folders)
    return sorted(files | set(folders), key=_depth)


def _nul_ended(paths: list[bytes]) -> bytes:
    return b"".join(path + b"\0" for path in paths)


def _depth(folder: bytes) -> int:
    return folder.count(b"/") + 1 if folder else 0


def _join(folder: bytes, name: bytes) -> bytes:
    return folder + b"/" + name if folder else name


def _entries(root: Path, raw: bytes) -> list[bytes]:
    """A tree object's entries (``<mode> <name>\\0<20-byte id>``), in its order."""
    entries = _ENTRY.findall(raw)
    if sum(map(len, entries)) != len(raw):
        raise GitError(f"{root}: a tree of HEAD is malformed")
    return entries


def _key(entry: bytes) -> bytes:
    """What git sorts a tree entry by: its name, with ``/`` after a folder's."""
    name = entry[entry.index(b" ") + 1 : -21]
    return name + b"/" if entry.startswith((b"4", b"04")) else name


def _find(entries: list[bytes], key: bytes) -> int | None:
    at = bisect.bisect_left(entries, key, key=_key)
    return at if at < len(entries) and _key(entries[at]) == key else None


def _edit(entries: list[bytes], edits: dict[bytes, bytes | None]) -> bytes:
    """A tree's body with the entries of ``edits`` (by sort key) put in or, for None, taken out."""
    pieces: list[bytes] = []
    done = 0
    for key in sorted(edits):
        at = bisect.bisect_left(entries, key, lo=done, key=_key)
        pieces += entries[done:at]
        if at < len(entries) and _key(entries[at]) == key:
            at += 1
        entry = edits[key]
        if entry is not None:
            pieces.append(entry)
        done = at
    pieces += entries[done:]
    return b"".join(pieces)


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
