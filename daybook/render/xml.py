"""XML: a page's data in daybook's page vocabulary (documented in docs/FORMATS.md).

The mapping is mechanical, so the XML always carries exactly what the JSON does:
the root is ``<page kind="...">`` in the namespace ``NAMESPACE``; each JSON member
becomes an element of that name (``_`` becomes ``-``); a list becomes an element
holding one child per item, named by ``ITEM_NAMES``; ``null`` becomes an empty
element with ``nil="true"``; booleans and numbers are written as JSON writes them.
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "https://daybook.dev/ns/page/1"

ITEM_NAMES = {
    "story": "line",
    "sources": "source",
    "entities": "entity",
    "context": "entity",
    "related": "event",
    "events": "event",
    "opinion": "piece",
    "pieces": "piece",
    "entries": "entry",
    "months": "month",
    "results": "result",
    "co_entities": "entity",
    "chart": "bar",
    "entity_links": "link",
    "wikidata": "entity",
    "story_links": "link",
    "credits": "credit",
    "follow_ups": "link",
    "versions": "version",
    "stories": "story",
    "main_events": "event",
}


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def _escape(text: str) -> str:
    # What ``text.translate(_ESCAPES)`` gives, without its cost per character when, as
    # mostly, there is nothing to escape ("&" first, so no entity is escaped twice).
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


def _name(key: str) -> str:
    return key.replace("_", "-")


# Each member's tag and its list items' tag, prepared once: a page has some 120 elements.
_TAGS: dict[str, tuple[str, str]] = {}


def _tags(name: str) -> tuple[str, str]:
    found = _TAGS.get(name)
    if found is None:
        found = _TAGS[name] = (_name(name), ITEM_NAMES.get(name, "item"))
    return found


def _write(out: list[str], name: str, value: Any, depth: int) -> None:
    # Written as text rather than through lxml: several times faster on 600,000 files,
    # and the tests parse every page back with lxml.
    pad = "  " * depth
    tag, child = _tags(name)
    kind = type(value)
    if kind is str:
        out.append(f"{pad}<{tag}>{_escape(value)}</{tag}>\n")
    elif value is None:
        out.append(f'{pad}<{tag} nil="true"/>\n')
    elif kind is dict:
        if not value:
            out.append(f"{pad}<{tag}/>\n")
            return
        out.append(f"{pad}<{tag}>\n")
        for key, item in value.items():
            _write(out, key, item, depth + 1)
        out.append(f"{pad}</{tag}>\n")
    elif kind is list:
        if not value:
            out.append(f"{pad}<{tag}/>\n")
            return
        out.append(f"{pad}<{tag}>\n")
        for item in value:
            _write(out, child, item, depth + 1)
        out.append(f"{pad}</{tag}>\n")
    elif kind is bool:
        out.append(f"{pad}<{tag}>{'true' if value else 'false'}</{tag}>\n")
    elif isinstance(value, dict):  # a subclass: as a dict
        _write(out, name, dict(value), depth)
    elif isinstance(value, list):
        _write(out, name, list(value), depth)
    else:
        out.append(f"{pad}<{tag}>{_escape(str(value))}</{tag}>\n")


def dumps(data: dict[str, Any]) -> str:
    """The page as an XML document (UTF-8, with declaration)."""
    kind = _escape(str(data.get("kind", "")))
    out = ["<?xml version='1.0' encoding='UTF-8'?>\n", f'<page xmlns="{NAMESPACE}" kind="{kind}">\n']
    for key, value in data.items():
        if key != "kind":
            _write(out, key, value, 1)
    out.append("</page>\n")
    return "".join(out)
