"""Rendered Current Events Portal HTML -> events (pure).

Two real forms are read: the MediaWiki parser's own output (``div.current-events-content``)
and the e-mail restyling of it (the same lists inside layout tables, with header and
footer chrome around them). Both are reduced to the outline of ``daybook.ingest.outline``
(sections of nested items made of text, wiki links and external links); everything
after that (cleaning, entities, sources, ids) is ``portal.assemble``'s job.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import re
import urllib.parse

import lxml.etree
import lxml.html

from daybook.errors import ParseError
from daybook.ingest.outline import Inline, Item, Section, assemble
from daybook.model import Day

__all__ = ["parse_portal_html"]

_LISTS = frozenset({"ul", "ol"})
# Never content: styles, scripts, and MediaWiki's print-hidden bits such as the
# "[de]" after an interlanguage link.
_DROPPED_TAGS = frozenset({"style", "script", "noscript", "template", "head", "title"})
_DROPPED_CLASSES = frozenset({"noprint", "reference", "mw-ref", "mw-editsection"})
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "dt"})
_ENGLISH_HOSTS = frozenset({"wikipedia.org", "en.wikipedia.org", "www.wikipedia.org", "en.m.wikipedia.org"})
# Other wikis: other-language Wikipedias and the sister projects.
_WIKIMEDIA_HOST = re.compile(
    r"(^|\.)(wikipedia|wiktionary|wikimedia|wikidata|wikiquote|wikisource|wikinews|wikibooks"
    r"|wikiversity|wikivoyage|wikispecies|mediawiki|wikifunctions)\.org$"
)
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_TITLE_DATE = re.compile(r"(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})")
_REGION_DATE = re.compile(r"(\d{4})_([A-Za-z]+)_(\d{1,2})")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_NOT_WEB_CHARSETS = frozenset(
    {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "undefined",
     "punycode", "idna", "unicode-escape", "raw-unicode-escape", "utf-7"}
)  # fmt: skip
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

Element = lxml.html.HtmlElement
_TAG_RESIDUE = re.compile(r"<[A-Za-z/!][^<>]*\Z")


def parse_portal_html(html: str | bytes, *, name: str = "<html>", date: dt.date | None = None) -> Day:
    """Parse one rendered portal day page into its events.

    ``date`` (usually from the file name) wins over the date the page states. Raises
    ``ParseError`` for anything that is not a readable portal day page.
    """
    text = _decode(html, name) if isinstance(html, bytes) else html
    try:
        # Re-encoded so that lxml never sees a str with an encoding declaration and
        # never second-guesses the charset already chosen above.
        data = text.encode("utf-8", errors="replace")
        parser = lxml.html.HTMLParser(encoding="utf-8")
        root = lxml.html.document_fromstring(data, parser=parser)
        for error in parser.error_log:
            # libxml2 silently stops at 256 levels of nesting: refuse rather than lose events.
            if error.type_name == "ERR_RESOURCE_LIMIT":
                raise ParseError(name, "elements nested over 256 deep: too deep to read", line=error.line)
        day = date or _page_date(root)
        if day is None:
            raise ParseError(name, "no date: pass one, or give the page a title or date span")
        return assemble(day, _sections(root, day, name))
    except ParseError:
        raise
    except RecursionError:
        raise ParseError(name, "nesting too deep to read") from None
    except (lxml.etree.LxmlError, ValueError, TypeError) as exc:
        raise ParseError(name, f"unreadable HTML: {exc}") from exc


def _decode(data: bytes, name: str) -> str:
    """Bytes to text: a BOM first, then a ``<meta charset>``, else UTF-8."""
    encoding = "utf-8"
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            encoding, data = bom_encoding, data[len(bom) :]
            break
    else:
        match = _META_CHARSET.search(data[:4096])
        # Unknown names, and Python codecs that are no web charset, fall back to UTF-8
        # as browsers do; so does UTF-16, which a <meta> readable as ASCII cannot be.
        with contextlib.suppress(LookupError):
            declared = codecs.lookup(match[1].decode("ascii")) if match else None
            if declared is not None and declared.name not in _NOT_WEB_CHARSETS:
                b"".decode(declared.name)  # LookupError for bytes-to-bytes codecs (base64...)
                encoding = declared.name
    try:
        return data.decode(encoding)
    except UnicodeError as exc:
        start = exc.start if isinstance(exc, UnicodeDecodeError) else 0
        line = data[:start].count(b"\n") + 1
        raise ParseError(name, f"not valid {encoding}: {exc}", line=line) from None


def _page_date(root: Element) -> dt.date | None:
    """The date the page states: e-mail title, ``span.bday``, or the region id."""
    for title in root.iter("title"):
        match = _TITLE_DATE.search(title.text_content())
        if match and (found := _ymd(match[3], match[2], match[1])):
            return found
    for span in root.xpath("//span[contains(concat(' ', @class, ' '), ' bday ')]"):
        try:
            return dt.date.fromisoformat(span.text_content().strip())
        except ValueError:
            continue
    for region in root.xpath("//div[@role='region'][@id]"):
        match = _REGION_DATE.fullmatch(region.get("id", ""))
        if match and (found := _ymd(match[1], match[2], match[3])):
            return found
    return None


def _ymd(year: str, month: str, day: str) -> dt.date | None:
    if month.lower() not in _MONTHS:
        return None
    try:
        return dt.date(int(year), _MONTHS.index(month.lower()) + 1, int(day))
    except ValueError:
        return None


def _has_class(el: Element, names: frozenset[str]) -> bool:
    return not names.isdisjoint((el.get("class") or "").split())


def _skipped(el: object) -> bool:
    """Comments, processing instructions, and elements a reader never sees."""
    if not isinstance(el, Element) or not isinstance(el.tag, str):
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    return (
        el.tag in _DROPPED_TAGS
        or _has_class(el, _DROPPED_CLASSES)
        or "display:none" in style
        or el.get("hidden") is not None
    )


def _region(root: Element, day: dt.date, name: str) -> Element | None:
    """The element holding the day's headings and lists (None: an empty e-mail day)."""
    regions: list[Element] = root.xpath(
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' current-events-content ')]"
    )
    if regions:
        # A page of several days: prefer the one whose region id names ours.
        wanted = f"{day.year}_{_MONTHS[day.month - 1].title()}_{day.day}"
        for region in regions:
            if any(a.get("id") == wanted for a in region.iterancestors("div")):
                return region
        return regions[0]
    lists: list[Element] = root.xpath("//body//ul[not(ancestor::ul or ancestor::ol)]")
    if lists:
        # The e-mail form: the layout cell around the lists; the chrome has none.
        cells = list(lists[0].iterancestors("td"))
        return cells[0] if cells else lists[0].getparent()
    # The e-mail service wrote a bare "null" in the content cell on days it had no
    # copy of the portal: an empty day, not a broken page.
    for cell in root.xpath("//td[contains(concat(' ', @class, ' '), ' wrapper ')]"):
        if cell.text_content().strip() == "null":
            return None
    raise ParseError(name, "not a portal day page: no content region and no lists")


def _sections(root: Element, day: dt.date, name: str) -> list[Section]:
    region = _region(root, day, name)
    if region is None:
        return []
    sections = [Section("")]
    _walk(region, sections)
    if not any(section.items for section in sections):
        if not region.text_content().strip():
            return []  # a day the portal has no events for yet renders an empty region
        raise ParseError(name, "no event lists in the content region", line=region.sourceline)
    return sections


def _walk(el: Element, sections: list[Section]) -> None:
    """Headings open sections; lists add items; other containers are looked into."""
    for child in el:
        if _skipped(child):
            continue
        heading = _heading(child)
        if heading is not None:
            sections.append(Section(heading))
        elif child.tag in _LISTS:
            sections[-1].items.extend(_items(child))
        else:
            _walk(child, sections)


def _heading(el: Element) -> str | None:
    """A category heading's text, if ``el`` is one.

    Headings are ``<p><b>Category</b></p>`` in both forms, ``div[role=heading]`` in the
    older e-mails, ``div.current-events-content-heading`` in some MediaWiki output,
    and ``<dt>`` where a ``;Category`` line was rendered.
    """
    if (
        el.tag in _HEADING_TAGS
        or el.get("role") == "heading"
        or _has_class(el, frozenset({"current-events-content-heading"}))
    ):
        return el.text_content().strip()
    if el.tag != "p":
        return None
    children = [c for c in el if not _skipped(c) and c.tag != "br"]
    loose = (el.text or "") + "".join(c.tail or "" for c in el)
    if len(children) == 1 and children[0].tag == "b" and not loose.strip():
        return children[0].text_content().strip()
    return None


def _items(lst: Element) -> list[Item]:
    items: list[Item] = []
    for child in lst:
        if _skipped(child):
            continue
        if child.tag == "li":
            inlines: list[Inline] = []
            nested: list[Element] = []
            _inlines(child, inlines, nested)
            children = [item for sub in nested for item in _items(sub)]
            items.append(Item(inlines=_merge(inlines), children=children, line=child.sourceline))
        elif child.tag in _LISTS:
            items.extend(_items(child))  # a list directly in a list: same level
    return items


def _inlines(el: Element, out: list[Inline], nested: list[Element]) -> None:
    """Append ``el``'s content to ``out``; lists found inside go to ``nested``."""
    if el.text:
        out.append(Inline("text", el.text))
    for child in el:
        if not _skipped(child):
            if child.tag in _LISTS:
                nested.append(child)
            elif child.tag == "br":
                out.append(Inline("text", " "))
            elif child.tag == "a":
                out.append(_link(child))
            else:
                _inlines(child, out, nested)
        if child.tail:
            out.append(Inline("text", child.tail))


def _label(el: Element, drop: frozenset[str] = frozenset()) -> str:
    """The visible text of ``el``, without hidden parts and ``drop`` tags."""
    parts = [el.text or ""]
    for child in el:
        if not _skipped(child) and child.tag not in drop:
            parts.append(" " if child.tag == "br" else _label(child, drop))
        parts.append(child.tail or "")
    return "".join(parts)


def _link(a: Element) -> Inline:
    """A wiki link, an external link, or (for interwiki and odd links) plain text."""
    label = _label(a)
    href = (a.get("href") or "").strip()
    try:
        parts = urllib.parse.urlsplit(href)
    except ValueError:
        return Inline("text", label)
    host = (parts.hostname or "").lower()
    if parts.scheme in ("", "http", "https") and (not parts.netloc or host in _ENGLISH_HOSTS):
        title = _wiki_title(parts)
        if title is not None:
            return Inline("link", label, target=title)
    if _WIKIMEDIA_HOST.search(host) or _has_class(a, frozenset({"extiw"})):
        return Inline("text", label)  # interwiki: neither entity nor source
    if parts.scheme in ("http", "https") or (href.startswith("//") and host):
        if _in_parentheses(a):
            # "(NOS <small>in Dutch</small>)": the language note is not the outlet's name.
            label = _label(a, frozenset({"small"}))
        return Inline("ext", label, target=href if parts.scheme else f"https:{href}")
    return Inline("text", label)


def _in_parentheses(a: Element) -> bool:
    """Whether a link reads as a citation: "(Outlet)" as its label, or "(" and ")" around it."""
    bare = _label(a, frozenset({"small"})).strip()
    if bare.startswith("(") and bare.endswith(")"):
        return True
    previous, parent = a.getprevious(), a.getparent()
    before = (previous.tail if previous is not None else parent.text if parent is not None else "") or ""
    return before.rstrip().endswith("(") and (a.tail or "").lstrip().startswith(")")


def _wiki_title(parts: urllib.parse.SplitResult) -> str | None:
    """The page a link on English Wikipedia points to: ``/wiki/T``, ``./T`` or a red link."""
    path = parts.path
    if path.startswith("/wiki/"):
        title = urllib.parse.unquote(path[len("/wiki/") :])
    elif path.startswith("./") and not parts.netloc:
        title = urllib.parse.unquote(path[2:])
    elif path == "/w/index.php":
        query = urllib.parse.parse_qs(parts.query)
        if query.get("redlink") != ["1"] or not query.get("title"):
            return None
        title = query["title"][0]
    else:
        return None
    title = title.replace("_", " ").strip()
    if not title:
        return None
    return f"{title}#{urllib.parse.unquote(parts.fragment)}" if parts.fragment else title


def _merge(inlines: list[Inline]) -> list[Inline]:
    """Join neighbouring text runs, so a citation's "(" and ")" sit next to its link."""
    merged: list[Inline] = []
    for part in inlines:
        if part.kind == "text" and merged and merged[-1].kind == "text":
            merged[-1] = Inline("text", merged[-1].text + part.text)
        else:
            merged.append(part)
    # A truncated page leaves the start of a tag as text ("The Studio</"): not content.
    return [Inline(p.kind, _TAG_RESIDUE.sub("", p.text), p.target) for p in merged]
