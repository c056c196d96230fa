"""The same day as wikitext and as MediaWiki's rendered HTML gives the same events."""

from __future__ import annotations

from pathlib import Path

import pytest

from daybook.ingest.html import parse_portal_html
from daybook.ingest.outline import date_from_name
from daybook.ingest.wikitext import parse_wikitext

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAME_DAYS = sorted(path.stem for path in (FIXTURES / "html").glob("*.html"))


def test_there_are_days_in_both_forms() -> None:
    assert len(SAME_DAYS) >= 2
    assert all((FIXTURES / "wikitext" / f"{day}.wiki").is_file() for day in SAME_DAYS)


@pytest.mark.parametrize("day", SAME_DAYS)
def test_wikitext_and_html_agree(day: str) -> None:
    wiki_path, html_path = FIXTURES / "wikitext" / f"{day}.wiki", FIXTURES / "html" / f"{day}.html"
    date = date_from_name(wiki_path.name)
    from_wikitext = parse_wikitext(wiki_path.read_text(encoding="utf-8"), name=wiki_path.name, date=date)
    from_html = parse_portal_html(html_path.read_text(encoding="utf-8"), name=html_path.name, date=date)
    assert from_wikitext.events  # an empty day would agree too easily
    # Event by event first, so a failure names the event that differs.
    for wiki_event, html_event in zip(from_wikitext.events, from_html.events, strict=False):
        assert wiki_event == html_event
    assert from_wikitext == from_html
    # Without a date each form finds the page's own.
    assert parse_wikitext(wiki_path.read_text(encoding="utf-8")).date == date
    assert parse_portal_html(html_path.read_text(encoding="utf-8")).date == date
