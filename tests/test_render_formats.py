"""The XML vocabulary and JSON writer: any text survives, the document stays well-formed."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from daybook.render import json as json_format
from daybook.render import xml

NS = {"d": xml.NAMESPACE}
# Text as the parsers leave it: no control characters (XML 1.0 cannot carry them).
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"))


@given(text=TEXT, items=st.lists(TEXT, max_size=5), maybe=st.one_of(st.none(), TEXT))
def test_any_text_round_trips_through_xml(text: str, items: list[str], maybe: str | None) -> None:
    data: dict[str, Any] = {"kind": text, "headline": text, "entities": items, "lede": maybe, "n": 3}
    root = etree.fromstring(xml.dumps(data).encode("utf-8"))
    assert root.get("kind") == text
    assert (root.findtext("d:headline", namespaces=NS) or "") == text
    assert [(e.text or "") for e in root.findall("d:entities/d:entity", NS)] == items
    lede = root.find("d:lede", NS)
    assert lede is not None
    if maybe is None:
        assert lede.get("nil") == "true"
    else:
        assert (lede.text or "") == maybe


@given(text=TEXT)
def test_json_round_trips(text: str) -> None:
    data = {"kind": "event", "headline": text, "related": [{"context": [text]}]}
    assert json.loads(json_format.dumps(data)) == data
