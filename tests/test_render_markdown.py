"""Golden tests: the reference event pages, rebuilt from their content, render byte
for byte as the reference with its defects fixed (``tests/golden/``).

The content is read from the reference pages themselves; the fixes are the ones the
reference README names: mojibake and raw entities repaired, no trailing space in
headlines, Contexts made of canonical article titles (not a link's visible text).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import ftfy
import pytest
from markdown_it import MarkdownIt

from daybook import urls
from daybook.render import markdown
from daybook.render.pages import EventPage, Link, RelatedLink, SourceLink

GOLDEN = Path(__file__).parent / "golden"
SHARED = Path(__file__).resolve().parents[2] / "shared"

# The reference built Contexts from a link's visible text; these are the articles
# those links point to (the portal's wikitext of those days).
CANONICAL = {
    "''Charlie Hebdo'' shooting": "Charlie Hebdo shooting",
    "drawings of the prophet": "Depictions of Muhammad",
}


def clean(text: str) -> str:
    text = html.unescape(ftfy.fix_text(text)).replace("''", "")
    return re.sub(r"\s+", " ", text).strip()


def rebuild(reference: Path) -> EventPage:
    """An EventPage holding exactly the content of a reference event page."""
    lines = reference.read_text(encoding="utf-8").splitlines()
    date_text = re.match(r"### \[(\d{4})-(\d{2})-(\d{1,2})\]", lines[0])
    assert date_text
    date = dt.date(int(date_text[1]), int(date_text[2]), int(date_text[3]))
    headline = clean(lines[2].removeprefix("# "))
    lede_lines = lines[4 : lines.index("### Source:")]
    lede = clean(" ".join(lede_lines)) or None
    sources, cover = [], None
    related = []
    for line in lines[lines.index("### Source:") + 1 :]:
        if item := re.match(r"\d+\. \[(.*)\]\((\S+)\)$", line):
            if item[1] == "Cover Image":
                cover = item[2]
            else:
                sources.append(SourceLink(outlet=clean(item[1]), url=item[2]))
        elif item := re.match(r"\d+\. \[(.*)\]\((/news/(\d+)/(\d+)/(\d+)/.*)\.md\) _Context: (.*)_$", line):
            day = dt.date(int(item[3]), int(item[4]), int(item[5]))
            text = clean(item[1])
            context = sorted(CANONICAL.get(c, clean(c)) for c in item[6].split(", "))
            stem = urls.event_path(day, urls.slugify(text), "md").removesuffix(".md")
            related.append(RelatedLink(link=Link(text, stem), date=day, context=tuple(context)))
    return EventPage(
        stem=urls.event_path(date, urls.slugify(headline), "md").removesuffix(".md"),
        id="x",
        date=date,
        category="",
        story=(),
        headline=headline,
        lede=lede,
        sources=tuple(sources),
        cover_image=cover,
        entities=(),
        related=tuple(related),
        day=Link(urls.date_label(date), urls.day_path(date, "md").removesuffix(".md")),
    )


@pytest.mark.parametrize("name", ["event-2017-03-07-syrian-army.md", "event-2015-01-07-three-sources.md"])
def test_reference_event_pages_render_as_fixed_golden(name: str) -> None:
    page = rebuild(SHARED / "reference" / name)
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    assert markdown.event_page(page) == expected


def test_golden_files_have_none_of_the_reference_defects() -> None:
    for path in GOLDEN.glob("event-*.md"):
        text = path.read_text(encoding="utf-8")
        assert "â€" not in text and "&#039;" not in text and "&quot;" not in text
        assert " ](" not in text and "[ " not in text and "''" not in text
        assert ftfy.fix_text(text) == text


def test_event_text_cannot_break_out_of_markdown() -> None:
    page = rebuild(SHARED / "reference" / "event-2015-01-07-three-sources.md")
    hostile = "A [link](javascript:alert(1)) and <script>alert(1)</script>"
    out = markdown.event_page(
        EventPage(**{**page.__dict__, "headline": hostile, "lede": hostile, "related": ()})
    )
    rendered = MarkdownIt("commonmark").render(out)
    assert "<script" not in rendered and 'href="javascript' not in rendered
    assert "A [link](javascript:alert(1)) and &lt;script&gt;" in rendered
