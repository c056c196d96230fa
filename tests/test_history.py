"""Each event's history (issue 21): three revisions of a day pulled from the stand-in
MediaWiki API, one event reworded twice; its page lists both earlier wordings, each linked
to its revision on Wikipedia, and says when it first appeared and last changed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from lxml import etree, html
from standin_api import StandInAPI

from daybook import urls
from daybook.ingest import ingest_pulled
from daybook.ingest.pull import PullSettings, pull
from daybook.publish import build_site
from daybook.render.xml import NAMESPACE
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
MAY_7 = dt.date(2024, 5, 7)
PAGE = """{{{{Current events|year=2024|month=05|day=7|content=
'''Disasters and accidents'''
*{flood} [https://news.example.org/2024/05/07/flood (Example Wire)]
'''Sports'''
*The [[Giro d'Italia]] reaches its fourth stage. [https://sport.example.org/giro (Sport Daily)]
}}}}
"""
WORDINGS = (
    "Floods in [[Rio Grande do Sul]] kill at least 80 people.",
    "Floods in [[Rio Grande do Sul]], [[Brazil]], kill at least 83 people.",
    "Floods in [[Rio Grande do Sul]], [[Brazil]], kill at least 90 people, officials say.",
)


@pytest.fixture
def api() -> Iterator[StandInAPI]:
    standin = StandInAPI().start()
    yield standin
    standin.stop()


def test_an_event_reworded_twice_lists_both_earlier_wordings(api: StandInAPI, tmp_path: Path) -> None:
    settings = PullSettings(api=api.api, delay=0, backoff=0)
    title = settings.title(MAY_7)
    revisions = []
    with Store(tmp_path / "h.db", create=True) as store:
        for wording in WORDINGS:
            revisions.append(api.edit(title, PAGE.format(flood=wording)))
            assert pull(store, [MAY_7], settings).pulled == [MAY_7]
            report = ingest_pulled(store)
            assert not report.failures
        flood = next(e for e in store.events(date=MAY_7) if e.text.startswith("Floods"))
        giro = next(e for e in store.events(date=MAY_7) if "Giro" in e.text)
        assert flood.text == "Floods in Rio Grande do Sul, Brazil, kill at least 90 people, officials say."
        versions = store.event_versions([flood.id, giro.id])
        build_site(store, tmp_path / "site")
    saved = {r: t for r, t, *_ in (api.pages[title][i][:2] for i in range(3))}
    assert [v.revision for v in versions[flood.id]] == revisions, "one version per wording, one id"
    assert [v.revision for v in versions[giro.id]] == revisions[:1], "an unchanged event: one version"

    page = next((tmp_path / "site" / urls.day_dir(MAY_7)).glob("floods-in-rio-grande*.json"))
    data = json.loads(page.read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads((ROOT / "daybook" / "schemas" / "event.json").read_text()))
    assert data["first_seen"] == saved[revisions[0]]
    assert data["last_changed"] == saved[revisions[2]]
    assert [(v["revision"], v["saved_at"], v["url"]) for v in data["versions"]] == [
        (r, saved[r], urls.portal_day_url(MAY_7, r)) for r in revisions[:2]
    ]
    assert [v["text"] for v in data["versions"]] == [
        "Floods in Rio Grande do Sul kill at least 80 people.",
        "Floods in Rio Grande do Sul, Brazil, kill at least 83 people.",
    ]
    # The XML carries the same.
    xml = etree.parse(str(page.with_suffix(".xml")))
    ns = f"{{{NAMESPACE}}}"
    assert xml.findtext(f"{ns}first-seen") == data["first_seen"]
    assert xml.findtext(f"{ns}last-changed") == data["last_changed"]
    versions_xml = xml.findall(f"{ns}versions/{ns}version")
    assert [v.findtext(f"{ns}revision") for v in versions_xml] == [str(r) for r in revisions[:2]]
    # The HTML shows when it appeared and changed, and links each earlier wording's revision.
    tree = html.fromstring(page.with_suffix(".html").read_bytes())
    (history,) = tree.xpath('//section[@aria-labelledby="history-h"]')
    links = history.xpath(".//ol[@class='versions']/li/a")
    assert [a.get("href") for a in links] == [
        f"{urls.portal_day_url(MAY_7)}?oldid={r}" for r in revisions[:2]
    ]
    items = [" ".join(li.text_content().split()) for li in history.xpath(".//li")]
    assert "kill at least 80 people" in items[0] and "kill at least 83 people" in items[1]
    times = [t.get("datetime") for t in history.xpath(".//p[@class='history']/time")]
    assert times == [saved[revisions[0]], saved[revisions[2]]]
    # The unchanged event: when it appeared, no earlier wording.
    other = next((tmp_path / "site" / urls.day_dir(MAY_7)).glob("the-giro*.json"))
    other_data = json.loads(other.read_text(encoding="utf-8"))
    assert other_data["first_seen"] == other_data["last_changed"] == saved[revisions[0]]
    assert other_data["versions"] == []
