"""The URL scheme and slugs."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from daybook import urls


def test_paths_follow_the_reference_scheme() -> None:
    day = dt.date(2017, 3, 7)
    assert urls.day_path(day, "md") == "news/2017/03/7/index.md"
    assert urls.event_path(day, "x-y", "json") == "news/2017/03/7/x-y.json"
    assert urls.date_label(day) == "2017-03-7"
    assert urls.with_format("news/2017/03/7/index.md", "xml") == "news/2017/03/7/index.xml"


def test_slug_rule() -> None:
    assert urls.slugify(" The U.S. Navy's raid, in Ma'rib. ") == "the-u-s-navy-s-raid-in-ma-rib"
    assert urls.slugify("Création Tendance Découverte") == "creation-tendance-decouverte"
    assert len(urls.slugify("a" * 500)) == 140
    assert urls.slugify("!!!", fallback="event-1") == "event-1"


def test_duplicate_slugs_get_numbers_in_order() -> None:
    assert urls.unique_slugs(["a", "b", "a", "a", "a-2"]) == ["a", "b", "a-2", "a-3", "a-2-2"]


@given(st.text())
def test_slugs_are_always_safe_path_parts(text: str) -> None:
    slug = urls.slugify(text, fallback="x")
    assert slug and len(slug) <= 140
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert not slug.startswith("-") and not slug.endswith("-")
