"""An independent count of a rendered portal page's events, with lxml and nothing of
daybook's parser: for the whole-set test (test_portal_html) and benchmarks/fidelity.py.

The outline rule, stated on the page's list items: an item with a source link
(``a.external``) in its own content (not in a list nested in it) is an event; an item
without one is an event when nothing is nested under it and it holds text, else a story
line. Hidden parts (``display:none``, references, print-hidden chrome) are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import lxml.html

_HIDDEN_CLASSES = {"noprint", "reference", "mw-editsection"}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class PageCount:
    """What one page holds, by the rule above."""

    events: int
    sourced: int  # events citing a source
    with_follow_ups: int  # sourced items with items nested under them
    sourced_texts: tuple[str, ...]  # each sourced item's own text, source links left out


def _hidden(el: lxml.html.HtmlElement) -> bool:
    if not isinstance(el.tag, str) or el.tag in ("style", "script"):
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or bool(_HIDDEN_CLASSES & set((el.get("class") or "").split()))


def _own(li: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    """The elements of an item's own content: nested lists and hidden parts left out."""
    for child in li:
        if _hidden(child) or child.tag in ("ul", "ol"):
            continue
        yield child
        yield from _own(child)


def _is_source(el: lxml.html.HtmlElement) -> bool:
    return (
        el.tag == "a"
        and "external" in (el.get("class") or "").split()
        and el.get("href", "").startswith("http")
    )


def _own_text(li: lxml.html.HtmlElement, *, sources: bool = True) -> str:
    """An item's own text; without its source links' labels unless ``sources``."""
    parts = [li.text or ""]

    def walk(el: lxml.html.HtmlElement) -> None:
        for child in el:
            if not _hidden(child) and child.tag not in ("ul", "ol") and (sources or not _is_source(child)):
                parts.append(child.text or "")
                walk(child)
            parts.append(child.tail or "")

    walk(li)
    return _SPACES.sub(" ", "".join(parts)).strip()


def count_page(raw: bytes) -> PageCount:
    root = lxml.html.fromstring(raw)
    regions = root.xpath("//div[contains(concat(' ', @class, ' '), ' current-events-content ')]")
    # The e-mail form has lists only for the day's content (its chrome is tables).
    items = regions[0].iter("li") if regions else root.iter("li")
    events = sourced = with_follow_ups = 0
    texts: list[str] = []
    for li in items:
        if any(_hidden(a) for a in li.iterancestors()) or _hidden(li):
            continue
        nested = any(c.tag in ("ul", "ol") and len(c) for c in li)
        cites = any(
            el.tag == "a"
            and "external" in (el.get("class") or "").split()
            and el.get("href", "").startswith("http")
            for el in _own(li)
        )
        text = _own_text(li)
        if cites:
            events += 1
            sourced += 1
            with_follow_ups += nested
            texts.append(_own_text(li, sources=False).strip(" ()[],;:"))
        elif not nested and text:
            events += 1
    return PageCount(events, sourced, with_follow_ups, tuple(texts))
