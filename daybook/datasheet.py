"""The datasheet of an export (``DATASHEET.md``): what the dataset holds, how it was made,
its counts, known gaps, licences and every field, after "Datasheets for Datasets"
(Gebru et al., 2021). Pure: the export's rows in, Markdown out, nothing from the clock."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from daybook.model import Event

EVENTS, SOURCES, ENTITIES, WCEP = "events", "sources", "entities", "wcep"
DATASHEET, SUMS = "DATASHEET.md", "SHA256SUMS"
TABLES = (EVENTS, SOURCES, ENTITIES, WCEP)
PORTAL_LICENSE = "CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/)"

# Every field of every table: (name, JSON type, Parquet type, what it is). The datasheet,
# the Parquet schemas and docs/FORMATS.md say the same.
Field = tuple[str, str, str, str]
FIELDS: dict[str, tuple[Field, ...]] = {
    EVENTS: (
        ("id", "string", "string", "the event's id: YYYYMMDD- and a hash of its category, story and text"),
        ("date", "string (YYYY-MM-DD)", "date32", "the portal day"),
        ("category", "string", "string", "the portal's category heading"),
        ("story", "array of string", "list<string>", "the story lines it is filed under, outermost first"),
        ("text", "string", "string", "the event's text, without markup or citations"),
        ("entities", "array of string", "list<string>", "the Wikipedia articles it links, in order"),
        (
            "sources",
            "array of {outlet, url}",
            "list<struct<outlet: string, url: string>>",
            "its cited sources, as the portal gives them",
        ),
        ("parent", "string or null", "string", "the event this one follows up, if any"),
    ),
    SOURCES: (
        ("id", "string", "string", "a hash of the normalised URL"),
        ("url", "string", "string", "the URL as first cited"),
        ("outlet", "string", "string", "the outlet as the first citation in the export names it"),
        ("citations", "integer", "int64", "how many exported events cite it"),
        ("status", "string or null", "string", "HTTP status or error word of the fetch; null: not fetched"),
        ("reason", "string or null", "string", "why the fetch failed, in a few words"),
        ("final_url", "string or null", "string", "after redirects (the snapshot's, when archived)"),
        ("archived", "boolean", "bool", "a Wayback Machine snapshot stands in for a dead link"),
        ("dead_status", "string or null", "string", "when archived: why the live page was not used"),
        ("title", "string or null", "string", "the article's title"),
        ("lede", "string or null", "string", "its lede, at most 500 characters"),
        ("image", "string or null", "string", "its cover image (absolute URL)"),
        ("publisher", "string or null", "string", "its publisher"),
        ("published", "string or null", "string", "its publication date (ISO 8601)"),
        ("page_kept", "boolean", "bool", "the store keeps the page (its text can be extracted)"),
    ),
    ENTITIES: (
        ("title", "string", "string", "the canonical Wikipedia article title"),
        ("wikipedia_url", "string", "string", "the article's address"),
        ("events", "integer", "int64", "how many exported events hold it"),
        ("first_date", "string (YYYY-MM-DD)", "date32", "the day of the first of them"),
        ("last_date", "string (YYYY-MM-DD)", "date32", "the day of the last of them"),
    ),
    WCEP: (
        ("id", "string", "string", "the event's id"),
        ("date", "string (YYYY-MM-DD)", "date32", "the portal day"),
        ("summary", "string", "string", "the event's text"),
        ("category", "string", "string", "the portal's category heading"),
        ("story", "array of string", "list<string>", "its story lines, outermost first"),
        ("wiki_links", "array of string", "list<string>", "its entities' Wikipedia addresses"),
        ("reference_urls", "array of string", "list<string>", "its cited sources' URLs"),
        (
            "articles",
            "array of {title, text, url, time, origin}",
            "list<struct<title: string, text: string, url: string, time: string, origin: string>>",
            "each cited source: title, text (trafilatura, from the kept page; null if none), url, "
            "time (publication date; null if unknown), origin ('WCEP': cited by the portal)",
        ),
    ),
}


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return out


def missing_days(events: Sequence[Event], start: dt.date | None, end: dt.date | None) -> list[dt.date]:
    """The days of the span with no exported event."""
    if not events:
        return []
    first, last = start or events[0].date, end or events[-1].date
    held = {e.date for e in events}
    return [
        first + dt.timedelta(n) for n in range((last - first).days + 1) if first + dt.timedelta(n) not in held
    ]


def _spans(days: Sequence[dt.date]) -> list[str]:
    """Consecutive days as ranges: ``2025-10-01 to 2025-10-03``."""
    spans: list[list[dt.date]] = []
    for day in days:
        if spans and (day - spans[-1][1]).days == 1:
            spans[-1][1] = day
        else:
            spans.append([day, day])
    return [a.isoformat() if a == b else f"{a} to {b}" for a, b in spans]


def datasheet(
    events: Sequence[Event],
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    start: dt.date | None,
    end: dt.date | None,
    category: str | None,
    fingerprint: str,
    version: str,
    parquet: bool,
) -> str:
    """The datasheet of an export of ``events`` (site order) and its ``tables``' rows."""
    sources = tables[SOURCES]
    first = events[0].date.isoformat() if events else "-"
    last = events[-1].date.isoformat() if events else "-"
    selection = [
        f"from {start}" if start else "from the first stored day",
        f"to {end}" if end else "to the last",
        f"category {category!r}" if category else "every category",
    ]
    out = [
        "# daybook dataset",
        "",
        "## What it holds",
        "",
        f"The news events of the Wikipedia Current Events Portal from {first} to {last}"
        f" ({', '.join(selection)}), one record per event, with the sources each cites and the"
        " Wikipedia articles (entities) it links.",
        "",
        *_table(
            ["table", "records"],
            [(name, len(rows)) for name, rows in tables.items()],
        ),
        "",
        f"- days with events: {len({e.date for e in events})}",
        f"- events citing a source: {sum(1 for e in events if e.sources)}",
        f"- sources enrich fetched with success: {sum(1 for s in sources if s['title'] or s['lede'])}"
        f" (any result: {sum(1 for s in sources if s['status'] is not None)})",
        "",
        "## How it was made",
        "",
        "daybook reads each day's portal page (wikitext, or the wiki's own rendering of a revision"
        " pulled from the MediaWiki API), makes an event of each bullet that cites a source (its text"
        " without markup, its category and story lines, the articles it links, its citations), and"
        " keeps it in a store. `daybook enrich` fetches each cited source once, politely (robots.txt"
        " obeyed, a dead link looked up in the Wayback Machine), and keeps the page and its metadata"
        " (title, lede, image, publisher, publication date). `daybook export` writes this dataset"
        " from the store: the same store always gives the same bytes.",
        "",
        f"- daybook version: {version}",
        f"- store fingerprint (SHA-256 of its days' events and its sources' metadata): `{fingerprint}`",
        f"- files: JSON Lines, gzip'd{'; Parquet copies' if parquet else ''}; `{DATASHEET}`; `{SUMS}`"
        " (`sha256sum -c SHA256SUMS`)",
        "",
        "## Counts per year and category",
        "",
    ]
    by_year_category = Counter((e.date.year, e.category) for e in events)
    categories = sorted({c for _, c in by_year_category})
    years = sorted({y for y, _ in by_year_category})
    per_year = Counter(e.date.year for e in events)
    rows: list[list[object]] = [
        [c, *(by_year_category[(y, c)] for y in years), sum(by_year_category[(y, c)] for y in years)]
        for c in categories
    ]
    rows.append(["all", *(per_year[y] for y in years), len(events)])
    out += [*_table(["category", *map(str, years), "all"], rows), ""]
    gaps = missing_days(events, start, end)
    unfetched = sum(1 for s in sources if s["status"] is None)
    failed = sum(1 for s in sources if s["status"] is not None and not (s["title"] or s["lede"]))
    out += [
        "## Known gaps",
        "",
        f"- days of the span with no event: {len(gaps)}"
        + (f" ({', '.join(_spans(gaps)[:40])}{', ...' if len(_spans(gaps)) > 40 else ''})" if gaps else ""),
        f"- events citing no source: {sum(1 for e in events if not e.sources)}",
        f"- sources never fetched: {unfetched}; fetched without metadata (failed, or a page with"
        f" none): {failed}; served from the Wayback Machine: {sum(1 for s in sources if s['archived'])}",
        "- the portal is edited after the day: an event's text is the revision daybook last read;"
        " events the portal held only briefly may be missing, and the portal's coverage is uneven"
        " (English-language, volunteer-written).",
        "- entities are the articles an event links, not every name its text mentions.",
        "",
        "## Licences and attribution",
        "",
        f"- Event texts, categories, story lines and links: the Wikipedia Current Events Portal's"
        f" contributors, under {PORTAL_LICENSE}; reuse must attribute Wikipedia and share alike.",
        "- Sources' titles, ledes, images and article texts: their publishers', quoted for research"
        " and reference; not licensed for republication.",
        "- The dataset's arrangement and this datasheet: made by daybook (MIT).",
        "",
        "## Fields",
        "",
    ]
    present = [name for name in (EVENTS, SOURCES, ENTITIES, WCEP) if name in tables]
    for name in present:
        out += [f"### {name}", ""]
        out += _table(["field", "JSON", "Parquet", "meaning"], FIELDS[name])
        out.append("")
    return "\n".join(out)
