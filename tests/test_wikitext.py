"""wikitext: one hand-written page per era of the portal's markup, the inline rules,
the errors, and fuzzing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import mwparserfromhell
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mwparserfromhell.nodes import HTMLEntity

from daybook.errors import ParseError
from daybook.ingest.outline import date_from_name
from daybook.ingest.wikitext import parse_wikitext
from daybook.model import Day, Event, Source

WIKITEXT = Path(__file__).resolve().parent / "fixtures" / "wikitext"
PAGES = sorted(WIKITEXT.glob("*.wiki"))
DAY = dt.date(2022, 5, 14)


def parse_fixture(day: str) -> Day:
    path = WIKITEXT / f"{day}.wiki"
    return parse_wikitext(path.read_text(encoding="utf-8"), name=path.name, date=date_from_name(path.name))


def find(day: Day, needle: str) -> Event:
    """The one event of ``day`` whose text contains ``needle``."""
    found = [event for event in day.events if needle in event.text]
    assert len(found) == 1, [event.text for event in found]
    return found[0]


def one_event(text: str) -> Event:
    day = parse_wikitext(text, date=DAY)
    assert len(day.events) == 1, day.events
    return day.events[0]


def categories(day: Day) -> list[str]:
    return list(dict.fromkeys(event.category for event in day.events))


# -- one page per era ------------------------------------------------------------------


def test_oldest_page_bullets_without_template_or_categories() -> None:
    day = parse_fixture("2003-05-14")
    assert day.date == dt.date(2003, 5, 14)
    assert categories(day) == [""]
    assert len(day.events) == 5
    first = day.events[0]
    assert first.text == (
        "A suicide bomber blows herself up at a religious festival in Chechnya, "
        "killing at least 14 people and wounding dozens of pilgrims."
    )
    assert first.entities == ("Suicide bombing", "Chechnya")
    assert first.sources == (Source("BBC", "http://news.bbc.co.uk/2/hi/europe/3027153.stm"),)
    # The link trail belongs to the label: [[Saudi Arabia]]n.
    assert day.events[1].text.startswith("Saudi Arabian investigators name")
    assert day.events[1].sources == ()
    assert day.events[2].entities == ("United States Senate", "Tax cut", "George W. Bush")
    # A story line that is more than one link is named by its text.
    who = find(day, "World Health Organization")
    assert who.story == ("SARS outbreak",)
    assert who.entities == ("World Health Organization", "Toronto", "Severe acute respiratory syndrome")
    assert who.sources == (Source("WHO", "http://www.who.int/csr/sarsarchive/2003_05_14/en/"),)


def test_header_template_with_definition_headings() -> None:
    day = parse_fixture("2006-08-17")
    assert categories(day) == ["Armed conflicts and attacks", "Law and crime", "Science and technology"]
    army = find(day, "Litani River")
    assert army.story == ("2006 Lebanon War",)
    assert army.text == (
        "The first Lebanese army units cross south of the Litani River as Israeli troops pull back."
    )
    assert army.entities == (
        "Lebanese Armed Forces",
        "Litani River",
        "Israel Defense Forces",
        "2006 Lebanon War",
    )
    assert find(day, "roadside bomb").story == ()
    ruling = find(day, "federal judge")
    assert ruling.category == "Law and crime"
    assert [source.outlet for source in ruling.sources] == ["Washington Post", "New York Times"]
    planet = find(day, "definition of")
    assert planet.text.endswith("argue over a draft definition of planet.")
    assert planet.entities == ("International Astronomical Union", "Prague", "Planet")


def test_header_template_with_bold_headings() -> None:
    day = parse_fixture("2009-01-15")
    assert categories(day) == [
        "Armed conflicts and attacks",
        "Disasters and accidents",
        "International relations",
        "Politics and elections",
    ]
    # Entities in a link target are decoded before the title is made canonical.
    assert day.events[0].story == ("2008–2009 Israel–Gaza conflict",)
    gas = find(day, "Gazprom")
    assert gas.story == ("2009 Russia–Ukraine gas dispute",)
    assert gas.sources == (Source("Financial Times", "http://www.ft.com/gas-talks"),)
    plane = find(day, "Hudson River")
    assert plane.story == ()
    assert plane.entities == ("US Airways Flight 1549", "Airbus A320 family", "Hudson River")


def test_content_parameter_page() -> None:
    day = parse_fixture("2015-11-18")
    assert categories(day) == [
        "Armed conflicts and attacks",
        "Business and economy",
        "Politics and elections",
    ]
    raid = find(day, "seven-hour siege")
    assert raid.story == ("November 2015 Paris attacks",)
    assert raid.entities == (
        "Saint-Denis raid",
        "Saint-Denis, Seine-Saint-Denis",
        "Paris",
        "November 2015 Paris attacks",
    )
    assert raid.sources == (
        Source("BBC", "http://www.bbc.com/news/world-europe-34850781"),
        Source("Le Monde", "http://www.lemonde.fr/attaques-a-paris/article/2015/11/18/saint-denis.html"),
    )
    borders = find(day, "internal borders")
    assert borders.entities == (
        "State of emergency",
        "Île-de-France",
        "Schengen Area",
        "November 2015 Paris attacks",
    )
    kano = find(day, "Kano")
    # "([url Reuters])": the parentheses go with the citation; &nbsp; is a space.
    assert kano.text.endswith("Nigerian officials say, killing at least 15 people.")
    assert kano.sources == (Source("Reuters", "http://www.reuters.com/article/nigeria-kano-blast"),)
    assert "€1 billion" in find(day, "Wolfsburg").text


def test_top_and_bottom_page() -> None:
    day = parse_fixture("2018-06-12")
    assert categories(day) == ["Armed conflicts and attacks", "International relations", "Sports"]
    hudaydah = find(day, "port city")
    assert hudaydah.story == ("Yemeni Civil War (2015–present)", "Battle of Al Hudaydah")
    assert hudaydah.entities[-2:] == ("Yemeni Civil War (2015–present)", "Battle of Al Hudaydah")
    summit = find(day, "joint statement")
    assert summit.sources[1] == Source(
        "The New York Times", "https://www.nytimes.com/2018/06/12/world/asia/trump-kim-summit.html"
    )
    assert len(day.events) == 4


def test_messy_page() -> None:
    day = parse_fixture("2012-02-29")
    assert day.date == dt.date(2012, 2, 29)
    assert categories(day) == [
        "Armed conflicts and attacks",
        "Disasters and accidents",
        "Politics and elections",
        "Sports",
    ]
    # A depth jump (* then ***) still nests under the story line; refs and cite templates go.
    tanks = find(day, "tanks massing")
    assert tanks.story == ("Syrian uprising (2011–present)",)
    assert tanks.text == "Activists report 3 kilometres (1.9 mi) of tanks massing outside Homs."
    shelling = find(day, "26th day")
    assert (
        shelling.text
        == "Government forces shell the Baba Amr district of Homs for a 26th day, and Homs residents flee."
    )
    assert shelling.entities == ("Baba Amr", "Homs", "Syrian uprising (2011–present)")
    assert shelling.sources == (Source("BBC", "http://www.bbc.co.uk/news/world-middle-east-17203338"),)
    assert not [event for event in day.events if "footnote" in event.text or "commented-out" in event.text]
    files = find(day, "files and categories")
    assert files.text == "An event with files and categories around it."
    assert files.entities == ()
    tornado = find(day, "outbreak")
    assert tornado.text.startswith("A tornadoes outbreak strikes the Midwest and the South")
    assert tornado.entities == ("Tornado", "Midwestern United States", "Southern United States")
    assert tornado.sources == (Source("CNN", "http://www.cnn.com/2012/02/29/us/severe-weather"),)
    putin = find(day, "campaigns")
    assert putin.entities == ("Vladimir Putin", "Russian presidential election, 2012")
    assert putin.text == "Prime Minister Putin campaigns ahead of the presidential election."
    interwiki = find(day, "French article")
    assert interwiki.text == "See Russia in 2012 and the French article; barack Obama comments."
    assert interwiki.entities == ("Barack Obama",)
    templates = find(day, "Путин")
    assert (
        templates.text
        == "Text with Путин, two words, small print, tiny and entities – 'quoted' after a break."
    )
    foreign = find(day, "Dutch source")
    assert [source.outlet for source in foreign.sources] == ["NOS", "Der Spiegel"]
    assert find(day, "Unclosed").text == "Unclosed bold to the end of the line"
    # Empty bullets neither make events nor turn the bullet above into a story line.
    stray = find(day, "Stray")
    assert stray.story == ()
    assert "[[" not in stray.text and "{{" not in stray.text
    assert find(day, "Leap year").category == "Sports"


# -- inline rules ----------------------------------------------------------------------


def test_story_line_link_gives_its_target() -> None:
    event = one_event(
        "'''Armed conflicts and attacks'''\n"
        "*[[Russian invasion of Ukraine]]\n"
        "**[[Battle of Kharkiv (2022)|Battle of Kharkiv]]\n"
        "***Ukrainian forces push Russian troops back from [[Kharkiv]]. [https://example.com/k (Reuters)]\n"
    )
    assert event.category == "Armed conflicts and attacks"
    assert event.story == ("Russian invasion of Ukraine", "Battle of Kharkiv (2022)")
    assert event.entities == ("Kharkiv", "Russian invasion of Ukraine", "Battle of Kharkiv (2022)")


def test_entities_are_canonical_targets() -> None:
    event = one_event(
        "*[[united_States|the US]], [[Caf%C3%A9_society]], [[Paris#History|city]], "
        "[[United States]], [[:Category:News|news]], [[fr:Paris|Paris]], [[File:X.jpg|thumb|x]] end"
    )
    assert event.entities == ("United States", "Café society", "Paris")
    assert event.text == "the US, Café_society, city, United States, news, Paris, end"


def test_external_link_forms() -> None:
    event = one_event(
        "*Text [https://a.example/1 (''AP'')] ([https://b.example/2 BBC]) "
        "[https://c.example/3 (NOS <small>in Dutch</small>)] [https://d.example/4 (Die Zeit {{in lang|de}})]"
    )
    assert event.text == "Text"
    assert [(s.outlet, s.url) for s in event.sources] == [
        ("AP", "https://a.example/1"),
        ("BBC", "https://b.example/2"),
        ("NOS", "https://c.example/3"),
        ("Die Zeit", "https://d.example/4"),
    ]


def test_bullet_kinds_and_headings() -> None:
    day = parse_wikitext(
        "== Sports ==\n*a\n\n**b\n;Law:\n*c\n<!-- hidden -->\n**d\n<b>Arts</b>\n#e\n'''A''' and '''B'''\n*f",
        date=DAY,
    )
    got = [(event.category, event.story, event.text) for event in day.events]
    # A blank line ends a list (as MediaWiki renders it); a comment-only line does not.
    assert got == [
        ("Sports", (), "a"),
        ("Sports", (), "b"),
        ("Law", ("c",), "d"),
        ("Arts", (), "e"),
        ("Arts", (), "f"),
    ]


def test_date_argument_wins_over_the_page() -> None:
    text = (WIKITEXT / "2015-11-18.wiki").read_text(encoding="utf-8")
    assert parse_wikitext(text).date == dt.date(2015, 11, 18)
    moved = parse_wikitext(text, date=dt.date(2015, 11, 19))
    assert moved.date == dt.date(2015, 11, 19)
    assert all(event.id.startswith("20151119-") for event in moved.events)


def test_ids_are_stable_and_unique() -> None:
    for path in PAGES:
        first, second = (parse_fixture(path.stem) for _ in range(2))
        assert first == second
        ids = [event.id for event in first.events]
        assert len(ids) == len(set(ids))
        assert all(event_id.startswith(path.stem.replace("-", "")) for event_id in ids)


def test_line_ends_and_control_characters_do_not_matter() -> None:
    text = (WIKITEXT / "2015-11-18.wiki").read_text(encoding="utf-8")
    noisy = text.replace("\n", "\r\n").replace("Boko Haram", "Boko\x07 Haram")
    assert parse_wikitext(noisy) == parse_wikitext(text)


def test_template_without_events_is_an_empty_day() -> None:
    day = parse_wikitext("{{Current events|year=2020|month=1|day=2|content=\n<!-- nothing yet -->\n}}")
    assert day == Day(date=dt.date(2020, 1, 2), events=())


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "Just a paragraph of prose.", "<html><body><p>Hello</p></body></html>", '{"date": "2020-01-01"}'],
)
def test_not_a_portal_page(text: str) -> None:
    with pytest.raises(ParseError, match="not a portal day page") as caught:
        parse_wikitext(text, name="page.wiki", date=DAY)
    assert caught.value.name == "page.wiki"


@pytest.mark.parametrize(
    "text",
    ["*An event without any date.", "{{Current events|year=2015|month=13|day=1|content=\n*x\n}}"],
)
def test_no_date(text: str) -> None:
    with pytest.raises(ParseError, match="no date"):
        parse_wikitext(text, name="undated.wiki")


@pytest.mark.parametrize("error", [RecursionError, ValueError, IndexError])
def test_parser_failures_become_parse_errors(monkeypatch: pytest.MonkeyPatch, error: type[Exception]) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error("boom")

    monkeypatch.setattr(mwparserfromhell, "parse", fail)
    with pytest.raises(ParseError, match="boom") as caught:
        parse_wikitext("*x", name="f.wiki", date=DAY)
    assert caught.value.name == "f.wiki"
    assert caught.value.line is None


@pytest.mark.parametrize(("error", "reason"), [(RecursionError, "nested too deeply"), (KeyError, "KeyError")])
def test_failures_while_reading_give_the_line(
    monkeypatch: pytest.MonkeyPatch, error: type[Exception], reason: str
) -> None:
    def fail(self: HTMLEntity) -> str:
        raise error("boom")

    monkeypatch.setattr(HTMLEntity, "normalize", fail)
    page = "{{Current events\n|year=2020|month=1|day=2\n|content=\n'''Sports'''\n*a\n*b &amp; c\n}}"
    with pytest.raises(ParseError, match=reason) as caught:
        parse_wikitext(page, name="f.wiki")
    assert caught.value.line == 6


# -- fuzzing ---------------------------------------------------------------------------

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOISE = [
    "{{", "}}", "[[", "]]", "[", "]", "<ref>", "</ref>", "<ref name=x/>", "'''", "''", "\n", "\n*", "***",
    "*" * 40, "<!--", "-->", "|", "=", "{{Current events|", "content=", "\x00", "\x07", "\r", "&nbsp;",
    "&#1114112;", "<small>", "<div>", "</div>", "{|", "|}", ";", ":", "[http://x.example ", "(", ")",
]  # fmt: skip


def check(text: str) -> None:
    """Parsing returns a sane day or raises ParseError, never anything else."""
    try:
        day = parse_wikitext(text, name="fuzz.wiki", date=DAY)
    except ParseError:
        return
    for event in day.events:
        assert event.text or event.sources
        for markup in ("[[", "{{", "'''"):
            assert markup not in event.text


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    check(text)


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(NOISE), st.text(max_size=12), st.just("[[A b|c]]")), max_size=80))
def test_random_markup(pieces: list[str]) -> None:
    check("".join(pieces))


@FUZZ
@given(
    st.sampled_from(PAGES),
    st.integers(0, 4000),
    st.integers(0, 4000),
    st.lists(st.tuples(st.integers(0, 4000), st.sampled_from(NOISE)), max_size=8),
)
def test_mangled_fixtures(path: Path, start: int, length: int, inserts: list[tuple[int, str]]) -> None:
    text = path.read_text(encoding="utf-8")
    text = text[start : start + length] if start < len(text) else text
    for position, noise in inserts:
        text = text[:position] + noise + text[position:]
    check(text)


@pytest.mark.slow
@FUZZ
@given(st.sampled_from(["{{a|", "[[", "<ref>", "<div>", "'''", "*", "[[File:x|", "{{nowrap|", "{|\n|"]),
       st.integers(1, 600), st.booleans())  # fmt: skip
def test_deep_nesting(opening: str, depth: int, closed: bool) -> None:
    closing = {"{{a|": "}}", "[[": "]]", "<ref>": "</ref>", "<div>": "</div>", "[[File:x|": "]]",
               "{{nowrap|": "}}", "{|\n|": "\n|}"}.get(opening, "")  # fmt: skip
    check("*" + opening * depth + "x" + (closing * depth if closed else "") + "\n*after")
