"""Article HTML -> metadata: lede, cover image, publisher, title, published date.

Pure: bytes and headers in, an ``Article`` out, no IO. Every text goes through
``clean_text`` before it leaves, so nothing daybook stores carries mojibake, an HTML
entity or a replacement character, whatever the page did.

Bytes become text by the HTML standard's order (byte-order mark, then the HTTP
``charset``, then ``<meta charset>`` in the first bytes, else UTF-8); bytes that are
not valid in the chosen encoding are read as windows-1252, the usual truth behind a
wrong label, instead of becoming U+FFFD.
"""

from __future__ import annotations

import codecs
import difflib
import html
import json
import logging
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

import ftfy
import ftfy.bad_codecs  # registers the "sloppy-windows-1252" codec used below
import lxml.etree
import lxml.html

from daybook.model import Article

LEDE_MAX = 500
MIN_LEDE = 30  # shorter descriptions are taglines ("Read more"), not ledes
MIN_PARAGRAPH = 80  # a body paragraph shorter than this is a caption or a byline
MIN_IMAGE_PX = 200
PRESCAN_BYTES = 1024  # how far the HTML standard looks for <meta charset>

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Labels the web treats as windows-1252 (the HTML standard's encoding table).
_AS_CP1252 = frozenset({"latin-1", "iso8859-1", "ascii", "cp1252"})
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# An entity needs its semicolon here: "AT&T" and "?a=1&copy=2" are text, not markup.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_TITLE_SEPARATORS = re.compile(r"(\s+(?:\||-|–|—|·|•|::|»)\s+)")
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"})
_ARTICLE_TYPES = ("article", "posting", "report", "webpage")
# Curly quotes and full-width CJK punctuation are the text as written: keep them.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False, uncurl_quotes=False, fix_character_width=False, explain=False
)


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("sloppy-windows-1252"), error.end


codecs.register_error("daybook.cp1252", _cp1252_fallback)
# trafilatura warns "discarding data" for every page without a body: not news here.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


# -- text ------------------------------------------------------------------------


def encoding_of(body: bytes, content_type: str | None = None) -> tuple[str, int]:
    """The codec to read ``body`` with and how many leading bytes (a BOM) to skip."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, len(bom)
    header = _HEADER_CHARSET.search(content_type or "")
    if header and (declared := _codec(header.group(1))):
        return declared, 0
    meta = _META_CHARSET.search(body[:PRESCAN_BYTES])
    if meta and (declared := _codec(meta.group(1).decode("ascii"))):
        # A page cannot declare UTF-16 from inside itself: it was read as ASCII to get here.
        return ("utf-8" if declared.startswith("utf-16") else declared), 0
    return "utf-8", 0


def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return "cp1252" if name in _AS_CP1252 else name


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The page as text, decoded by ``encoding_of``; invalid bytes read as windows-1252."""
    name, skip = encoding_of(body, content_type)
    return body[skip:].decode(name, errors="daybook.cp1252")


def clean_text(value: str) -> str:
    """Repair mojibake (ftfy), decode HTML entities once, drop U+FFFD, collapse whitespace."""
    text = ftfy.fix_text(value, _FTFY)
    if "&" in text:
        unescaped = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
        if unescaped != text:
            # Entities can hide mojibake of their own (&#226;&#128;&#148;): repair again.
            text = ftfy.fix_text(unescaped, _FTFY)
    return " ".join(text.replace("\ufffd", " ").split())


def has_entity(text: str) -> bool:
    """Whether ``text`` still holds an HTML entity (named or numeric)."""
    return _ENTITY.search(text) is not None


def cap(text: str, limit: int = LEDE_MAX) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–—") + "…"


# -- the page --------------------------------------------------------------------


def parse_html(body: bytes, content_type: str | None = None) -> lxml.html.HtmlElement | None:
    """The page's element tree, or None if there is no document in it."""
    text = decode_html(body, content_type)
    # Re-encoded to UTF-8 and said so: lxml then ignores whatever the page declares.
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(text.encode("utf-8", errors="replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return None


def extract_article(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str] | None = None,
    outlet: str | None = None,
) -> Article:
    """Metadata of the article page ``body`` fetched from ``url``.

    ``headers`` are the response's (for the charset); ``outlet`` is the portal's name
    for the source, the publisher when the page names none.
    """
    content_type = _header(headers or {}, "content-type")
    tree = parse_html(body, content_type)
    fallback = clean_text(outlet) if outlet else None
    if tree is None:
        return Article(publisher=fallback or None)
    meta = _meta(tree)
    ld = _json_ld(tree)
    base = _base_url(tree, url)
    title = _title(tree, meta, ld, url)
    return Article(
        title=title,
        lede=_lede(tree, meta, ld, title, url),
        image=_image(meta, ld, base),
        publisher=_publisher(meta, ld) or fallback or None,
        published=_published(tree, url),
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _meta(tree: lxml.html.HtmlElement) -> list[tuple[str, str]]:
    """Every ``<meta>`` as (property or name, content), lower-cased key, in page order."""
    found = []
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        content = element.get("content")
        if key and content is not None:
            found.append((key.strip().lower(), content))
    return found


def _first(meta: list[tuple[str, str]], *keys: str) -> Iterator[str]:
    for key in keys:
        for name, content in meta:
            if name == key and content.strip():
                yield content


def _json_ld(tree: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    """The page's JSON-LD objects, ``@graph`` lists flattened, in page order."""
    items: list[dict[str, Any]] = []

    def collect(value: Any) -> None:
        if isinstance(value, list):
            for entry in value:
                collect(entry)
        elif isinstance(value, dict):
            items.append(value)
            if "@graph" in value:
                collect(value["@graph"])

    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            # strict=False: sites leave raw newlines and tabs inside strings.
            collect(json.loads(script.text or "", strict=False))
        except ValueError:
            continue
    return items


def _types(item: Mapping[str, Any]) -> list[str]:
    kind = item.get("@type")
    names = kind if isinstance(kind, list) else [kind]
    return [n.lower() for n in names if isinstance(n, str)]


def _articles(ld: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON-LD items describing the article or its page: articles first, then page order."""
    ranked = []
    for position, item in enumerate(ld):
        types = _types(item)
        for rank, word in enumerate(_ARTICLE_TYPES):
            if any(word in t for t in types):
                ranked.append((rank, position))
                break
    return [ld[position] for _, position in sorted(ranked)]


def _resolve(value: Any, ld: list[dict[str, Any]]) -> Any:
    """A JSON-LD ``{"@id": ...}`` reference replaced by the object it names."""
    if isinstance(value, dict) and set(value) <= {"@id", "@type"} and "@id" in value:
        for item in ld:
            if item.get("@id") == value["@id"] and len(item) > len(value):
                return item
    return value


def _base_url(tree: lxml.html.HtmlElement, url: str) -> str:
    for href in tree.xpath("//base/@href")[:1]:
        return urllib.parse.urljoin(url, str(href).strip())
    return url


# -- fields ----------------------------------------------------------------------


def _title(
    tree: lxml.html.HtmlElement, meta: list[tuple[str, str]], ld: list[dict[str, Any]], url: str
) -> str | None:
    social = [clean_text(t) for t in _first(meta, "og:title", "twitter:title")]
    page = [clean_text(t.text_content()) for t in tree.iter("title")][:1]
    headlines = [h for item in _articles(ld) if isinstance(h := item.get("headline"), str)]
    references = [t for t in (*social, *page, *(clean_text(h) for h in headlines)) if t]
    for h1 in list(tree.iter("h1"))[:8]:
        text = clean_text(h1.text_content())
        if len(text.split()) >= 2 and any(_agrees(text, ref) for ref in references):
            return text
    site = [clean_text(s) for s in _first(meta, "og:site_name")] + [_host_label(url)]
    for candidate in (*social, *page):
        if stripped := _strip_site(candidate, site):
            return stripped
    return None


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _agrees(headline: str, reference: str) -> bool:
    """Whether a page's ``<h1>`` is the same headline as its og:title or ``<title>``."""
    a, b = _normal(headline), _normal(reference)
    if not a or not b:
        return False
    if a in b or b in a:
        return min(len(a), len(b)) >= 0.5 * max(len(a), len(b)) or b.startswith(a)
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def _host_label(url: str) -> str:
    """``nytimes`` for https://www.nytimes.com/..., ``bbc`` for bbc.co.uk: the site's name."""
    labels = (urllib.parse.urlsplit(url).hostname or "").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else labels[0]


def _strip_site(title: str, site: list[str]) -> str:
    """``title`` without the parts naming the site ("... - The Hill", "WSJ | ...")."""
    pieces = _TITLE_SEPARATORS.split(title)
    texts, separators = pieces[0::2], pieces[1::2]
    names = [n for n in (_normal(s).replace(" ", "") for s in site) if n]

    def is_site(part: str) -> bool:
        squashed = _normal(part).replace(" ", "")
        if not squashed:
            return False
        # Containment only between names long enough not to match by chance ("x" of x.com).
        return any(
            squashed == n
            or (len(n) >= 4 and n in squashed and len(part.split()) <= 4)
            or (len(squashed) >= 4 and squashed in n)
            for n in names
        )

    while len(texts) > 1 and is_site(texts[-1]):
        texts.pop()
        separators.pop()
    while len(texts) > 1 and is_site(texts[0]):
        texts.pop(0)
        separators.pop(0)
    # "Headline | Section": a short part after a pipe is navigation, not headline.
    while len(texts) > 1 and "|" in separators[-1] and len(texts[-1].split()) <= 3 < len(texts[0].split()):
        texts.pop()
        separators.pop()
    return "".join(t + s for t, s in zip(texts, [*separators, ""], strict=True))


def _lede(
    tree: lxml.html.HtmlElement,
    meta: list[tuple[str, str]],
    ld: list[dict[str, Any]],
    title: str | None,
    url: str,
) -> str | None:
    described = [d for item in _articles(ld) if isinstance(d := item.get("description"), str)]
    for raw in (*_first(meta, "og:description", "twitter:description", "description"), *described):
        text = clean_text(raw)
        if len(text) >= MIN_LEDE and (title is None or _normal(text) != _normal(title)):
            return cap(text)
    paragraph = _first_paragraph(tree, url)
    return cap(paragraph) if paragraph else None


def _first_paragraph(tree: lxml.html.HtmlElement, url: str) -> str | None:
    """The first substantial paragraph of the article body, as trafilatura finds it."""
    import trafilatura  # heavy import, and only needed for pages without a description

    text = trafilatura.extract(
        lxml.html.tostring(tree, encoding="unicode"),
        url=url,
        include_comments=False,
        include_tables=False,
        deduplicate=False,
        with_metadata=False,
        fast=True,  # its fallback extractors cost a third more and change no first paragraph here
    )
    for line in (text or "").splitlines():
        paragraph = clean_text(line.removeprefix("- "))  # "- ": how it marks a list item
        if len(paragraph) >= MIN_PARAGRAPH:
            return paragraph
    return None


def _image(meta: list[tuple[str, str]], ld: list[dict[str, Any]], base: str) -> str | None:
    for candidate, width, height in _image_candidates(meta, ld):
        if (width is not None and width < MIN_IMAGE_PX) or (height is not None and height < MIN_IMAGE_PX):
            continue
        image = _absolute(candidate, base)
        if image:
            return image
    return None


def _image_candidates(
    meta: list[tuple[str, str]], ld: list[dict[str, Any]]
) -> Iterator[tuple[str, int | None, int | None]]:
    # og:image's width and height are the tags that follow it, up to the next og:image.
    og: list[dict[str, str]] = []
    for name, content in meta:
        if name in ("og:image", "og:image:url"):
            og.append({"url": content})
        elif name.startswith("og:image:") and og:
            og[-1].setdefault(name.removeprefix("og:image:"), content)
    for entry in og:
        url = entry.get("secure_url") or entry["url"]
        yield url, _pixels(entry.get("width")), _pixels(entry.get("height"))
    for content in _first(meta, "twitter:image", "twitter:image:src"):
        yield content, None, None
    for item in _articles(ld):
        yield from _ld_images(_resolve(item.get("image"), ld), ld)


def _ld_images(value: Any, ld: list[dict[str, Any]]) -> Iterator[tuple[str, int | None, int | None]]:
    if isinstance(value, str):
        yield value, None, None
    elif isinstance(value, list):
        for entry in value:
            yield from _ld_images(_resolve(entry, ld), ld)
    elif isinstance(value, dict):
        url = value.get("url") or value.get("contentUrl")
        if isinstance(url, str):
            yield url, _pixels(value.get("width")), _pixels(value.get("height"))


def _pixels(value: Any) -> int | None:
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, int | float):
        return int(value)
    match = re.match(r"\s*(\d+)", value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def _absolute(candidate: str, base: str) -> str | None:
    """An image URL made absolute; None for data URIs, favicons and non-web schemes."""
    raw = candidate.strip().replace("&amp;", "&")
    if not raw or raw.lower().startswith("data:"):
        return None
    try:
        url = urllib.parse.urljoin(base, raw.replace(" ", "%20"))
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    path = parts.path.lower()
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if "favicon" in path or path.endswith(".ico") or "apple-touch-icon" in path:
        return None
    return url


def _publisher(meta: list[tuple[str, str]], ld: list[dict[str, Any]]) -> str | None:
    names: list[Any] = list(_first(meta, "og:site_name"))
    for item in _articles(ld):
        for publisher in _as_list(_resolve(item.get("publisher"), ld)):
            publisher = _resolve(publisher, ld)
            names.append(publisher.get("name") if isinstance(publisher, dict) else publisher)
    names.extend(_first(meta, "application-name"))
    for name in names:
        text = clean_text(name) if isinstance(name, str) else ""
        # Some sites put their address in og:site_name: that names no one.
        if text and not re.match(r"(?i)https?://", text):
            return text
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _published(tree: lxml.html.HtmlElement, url: str) -> str | None:
    import htmldate  # heavy (a tenth of a second), and only needed once a page is fetched

    try:
        # The page's own markup first; a date in the URL only when the page has none.
        found = htmldate.find_date(
            tree, url=url, extensive_search=False, original_date=True, deferred_url_extractor=True
        )
    except (ValueError, TypeError):  # htmldate on a malformed date string
        return None
    return found or None
