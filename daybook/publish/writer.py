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
from collections.abc import Iterable, KeysView, Sequence
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
    """A ledger of the paths it is given (the site's state keeps the real one)."""

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self.paths = set(paths)

    def owns(self, path: str) -> bool:
        return path in self.paths

    def claim(self, path: str) -> None:
        self.paths.add(path)

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
        # folder (relative) -> the plain files in it when first listed (``keep_all``), less
        # those removed since: one listing of a folder, not a ``stat`` per file kept.
        self._listed: dict[str, set[str]] = {}

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
        if "\\" in path or "\n" in path or any(p in ("", "..") or p[0] == "." for p in path.split("/")):
            raise WriteError(f"{path!r}: not a relative path inside the output folder")
        if not inside:
            raise WriteError(f"{path!r}: leaves the output folder {self.root}")
        return f"{self._root}/{path}"

    def write(self, path: str, content: str | bytes) -> bool:
        """Write one file; returns True if the file on disk changed."""
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
        self._built[path] = digest
        self.report.touched.append(path)
        try:
            try:
                found = os.lstat(full)
            except FileNotFoundError:
                found = None
            if found is not None:
                if stat.S_ISLNK(found.st_mode):
                    raise WriteError(f"{path!r}: leaves the output folder {self.root}")
                if stat.S_ISREG(found.st_mode):
                    if found.st_size == len(data) and _read(full) == data:
                        self.report.unchanged += 1
                        return False
                    if previous is None and not self.ledger.owns(path):
                        raise WriteError(
                            f"{full}: in the way (daybook did not write this file); move it out of the"
                            " site folder and build again"
                        )
            folder, _, name = full.rpartition("/")
            if folder not in self._made:
                os.makedirs(folder, exist_ok=True)
                self._made.add(folder)
            self.ledger.claim(path)
            tmp = f"{folder}/{temporary_name(name)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
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
        if path in self._built:
            return False
        folder, _, _ = path.rpartition("/")
        if folder not in self._folders:  # a folder not seen yet: check it the slow way
            self.target(path)
        elif "\\" in path or any(p in ("", "..") or p[0] == "." for p in path.split("/")):
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

    def keep_all(self, paths: Sequence[str]) -> bool:
        """``keep`` every one of these files, or none: False (and nothing kept) if one is
        not there, is not a plain file, or was written or kept already in this build."""
        for path in paths:
            if path in self._built:
                return False
            folder, _, name = path.rpartition("/")
            inside = self._folders.get(folder)
            if inside is None:  # a folder not seen yet: check it the slow way
                self.target(path)
            elif not inside:
                raise WriteError(f"{path!r}: leaves the output folder {self.root}")
            # A folder is known once ``target`` checked a path in it: its name is left.
            elif not name or name[0] == "." or "\\" in name or "\n" in name:
                raise WriteError(f"{path!r}: not a relative path inside the output folder")
            listed = self._listed.get(folder)
            if listed is None:
                listed = self._listed[folder] = self._plain_files(folder)
            if name not in listed:
                return False
        for path in paths:
            self._built[path] = _KEPT
        self.report.unchanged += len(paths)
        return True

    def _plain_files(self, folder: str) -> set[str]:
        """The names of the plain files (not symlinks, not folders) in a folder of the site."""
        try:
            with os.scandir(f"{self._root}/{folder}" if folder else self._root) as entries:
                return {e.name for e in entries if e.is_file(follow_symlinks=False)}
        except OSError:
            return set()

    def remove(self, path: str) -> bool:
        """Remove one file daybook wrote (a page whose event left the portal); True if it
        existed. A file daybook did not write is left as it is."""
        full = self.target(path)
        if not self.owns(path):
            return False
        self.report.touched.append(path)
        self._built.pop(path, None)
        self.dropped.add(path)
        folder, _, name = path.rpartition("/")
        self._listed.get(folder, set()).discard(name)
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


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
