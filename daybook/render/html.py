"""HTML: Jinja2 templates over a page's data (``render.data``), autoescaped throughout."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any

import jinja2
import markupsafe
from markdown_it import MarkdownIt

from daybook import urls
from daybook.render import chart
from daybook.render.data import Obj

_MARKDOWN = MarkdownIt("commonmark", {"html": False})

MIME = {
    "md": "text/markdown",
    "html": "text/html",
    "json": "application/json",
    "xml": "application/xml",
}


def _group(event: Obj) -> str:
    story: list[str] = event.get("story") or []
    return story[-1] if story else str(event.get("category") or "")


def groupby_consecutive(events: Iterable[Obj]) -> Iterator[tuple[str, list[Obj]]]:
    """Events grouped under their story, keeping page order (a story may recur)."""
    for group, items in itertools.groupby(events, key=_group):
        yield group, list(items)


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("daybook.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["groupby_consecutive"] = groupby_consecutive
    env.filters["label"] = _label
    return env


def stylesheet() -> str:
    """The site's one stylesheet, written once to ``assets/style.css``."""
    return resources.files("daybook.render").joinpath("templates/style.css").read_text(encoding="utf-8")


def json_ld(data: Any) -> str:
    """JSON-LD safe inside ``<script>``: no ``<`` can close the element early."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _event_ld(data: Obj) -> Obj:
    things = [{"@type": "Thing", "name": t, "sameAs": urls.wikipedia_url(t)} for t in data["entities"]]
    story = set(data["story"])
    return {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": data["headline"][:110],
        "description": data["lede"] or data["headline"],
        "datePublished": data["date"],
        "articleSection": data["category"] or None,
        "about": [t for t in things if t["name"] in story] or things[:1],
        "mentions": [t for t in things if t["name"] not in story],
        "citation": [
            {"@type": "CreativeWork", "name": s["outlet"], "url": s["url"]} for s in data["sources"]
        ],
        "image": data["image"],
        "isBasedOn": data["source"],
        "license": data["license"]["url"],
        "url": data["path"],
    }


def render(template: str, data: Obj, *, title: str, description: str | None = None) -> str:
    """One page: the template filled with the page's data and the shared chrome."""
    extra: dict[str, Any] = {}
    if data["kind"] == "event":
        ld = _event_ld(data)
        # Safe as markup: json_ld escapes every character that could end the script.
        extra["jsonld"] = markupsafe.Markup(json_ld({k: v for k, v in ld.items() if v is not None}))
        extra["entity_href"] = {link["text"]: link["href"] for link in data["entity_links"]}
    if data["kind"] in ("entity", "story"):
        # Safe as markup: the chart holds only numbers and month names it writes itself.
        bars = ((bar["month"], bar["events"]) for bar in data["chart"])
        extra["chart_svg"] = markupsafe.Markup(chart.month_chart(bars))
    if data["kind"] == "opinion":
        # Raw HTML in an opinion file is shown as text, like everything else.
        extra["body_html"] = markupsafe.Markup(_MARKDOWN.render(data["body_markdown"]))
    template_obj = environment().get_template(template)
    return template_obj.render(
        {
            "jsonld": None,
            **data,
            **extra,
            "title": title,
            "description": description,
            "mime": MIME,
            "date_label": _label(data.get("date")),
        }
    )


def _label(iso: str | None) -> str:
    if not iso:
        return ""
    return urls.date_label(dt.date.fromisoformat(iso))
