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
    """Digests of the last build's pages, and of this build's as it goes."""

    def __init__(self, out: Path) -> None:
        self.path = out / CACHE_NAME
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            self.previous: dict[str, str] = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            self.previous = {}  # no cache, or a damaged one: render everything
        self.current: dict[str, str] = {}

    def unchanged(self, stem: str, digest: str) -> bool:
        return self.previous.get(stem) == digest

    def record(self, stem: str, digest: str) -> None:
        self.current[stem] = digest

    def save(self) -> None:
        """Write this build's digests (temp file and rename, like every page)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.current, handle, separators=(",", ":"), sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
