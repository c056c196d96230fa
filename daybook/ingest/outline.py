"""What the two portal parsers share: the page outline they both produce, and the
one function that turns that outline into events.

Both ``wikitext`` and ``portal_html`` reduce a day page to the same neutral shape
(sections of nested list items made of text, wiki links and external links), so
that text cleaning, entity canonicalisation, source detection and event ids are
decided here once. That is what makes the same day give the same events in both
forms.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Literal

from daybook.model import Day, Event, Source, event_id

InlineKind = Literal["text", "link", "ext"]

# Namespaces whose pages are not articles: never context entities.
NON_ARTICLE_NAMESPACES = frozenset(
    {
        "file", "image", "category", "media", "special", "template", "help",
        "portal", "wikipedia", "wp", "project", "user", "talk", "draft", "module",
        "mediawiki", "timedtext", "book", "education program", "gadget",
        "user talk", "wikipedia talk", "template talk", "category talk",
        "file talk", "portal talk", "help talk", "draft talk", "module talk",
    }
)  # fmt: skip

# Interwiki prefixes other than language codes (which are matched by shape).
INTERWIKI_PREFIXES = frozenset(
    {
        "w", "wikt", "wiktionary", "commons", "c", "m", "meta", "metawikimedia",
        "s", "wikisource", "q", "wikiquote", "n", "wikinews", "b", "wikibooks",
        "v", "wikiversity", "voy", "wikivoyage", "d", "wikidata", "species",
        "wikispecies", "mw", "mediawikiwiki", "foundation", "wmf", "phab",
        "outreach", "incubator", "google", "imdbtitle", "imdbname",
    }
)  # fmt: skip

_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_FOOTNOTE_LABEL = re.compile(r"^(?:\[?\d{1,3}\]?)?$")
_CITATION_RESIDUE = re.compile(r"(?<=[.!?\"”’)\]])(?:\s*[,;])+\s*$")


@dataclass(frozen=True)
class Inline:
    """A run of an item's content: plain text, a wiki link, or an external link."""

    kind: InlineKind
    text: str
    target: str = ""  # the link target (wiki title or URL); empty for text


@dataclass
class Item:
    """One bullet of the page, with the bullets nested under it."""

    inlines: list[Inline] = field(default_factory=list)
    children: list[Item] = field(default_factory=list)
    line: int | None = None


@dataclass
class Section:
    """A category heading and the bullets under it (category "" before any heading)."""

    category: str
    items: list[Item] = field(default_factory=list)


def collapse(text: str) -> str:
    """Collapse every run of whitespace (non-breaking spaces included) to one space,
    dropping control characters, which no page means and XML cannot carry."""
    return _SPACES.sub(" ", _CONTROL.sub("", text)).strip()


def canonical_title(target: str) -> str | None:
    """The canonical article title a link target points to, or None if not an article.

    Underscores become spaces, percent-escapes are decoded, the fragment is dropped,
    the first letter is upper-cased; files, categories, other namespaces and
    interwiki links give None.
    """
    title = urllib.parse.unquote(target.replace("_", " "))
    title = title.split("#", 1)[0]
    title = collapse(title)
    if title.startswith(":"):
        title = collapse(title[1:])
    if ":" in title:
        prefix = title.split(":", 1)[0].strip()
        lowered = prefix.lower()
        if lowered in NON_ARTICLE_NAMESPACES or lowered in INTERWIKI_PREFIXES:
            return None
        if prefix == lowered and _LANGUAGE_CODE.match(prefix):
            return None
    if not title or any(ch in title for ch in "[]{}|<>"):
        return None
    return title[0].upper() + title[1:]


def outlet_name(label: str) -> str:
    """The outlet as cited: parentheses and surrounding punctuation removed."""
    name = collapse(label)
    while len(name) >= 2 and name[0] == "(" and name[-1] == ")":
        name = collapse(name[1:-1])
    return name.strip(" ()[],;")


def _plain(inlines: list[Inline]) -> str:
    return collapse("".join(part.text for part in inlines))


def _is_citation(inlines: list[Inline], index: int) -> bool:
    """An external link is a citation when its label is parenthesised, or the
    link itself sits between parentheses, as in ``([url Reuters])``."""
    label = inlines[index].text.strip()
    if label.startswith("(") and label.endswith(")"):
        return True
    if _FOOTNOTE_LABEL.match(label):  # a bare ``[url]``, rendered as ``[1]``
        return True
    before = inlines[index - 1] if index > 0 else None
    after = inlines[index + 1] if index + 1 < len(inlines) else None
    return (
        before is not None
        and before.kind == "text"
        and before.text.rstrip().endswith("(")
        and after is not None
        and after.kind == "text"
        and after.text.lstrip().startswith(")")
    )


def _event_parts(inlines: list[Inline]) -> tuple[str, list[str], list[Source]]:
    """Split an item into its plain text (citations removed), entities and sources."""
    pieces: list[str] = []
    entities: list[str] = []
    sources: list[Source] = []
    kept = list(inlines)
    for index, part in enumerate(kept):
        if part.kind == "ext" and part.target:
            if _is_citation(kept, index):
                name = outlet_name(part.text) or _host(part.target)
                if not any(s.url == part.target for s in sources):
                    sources.append(Source(outlet=name, url=part.target))
                if not part.text.strip().startswith("(") and not _FOOTNOTE_LABEL.match(part.text.strip()):
                    # ``([url Outlet])``: drop the parentheses around the link too.
                    if pieces and pieces[-1].rstrip().endswith("("):
                        pieces[-1] = pieces[-1].rstrip()[:-1].rstrip()
                    after = kept[index + 1]
                    kept[index + 1] = Inline("text", after.text.lstrip()[1:])
                continue
            pieces.append(part.text)
            continue
        if part.kind == "link":
            title = canonical_title(part.target)
            if title is not None and title not in entities:
                entities.append(title)
        pieces.append(part.text)
    text = collapse("".join(pieces))
    if sources:
        # Separators left between removed citations: "... police. , ,"
        text = _CITATION_RESIDUE.sub("", text)
    return text, entities, sources


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or url


def _story_label(inlines: list[Inline]) -> tuple[str, list[str]]:
    """A story line's label and the entities it links.

    The label is the canonical title when the line is one wiki link and nothing
    else (bar punctuation), otherwise the line's plain text.
    """
    text, entities, _ = _event_parts(inlines)
    links = [p for p in inlines if p.kind == "link"]
    rest = collapse("".join(p.text for p in inlines if p.kind != "link")).strip(" :,.;-–")
    if len(links) == 1 and not rest:
        title = canonical_title(links[0].target)
        if title is not None:
            return title, entities
    return text.rstrip(" :"), entities


def assemble(date: dt.date, sections: list[Section]) -> Day:
    """Turn a page outline into the day's events, in page order.

    A bullet that cites a source is an event, whatever is nested under it; a bullet
    without a source is a story line when bullets are nested under it, else an event.
    Events nested under an event are its follow-ups: they keep the enclosing story
    path (the parent's text is no story name) and name the parent in ``parent``.
    """
    events: list[Event] = []
    seen: dict[str, int] = {}

    def visit(
        item: Item,
        category: str,
        story: tuple[str, ...],
        story_entities: tuple[str, ...],
        parent: str | None,
    ) -> None:
        text, entities, sources = _event_parts(item.inlines)
        if item.children and not sources:
            label, linked = _story_label(item.inlines)
            inner_story = (*story, label) if label else story
            inner_entities = story_entities + tuple(e for e in linked if e not in story_entities)
            for child in item.children:
                visit(child, category, inner_story, inner_entities, parent)
            return
        ident = parent
        if text or sources:
            for entity in story_entities:
                if entity not in entities:
                    entities.append(entity)
            # The id hashes what the event says and where it is filed, never its parent:
            # an event that gains follow-ups, or becomes one, keeps its id.
            base = event_id(date, category, story, text)
            seen[base] = seen.get(base, 0) + 1
            ident = base if seen[base] == 1 else f"{base}-{seen[base]}"
            events.append(
                Event(
                    id=ident,
                    date=date,
                    category=category,
                    story=story,
                    text=text,
                    entities=tuple(entities),
                    sources=tuple(sources),
                    parent=parent,
                )
            )
        for child in item.children:
            visit(child, category, story, story_entities, ident)

    for section in sections:
        category = collapse(section.category).rstrip(":").strip()
        for item in section.items:
            visit(item, category, (), (), None)
    return Day(date=date, events=tuple(events))


def date_from_name(name: str) -> dt.date | None:
    """The date a file name like ``2022-03-07.html`` carries, if any."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    match = _DATE_IN_NAME.search(base)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
