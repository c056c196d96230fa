"""Rendering: page objects (``pages``) to files, one pure module per format (``markdown``;
``data`` for html (Jinja2 ``templates/``), json and xml), chosen here by page kind."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from daybook import urls
from daybook.render import data, html, i18n, json, markdown, week, xml

# Each page kind: its Markdown renderer, its data (html, json, xml) and its HTML template.
RENDERERS: dict[str, tuple[Callable[..., str], Callable[..., data.Obj], str]] = {
    "event": (markdown.event_page, data.event_page, "event.html"),
    "day": (markdown.day_page, data.day_page, "day.html"),
    "front": (markdown.front_page, data.front_page, "front.html"),
    "archive": (markdown.archive_page, data.archive_page, "archive.html"),
    "opinion": (markdown.opinion_page, data.opinion_page, "opinion.html"),
    "opinion-index": (markdown.opinion_index, data.opinion_index, "opinion_index.html"),
    "redirect": (markdown.redirect_page, data.redirect_page, "redirect.html"),
    "entity": (markdown.entity_page, data.entity_page, "entity.html"),
    "story": (markdown.story_page, data.story_page, "story.html"),
    "entity-redirect": (markdown.entity_redirect_page, data.entity_redirect_page, "entity_redirect.html"),
    "category": (markdown.category_page, data.category_page, "category.html"),
    "week": (week.week_markdown, week.week_data, "week.html"),
}


# render_all's arguments: kind, page, formats, title, description, base URL, edition, alternates.
RenderArgs = tuple[str, object, Sequence[str], str, str | None, str, str, Sequence[tuple[str, str]]]


def warm(edition: str = urls.DEFAULT_EDITION) -> None:
    """Compile every page kind's HTML template of an edition now: a render worker does this
    while it would wait anyway, not before its first page."""
    env = html.environment(edition)
    for template in env.list_templates(extensions=["html"]):  # what the pages extend and import too
        env.get_template(template)


def render_batch(batch: Sequence[RenderArgs]) -> list[dict[str, str]]:
    """Several pages (``render_all``'s arguments each), in order: one task for a worker."""
    return [render_all(*args) for args in batch]


def render_all(
    kind: str,
    page: object,
    formats: Sequence[str],
    title: str,
    description: str | None = None,
    base_url: str = urls.DEFAULT_BASE_URL,
    edition: str = urls.DEFAULT_EDITION,
    alternates: Sequence[tuple[str, str]] = (),
) -> dict[str, str]:
    """A page object in every requested format, keyed by output path (within its edition).

    An edition other than English links its own pages (``/zh/...``) and says which it is
    (``edition``); ``alternates``: the page in every edition, for the HTML's ``hreflang``."""
    to_markdown, to_data, template = RENDERERS[kind]
    stem: str = getattr(page, "stem")  # noqa: B009 - every page object has one
    files: dict[str, str] = {}
    for ext in formats:
        if ext == "md":
            text = to_markdown(page, t=i18n.translator(edition))
            if edition != urls.DEFAULT_EDITION:  # every site link is a Markdown link's target
                text = _SITE_LINK_IN_MARKDOWN.sub(
                    lambda m: f"]({urls.quoted(urls.edition_link(m[1], edition))})", text
                )
            files[f"{stem}.md"] = text
            continue
        obj = to_data(page, ext)
        if edition != urls.DEFAULT_EDITION:
            obj = in_edition(obj, edition)
        if ext == "json":
            files[f"{stem}.json"] = json.dumps(obj)
        elif ext == "xml":
            files[f"{stem}.xml"] = xml.dumps(obj)
        else:
            files[f"{stem}.html"] = html.render(
                template,
                obj,
                title=title,
                description=description,
                base_url=base_url,
                edition=edition,
                alternates=alternates,
            )
    return files


# A Markdown link to a page of the site: its target, site-absolute.
_SITE_LINK_IN_MARKDOWN = re.compile(r"\]\((/[^)\s]*)\)")
# Members of the page data that hold site-absolute links (``formats`` holds them too).
_SITE_LINKS = frozenset({"path", "href", "location", "action", "script"})


def in_edition(obj: data.Obj, edition: str) -> data.Obj:
    """A page's data in an edition: ``edition`` after ``kind``, and every link to a page
    of the site made one of the edition's (``/zh/news/...``), percent-encoded (a Chinese slug)."""

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, str) and key in _SITE_LINKS:
            return urls.quoted(urls.edition_link(value, edition))
        if isinstance(value, dict):
            if key == "formats":
                return {k: urls.quoted(urls.edition_link(v, edition)) for k, v in value.items()}
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    result: data.Obj = {}
    for key, value in obj.items():
        result[key] = walk(value, key)
        if key == "kind":
            result["edition"] = edition
    return result
