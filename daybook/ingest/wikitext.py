"""Portal wikitext -> the day's events (pure).

A Current Events Portal day page is read in whichever era of markup it was written:

- 1999-2004: bullets only, no template and no categories (category ``""``);
- ``{{Current events header|YYYY|MM|D}}`` with ``;Category`` or ``'''Category'''`` headings;
- ``{{Current events|year=..|month=..|day=..|content=...}}``, the whole day inside ``content``;
- ``{{Current events|...|top=yes}}`` ... ``{{Current events|bottom=yes}}`` around the body.

The page is walked once with mwparserfromhell into lines (list markers, inline runs,
heading or not), the lines are nested into the outline ``daybook.ingest.outline`` defines, and
``portal.assemble`` makes the events. Inline markup is reduced the way MediaWiki would
show it, so that the rendered HTML of the same day gives the same events.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

import mwparserfromhell
from mwparserfromhell.nodes import (
    Argument,
    Comment,
    ExternalLink,
    Heading,
    HTMLEntity,
    Node,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from daybook.errors import ParseError
from daybook.ingest.outline import Inline, Item, Section, assemble, collapse
from daybook.ingest.templates import render as render_template
from daybook.model import Day

_PORTAL_TEMPLATES = frozenset({"current events", "current events header"})
# Links to these namespaces render as an image, a page category or nothing: never text.
_HIDDEN_LINK_NAMESPACES = frozenset({"file", "image", "category"})
# Tags whose content is not part of the sentence (footnotes, styles, galleries...).
_DROPPED_TAGS = frozenset(
    {"ref", "references", "gallery", "includeonly", "templatestyles", "indicator", "timeline", "style"}
)
# Tags that hold whole lines, so bullets and headings inside them are read as such.
_BLOCK_TAGS = frozenset(
    {"div", "center", "blockquote", "table", "tr", "td", "th", "caption", "noinclude", "onlyinclude"}
)
_LIST_MARKUP = frozenset({"*", "#", ";", ":"})
# Templates that show nothing worth keeping in an event's sentence (citations, flags, notes...).
_DROPPED_TEMPLATES = (
    "cite", "citation", "flagicon", "flag icon", "in lang", "efn", "refn", "sfn", "portal",
    "current events", "use ", "dead link", "update", "reflist", "anchor", "defaultsort",
)  # fmt: skip
# Templates that stand for a fixed string.
_LITERAL_TEMPLATES = {
    "!": "|", "=": "=", "'": "'", "ndash": "–", "mdash": "—", "snd": " – ", "spaced ndash": " – ",
    "nbsp": " ", "-": "", "clear": "",
}  # fmt: skip
# Templates that show a link to the page their first parameter names (after a flag, say).
_LINK_TEMPLATES = frozenset({"flag", "flagcountry", "flagu"})
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"), 1
    )
}  # fmt: skip

# Markup mwparserfromhell left as text (unbalanced brackets, quotes, tags): MediaWiki
# would swallow most of it, and none of it belongs in a sentence.
_LEFTOVER_MARKUP = re.compile(r"\[{2,}|\]{2,}|\{{2,}|\}{2,}|'{2,}")
_STRAY_TAG = re.compile(
    r"<(/?)(br|div|span|center|small|big|sup|sub|p|b|i|u|s|del|ins|font|ref|nowiki|table|tr|td|th"
    r"|ul|ol|li|dl|dt|dd|blockquote|includeonly|noinclude|onlyinclude)\b[^<>]*>",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINK_TRAIL = re.compile(r"[a-z]+")  # English Wikipedia's link trail: [[bank]]s -> "banks"
_UNREAD = re.compile(r"\[\[|\{\{|'''")
_BOLD_LINE = re.compile(r"'{3,}(?:(?!''').)+'{3,}")  # a line that is only bold: a category


@dataclass
class _Line:
    """One source line of the page body, as the list and heading logic needs it."""

    number: int
    markers: str = ""  # leading list markup: "**", ";", "#"...
    inlines: list[Inline] = field(default_factory=list)
    heading: bool = False  # a == Heading ==
    shape: str = ""  # the line's raw text, every other inline run as "\x00": tells bold-only lines
    comment: bool = False  # holds a comment (a comment-only line vanishes in MediaWiki)


def _has_content(parts: Sequence[Inline]) -> bool:
    return any(part.kind != "text" or part.text.strip() for part in parts)


def parse_wikitext(text: str, *, name: str = "<wikitext>", date: dt.date | None = None) -> Day:
    """Parse one portal day page's wikitext into its events.

    ``date`` (from the file name) wins over the date the page's template gives.
    Raises ``ParseError`` for anything that is not a readable portal day page.
    """
    try:
        # Bold and italics are left as text: MediaWiki closes them at the end of each line,
        # mwparserfromhell lets an unclosed one swallow the lines below.
        code = mwparserfromhell.parse(_normalise(text), skip_style_tags=True)
    except Exception as exc:  # its errors share no base class; callers expect ParseError
        raise ParseError(name, f"mwparserfromhell cannot parse it ({type(exc).__name__}: {exc})") from exc
    reader = _Reader()
    try:
        reader.block(code)
        sections, bullets = reader.outline()
        day_date = date or reader.page_date
        day = assemble(day_date, sections) if day_date else None
    except RecursionError:
        raise ParseError(name, "markup nested too deeply to read", line=reader.lineno) from None
    except Exception as exc:  # a page this code misreads must still fail as ParseError
        raise ParseError(name, f"cannot read the page ({type(exc).__name__}: {exc})", reader.lineno) from exc
    if not bullets and not reader.has_template:
        raise ParseError(name, "not a portal day page: no 'Current events' template and no bullets")
    if day is None:
        raise ParseError(name, "no date: the page has no dated 'Current events' template; pass date=")
    if reader.unrendered:
        day = dataclasses.replace(day, unrendered=tuple(sorted(reader.unrendered.items())))
    for event in day.events:
        # A last guard: markup that slipped through between inline runs is a page we misread.
        if _UNREAD.search(event.text):
            raise ParseError(name, f"markup left in an event: {event.text[:80]!r}")
    return day


def read_outline(text: str) -> tuple[dt.date | None, list[Section]]:
    """The page's date (from its template) and its outline, as ``parse_wikitext`` reads
    them before making events: for whatever needs the page's shape, such as a stand-in
    that renders it as MediaWiki would."""
    reader = _Reader()
    reader.block(mwparserfromhell.parse(_normalise(text), skip_style_tags=True))
    return reader.page_date, reader.outline()[0]


def _normalise(text: str) -> str:
    """Unix line ends and no control characters, which MediaWiki would not keep either."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _source(code: Wikicode | None) -> str:
    """The source of a title, URL or parameter, comments dropped and entities decoded."""
    if code is None:
        return ""
    return html.unescape("".join(str(node) for node in code.nodes if not isinstance(node, Comment)))


def _clean(text: str) -> str:
    """Leftover markup removed, again until none is left: "[''[" is "[[" once "''" goes."""
    previous = None
    while text != previous:
        previous = text
        text = _STRAY_TAG.sub(lambda m: " " if m[2].lower() == "br" else "", text)
        text = _LEFTOVER_MARKUP.sub("", text)
    return text


def _text(text: str) -> list[Inline]:
    cleaned = _clean(text)
    return [Inline("text", cleaned)] if cleaned else []


def _join(parts: Sequence[Inline]) -> str:
    return "".join(part.text for part in parts)


def _merged(parts: list[Inline]) -> list[Inline]:
    """Adjacent text runs joined (and cleaned again: "{" + "{" is markup), so that a
    citation's ``(`` and ``)`` sit right beside its link."""
    merged: list[Inline] = []
    for part in parts:
        if merged and part.kind == "text" and merged[-1].kind == "text":
            merged[-1] = Inline("text", _clean(merged[-1].text + part.text))
        else:
            merged.append(part)
    return merged


def _template_name(node: Template) -> str:
    name = collapse(_source(node.name).replace("_", " ")).lower()
    return name.removeprefix("template:").strip()


def _parameter(node: Template, key: str) -> str:
    return collapse(_source(node.get(key).value)) if node.has(key) else ""


def _template_date(node: Template) -> dt.date | None:
    """The date a portal template gives: ``year=/month=/day=`` or ``|YYYY|MM|D``."""
    values = [_parameter(node, key) for key in ("year", "month", "day")]
    if not all(values):
        values = [_parameter(node, key) for key in ("1", "2", "3")]
    year, month, day = values
    try:
        return dt.date(int(year), _MONTHS.get(month.lower()) or int(month), int(day))
    except (ValueError, OverflowError):
        return None


def _with_trails(nodes: Sequence[Node]) -> Iterator[tuple[Node, str]]:
    """Each node with its text: a wiki link gets the letters glued after it
    (``[[bank]]s``) as its trail, and the text node after it gives them up."""
    taken = 0
    for index, node in enumerate(nodes):
        if isinstance(node, Text):
            yield node, node.value[taken:]
            taken = 0
            continue
        trail = ""
        following = nodes[index + 1] if index + 1 < len(nodes) else None
        if isinstance(node, Wikilink) and isinstance(following, Text):
            match = _LINK_TRAIL.match(following.value)
            trail = match[0] if match else ""
        taken = len(trail)
        yield node, trail


class _Reader:
    """Walks one page into lines; ``outline`` then nests them into sections."""

    def __init__(self) -> None:
        self.lineno = 1
        self.lines = [_Line(1)]
        self.page_date: dt.date | None = None
        self.has_template = False
        self.unrendered: Counter[str] = Counter()  # templates shown as their parameters

    # -- block level: lines, list markers, headings --------------------------------

    def block(self, code: Wikicode) -> None:
        """Read nodes that start lines: list markers, headings, containers, portal templates."""
        for node, extra in _with_trails(code.nodes):
            start, src = self.lineno, str(node)
            if isinstance(node, Text):
                self._block_text(extra)
            elif isinstance(node, Template) and _template_name(node) in _PORTAL_TEMPLATES:
                self._portal(node, src)
            elif isinstance(node, Tag) and node.wiki_markup in _LIST_MARKUP:
                line = self.lines[-1]
                if not line.inlines:  # a ':' after ';Category' ends the term: not a marker
                    line.markers += node.wiki_markup
            elif isinstance(node, Tag) and _tag_name(node) in _BLOCK_TAGS:
                self.lineno += src[: max(src.find(str(node.contents)), 0)].count("\n")
                self._break()
                self.block(node.contents)
                self._break()
            elif isinstance(node, Heading):
                self._break()
                self.lines[-1].heading = True
                self.lines[-1].inlines += self.inline(node.title)
                self._break()
            elif isinstance(node, Comment):
                self.lines[-1].comment = True
            else:
                parts = self.inline_node(node, extra)
                shape = "\x00" if _has_content(parts) else ""
                if shape and isinstance(node, Tag) and _tag_name(node) == "b":
                    shape = f"'''{shape}'''"  # <b>Category</b> is a heading like '''Category'''
                self._add(parts, shape)
            self.lineno = start + src.count("\n")

    def _block_text(self, text: str) -> None:
        first, *rest = text.split("\n")
        self._add(_text(first), first)
        for part in rest:
            self.lineno += 1
            self.lines.append(_Line(self.lineno))
            self._add(_text(part), part)

    def _add(self, parts: list[Inline], shape: str) -> None:
        line = self.lines[-1]
        line.inlines += parts
        line.shape += shape

    def _break(self) -> None:
        """Start a new line unless the current one is still empty."""
        line = self.lines[-1]
        if line.markers or line.inlines or line.heading or line.comment:
            self.lines.append(_Line(self.lineno))

    def _portal(self, node: Template, src: str) -> None:
        """A portal template: note the date, and read the day inside ``content=`` if any."""
        self.has_template = True
        if self.page_date is None:
            self.page_date = _template_date(node)
        if not node.has("content"):
            return  # the header, or the top=yes / bottom=yes pair around the body
        content = node.get("content")
        offset = 2 + len(str(node.name))  # "{{" + name, then "|" + each parameter
        for param in node.params:
            offset += 1
            if param is content:
                offset += len(str(param)) - len(str(param.value))
                break
            offset += len(str(param))
        self.lineno += src[:offset].count("\n")
        self._break()
        self.block(content.value)
        self._break()

    def outline(self) -> tuple[list[Section], int]:
        """Nest the lines into sections of items; also count the bullets seen."""
        sections = [Section("")]
        stack: list[tuple[int, Item]] = []
        bullets = 0
        for line in self.lines:
            depth = sum(line.markers.count(mark) for mark in "*#")
            heading = line.heading or (not depth and line.markers.startswith(";"))
            heading = heading or (not line.markers and _BOLD_LINE.fullmatch(line.shape.strip()) is not None)
            if heading and _join(line.inlines).strip():
                sections.append(Section(_join(line.inlines)))
                stack.clear()
            elif depth:
                bullets += 1
                if not _has_content(line.inlines):
                    continue  # an empty bullet would turn the one above into a story line
                item = Item(inlines=_merged(line.inlines), line=line.number)
                while stack and stack[-1][0] >= depth:
                    stack.pop()
                (stack[-1][1].children if stack else sections[-1].items).append(item)
                stack.append((depth, item))
            elif _has_content(line.inlines) or not line.comment:
                stack.clear()  # a paragraph or a blank line ends the list, as in MediaWiki
        return sections, bullets

    # -- inline level: text, links, templates ---------------------------------------

    def inline(self, code: Wikicode | None, *, label: bool = False) -> list[Inline]:
        """The inline runs of a piece of wikitext; ``label`` for an external link's label."""
        if code is None:
            return []
        parts: list[Inline] = []
        for node, extra in _with_trails(code.nodes):
            parts += self.inline_node(node, extra, label=label)
        return parts

    def inline_node(self, node: Node, extra: str, *, label: bool = False) -> list[Inline]:
        """One node as inline runs; ``extra`` is a text node's text or a link's trail."""
        if isinstance(node, Text):
            return _text(extra)
        if isinstance(node, Wikilink):
            return self._wikilink(node, extra)
        if isinstance(node, ExternalLink):
            url = collapse(_source(node.url))
            if node.title is None:
                return [Inline("ext", "" if node.brackets else _clean(url), url)]
            return [Inline("ext", _clean(_join(self.inline(node.title, label=True))), url)]
        if isinstance(node, Template):
            return self._template(node, label)
        if isinstance(node, HTMLEntity):
            try:
                return _text(node.normalize())
            except ValueError:  # an entity past the last code point: MediaWiki shows it as typed
                return _text(str(node))
        if isinstance(node, Tag):
            tag = _tag_name(node)
            if tag in _DROPPED_TAGS or (label and tag == "small"):  # "(NOS <small>in Dutch</small>)"
                return []
            if tag in ("br", "hr"):
                return _text(" ")
            if tag in ("nowiki", "pre"):
                return _text(html.unescape(str(node.contents)))
            return self.inline(node.contents, label=label)
        if isinstance(node, Heading):
            return self.inline(node.title, label=label)
        if isinstance(node, Argument):
            return self.inline(node.default, label=label)
        return []  # comments

    def _wikilink(self, node: Wikilink, trail: str) -> list[Inline]:
        target = collapse(_source(node.title))
        namespace = target.split(":", 1)[0].replace("_", " ").strip().lower() if ":" in target else ""
        if namespace in _HIDDEN_LINK_NAMESPACES:
            return _text(trail)
        shown = self.inline(node.text) if node.text is not None else []
        # With no label MediaWiki shows the target as typed, percent-escapes decoded.
        label = _clean(_join(shown) if _join(shown).strip() else unquote(target.lstrip(":"))) + trail
        if not target.strip(":# "):  # [[|x]], [[#]]: no page to link to
            return _text(label)
        return [Inline("link", label, target)]

    def _template(self, node: Template, label: bool) -> list[Inline]:
        name = _template_name(node)
        if name in _LITERAL_TEMPLATES:
            return _text(_LITERAL_TEMPLATES[name])
        if name.startswith(_DROPPED_TEMPLATES):
            return []
        if name in _LINK_TEMPLATES and node.has("1"):  # {{flag|France}}
            title = collapse(_source(node.get("1").value))
            return [Inline("link", _clean(title), title)] if title else []
        # Positional parameters by number (``{{x|a|2=b}}`` is ``{{x|a|b}}``), named ones as text.
        numbered: dict[int, list[Inline]] = {}
        named: dict[str, str] = {}
        unnamed = 0
        for param in node.params:
            if not param.showkey:
                unnamed += 1
            key = collapse(_source(param.name)) if param.showkey else str(unnamed)
            if key.isdigit() and int(key) > 0:
                numbered[int(key)] = self.inline(param.value, label=label)
            else:
                named[key.lower()] = collapse(_source(param.value))
        positional = [numbered.get(n, []) for n in range(1, max(numbered, default=0) + 1)]
        shown = render_template(name, positional, named)
        if shown is not None:
            return shown
        # Unknown here (or a use of it that cannot be rendered): its visible parameters,
        # counted so that ingest can tell which templates to teach daybook next.
        self.unrendered[name] += 1
        parts: list[Inline] = []
        for shown_param in positional:
            if _has_content(shown_param):
                parts += ([Inline("text", " ")] if parts else []) + shown_param
        return parts


def _tag_name(node: Tag) -> str:
    return str(node.tag).strip().lower()
