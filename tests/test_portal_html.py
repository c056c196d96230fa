"""portal_html: hand-checked events of both real sets, whole-set counts, and fuzzing."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from portal_count import count_page

from daybook.errors import ParseError
from daybook.ingest.html import parse_portal_html
from daybook.ingest.outline import date_from_name
from daybook.model import Day, Event

EMAIL, MEDIAWIKI = "portal-html", "portal-html-2025"
MARKUP = re.compile(r"<[A-Za-z/!]|&(?:[A-Za-z]+|#[0-9]+|#x[0-9A-Fa-f]+);")

Parsed = dict[str, dict[str, Day]]


@pytest.fixture(scope="module")
def parsed(shared_data: Path) -> Parsed:
    """Every real day of both sets, parsed once: set -> file name -> Day."""
    return {
        folder: {
            path.name: parse_portal_html(path.read_bytes(), name=path.name, date=date_from_name(path.name))
            for path in sorted((shared_data / folder).glob("*.html"))
        }
        for folder in (EMAIL, MEDIAWIKI)
    }


def find(day: Day, needle: str) -> Event:
    """The one event of ``day`` whose text contains ``needle``."""
    found = [event for event in day.events if needle in event.text]
    assert len(found) == 1, [event.text for event in found]
    return found[0]


def outlets(event: Event) -> list[str]:
    return [source.outlet for source in event.sources]


# --- the e-mail set (2020-2023) -------------------------------------------------------


@pytest.mark.slow
def test_kharkiv_institute_event(parsed: Parsed) -> None:
    event = find(parsed[EMAIL]["2022-03-07.html"], "Kharkiv Institute of Physics and Technology")
    assert event.category == "Armed conflicts and attacks"
    assert event.story == (
        "Russo-Ukrainian War",
        "2022 Russian invasion of Ukraine",
        "Battle of Kharkiv (2022)",
    )
    assert {"International Atomic Energy Agency", "Kharkiv Institute of Physics and Technology"} <= set(
        event.entities
    )
    assert outlets(event) == ["Bloomberg"]
    assert event.sources[0].url.startswith("https://www.bloomberg.com/news/articles/2022-03-07/")
    assert "(Bloomberg)" not in event.text
    assert event.text.startswith("The International Atomic Energy Agency confirms that")
    assert event.text.endswith('"small inventory of radioactive material".')


@pytest.mark.slow
def test_event_with_two_sources(parsed: Parsed) -> None:
    event = find(parsed[EMAIL]["2022-03-07.html"], "Vitaly Gerasimov")
    assert outlets(event) == ["Ukrinform", "The Independent"]
    assert "(" not in event.text
    # The link text says "Russia's intervention in Syria"; the entity is the linked title.
    assert "Russian military intervention in the Syrian civil war" in event.entities
    assert "Russia's intervention in Syria" in event.text


@pytest.mark.slow
def test_italic_outlet_and_empty_story(parsed: Parsed) -> None:
    event = find(parsed[EMAIL]["2022-03-07.html"], "widespread phishing attack")
    assert event.text == (
        "Belarus launched a widespread phishing attack against Polish and Ukrainian government and"
        " military officials. The attack has since been contained."
    )
    assert (event.category, event.story) == ("Science and technology", ())
    assert outlets(event) == ["The Washington Post"]
    assert event.entities == ("Belarus", "Phishing")


@pytest.mark.slow
def test_role_heading_categories_and_two_link_story(parsed: Parsed) -> None:
    day = parsed[EMAIL]["2020-04-01.html"]
    hobby = find(day, "Hobby Lobby")
    assert hobby.category == "Business and economy"
    assert hobby.story == ("2020 coronavirus pandemic in the United States",)
    assert outlets(hobby) == ["CBS News"]
    assert hobby.text == "Hobby Lobby is expected to reopen in states with stay-at-home orders."
    assert hobby.entities == ("Hobby Lobby", "2020 coronavirus pandemic in the United States")
    masks = find(day, "plane with masks")
    assert masks.category == "International relations"
    # A story line of two links is labelled by its plain text, and both are entities.
    assert masks.story == ("Russia–United States relations, 2020 coronavirus pandemic in the United States",)
    assert {"Russia–United States relations", "2020 coronavirus pandemic in the United States"} <= set(
        masks.entities
    )


@pytest.mark.slow
def test_interwiki_links_are_plain_text(parsed: Parsed) -> None:
    event = find(parsed[EMAIL]["2021-03-10.html"], "Diego Molano Aponte")
    assert "Diego Molano Aponte" not in event.entities
    assert outlets(event) == ["The New York Times"]
    desg = find(parsed[EMAIL]["2020-06-18.html"], "DESG")
    assert "[de]" not in desg.text  # the print-hidden interlanguage marker is dropped
    assert "Deutsche Eisschnelllauf-Gemeinschaft" in desg.entities  # a red link still names its page


@pytest.mark.slow
def test_email_day_without_content_is_empty(parsed: Parsed) -> None:
    assert parsed[EMAIL]["2020-10-05.html"] == Day(date=dt.date(2020, 10, 5), events=())


# --- the MediaWiki set (2025-2026) ----------------------------------------------------


@pytest.mark.slow
def test_relative_links_and_story(parsed: Parsed) -> None:
    event = find(parsed[MEDIAWIKI]["2025-09-14.html"], "At least 53 Palestinians")
    assert event.category == "Armed conflicts and attacks"
    assert event.story == ("Gaza war", "Israeli invasion of the Gaza Strip, 2025 Gaza City offensive")
    # The target comes from the href (/wiki/IDF), not the visible "Israeli army".
    assert event.text == (
        "At least 53 Palestinians are killed by Israeli attacks, including 35 in Gaza City where the"
        " Israeli army has been concentrating its assault."
    )
    assert event.entities == (
        "Palestinians", "Israel", "Gaza City", "IDF",
        "Gaza war", "Israeli invasion of the Gaza Strip", "2025 Gaza City offensive",
    )  # fmt: skip
    assert outlets(event) == ["Al Jazeera"]


@pytest.mark.slow
def test_absolute_links_and_italic_outlet(parsed: Parsed) -> None:
    event = find(parsed[MEDIAWIKI]["2025-09-14.html"], "police station in Cauca")
    assert event.story == ("Colombian conflict",)
    assert outlets(event) == ["The Times of India"]
    assert "Cauca Department" in event.entities


@pytest.mark.slow
def test_language_note_is_not_part_of_the_outlet(parsed: Parsed) -> None:
    event = find(parsed[MEDIAWIKI]["2026-01-15.html"], "Utrecht city centre")
    assert outlets(event) == ["NOS", "AFP via Al Arabiya"]
    assert event.sources[0].url.startswith("https://nos.nl/artikel/2598303-")
    assert (event.category, event.story) == ("Disasters and accidents", ())
    assert "Dutch" not in event.text


@pytest.mark.slow
def test_red_links_and_superscripts(parsed: Parsed) -> None:
    assert "Lorenzo Bugli" in find(parsed[MEDIAWIKI]["2025-09-16.html"], "Lorenzo Bugli").entities
    rail = find(parsed[MEDIAWIKI]["2025-10-13.html"], "two trains collide")
    assert rail.story == ("Jablonov nad Turňou rail collision",)
    assert "(7,700 km2)" in find(parsed[MEDIAWIKI]["2025-09-29.html"], "Etosha").text


def test_page_date_is_used_and_the_given_date_wins(shared_data: Path) -> None:
    email = (shared_data / EMAIL / "2022-03-07.html").read_bytes()
    mediawiki = (shared_data / MEDIAWIKI / "2025-09-14.html").read_bytes()
    assert parse_portal_html(email).date == dt.date(2022, 3, 7)
    assert parse_portal_html(mediawiki).date == dt.date(2025, 9, 14)
    assert parse_portal_html(email, date=dt.date(2001, 2, 3)).events[0].date == dt.date(2001, 2, 3)


# --- whole sets ------------------------------------------------------------------------

# A leaf <li>: no list and no other item inside it.
_LEAF_ITEM = re.compile(r"<li\b[^>]*>((?:(?!<li\b|</li>|<ul\b).)*)</li>", re.DOTALL)


def sourced_items_by_regex(raw: str) -> int:
    """Leaf items holding an external link, counted on the raw text, without lxml."""
    start = raw.find('class="current-events-content')  # not the same name in the CSS
    if start < 0:
        start = raw.find("<ul")  # the e-mail chrome has no lists
    if start < 0:
        return 0
    return sum('class="external' in match[1] for match in _LEAF_ITEM.finditer(raw, start))


@pytest.mark.slow
@pytest.mark.parametrize(("folder", "days"), [(EMAIL, 816), (MEDIAWIKI, 285)])
def test_whole_set_parses_and_sources_agree(
    parsed: Parsed, shared_data: Path, folder: str, days: int
) -> None:
    assert len(parsed[folder]) == days
    events = [event for day in parsed[folder].values() for event in day.events]
    with_sources = sum(bool(event.sources) for event in events)
    independent = sum(
        sourced_items_by_regex(path.read_text("utf-8")) for path in (shared_data / folder).glob("*.html")
    )
    counted = [count_page(path.read_bytes()) for path in (shared_data / folder).glob("*.html")]
    by_lxml, sourced_by_lxml = sum(c.events for c in counted), sum(c.sourced for c in counted)
    print(
        f"{folder}: {days} days, {len(events)} events ({by_lxml} by lxml), "
        f"{with_sources} with sources ({independent} leaves by regex, {sourced_by_lxml} by lxml)"
    )
    # Every sourced item is an event, nested items or not (the regex sees only leaves).
    assert abs(with_sources - independent) <= 0.01 * independent
    assert abs(len(events) - by_lxml) <= 0.01 * by_lxml
    assert abs(with_sources - sourced_by_lxml) <= 0.01 * sourced_by_lxml
    assert all(event.category for event in events)
    assert not [event.text for event in events if MARKUP.search(event.text)]
    assert len({event.id for event in events}) == len(events)


# --- errors ----------------------------------------------------------------------------

PAGE = (
    '<html><body><div role="region" id="2024_May_3"><div class="current-events-content">'
    '<p><b>Sports</b></p><ul><li>Café <a class="external text" href="https://e.com/a">(Le Monde)</a></li>'
    "</ul>"
    "</div></div></body></html>"
)


def test_pages_that_are_not_portal_days() -> None:
    with pytest.raises(ParseError, match="no date"):
        parse_portal_html("<ul><li>x</li></ul>")
    with pytest.raises(ParseError, match="not a portal day page"):
        parse_portal_html("<p>hello</p>", date=dt.date(2024, 5, 3))
    with pytest.raises(ParseError, match="no event lists"):
        parse_portal_html('<div class="current-events-content"><p>x</p></div>', date=dt.date(2024, 5, 3))
    with pytest.raises(ParseError, match="too deep") as deep:
        parse_portal_html(PAGE.replace("<ul>", "<i>" * 300 + "<ul>"))
    assert deep.value.line == 1


def test_encodings() -> None:
    assert parse_portal_html(PAGE).date == dt.date(2024, 5, 3)  # from the region id
    assert find(parse_portal_html(PAGE.encode("utf-16")), "Café").sources[0].outlet == "Le Monde"
    declared = PAGE.replace("<html>", '<html><meta charset="windows-1252">').encode("cp1252")
    assert find(parse_portal_html(declared), "Café").text == "Café"
    with pytest.raises(ParseError, match="utf-8") as bad:
        parse_portal_html(b"<html>\n<body>\n\xff", name="x.html")
    assert (bad.value.name, bad.value.line) == ("x.html", 3)


def test_link_forms_and_hidden_parts() -> None:
    item = (
        '<li><a href="./Alpha_beta">a</a> <a href="/w/index.php?title=Gamma&amp;action=edit&amp;redlink=1">'
        'g</a> <a href="https://fr.wikipedia.org/wiki/Delta">d</a> <a href="https://en.wiktionary.org/wiki/e">'
        'e</a><br><span style="display: none">hidden</span>'
        '<sup class="reference"><a href="#cite_note-1">[1]</a></sup>'
        ' <i>x</i> (<a class="external text" href="https://nos.nl/x">NOS <small>in Dutch</small></a>)</li>'
    )
    event = parse_portal_html(PAGE.replace("<ul><li>", f"<ul>{item}<li>")).events[0]
    assert event.text == "a g d e x"
    assert event.entities == ("Alpha beta", "Gamma")
    assert outlets(event) == ["NOS"]


# --- fuzzing ---------------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PIECES = st.sampled_from(
    [
        "<ul>", "<li>", "</li>", "</ul>", "<p><b>", "</b></p>", "<a href='/wiki/X'>", "</a>", "<i>", "</i>",
        "<a class='external text' href='https://e.com'>", "(", "Reuters", ")", "&amp;", " text ", "<br>",
        "<div class='current-events-content'>", "</div>", "<title>Current Events: 7 March 2022</title>",
        "<span style='display:none'>", "</span>", "<small>", "\x00", "\u202e", "<!--", "-->", "<sup>",
    ]
)  # fmt: skip


def check(html: str | bytes) -> None:
    """Parsing gives a sound Day or a ParseError, never anything else."""
    try:
        day = parse_portal_html(html, name="fuzz", date=dt.date(2022, 3, 7))
    except ParseError as exc:
        assert exc.name == "fuzz"
        return
    for event in day.events:
        assert event.text or event.sources
        assert not MARKUP.search(event.text), event.text


@FUZZ
@given(
    st.one_of(st.binary(max_size=3000), st.text(max_size=3000), st.lists(PIECES, max_size=80).map("".join))
)
def test_fuzzed_input_only_raises_parse_error(html: str | bytes) -> None:
    check(html)


@pytest.fixture(scope="module")
def real_pages(shared_data: Path) -> list[str]:
    names = [(EMAIL, "2020-04-01.html"), (EMAIL, "2022-03-07.html"), (MEDIAWIKI, "2025-09-14.html")]
    return [(shared_data / folder / name).read_text("utf-8") for folder, name in names]


@st.composite
def mangled(draw: st.DrawFn, pages: list[str]) -> str | bytes:
    """A real page, cut, with tags lost or repeated, nested absurdly, and mis-encoded."""
    page = draw(st.sampled_from(pages))
    for _ in range(draw(st.integers(1, 5))):
        tags = [m.span() for m in re.finditer(r"<[^>]*>", page)]
        start, end = draw(st.sampled_from(tags)) if tags else (0, 0)
        op = draw(st.sampled_from(["cut", "drop", "repeat", "nest", "control"]))
        if op == "cut":
            page = page[: draw(st.integers(0, len(page)))]
        elif op == "drop":
            page = page[:start] + page[end:]
        elif op == "repeat":
            page = page[:end] + page[start:end] * draw(st.integers(1, 50)) + page[end:]
        elif op == "nest":
            opener = draw(st.sampled_from(["<ul><li>", "<i>", "<div>", "<li>", "<a href='/wiki/Y'>"]))
            page = page[:start] + opener * draw(st.integers(1, 3000)) + page[start:]
        else:
            page = page[:start] + draw(st.text(st.characters(max_codepoint=0x9F), max_size=5)) + page[start:]
    encoding = draw(st.sampled_from([None, "utf-8", "utf-16", "utf-16-le", "latin-1", "cp1252", "utf-8-sig"]))
    return page if encoding is None else page.encode(encoding, errors="replace")


@FUZZ
@given(data=st.data())
def test_mangled_real_pages_only_raise_parse_error(real_pages: list[str], data: st.DataObject) -> None:
    check(data.draw(mangled(real_pages)))
