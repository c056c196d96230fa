"""What a site is built with, apart from the build itself: the options (formats, public
address, opinion folder) and the pool of processes pages are rendered in.

Kept apart from ``publish`` so that a command can read its options, and an update fork
its render workers, before the heavier modules of the build are imported.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
from dataclasses import dataclass
from pathlib import Path

from daybook import urls
from daybook.errors import UsageError

DEFAULT_BASE_URL = urls.DEFAULT_BASE_URL

Renderer = multiprocessing.pool.Pool | None


@dataclass(frozen=True)
class BuildOptions:
    """What to build: formats, the site's public address, the opinion folder, and the
    editions (English at the root, each other in its folder: ``zh/``)."""

    formats: tuple[str, ...] = urls.FORMATS
    base_url: str = DEFAULT_BASE_URL
    opinion_dir: Path | None = None
    editions: tuple[str, ...] = (urls.DEFAULT_EDITION,)
    edition: str = urls.DEFAULT_EDITION  # the one this build writes (``build_site`` sets it)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.formats) - set(urls.FORMATS))
        if unknown or not self.formats:
            raise UsageError(
                f"unknown format(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(urls.FORMATS)}"
            )
        wrong = sorted(set(self.editions) - set(urls.EDITIONS))
        if wrong or urls.DEFAULT_EDITION not in self.editions:
            raise UsageError(
                f"unknown edition(s) {', '.join(wrong) or '(none)'}; choose from {', '.join(urls.EDITIONS)},"
                f" always with {urls.DEFAULT_EDITION}"
            )
        if self.edition not in self.editions:
            raise UsageError(f"edition {self.edition} is not one of {', '.join(self.editions)}")
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"base URL {self.base_url!r} must start with http:// or https://")


def render_pool(processes: int) -> multiprocessing.pool.Pool | None:
    """Worker processes to render pages in, forked now (so make it before any thread
    starts), or None where one process is all there is, or fork is not. A worker imports
    the renderers with its first page."""
    if processes < 1 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork").Pool(processes)
