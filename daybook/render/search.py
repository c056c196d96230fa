"""The search page, built once for both its forms: the static site's (``search.html``,
whose script searches the prebuilt index) and ``daybook serve``'s answer to ``/search``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from daybook import urls
from daybook.render import data as page_data
from daybook.render import html, i18n


def search_page(
    action: str,
    *,
    query: str = "",
    status: str = "",
    results: Sequence[dict[str, Any]] | None = None,
    script: str | None = None,
    base_url: str = urls.DEFAULT_BASE_URL,
    edition: str = urls.DEFAULT_EDITION,
) -> str:
    """The search page's HTML: the form (sent to ``action``), then ``status`` and the
    ``results`` where the server searched, or the ``script`` that searches in the browser."""
    data = {
        "kind": "search",
        "formats": None,
        "credits": page_data.portal_credits([], sources=True),  # headlines and sources' words
        "action": urls.edition_link(action, edition),
        "query": query,
        "status": status,
        "results": None if results is None else list(results),
        "script": None if script is None else urls.edition_link(script, edition),
        "months": ",".join(i18n.month_only(month, edition) for month in range(1, 13)),  # the script's dates
    }
    title = f"Search: {query}" if query else i18n.translator(edition)("Search")
    return html.render("search.html", data, title=title, base_url=base_url, edition=edition)
