"""The writer: the only code that writes the site.

Every file goes through ``Writer.write``: it is written to a temporary file beside
its target and renamed over it, so a reader (or a crash, or a full disk) never sees
half a page; a file whose content is unchanged is not touched, so a rebuild with no
change writes nothing; one build may not give one path two different contents; and no
path may leave the output folder.

The writer replaces or removes only files daybook wrote: those this build made, and
those its ``Ledger`` owns (the site's record, ``state.SiteState``). A file of the
user's in the site folder is never removed, and one standing where a page must go
stops the build. The ledger is told each path before its file (or temporary file) is
made, so a build killed halfway leaves nothing the next cannot account for.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Callable, Iterable, KeysView
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from daybook.errors import WriteError

_KEPT = b"kept"  # stands in for the digest of a file kept as it is


@dataclass
class WriteReport:
    """What a build did to the output folder."""

    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    # Every path made (written or found already so) or removed (or found already gone):
    # what a commit must look at when a killed run may have done part of the work.
    touched: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.written)} written, {self.unchanged} unchanged, {len(self.removed)} removed"


def temporary_name(name: str) -> str:
    """The temporary file a file named ``name`` is written to before it is renamed over it:
    hidden (never served, never committed), of bounded length, the same at every build
    (the site's lock lets one build write at a time), so a killed build's is found again."""
    digest = hashlib.blake2b(name.encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()
    dot = name.rfind(".")
    suffix = name[dot:] if 0 < dot < len(name) - 1 else ""  # PurePosixPath(name).suffix
    return f".tmp-{digest}{suffix}"


class Ledger(Protocol):
    """What daybook wrote in the folder before this build."""

    def owns(self, path: str) -> bool:
        """Whether daybook wrote this file (so it may replace or remove it)."""
        ...

    def claim(self, path: str) -> None:
        """The file is about to be written (it and its temporary file): note it first."""
        ...

    def recorded(self) -> Iterable[str]:
        """Every file daybook wrote before this build."""
        ...


class Recorded:
    """A ledger of the paths it is given (the site's state keeps the real one); what a build
    claims is noted apart (the state's journal), owned only by the build's own record."""

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self.paths = set(paths)
        self.claimed: set[str] = set()

    def owns(self, path: str) -> bool:
        return path in self.paths

    def claim(self, path: str) -> None:
        self.claimed.add(path)

    def recorded(self) -> Iterable[str]:
        return sorted(self.paths)


class Writer:
    """Writes pages under ``root``; paths are POSIX-style and relative to it."""

    def __init__(self, root: str | os.PathLike[str], ledger: Ledger | None = None) -> None:
        self.root = Path(root).resolve()
        self._root = str(self.root)
        self.ledger: Ledger = Recorded() if ledger is None else ledger
        self.report = WriteReport()
        # Every file of daybook's this build removed, or found gone (a killed build removed it).
        self.dropped: set[str] = set()
        # path -> digest of what this build gave it: enough to refuse a second, different
        # content without holding every page in memory.
        self._built: dict[str, bytes] = {}
        self._folders: dict[str, bool] = {}  # folder (relative) -> inside the root
        self._made: set[str] = set()  # folders (absolute) known to exist
        # Paths a render worker is writing (``claim``), not settled yet; ``wait`` settles
        # them all (the build sets it to its flush).
        self.pending: set[str] = set()
        self.wait: Callable[[], None] = _nothing_pending

    def target(self, path: str) -> Path:
        """The file a relative path names, refusing anything that would leave the root."""
        pure = PurePosixPath(path)
        if (
            pure.is_absolute()
            or not pure.parts
            or any(p in ("..", "") for p in pure.parts)
            or "\\" in path
            or "\n" in path
        ):
            raise WriteError(f"{path!r}: not a relative path inside the output folder")
        if any(part.startswith(".") for part in pure.parts):
            raise WriteError(f"{path!r}: hidden files are not part of the site")
        full = self.root.joinpath(*pure.parts)
        # A folder inside the root could be a symlink out of it: resolve each folder once.
        folder = str(pure.parent)
        inside = self._folders.get(folder)
        if inside is None:
            inside = full.parent.resolve().is_relative_to(self.root)
            self._folders[folder] = inside
        if not inside or full.is_symlink():
            raise WriteError(f"{path!r}: leaves the output folder {self.root}")
        return full

    def _checked(self, path: str) -> str:
        """The file a relative path names, as a string: ``target``'s checks, done once per
        folder the slow way and then by splitting the path (a page is four files)."""
        folder, _, _ = path.rpartition("/")
        inside = self._folders.get(folder)
        if inside is None:  # a folder not seen yet: check it the slow way
            return str(self.target(path))
        if _not_plain(path):
            raise WriteError(f"{path!r}: not a relative path inside the output folder")
        if not inside:
            raise WriteError(f"{path!r}: leaves the output folder {self.root}")
        return f"{self._root}/{path}"

    def write(self, path: str, content: str | bytes) -> bool:
        """Write one file; returns True if the file on disk changed."""
        if path in self.pending:  # a render worker is writing it: its word first
            self.wait()
        data = content.encode("utf-8") if isinstance(content, str) else content
        digest = hashlib.blake2b(data, digest_size=16).digest()
        previous = self._built.get(path)
        if previous == digest:
            return False
        if previous not in (None, _KEPT):
            raise WriteError(f"{path}: two different contents for one path in one build")
        # A file kept earlier in the build is written now if its page changed since (a
        # name's address moved after the page was first made).
        full = self._checked(path)
        outcome = put(full, data, previous is not None, self._made, lambda: self.ledger.claim(path))
        return self.settle(path, full, digest, outcome, data)

    def claim(self, path: str) -> tuple[str, bytes | None]:
        """Ready a path for a render worker to write (``put``): checked, journaled, and
        noted as pending until ``settle``. Returns its file and what this build gave it
        so far (None: nothing; ``put`` is told whether it may replace a file there)."""
        if path in self.pending:
            self.wait()
        full = self._checked(path)
        self.ledger.claim(path)
        self.pending.add(path)
        return full, self._built.get(path)

    def settle(self, path: str, full: str, digest: bytes, outcome: int, data: bytes | None = None) -> bool:
        """Account for what ``put`` did with a path (here or in a render worker): the
        build's record, the report, and the owner's check of a file in the way (then
        written here). Returns True if the file on disk changed."""
        self.pending.discard(path)
        if outcome == SAME:
            return False
        self._built[path] = digest
        self.report.touched.append(path)
        if outcome == IN_THE_WAY:
            if data is None or not self.ledger.owns(path):
                raise WriteError(
                    f"{full}: in the way (daybook did not write this file); move it out of the"
                    " site folder and build again"
                )
            outcome = put(full, data, True, self._made, lambda: self.ledger.claim(path))
        if outcome == UNCHANGED:
            self.report.unchanged += 1
            return False
        self.report.written.append(path)
        return True

    def owns(self, path: str) -> bool:
        """Whether daybook wrote the file at ``path`` (in this build or before)."""
        return path in self._built or self.ledger.owns(path)

    @property
    def made(self) -> KeysView[str]:
        """Every file this build wrote or kept (and did not remove since)."""
        return self._built.keys()

    def supersede(self, path: str) -> None:
        """Let this build write ``path`` once more: the page it made there was made from
        data that changed during the build (its next content stands, not a second claim)."""
        if path in self._built:
            self._built[path] = _KEPT

    def keep(self, path: str) -> bool:
        """Count a file as part of this build without rewriting it (its inputs did not
        change). Returns False, and keeps nothing, if the file is not there (or is not a
        plain file)."""
        if path in self.pending:
            self.wait()
        if path in self._built:
            return False
        folder, _, _ = path.rpartition("/")
        if folder not in self._folders:  # a folder not seen yet: check it the slow way
            self.target(path)
        elif _not_plain(path):
            raise WriteError(f"{path!r}: not a relative path inside the output folder")
        elif not self._folders[folder]:
            raise WriteError(f"{path!r}: leaves the output folder {self.root}")
        try:
            mode = os.lstat(os.path.join(self._root, path)).st_mode
        except OSError:
            return False
        if not stat.S_ISREG(mode):
            return False
        self._built[path] = _KEPT
        self.report.unchanged += 1
        return True

    def remove(self, path: str) -> bool:
        """Remove one file daybook wrote (a page whose event left the portal); True if it
        existed. A file daybook did not write is left as it is."""
        full = self.target(path)
        if path in self.pending:
            self.wait()
        if not self.owns(path):
            return False
        self.report.touched.append(path)
        self._built.pop(path, None)
        self.dropped.add(path)
        if not full.is_file():
            return False
        try:
            full.unlink()
        except OSError as exc:
            raise WriteError(f"{full}: cannot remove ({exc.strerror or exc})") from exc
        self.report.removed.append(path)
        self._prune_empty_dirs(full.parent)
        return True

    def prune(self) -> None:
        """Remove every file daybook wrote before that this build did not (after a full
        build). Nothing else is looked at: not the user's files, not ``.git``."""
        for path in self.ledger.recorded():
            if path not in self._built:
                self.remove(path)

    def _prune_empty_dirs(self, folder: Path) -> None:
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            self._made.discard(str(folder))  # made again if a file goes there later
            folder = folder.parent


# What ``put`` did: nothing (this build gave the path these bytes already), found the file
# as it must be, wrote it, or found a different file there it was not told it may replace.
SAME, UNCHANGED, WRITTEN, IN_THE_WAY = range(4)


def put(
    full: str,
    data: bytes,
    may_replace: bool,
    made: set[str],
    claim: Callable[[], None] | None = None,
    *,
    previous: bytes | None = None,
    digest: bytes | None = None,
) -> int:
    """Write ``data`` at the absolute path ``full`` (checked: ``Writer.claim``) unless the
    file holds it already: a temporary file beside it, renamed over it. A different plain
    file there is replaced only if ``may_replace`` (else IN_THE_WAY: the caller asks the
    ledger); a symlink never. ``made``: folders known to exist (made and added if not);
    ``claim``: called before anything is made (the journal). ``previous`` and ``digest``
    (a render worker's call): what this build gave the path so far, and ``data``'s digest:
    SAME if they are equal, an error if they differ. Runs in the main process or a worker."""
    if previous is not None and previous != _KEPT:
        if previous == digest:
            return SAME
        raise WriteError(f"{full}: two different contents for one path in one build")
    try:
        try:
            found = os.lstat(full)
        except FileNotFoundError:
            found = None
        if found is not None:
            if stat.S_ISLNK(found.st_mode):
                raise WriteError(f"{full!r}: leaves the output folder")
            if stat.S_ISREG(found.st_mode):
                if found.st_size == len(data) and _read(full) == data:
                    return UNCHANGED
                if not may_replace:
                    return IN_THE_WAY
        folder, _, name = full.rpartition("/")
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        if claim is not None:
            claim()
        tmp = f"{folder}/{temporary_name(name)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(tmp, flags, 0o644)
        except FileNotFoundError:  # the folder was removed since (its last page went)
            os.makedirs(folder, exist_ok=True)
            fd = os.open(tmp, flags, 0o644)
        try:
            try:
                _write_all(fd, data)
                os.fchmod(fd, 0o644)  # whatever the umask: a site is for reading
            finally:
                os.close(fd)
            os.replace(tmp, full)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)  # a full disk leaves no half file behind
            raise
    except OSError as exc:
        raise WriteError(f"{full}: cannot write ({exc.strerror or exc})") from exc
    return WRITTEN


def _not_plain(path: str) -> bool:
    """Whether a relative path has an empty part, one starting with a dot (``..``, a hidden
    file), a backslash or a line break: the test ``target`` makes part by part, on the whole
    string (a page's files are checked by the hundred thousand)."""
    return (
        not path
        or path[0] in "./"
        or path[-1] == "/"
        or "//" in path
        or "/." in path
        or "\\" in path
        or "\n" in path
    )


def _nothing_pending() -> None:
    """``Writer.wait`` with no render worker writing."""


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
