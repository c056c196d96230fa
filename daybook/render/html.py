"""HTML: Jinja2 templates over a page's data (``render.data``), autoescaped throughout.

Every link inside the site is written relative to the page it is on (``urls.relative``),
so the site works from ``file://``, at ``/`` and under any sub-path; the data keeps
site-absolute links, made relative here, once, before the templates see them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from typing import Any

import jinja2
import markupsafe
from markdown_it import MarkdownIt

from daybook import urls
from daybook.render import chart, i18n
from daybook.render.data import Obj, credit_site

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


def by_category(events: Iterable[Obj]) -> Iterator[tuple[str, int, list[tuple[str | None, list[Obj]]]]]:
    """A day's events as the portal shows them: under their category (with how many),
    then under their innermost story (None: an event filed under no story)."""
    for category, items in itertools.groupby(events, key=lambda e: str(e.get("category") or "")):
        listed = list(items)
        stories = [
            (story or None, list(group))
            for story, group in itertools.groupby(listed, key=lambda e: (e.get("story") or [""])[-1])
        ]
        yield category, len(listed), stories


@functools.cache
def environment(edition: str = urls.DEFAULT_EDITION) -> jinja2.Environment:
    """The templates of one edition: its messages (``_``) and its dates."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("daybook.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates are the package's: no stat of each at every page
    )
    env.filters["groupby_consecutive"] = groupby_consecutive
    env.filters["label"] = _label
    env.filters["long_date"] = functools.partial(i18n.long_date, edition=edition)
    env.filters["short_date"] = functools.partial(i18n.short_date, edition=edition)
    env.filters["medium_date"] = functools.partial(i18n.medium_date, edition=edition)
    env.filters["label_long"] = functools.partial(label_long, edition=edition)
    env.filters["month_label"] = functools.partial(_month_label, edition=edition)
    env.filters["rel"] = _rel
    env.filters["by_category"] = by_category
    env.globals["_"] = i18n.translator(edition)
    env.globals["weekdays"] = i18n.weekdays(edition)
    return env


def _month_label(month: str, edition: str = urls.DEFAULT_EDITION) -> str:
    """``2024-05`` as ``May 2024`` (``2024年5月``)."""
    year, _, number = month.partition("-")
    return i18n.month_name(int(year), int(number), edition)


def _template_text(name: str) -> str:
    return resources.files("daybook.render").joinpath(f"templates/{name}").read_text(encoding="utf-8")


def _hashed(name: str, ext: str, content: str) -> str:
    # Named by content: a browser may keep it for ever, and a new one never meets a stale cache.
    digest = hashlib.blake2b(content.encode("utf-8"), digest_size=5).hexdigest()
    return f"assets/{name}.{digest}.{ext}"


def stylesheet() -> str:
    """The site's one stylesheet."""
    return _template_text("style.css")


@functools.cache
def stylesheet_path() -> str:
    """Where the stylesheet lives: ``assets/style.<hash>.css``."""
    return _hashed("style", "css", stylesheet())


def script() -> str:
    """The site's one optional script (keyboard shortcuts); pages work without it."""
    return _template_text("site.js")


@functools.cache
def script_path() -> str:
    return _hashed("site", "js", script())


def site_files(
    base_url: str, license: Obj, source: str, edition: str = urls.DEFAULT_EDITION
) -> dict[str, str]:
    """The files of the site that are no page: the stylesheet, the script, the 404 page
    and robots.txt (the English edition's: at the site's root), by output path within
    the edition."""
    not_found = {
        "kind": "not-found",
        "path": urls.edition_link(urls.link(urls.NOT_FOUND_PAGE), edition),
        "formats": None,
        "license": license,
        "source": source,
        "credits": [credit_site()],  # the page's words are daybook's own
    }
    robots = f"User-agent: *\nAllow: /\nSitemap: {urls.absolute(urls.SITEMAP, base_url)}\n"
    title = i18n.translator(edition)("Page not found")
    files = {
        stylesheet_path(): stylesheet(),
        script_path(): script(),
        urls.NOT_FOUND_PAGE: render(
            "404.html", not_found, title=title, base_url=base_url, rooted=True, edition=edition
        ),
    }
    if edition == urls.DEFAULT_EDITION:
        files[urls.ROBOTS] = robots
    return files


# What an edition other than English says of its text, on every page's about line.
EDITION_NOTE = (
    "Event text is the Wikipedia Current Events Portal's own, in English;"
    " names of articles are in Chinese where Chinese Wikipedia has them."
)

# -- dates for people -------------------------------------------------------------

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip
# Names of our own, not strftime's: the locale of the build must not change the bytes.


def long_date(iso: str | dt.date | None) -> str:
    """``Tuesday 7 May 2024``."""
    return i18n.long_date(iso)


def short_date(iso: str | dt.date | None) -> str:
    """``7 May``, for lists where the year is plain from the page."""
    return i18n.short_date(iso)


def medium_date(iso: str | dt.date | None) -> str:
    """``7 May 2024``: a date among others of other years."""
    return i18n.medium_date(iso)


def label_long(label: str, edition: str = urls.DEFAULT_EDITION) -> str:
    """A day link's text (the site's label, ``2024-05-7``) as people read a date."""
    year, month, day = [*label.split("-"), "", ""][:3]
    if not (year.isdigit() and month.isdigit() and day.isdigit()):
        return label
    return i18n.long_date(dt.date(int(year), int(month), int(day)), edition)


# -- navigation by time: breadcrumbs and calendars ---------------------------------


def crumbs(data: Obj, edition: str = urls.DEFAULT_EDITION) -> list[Obj]:
    """Archive › year › month › day above a page of the news: ``text`` and ``href``
    (site-absolute; None for the page itself)."""
    kind, period = data["kind"], str(data.get("period") or "")
    if kind in ("day", "event"):
        date, depth = dt.date.fromisoformat(data["date"]), 3
    elif kind == "archive" and period:
        year, _, month = period.partition("-")
        date, depth = dt.date(int(year), int(month or 1), 1), 2 if month else 1
    else:
        return []

    def link(path: str) -> str:
        return urls.link(urls.in_edition(path, edition))

    trail: list[Obj] = [
        {"text": i18n.translator(edition)("Archive"), "href": link(urls.ARCHIVE_PAGE)},
        {"text": str(date.year), "href": link(urls.year_path(date.year, "html"))},
        {
            "text": i18n.month_only(date.month, edition),
            "href": link(urls.month_path(date.year, date.month, "html")),
        },
        {"text": i18n.short_date(date, edition), "href": link(urls.day_path(date, "html"))},
    ][: depth + 1]
    if kind != "event":  # the last crumb is this page
        trail[-1] = {**trail[-1], "href": None}
    return trail


def calendars(data: Obj, edition: str = urls.DEFAULT_EDITION) -> list[Obj]:
    """The calendar of each month of an archive page's period (twelve on a year page):
    weeks from Monday, each day with events linked and counted."""
    days = {d["date"]: d for d in data.get("days") or []}
    period = str(data.get("period") or "")
    if not period:
        return []
    year, _, month = period.partition("-")
    months = [int(month)] if month else list(range(1, 13))
    result = []
    for m in months:
        weeks = [
            [None if n == 0 else {"day": n, **days.get(f"{int(year):04d}-{m:02d}-{n:02d}", {})} for n in week]
            for week in calendar.Calendar(calendar.MONDAY).monthdayscalendar(int(year), m)
        ]
        events = sum(c.get("events", 0) for week in weeks for c in week if c)
        # On a year page, each month with events links its page (only those have one).
        linked = month == "" and any(c and "href" in c for week in weeks for c in week)
        result.append(
            {
                "label": i18n.month_name(int(year), m, edition),
                "month": i18n.month_only(m, edition),
                "href": urls.link(urls.in_edition(urls.month_path(int(year), m, "html"), edition))
                if linked
                else None,
                "events": events,
                "weeks": weeks,
            }
        )
    return result


def month_name(year: int, month: int) -> str:
    return i18n.month_name(year, month)


# -- links -----------------------------------------------------------------------

# Members of the page data that hold links to pages of the site ("url" is also a
# source's, which is never site-absolute and so stays as it is).
_LINK_KEYS = frozenset({"href", "location", "action", "script", "url", "source", "image"})


def _link(here: str, href: str, rooted: str | None) -> str:
    if not href.startswith("/") or href.startswith("//"):
        return href  # a link that leaves the site, as it is
    if rooted is not None:
        return urls.quoted(urls.rooted(href[1:], rooted))
    return urls.quoted(urls.relative_link(here, href))


def own_images(data: Any, base_url: str) -> Any:
    """The page data with every image the site itself holds (an address under ``base_url``)
    made a site link, so that it is linked relatively like the pages."""
    prefix = base_url.rstrip("/") + "/"
    if isinstance(data, dict):
        return {
            k: "/" + v.removeprefix(prefix)
            if k == "image" and isinstance(v, str) and v.startswith(prefix)
            else own_images(v, base_url)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [own_images(v, base_url) for v in data]
    return data


def relative_links(data: Any, here: str, rooted: str | None = None) -> Any:
    """The page data with every site-absolute link made relative to ``here`` (or, for a
    page served at any address, ``rooted`` at the path of that base URL)."""
    if isinstance(data, dict):
        return {
            k: _link(here, v, rooted)
            if isinstance(v, str) and (k in _LINK_KEYS)
            else {f: _link(here, h, rooted) for f, h in v.items()}
            if k == "formats" and isinstance(v, dict)
            else relative_links(v, here, rooted)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [relative_links(v, here, rooted) for v in data]
    return data


def site_data(data: Any, here: str, rooted: str | None, base_url: str) -> Any:
    """``relative_links(own_images(data, base_url), here, rooted)`` in one walk of the data."""
    prefix = base_url.rstrip("/") + "/"

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for k, v in value.items():
                if isinstance(v, str):
                    if k == "image" and v.startswith(prefix):
                        v = "/" + v.removeprefix(prefix)
                    out[k] = _link(here, v, rooted) if k in _LINK_KEYS else v
                elif k == "formats" and isinstance(v, dict):
                    out[k] = {f: _link(here, h, rooted) for f, h in v.items()}
                else:
                    out[k] = walk(v)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(data)


@jinja2.pass_context
def _rel(context: jinja2.runtime.Context, href: str) -> str:
    """A link the template writes itself (``"/news/index.html"|rel``: of the page's own
    edition), relative to this page."""
    return _link(context["here"], urls.edition_link(href, context["edition"]), context["rooted"])


def json_ld(data: Any) -> str:
    """JSON-LD safe inside ``<script>``: no ``<`` can close the element early."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _event_ld(data: Obj) -> Obj:
    items = {w["name"]: w["url"] for w in data.get("wikidata", ())}
    things = [
        {
            "@type": "Thing",
            "name": t,
            "sameAs": [urls.wikipedia_url(t), items[t]] if t in items else urls.wikipedia_url(t),
        }
        for t in data["entities"]
    ]
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


def render(
    template: str,
    data: Obj,
    *,
    title: str,
    description: str | None = None,
    base_url: str = urls.DEFAULT_BASE_URL,
    rooted: bool = False,
    edition: str = urls.DEFAULT_EDITION,
    alternates: Sequence[tuple[str, str]] = (),
) -> str:
    """One page: the template filled with the page's data and the shared chrome.

    ``base_url`` makes the absolute links that leave the page: canonical, og:url, JSON-LD.
    ``rooted``: the page may be served at any address (the 404 page), so its links start
    from the base URL's path rather than from the page. ``edition``: whose words and
    dates (the data's links are that edition's already: ``render_all``); ``alternates``:
    the same page in each edition, (edition, path from the site's root), for ``hreflang``.
    """
    # A page without a path of its own (the search page, and its server-made twin at
    # ``/search``) sits at the site's root.
    here = str(data.get("path") or "/" + urls.in_edition(urls.SEARCH_PAGE, edition)).lstrip("/")
    root = base_url if rooted else None
    translate = i18n.translator(edition)
    extra: dict[str, Any] = {
        "here": here,
        "rooted": root,
        "edition": edition,
        "lang": i18n.LANG[edition],
        "canonical": urls.quoted(urls.absolute(here, base_url)),
        "stylesheet": _link(here, "/" + urls.in_edition(stylesheet_path(), edition), root),
        "site_script": _link(here, "/" + urls.in_edition(script_path(), edition), root),
        "alternates": [
            {"lang": i18n.LANG[e], "href": _link(here, "/" + path, root), "name": i18n.SELF_NAMES[e]}
            for e, path in alternates
        ],
        "edition_note": None if edition == urls.DEFAULT_EDITION else translate(EDITION_NOTE),
    }
    ld: Obj | None = None
    if data["kind"] == "event":
        ld = {**_event_ld(data), "url": extra["canonical"]}
        extra["entity_href"] = {
            link["text"]: _link(here, link["href"], root) for link in data["entity_links"]
        }
    elif data["kind"] == "day":
        ld = {
            "@context": "https://schema.org",
            "@type": "CollectionPage",
            "name": f"News of {long_date(data['date'])}",
            "datePublished": data["date"],
            "url": extra["canonical"],
            "isBasedOn": data["source"],
            "license": data["license"]["url"],
            "numberOfItems": len(data["events"]),
        }
    elif data["kind"] == "entity" and data.get("part") is None:
        ld = {
            "@context": "https://schema.org",
            "@type": "Thing",
            "name": data["name"],
            "description": data.get("description"),
            "sameAs": [data["wikipedia"], data["wikidata"]] if data.get("wikidata") else data["wikipedia"],
            "url": extra["canonical"],
        }
    if ld is not None:
        # Safe as markup: json_ld escapes every character that could end the script.
        extra["jsonld"] = markupsafe.Markup(json_ld({k: v for k, v in ld.items() if v is not None}))
    extra["crumbs"] = relative_links(crumbs(data, edition), here, root)
    if data["kind"] == "archive":
        extra["calendars"] = relative_links(calendars(data, edition), here, root)
    if data["kind"] in ("entity", "story", "category"):
        # The wiki's short description (``description`` is the page's meta description).
        extra["wiki_description"] = data.get("description") if data["kind"] == "entity" else None
        # Safe as markup: the chart holds only numbers and month names it writes itself.
        bars = ((bar["month"], bar["events"]) for bar in data["chart"])
        extra["chart_svg"] = markupsafe.Markup(chart.month_chart(bars))
    if data["kind"] == "opinion":
        # Raw HTML in an opinion file is shown as text, like everything else.
        extra["body_html"] = markupsafe.Markup(_opinion_html(data["body_markdown"], here, root))
    if data["kind"] == "entity" and edition == "zh" and data.get("zh_title"):
        extra["name"] = data["zh_title"]  # the Chinese Wikipedia's name, where it has one
    template_obj = environment(edition).get_template(template)
    return template_obj.render(
        {
            "jsonld": None,
            **site_data(data, here, root, base_url),
            **extra,
            "og_image": data.get("image"),  # absolute: read away from the site
            "title": title,
            "description": description,
            "mime": MIME,
            "date_label": _label(data.get("date")),
        }
    )


def _opinion_html(text: str, here: str, rooted: str | None) -> str:
    """An opinion piece's Markdown as HTML, its links into the site (``/news/...``) made
    relative to the page like every other."""
    tokens = _MARKDOWN.parse(text)
    for token in tokens:
        for child in token.children or []:
            for attribute in ("href", "src"):
                value = child.attrGet(attribute)
                if isinstance(value, str):
                    child.attrSet(attribute, _link(here, value, rooted))
    return str(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {}))


def _label(iso: str | None) -> str:
    if not iso:
        return ""
    return urls.date_label(dt.date.fromisoformat(iso))
