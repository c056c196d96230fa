"""Rendering: page objects (``pages``) to files, one pure module per format (``markdown``;
``data`` for html (Jinja2 ``templates/``), json and xml), chosen here by page kind."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from daybook import urls
from daybook.render import data, html, json, markdown, xml

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
}


RenderArgs = tuple[str, object, Sequence[str], str, str | None, str]


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
) -> dict[str, str]:
    """A page object in every requested format, keyed by output path."""
    to_markdown, to_data, template = RENDERERS[kind]
    stem: str = getattr(page, "stem")  # noqa: B009 - every page object has one
    files: dict[str, str] = {}
    for ext in formats:
        if ext == "md":
            files[f"{stem}.md"] = to_markdown(page)
            continue
        obj = to_data(page, ext)
        if ext == "json":
            files[f"{stem}.json"] = json.dumps(obj)
        elif ext == "xml":
            files[f"{stem}.xml"] = xml.dumps(obj)
        else:
            files[f"{stem}.html"] = html.render(
                template, obj, title=title, description=description, base_url=base_url
            )
    return files
