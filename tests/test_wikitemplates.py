"""The inline templates wikitext read offline renders as MediaWiki does: a table of cases
(each template, its parameters, what the page shows), the fixture day through ``daybook
ingest``, and Module:Convert's rounding."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from daybook.cli import cli
from daybook.ingest.templates import convert, known, render
from daybook.ingest.wikitext import parse_wikitext
from daybook.model import Event

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "wikitext" / "2024-07-15.wiki"
DAY = dt.date(2024, 7, 15)

# (wikitext of the template, the text MediaWiki shows, the links it shows: label -> article).
# The convert cases are Module:Convert's output on en.wikipedia (non-breaking spaces as spaces).
CASES: list[tuple[str, str, dict[str, str]]] = [
    ("{{convert|49.6|C|F}}", "49.6 °C (121.3 °F)", {}),
    ("{{convert|2|km|mi|abbr=on}}", "2 km (1.2 mi)", {}),
    ("{{convert|2|km|mi}}", "2 kilometres (1.2 mi)", {}),
    ("{{convert|1|km}}", "1 kilometre (0.62 mi)", {}),
    ("{{convert|100|km|mi}}", "100 kilometres (62 mi)", {}),
    ("{{convert|1000|km|mi}}", "1,000 kilometres (620 mi)", {}),
    ("{{convert|5|mi|km}}", "5 miles (8.0 km)", {}),
    ("{{convert|30|mi}}", "30 miles (48 km)", {}),
    ("{{convert|6|ft|m}}", "6 feet (1.8 m)", {}),
    ("{{convert|100|m|ft}}", "100 metres (330 ft)", {}),
    ("{{convert|7700|km2|sqmi|abbr=on}}", "7,700 km2 (3,000 sq mi)", {}),
    ("{{convert|10|km2}}", "10 square kilometres (3.9 sq mi)", {}),
    ("{{convert|500|ha|acre}}", "500 hectares (1,200 acres)", {}),
    ("{{convert|60|mph|km/h}}", "60 miles per hour (97 km/h)", {}),
    ("{{convert|300|km/h|mph|abbr=on}}", "300 km/h (190 mph)", {}),
    ("{{convert|10|kg|lb}}", "10 kilograms (22 lb)", {}),
    ("{{convert|1|kg|lb}}", "1 kilogram (2.2 lb)", {}),
    ("{{convert|100|C|F}}", "100 °C (212 °F)", {}),
    ("{{convert|-5|C|F}}", "−5 °C (23 °F)", {}),
    ("{{convert|104|F|C}}", "104 °F (40 °C)", {}),
    ("{{convert|5|-|10|km|mi}}", "5–10 kilometres (3.1–6.2 mi)", {}),
    ("{{convert|5|to|10|km|mi|abbr=on}}", "5 to 10 km (3.1 to 6.2 mi)", {}),
    ("{{convert|3|and|4|m|ft|abbr=on}}", "3 and 4 m (9.8 and 13.1 ft)", {}),
    ("{{convert|2|km|mi|adj=on}}", "2-kilometre (1.2 mi)", {}),
    ("{{convert|2|km|mi|sp=us}}", "2 kilometers (1.2 mi)", {}),
    ("{{convert|5|km|mi|1}}", "5 kilometres (3.1 mi)", {}),
    ("{{cvt|5|km}}", "5 km (3.1 mi)", {}),
    ("{{circa|20}}", "c. 20", {}),
    ("{{circa}}", "c.", {}),
    ("{{nowrap|€1&nbsp;billion}}", "€1 billion", {}),
    ("{{nowrap|[[Gaza Strip]] border}}", "Gaza Strip border", {"Gaza Strip": "Gaza Strip"}),
    ("{{lang|fr|Assemblée nationale}}", "Assemblée nationale", {}),
    ("{{lang-fr|Assemblée nationale}}", "French: Assemblée nationale", {"French": "French language"}),
    ("{{langx|de|Bundestag}}", "German: Bundestag", {"German": "German language"}),
    ("{{ill|Jean Dupont|fr}}", "Jean Dupont", {"Jean Dupont": "Jean Dupont"}),
    ("{{ill|Jean Dupont|fr|lt=Dupont}}", "Dupont", {"Dupont": "Jean Dupont"}),
    ("{{as of|2024|5|7}}", "As of 7 May 2024", {}),
    ("{{as of|2024|5|7|df=US}}", "As of May 7, 2024", {}),
    ("{{as of|2024|5}}", "As of May 2024", {}),
    ("{{as of|2024|lc=y}}", "as of 2024", {}),
    ("{{US$|5 billion}}", "US$5 billion", {"US$": "United States dollar"}),
    ("{{US$|5 billion|link=no}}", "US$5 billion", {}),
    ("{{£|30 million}}", "£30 million", {"£": "Pound sterling"}),
    ("{{€|2.5 billion}}", "€2.5 billion", {"€": "Euro"}),
    ("{{A$|100}}", "A$100", {"A$": "Australian dollar"}),
    ("{{frac|1|2}}", "1⁄2", {}),
    ("{{frac|2|1|2}}", "2 1⁄2", {}),
    ("{{frac|3}}", "1⁄3", {}),
    ("{{abbr|UN|United Nations}}", "UN", {}),
    ("{{nobold|Reuters}}", "Reuters", {}),
    ("{{sic}}", "[sic]", {}),
    ("{{sic|hte}}", "hte [sic]", {}),
    ("{{sic|?|hte}}", "hte [sic?]", {}),
    ("{{sic|hte|hide=y}}", "hte", {}),
    ("{{convert|1=2|2=km|3=mi|abbr=on}}", "2 km (1.2 mi)", {}),
]


def one_event(wikitext: str) -> Event:
    page = f"{{{{Current events|year=2024|month=7|day=15}}}}\n'''Sports'''\n*Before {wikitext} after.\n"
    (event,) = parse_wikitext(page, date=DAY).events
    return event


@pytest.mark.parametrize(("wikitext", "shown", "links"), CASES, ids=[case[0] for case in CASES])
def test_each_template_as_mediawiki_shows_it(wikitext: str, shown: str, links: dict[str, str]) -> None:
    event = one_event(wikitext)
    assert event.text == f"Before {shown} after."
    assert list(event.entities) == list(links.values())


def test_every_template_named_has_cases() -> None:
    named = ["convert", "circa", "nowrap", "lang", "lang-fr", "langx", "ill", "as of", "US$", "£", "€",
             "frac", "abbr", "nobold", "sic"]  # fmt: skip
    for name in named:
        assert known(name.lower()), name
        assert any(case[0].lower().startswith("{{" + name.lower() + "|") for case in CASES) or any(
            case[0].lower() == "{{" + name.lower() + "}}" for case in CASES
        ), name


def test_an_unknown_template_is_kept_as_its_visible_parameters_and_counted() -> None:
    page = "{{Current events|year=2024|month=7|day=15}}\n"
    page += "*A {{frobnicate|big|fund|size=9}} and {{frobnicate|x}}.\n"
    day = parse_wikitext(page, date=DAY)
    assert day.events[0].text == "A big fund and x."
    assert day.unrendered == (("frobnicate", 2),)
    # A unit convert does not know is rendered as its parameters too, and counted.
    odd = parse_wikitext(page.replace("{{frobnicate|x}}", "{{convert|3|furlong}}"), date=DAY)
    assert odd.events[0].text == "A big fund and 3 furlong."
    assert dict(odd.unrendered) == {"convert": 1, "frobnicate": 1}


def test_the_fixture_day_through_ingest(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    result = CliRunner().invoke(cli, ["--db", db, "ingest", str(FIXTURE)], obj={})
    assert result.exit_code == 0, result.output
    assert "templates not rendered (shown as their parameters): frobnicate (1)" in result.output
    events = CliRunner().invoke(cli, ["--db", db, "events", "--format", "jsonl"], obj={}).output
    texts = [json.loads(line)["text"] for line in events.splitlines()]
    assert "Temperatures reach 49.6 °C (121.3 °F) in Sonora, the highest recorded in the state." in texts
    assert "A wildfire spreads over 2 km (1.2 mi) of forest near Hermosillo." in texts
    assert "Archaeologists in Peru uncover a tomb holding c. 20 mummies." in texts
    assert "The World Bank approves a US$5 billion loan to Argentina." in texts


@given(
    st.decimals(min_value=-200, max_value=100000, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from([("km", "mi"), ("mi", "km"), ("C", "F"), ("kg", "lb"), ("km2", "sqmi"), ("m", "ft")]),
)
def test_convert_keeps_two_significant_figures_and_round_trips_roughly(
    value: object, units: tuple[str, str]
) -> None:
    text = str(value)
    shown = convert([text, *units], {"abbr": "on"})
    assert shown is not None
    number = shown.split("(", 1)[1].split(" ", 1)[0].replace(",", "").replace("−", "-")
    out = float(number)
    source = units[0]
    if source == "C":
        exact = float(text) * 9 / 5 + 32
        assert abs(out - exact) <= 0.5 + 1e-9  # three significant figures in kelvin, at most 0.5 off
    elif float(text) != 0:
        factors = {"km": 1 / 1.609344, "mi": 1.609344, "kg": 1 / 0.45359237, "km2": 1 / 2.589988110336,
                   "m": 1 / 0.3048}  # fmt: skip
        exact = abs(float(text)) * factors[source]
        assert abs(abs(out) - exact) <= 0.05 * exact + 1e-9  # at least two significant figures


def test_convert_leaves_what_it_does_not_know() -> None:
    assert convert(["3", "furlong"], {}) is None
    assert convert(["x", "km"], {}) is None
    assert convert(["3", "km", "kg"], {}) is None  # not the same kind
    assert render("nosuch", [], {}) is None
