"""Entities as the wiki knows them (daybook.ingest.entities, issue 15): redirects merged
into their article, Wikidata items, short descriptions and Chinese titles, against the
loopback stand-in for the MediaWiki API."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from standin_api import StandInAPI

from daybook.cli import cli
from daybook.ingest.entities import read_answer, resolve
from daybook.ingest.pull import PullSettings
from daybook.model import Day, Event, Source, event_id
from daybook.publish import build_site, update_site
from daybook.publish.folder import locate
from daybook.relate import Settings, refresh
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "daybook" / "schemas"
MAY_7, MAY_8, MAY_9 = dt.date(2024, 5, 7), dt.date(2024, 5, 8), dt.date(2024, 5, 9)
ISIL = "Islamic State of Iraq and the Levant"


def event(date: dt.date, text: str, entities: tuple[str, ...]) -> Event:
    ident = event_id(date, "Armed conflicts and attacks", (), text)
    source = Source("Example Wire", f"https://news.example.org/{ident}")
    return Event(ident, date, "Armed conflicts and attacks", (), text, entities, (source,))


DAYS = (
    Day(MAY_7, (event(MAY_7, "ISIS claims an attack near Raqqa.", ("ISIS", "Raqqa")),)),
    Day(
        MAY_8,
        (
            event(MAY_8, "The Islamic State loses a town near Mosul.", (ISIL, "Mosul")),
            event(MAY_8, "A probe lands on Mercury.", ("Mercury", "Space probe")),
        ),
    ),
    Day(MAY_9, (event(MAY_9, "Mercury is seen at dawn.", ("Mercury", "Dawn")),)),
)


@pytest.fixture
def api() -> Iterator[StandInAPI]:
    standin = StandInAPI().start()
    standin.redirect("ISIS", ISIL)
    standin.article(ISIL, "Q2429253", "Jihadist organization", "伊斯兰国")
    standin.article("Raqqa", "Q182016", "City in Syria", "拉卡")
    standin.article("Mosul", "Q148016", "City in Iraq")
    standin.article("Mercury", disambiguation=True)
    standin.article("Space probe", "Q26529")
    yield standin
    standin.stop()


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def stored(db: Path) -> None:
    with Store(db) as store:
        for day in DAYS:
            store.replace_day(day, origin="t", format="jsonl")


def test_the_answer_is_read_through_normalization_and_redirects() -> None:
    parts = [
        {
            "normalized": [{"from": "iSIS", "to": "ISIS"}],
            "redirects": [{"from": "ISIS", "to": ISIL}],
            "pages": [
                {"title": ISIL, "pageprops": {"wikibase_item": "Q2429253"}, "description": "A group"},
                {"title": "Nowhere", "missing": True},
            ],
        },
        {"pages": [{"title": ISIL, "langlinks": [{"lang": "zh", "title": "伊斯兰国"}]}]},  # continued
    ]
    infos = {i.title: i for i in read_answer(["iSIS", "Nowhere"], parts, "2024-05-09T00:00:00+00:00")}
    assert infos["iSIS"].target == ISIL and infos["iSIS"].qid == "Q2429253"
    assert infos[ISIL].target is None and infos[ISIL].zh_title == "伊斯兰国"
    assert infos[ISIL].description == "A group"
    assert infos["Nowhere"].missing and infos["Nowhere"].qid is None


def test_redirects_merge_and_the_site_follows(api: StandInAPI, tmp_path: Path) -> None:
    db, site, full = tmp_path / "t.db", tmp_path / "site", tmp_path / "full"
    stored(db)
    with Store(db) as store:
        refresh(store, Settings(), workers=1)
        store.start_publishing()
        first = store.events(date=MAY_7)[0].id
        second = store.events(date=MAY_8)[0].id
        assert store.related_lists([first]).get(first, []) == []  # nothing shared yet
        build_site(store, site)
    assert json.loads((site / "entity" / "isis.json").read_text(encoding="utf-8"))["kind"] == "entity"
    shutil.copytree(site, full)
    shutil.copyfile(locate(db, site).state, locate(db, full).state)

    result = CliRunner().invoke(cli, ["--db", str(db), "entities", "--api", api.api])
    assert result.exit_code == 0, result.output
    assert "7 entities asked, 1 merged, 1 not on the wiki, 1 disambiguation" in result.output
    assert all(len(titles) <= 50 for titles in api.entity_requests())

    with Store(db) as store:
        assert store.events(date=MAY_7)[0].entities == (ISIL, "Raqqa")
        assert store.entity_titles().count("ISIS") == 0
        # Search finds both by the one name, and by the entity.
        assert {r.id for r in store.search("Levant")} == {first, second}
        assert {r.id for r in store.search("Raqqa OR Mosul", entity=ISIL)} == {first, second}
        report = refresh(store, Settings(), workers=1)
        related = store.related_lists([first, second])
        assert [r for r, _ in related[first]] == [second]
        assert related[first][0][1] == [ISIL]
        # The disambiguation page relates nothing: the two Mercury events stay apart.
        mercury = [e.id for e in store.events(date=MAY_8)[1:] + store.events(date=MAY_9)]
        assert all(store.related_lists(mercury).get(m, []) == [] for m in mercury)
        pending = store.pending_publish()
        assert MAY_7 in pending.dates
        update_site(store, site, dates=pending.dates, event_ids={*pending.event_ids, *report.changed})
        store.published(pending)
        build_site(store, full)
    assert files(site) == files(full), "the update after the merge ends where a full rebuild would"

    # The old entity page is a redirect to the article's page, in every format.
    assert (site / "entity" / "isis.md").read_text(encoding="utf-8").startswith("ISIS: see [")
    redirect = json.loads((site / "entity" / "isis.json").read_text(encoding="utf-8"))
    assert redirect["kind"] == "entity-redirect"
    assert redirect["location"] == "/entity/islamic-state-of-iraq-and-the-levant.json"
    jsonschema.validate(redirect, json.loads((SCHEMAS / "entity-redirect.json").read_text()))
    html = (site / "entity" / "isis.html").read_text(encoding="utf-8")
    assert 'http-equiv="refresh" content="0; url=islamic-state-of-iraq-and-the-levant.html"' in html
    # The article's page carries what the wiki says of it, and the events theirs.
    page = json.loads((site / "entity" / "islamic-state-of-iraq-and-the-levant.json").read_text())
    jsonschema.validate(page, json.loads((SCHEMAS / "entity.json").read_text()))
    assert (page["qid"], page["wikidata"]) == ("Q2429253", "https://www.wikidata.org/wiki/Q2429253")
    assert (page["description"], page["zh_title"], page["total"]) == ("Jihadist organization", "伊斯兰国", 2)
    event_json = next((site / "news" / "2024" / "05" / "7").glob("isis-claims*.json"))
    data = json.loads(event_json.read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads((SCHEMAS / "event.json").read_text()))
    assert data["wikidata"] == [
        {"name": ISIL, "qid": "Q2429253", "url": "https://www.wikidata.org/wiki/Q2429253"},
        {"name": "Raqqa", "qid": "Q182016", "url": "https://www.wikidata.org/wiki/Q182016"},
    ]
    assert "<qid>Q2429253</qid>" in event_json.with_suffix(".xml").read_text(encoding="utf-8")
    event_html = event_json.with_suffix(".html").read_text(encoding="utf-8")
    assert '"https://www.wikidata.org/wiki/Q2429253"' in event_html  # JSON-LD sameAs


def test_answers_are_kept_and_asked_again_only_when_old(api: StandInAPI, tmp_path: Path) -> None:
    stored(tmp_path / "t.db")
    settings = PullSettings(api=api.api, delay=0)
    now = dt.datetime(2024, 5, 10, tzinfo=dt.UTC)
    with Store(tmp_path / "t.db") as store:
        first = resolve(store, settings, now=now)
        assert first.asked == 7 and first.merged == [("ISIS", ISIL)] and first.disambiguation == 1
        again = resolve(store, settings, now=now + dt.timedelta(days=1))
        assert again.asked == 0 and again.requests == 0
        later = resolve(store, settings, now=now + dt.timedelta(days=31))
        assert later.asked == 6  # ISIS is no event's entity any more
        info = store.entity_info(["ISIS", ISIL, "Mercury"])
        assert info["ISIS"].target == ISIL and info[ISIL].qid == "Q2429253"
        assert info["Mercury"].disambiguation
        # A day read again is stored with the article, not the redirect.
        store.replace_day(DAYS[0], origin="again", format="jsonl")
        assert store.events(date=MAY_7)[0].entities == (ISIL, "Raqqa")


def test_titles_are_asked_fifty_a_request(api: StandInAPI, tmp_path: Path) -> None:
    many = tuple(f"Place {n}" for n in range(120))
    with Store(tmp_path / "t.db") as store:
        store.replace_day(Day(MAY_7, (event(MAY_7, "Many places.", many),)), origin="t", format="jsonl")
        report = resolve(store, PullSettings(api=api.api, delay=0))
    assert report.asked == 120 and report.missing == 120
    assert [len(titles) for titles in api.entity_requests()] == [50, 50, 20]
