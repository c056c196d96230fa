"""The outline rule both parsers share: a bullet citing a source is an event whatever is
nested under it, a sourceless bullet with bullets under it is a story, and events nested
under an event are its follow-ups (``parent``). Nested outlines are generated, written
as wikitext and as MediaWiki-style HTML, and both readings must give the same events."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daybook.ingest import ingest_paths
from daybook.ingest.html import parse_portal_html
from daybook.ingest.reconcile import reconcile
from daybook.ingest.wikitext import parse_wikitext
from daybook.model import Day
from daybook.publish import build_site
from daybook.store import Store

DAY = dt.date(2024, 5, 7)
PAGE_HEAD = "{{Current events header|2024|05|07}}\n;Armed conflicts and attacks\n"
WORDS = ("Rebels", "seize", "the", "port", "of", "Aden", "talks", "resume", "in", "Geneva", "café", "São")
LINKS = ("Aden", "Geneva talks", "Red Sea crisis", "São Paulo")


@dataclass
class Node:
    words: list[str]
    link: str | None
    source: int | None  # the n-th source, or none
    children: list[Node] = field(default_factory=list)


def nodes(depth: int) -> st.SearchStrategy[Node]:
    leaf = st.builds(
        Node,
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
        st.none() | st.sampled_from(LINKS),
        st.none() | st.integers(0, 999),
    )
    if depth == 0:
        return leaf
    return st.builds(
        Node,
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
        st.none() | st.sampled_from(LINKS),
        st.none() | st.integers(0, 999),
        st.lists(nodes(depth - 1), max_size=3),
    )


OUTLINES = st.lists(nodes(3), min_size=1, max_size=4)


def wikitext(outline: list[Node]) -> str:
    lines = ["{{Current events header|2024|05|07}}", ";Armed conflicts and attacks"]

    def write(node: Node, depth: int) -> None:
        line = " ".join(node.words)
        if node.link:
            line += f" [[{node.link}]]"
        if node.source is not None:
            line += f" [https://news.example/{node.source} (Outlet {node.source})]"
        lines.append("*" * depth + " " + line)
        for child in node.children:
            write(child, depth + 1)

    for node in outline:
        write(node, 1)
    return "\n".join(lines) + "\n"


def rendered(outline: list[Node]) -> str:
    """As MediaWiki's parser writes it (the form of the portal-html-2025 pages)."""

    def item(node: Node) -> str:
        out = "<li>" + html.escape(" ".join(node.words))
        if node.link:
            href = node.link.replace(" ", "_")
            out += f' <a href="/wiki/{html.escape(href)}" title="{html.escape(node.link)}">{node.link}</a>'
        if node.source is not None:
            out += (
                f' <a rel="nofollow" class="external text" href="https://news.example/{node.source}">'
                f"(Outlet {node.source})</a>"
            )
        if node.children:
            out += "\n<ul>" + "\n".join(item(child) for child in node.children) + "</ul>"
        return out + "</li>"

    body = "\n".join(item(node) for node in outline)
    return (
        '<div class="mw-content-ltr mw-parser-output" lang="en" dir="ltr">'
        '<div class="current-events-main vevent" id="2024_May_7" role="region">'
        '<div class="current-events-content description">\n'
        f"<p><b>Armed conflicts and attacks</b>\n</p>\n<ul>{body}</ul>\n"
        "</div></div></div>"
    )


def expected(outline: list[Node]) -> list[tuple[str, int | None, int | None]]:
    """(first words, own source, parent's source) of each event, in page order: the rule
    stated once more, independently of ``portal.assemble``."""
    found: list[tuple[str, int | None, int | None]] = []

    def walk(node: Node, parent: int | None) -> None:
        if node.children and node.source is None:
            for child in node.children:
                walk(child, parent)
            return
        found.append((" ".join(node.words), node.source, parent))
        for child in node.children:
            walk(child, node.source)

    for node in outline:
        walk(node, None)
    return found


def shape(day: Day) -> list[tuple[str, int | None, int | None]]:
    by_id = {event.id: event for event in day.events}

    def source(ident: str | None) -> int | None:
        if ident is None:
            return None
        sources = by_id[ident].sources
        return int(sources[0].url.rsplit("/", 1)[1]) if sources else None

    return [
        (
            event.text,
            source(event.id),
            source(event.parent),
        )
        for event in day.events
    ]


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(OUTLINES)
def test_wikitext_and_html_give_the_same_events(outline: list[Node]) -> None:
    from_wikitext = parse_wikitext(wikitext(outline), date=DAY)
    from_html = parse_portal_html(rendered(outline), date=DAY)
    assert from_wikitext == from_html
    # The rule itself: which bullets are events, and which event each follows up.
    got = shape(from_html)
    want = expected(outline)
    assert [(s, p) for _, s, p in got] == [(s, p) for _, s, p in want]
    for (text, _, _), (words, _, _) in zip(got, want, strict=True):
        assert text.startswith(words)
    ids = {event.id for event in from_html.events}
    assert len(ids) == len(from_html.events)
    for event in from_html.events:
        assert event.parent is None or event.parent in ids
        # A story name never carries a source: it is not the text of a sourced bullet.
        assert not any(line.startswith("Outlet") for line in event.story)


def _prune(node: Node) -> Node:
    """The same bullet with nothing nested under it if it cites a source."""
    if node.source is not None:
        return dataclasses.replace(node, children=[])
    return dataclasses.replace(node, children=[_prune(child) for child in node.children])


@FUZZ
@given(OUTLINES)
def test_an_event_keeps_its_id_when_it_gains_follow_ups(outline: list[Node]) -> None:
    with_follow_ups = parse_portal_html(rendered(outline), date=DAY)
    without = parse_wikitext(wikitext([_prune(node) for node in outline]), date=DAY)
    kept = {event.id: event for event in with_follow_ups.events}
    # Bullets alike in every way get "-2", "-3" in page order: leave those out.
    twins = {event.id.rsplit("-", 1)[0] for event in with_follow_ups.events if event.id.count("-") > 1}
    for event in without.events:
        if event.id in twins or event.id.count("-") > 1:
            continue
        # The same event, with or without follow-ups under it: the same id and content.
        assert dataclasses.replace(kept[event.id], parent=None) == dataclasses.replace(event, parent=None)


def test_real_sourced_bullets_with_follow_ups(shared_data: Path) -> None:
    """Two days where a sourced bullet has bullets under it: it was read as a story name,
    and the event and its source were lost."""
    cases = [
        ("2020-06-19", "#SpeakingOut", "www.si.com", 3),
        ("2021-05-02", "frozen Iranian funds", "news.sky.com", 1),
    ]
    for day, needle, host, follow_ups in cases:
        path = shared_data / "portal-html" / f"{day}.html"
        parsed = parse_portal_html(path.read_bytes(), name=path.name)
        event = next(e for e in parsed.events if needle in e.text)
        assert host in event.sources[0].url
        children = [e for e in parsed.events if e.parent == event.id]
        assert len(children) == follow_ups
        assert all(e.story == event.story for e in children)
        assert not any(needle in line for e in parsed.events for line in e.story)


def test_event_pages_name_the_parent_and_the_follow_ups(tmp_path: Path, shared_data: Path) -> None:
    with Store(tmp_path / "t.db") as store:
        ingest_paths(store, [shared_data / "portal-html" / "2021-05-02.html"])
        build_site(store, tmp_path / "site")
        events = store.events()
    parent = next(e for e in events if "frozen Iranian funds" in e.text)
    (follow_up,) = [e for e in events if e.parent == parent.id]
    pages = {json.loads(p.read_text("utf-8"))["id"]: p for p in (tmp_path / "site" / "news").rglob("*.json")
             if p.name != "index.json"}  # fmt: skip
    child_page = json.loads(pages[follow_up.id].read_text("utf-8"))
    parent_page = json.loads(pages[parent.id].read_text("utf-8"))
    assert child_page["parent"] == parent.id
    assert child_page["parent_link"]["href"] == parent_page["path"]
    assert [f["href"] for f in parent_page["follow_ups"]] == [child_page["path"]]
    assert parent_page["parent"] is None and child_page["follow_ups"] == []
    html_page = pages[follow_up.id].with_suffix(".html").read_text("utf-8")
    slug = parent_page["path"].rsplit("/", 1)[1].removesuffix(".json")
    assert f'Follow-up of <a href="{slug}.html">' in html_page  # same day: a link beside it
    assert "Follow-ups" in pages[parent.id].with_suffix(".html").read_text("utf-8")
    xml_page = pages[follow_up.id].with_suffix(".xml").read_text("utf-8")
    assert f"<parent>{parent.id}</parent>" in xml_page


def test_a_follow_up_follows_its_parent_edited() -> None:
    """An edited parent keeps its old id (reconcile): its follow-ups name that id."""
    claim = "Iranian state media report a deal to release frozen funds."
    old_day = parse_wikitext(
        f"{PAGE_HEAD}*{claim} [https://e.com/1 (Sky)]\n**A denial. [https://e.com/2 (AP)]\n", date=DAY
    )
    edited = claim.replace("a deal", "an agreement")
    new_day = parse_wikitext(
        f"{PAGE_HEAD}*{edited} [https://e.com/1 (Sky)]\n**A denial. [https://e.com/2 (AP)]\n", date=DAY
    )
    assert new_day.events[0].id != old_day.events[0].id
    kept = reconcile(old_day.events, new_day.events)
    assert kept[0].id == old_day.events[0].id and kept[0].text == edited
    assert kept[1].parent == old_day.events[0].id


def test_a_sourced_bullet_of_links_only_is_an_event_in_both_forms() -> None:
    wikitext = (
        f"{PAGE_HEAD}*[[Aden]] [https://e.com/1 (Reuters)]\n**Rebels seize the port. [https://e.com/2 (AP)]\n"
        "*[https://e.com/3 (BBC)]\n"
    )
    html_page = (
        '<div class="current-events-main vevent" id="2024_May_7" role="region">'
        '<div class="current-events-content description"><p><b>Armed conflicts and attacks</b></p>'
        '<ul><li><a href="/wiki/Aden" title="Aden">Aden</a> <a rel="nofollow" class="external text"'
        ' href="https://e.com/1">(Reuters)</a>\n<ul><li>Rebels seize the port. <a rel="nofollow"'
        ' class="external text" href="https://e.com/2">(AP)</a></li></ul></li>'
        '<li><a rel="nofollow" class="external text" href="https://e.com/3">(BBC)</a></li></ul></div></div>'
    )
    day = parse_wikitext(wikitext, date=DAY)
    assert day == parse_portal_html(html_page, date=DAY)
    aden, seized, bare = day.events
    assert (aden.text, aden.story, aden.entities, aden.parent) == ("Aden", (), ("Aden",), None)
    assert (seized.story, seized.parent) == ((), aden.id)
    assert (bare.text, [s.outlet for s in bare.sources]) == ("", ["BBC"])
