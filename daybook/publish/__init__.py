"""The publish stage: the site from the store. ``context`` gathers every page's address
first, ``build`` renders and writes through the one ``writer``; ``explore`` (entity and
story pages, search index) and ``feeds``/``sitemap`` are inputs to the build."""

from daybook.publish.build import build_site
from daybook.publish.incremental import update_site
from daybook.publish.options import DEFAULT_BASE_URL, BuildOptions

__all__ = ["DEFAULT_BASE_URL", "BuildOptions", "build_site", "update_site"]
