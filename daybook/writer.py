"""The writer: the only code that writes the site.

Every file goes through ``Writer.write``: it is written to a temporary file beside
its target and renamed over it, so a reader (or a crash) never sees half a page;
a file whose content is unchanged is not touched, so a rebuild with no change
writes nothing; one build may not give one path two different contents; and no
path may leave the output folder.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from daybook.errors import DaybookError

_KEPT = b"kept"  # stands in for the digest of a file kept as it is


class WriteError(DaybookError):
    """A page could not be written, or was given two different contents in one build."""


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


class Writer:
    """Writes pages under ``root``; paths are POSIX-style and relative to it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self._root = str(self.root)
        self.report = WriteReport()
        # path -> digest of what this build gave it: enough to refuse a second, different
        # content without holding every page in memory.
        self._built: dict[str, bytes] = {}
        self._folders: dict[str, bool] = {}

    def target(self, path: str) -> Path:
        """The file a relative path names, refusing anything that would leave the root."""
        pure = PurePosixPath(path)
        if pure.is_absolute() or not pure.parts or any(p in ("..", "") for p in pure.parts) or "\\" in path:
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
        full = self.target(path)
        self._built[path] = digest
        self.report.touched.append(path)
        try:
            if full.is_file() and full.stat().st_size == len(data) and full.read_bytes() == data:
                self.report.unchanged += 1
                return False
            full.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=full.parent, prefix=".tmp-", suffix=full.suffix)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.chmod(tmp, 0o644)
                os.replace(tmp, full)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise WriteError(f"{full}: cannot write ({exc.strerror or exc})") from exc
        self.report.written.append(path)
        return True

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

    def remove(self, path: str) -> bool:
        """Remove one page (an event that left the portal); True if it existed."""
        full = self.target(path)
        self.report.touched.append(path)
        if not full.is_file():
            return False
        full.unlink()
        self.report.removed.append(path)
        self._prune_empty_dirs(full.parent)
        return True

    def prune(self) -> None:
        """Remove every site file this build did not write (after a full build).

        Hidden files and folders (``.git``) are left alone.
        """
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith("."):
                    continue
                rel = (Path(dirpath) / name).relative_to(self.root).as_posix()
                if rel not in self._built:
                    self.remove(rel)

    def _prune_empty_dirs(self, folder: Path) -> None:
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent
