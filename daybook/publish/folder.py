"""Which folders daybook builds into, and where it keeps what it knows of each site.

How it works: docs/ARCHITECTURE.md, "The site folder and its state's place".
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from daybook import lockfile
from daybook.errors import SiteFolderError

OLD_STATE_NAME = ".daybook-site.db"  # where builds before kept the state: in the site
OLD_CACHE_NAME = ".daybook-pages.json"  # and before that, a page cache
ALLOWED_IN_EMPTY = frozenset({".git"})


@dataclass(frozen=True)
class SitePaths:
    """A site folder and where its record lives."""

    out: Path  # as the user named it (for messages)
    root: Path  # resolved
    key: str  # the site's path relative to the store's folder: what the digest is of
    state: Path
    journal: Path
    lock: Path

    @property
    def old_state(self) -> Path:
        return self.root / OLD_STATE_NAME

    def is_site(self) -> bool:
        """Whether daybook built (or began to build) this folder."""
        return self.state.is_file() or self.journal.is_file() or self.old_state.is_file()


def sites_folder(store_path: Path) -> Path:
    """Where the states of a store's sites live: ``daybook.db.sites`` beside ``daybook.db``."""
    return store_path.with_name(store_path.name + ".sites")


def locate(store_path: Path, out: Path) -> SitePaths:
    """The record of the site in ``out`` built from the store at ``store_path``."""
    root = out.resolve()
    key = os.path.relpath(root, store_path.resolve().parent)
    digest = hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
    home = sites_folder(store_path)
    return SitePaths(
        out, root, key, home / f"{digest}.db", home / f"{digest}.written", home / f"{digest}.lock"
    )


def first_foreign_file(folder: Path, *, top: bool = True) -> str | None:
    """The first entry of ``folder`` (sorted; files before folders at each level, a folder
    holding nothing named itself) other than a top-level ``.git``, or None if there is none."""
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda e: e.name)
    folders = []
    for entry in entries:
        if top and entry.name in ALLOWED_IN_EMPTY:
            continue
        if entry.is_dir(follow_symlinks=False):
            folders.append(entry)
        else:
            return entry.name
    if not folders:
        return None
    inside = first_foreign_file(Path(folders[0].path), top=False)
    return f"{folders[0].name}/{inside or ''}"


def check_folder(site: SitePaths) -> None:
    """Raise ``SiteFolderError`` unless daybook may write into the folder: new, empty,
    or a daybook site."""
    if site.is_site() or not os.path.lexists(site.root):
        return
    if not site.root.is_dir():
        raise SiteFolderError(f"{site.out}: not a folder; build into a new or empty folder")
    try:
        foreign = first_foreign_file(site.root)
    except OSError as exc:
        raise SiteFolderError(f"{site.out}: cannot look into it ({exc.strerror or exc})") from exc
    if foreign is not None:
        raise SiteFolderError(
            f"{site.out}: not a daybook site (holds {foreign}, which daybook did not write);"
            " build into a new or empty folder"
        )


def check(store_path: Path, out: Path) -> None:
    """``check_folder`` by the store and the folder (before an update starts its work)."""
    check_folder(locate(store_path, out))


@contextlib.contextmanager
def site_lock(site: SitePaths) -> Iterator[None]:
    """Hold the site's lock, or raise ``LockedError`` at once: one build or update of a site
    at a time, whichever store or process it comes from."""

    def refused(holder: str) -> str:
        return (
            f"{site.out}: another daybook build or update is writing this site (pid {holder});"
            " try again when it is done"
        )

    with lockfile.exclusive(site.lock, refused):
        yield
