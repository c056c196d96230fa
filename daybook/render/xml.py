"""XML: a page's data in daybook's page vocabulary (documented in docs/FORMATS.md).

The mapping is mechanical, so the XML always carries exactly what the JSON does:
the root is ``<page kind="...">`` in the namespace ``NAMESPACE``; each JSON member
becomes an element of that name (``_`` becomes ``-``); a list becomes an element
holding one child per item, named by ``ITEM_NAMES``; ``null`` becomes an empty
element with ``nil="true"``; booleans and numbers are written as JSON writes them.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

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
}


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name.replace('_', '-')}"


def _fill(element: etree._Element, name: str, value: Any) -> None:
    if value is None:
        element.set("nil", "true")
    elif isinstance(value, dict):
        for key, item in value.items():
            _fill(etree.SubElement(element, _tag(key)), key, item)
    elif isinstance(value, list):
        child_name = ITEM_NAMES.get(name, "item")
        for item in value:
            _fill(etree.SubElement(element, _tag(child_name)), child_name, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def dumps(data: dict[str, Any]) -> str:
    """The page as an XML document (UTF-8, with declaration)."""
    root = etree.Element(_tag("page"), nsmap={None: NAMESPACE})
    root.set("kind", str(data.get("kind", "")))
    _fill(root, "page", {k: v for k, v in data.items() if k != "kind"})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")
