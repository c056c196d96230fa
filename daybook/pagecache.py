"""What the last build rendered each page from, so the next build renders only the
pages whose inputs changed.

For every page (its path without extension) the cache keeps a digest of the page
object (``pages``), the formats, the base URL and the renderers' own source. A page
whose digest is unchanged and whose files are all present is kept as it is: a
rebuild with nothing new renders nothing. The cache lives in the output folder, as
a hidden file the site itself never serves.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

CACHE_NAME = ".daybook-pages.json"


@functools.cache
def renderer_fingerprint() -> str:
    """A digest of the code that turns page objects into files: change a template or
    a renderer and every page is rendered again."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=16)
    sources = sorted([*package.joinpath("render").rglob("*"), package / "pages.py", package / "urls.py"])
    for source in sources:
        if source.is_file() and source.suffix in (".py", ".html", ".css", ".json"):
            digest.update(source.name.encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()


def page_digest(kind: str, page: object, settings: str) -> str:
    """The digest of everything a page's files are made from."""
    text = f"{renderer_fingerprint()}\x1f{settings}\x1f{kind}\x1f{page!r}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class PageCache:
    """What the last build rendered, and what this build renders as it goes.

    ``pages``: page path (without extension) -> digest of its inputs; ``events``:
    event page path -> event id, so a page whose event got a new slug becomes a
    redirect; ``redirects``: old event page path -> event id.
    """

    def __init__(self, out: Path) -> None:
        self.path = out / CACHE_NAME
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}  # no cache, or a damaged one: render everything
        if not isinstance(loaded, dict):
            loaded = {}
        self.previous: dict[str, str] = dict(loaded.get("pages", {}))
        self.previous_events: dict[str, str] = dict(loaded.get("events", {}))
        self.previous_redirects: dict[str, str] = dict(loaded.get("redirects", {}))
        self.pages: dict[str, str] = {}
        self.events: dict[str, str] = {}
        self.redirects: dict[str, str] = {}

    @property
    def exists(self) -> bool:
        """Whether a build has been made into this folder before."""
        return bool(self.previous)

    def unchanged(self, stem: str, digest: str) -> bool:
        return self.previous.get(stem) == digest

    def record(self, stem: str, digest: str, event_id: str | None = None) -> None:
        self.pages[stem] = digest
        if event_id is not None:
            self.events[stem] = event_id

    def carry_over(self, keep: Callable[[str], bool]) -> None:
        """Start from the last build's entries that ``keep`` accepts (incremental builds)."""
        self.pages = {stem: d for stem, d in self.previous.items() if keep(stem)}
        self.events = {stem: i for stem, i in self.previous_events.items() if stem in self.pages}

    def save(self) -> None:
        """Write this build's record (temp file and rename, like every page)."""
        record = {"pages": self.pages, "events": self.events, "redirects": self.redirects}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle, separators=(",", ":"), sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
