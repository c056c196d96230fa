"""Article extraction: encodings, text cleaning, each field's sources in order, and
coverage on the 181 real pages of articles-scrapinghub."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import ftfy.badness
import pytest

from daybook.enrich.extract import cap, clean_text, decode_html, encoding_of, extract_article, has_entity
from daybook.model import Article

URL = "https://news.example/2019/11/19/story.html"


def page(head: str = "", body: str = "", charset: str = "utf-8") -> bytes:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode(charset)


def extract(head: str = "", body: str = "", **kwargs: object) -> Article:
    return extract_article(page(head, body), url=URL, **kwargs)  # type: ignore[arg-type]


def assert_clean(text: str | None) -> None:
    """What no stored text may hold: mojibake, an HTML entity, U+FFFD, runs of whitespace."""
    if text is None:
        return
    assert not ftfy.badness.is_bad(text), text
    assert not has_entity(text), text
    assert "\ufffd" not in text, text
    assert text == " ".join(text.split()), text


# -- encodings -------------------------------------------------------------------


def test_byte_order_mark_beats_header_and_meta() -> None:
    body = b"\xef\xbb\xbf" + page('<meta charset="windows-1251">', "Caf\u00e9")
    assert encoding_of(body, "text/html; charset=iso-8859-1") == ("utf-8", 3)
    utf16 = "\ufeff<html><body>Caf\u00e9</body></html>".encode("utf-16-le")
    assert encoding_of(utf16, "text/html; charset=utf-8") == ("utf-16-le", 2)
    assert "Caf\u00e9" in decode_html(utf16)


def test_header_beats_meta_and_meta_beats_default() -> None:
    body = page('<meta charset="koi8-r">')
    assert encoding_of(body, "text/html; charset=ISO-8859-1")[0] == "cp1252"  # the web reads latin-1 so
    assert encoding_of(body, "text/html")[0] == "koi8-r"
    http_equiv = page('<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">')
    assert encoding_of(http_equiv, None)[0] == "shift_jis"
    assert encoding_of(page(), None)[0] == "utf-8"
    assert encoding_of(page('<meta charset="no-such-thing">'), "text/html; charset=bogus")[0] == "utf-8"


def test_meta_charset_is_only_looked_for_near_the_top() -> None:
    late = page("<!-- " + "x" * 2000 + ' --><meta charset="koi8-r">')
    assert encoding_of(late, None)[0] == "utf-8"


def test_cp1252_bytes_declared_utf8_are_read_as_cp1252() -> None:
    body = page(
        '<meta property="og:description" content="Caf\u00e9 owners say \u201cno\u201d \u2013 again, firmly.">'
    )
    body = body.decode("utf-8").encode("cp1252")
    article = extract_article(body, url=URL, headers={"Content-Type": "text/html; charset=utf-8"})
    assert article.lede == "Caf\u00e9 owners say \u201cno\u201d \u2013 again, firmly."


def test_mixed_utf8_and_cp1252_bytes_keep_both() -> None:
    body = "r\u00e9sum\u00e9 ".encode() + b"\x93quoted\x94"
    assert decode_html(body, "text/html; charset=utf-8") == "r\u00e9sum\u00e9 \u201cquoted\u201d"


# -- text cleaning ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("It\u00e2\u20ac\u2122s here \u00e2\u20ac\u201c now", "It\u2019s here \u2013 now"),
        ("the mayor&#039;s plan", "the mayor's plan"),
        ("&quot;final&quot; &amp; done", '"final" & done'),
        ("&#226;&#128;&#156;quoted&#226;&#128;&#157;", "\u201cquoted\u201d"),
        ("AT&T and ?a=1&copy=2 stay", "AT&T and ?a=1&copy=2 stay"),
        ("  spaced\n\tout\u00a0text  ", "spaced out text"),
        ("broken \ufffd char", "broken char"),
        ("\u201ccurly\u201d stays curly", "\u201ccurly\u201d stays curly"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_entities_in_the_markup_are_decoded_once_by_the_parser_and_once_more() -> None:
    article = extract(
        '<meta property="og:description" content="The mayor&amp;#039;s plan &#8211; announced today.">'
    )
    assert article.lede == "The mayor's plan \u2013 announced today."


def test_cap_cuts_at_a_word_boundary() -> None:
    text = "word " * 200
    capped = cap(text.strip())
    assert len(capped) <= 500
    assert capped.endswith("word\u2026")
    assert cap("short") == "short"


# -- fields ----------------------------------------------------------------------


def test_lede_sources_in_order() -> None:
    og = '<meta property="og:description" content="From Open Graph, long enough to be a lede.">'
    tw = '<meta name="twitter:description" content="From Twitter cards, long enough to be a lede.">'
    desc = '<meta name="description" content="From the meta description, long enough to be one.">'
    ld = (
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "description": "From JSON-LD, long enough to be a lede too."}</script>'
    )
    assert extract(og + tw + desc + ld).lede == "From Open Graph, long enough to be a lede."
    assert extract(tw + desc + ld).lede == "From Twitter cards, long enough to be a lede."
    assert extract(desc + ld).lede == "From the meta description, long enough to be one."
    assert extract(ld).lede == "From JSON-LD, long enough to be a lede too."


def test_lede_falls_back_to_the_first_substantial_paragraph() -> None:
    paragraph = (
        "The council voted on Tuesday to close the old bridge to cars, after engineers found "
        "cracks in two of its three spans during a routine inspection last month."
    )
    body = (
        "<article><h1>Bridge closes</h1><p>By A. Writer</p>"
        f"<p>{paragraph}</p><p>{paragraph.replace('council', 'mayor')}</p></article>"
    )
    assert extract("<title>Bridge closes</title>", body).lede == paragraph


def test_lede_skips_a_tagline_and_a_repeat_of_the_title() -> None:
    head = (
        "<title>Bridge closes to cars for good</title>"
        '<meta property="og:description" content="Read more">'
        '<meta name="twitter:description" content="Bridge closes to cars for good">'
        '<meta name="description" content="Engineers found cracks in two of its three spans.">'
    )
    assert extract(head).lede == "Engineers found cracks in two of its three spans."


def test_image_sources_sizes_and_refusals() -> None:
    secure = (
        '<meta property="og:image" content="http://cdn.example/a.jpg">'
        '<meta property="og:image:secure_url" content="https://cdn.example/a.jpg">'
    )
    assert extract(secure).image == "https://cdn.example/a.jpg"
    small_then_big = (
        '<meta property="og:image" content="/logo.png"><meta property="og:image:width" content="120">'
        '<meta property="og:image" content="/cover.jpg"><meta property="og:image:width" content="1200">'
    )
    assert extract(small_then_big).image == "https://news.example/cover.jpg"
    refused = (
        '<meta property="og:image" content="data:image/png;base64,AAAA">'
        '<meta property="og:image" content="/favicon.ico">'
        '<meta name="twitter:image" content="//img.example/t.jpg">'
    )
    assert extract(refused).image == "https://img.example/t.jpg"
    ld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "image":'
        ' {"@type": "ImageObject", "url": "https://img.example/ld.jpg", "width": 1024}}</script>'
    )
    assert extract(ld).image == "https://img.example/ld.jpg"
    assert extract(
        '<base href="https://static.example/x/"><meta property="og:image" content="c.jpg">'
    ).image == ("https://static.example/x/c.jpg")
    assert extract("").image is None


def test_publisher_sources_in_order() -> None:
    graph = (
        '<script type="application/ld+json">{"@graph": ['
        '{"@type": "NewsArticle", "publisher": {"@id": "#org"}},'
        '{"@type": "NewsMediaOrganization", "@id": "#org", "name": "The Graph Times"}]}</script>'
    )
    assert extract('<meta property="og:site_name" content="Site Name">' + graph).publisher == "Site Name"
    assert extract(graph).publisher == "The Graph Times"
    assert extract("", outlet="Portal Outlet").publisher == "Portal Outlet"
    assert extract("").publisher is None
    assert extract('<meta property="og:site_name" content="https://www.example.com">').publisher is None


def test_title_prefers_the_h1_that_agrees() -> None:
    head = (
        "<title>Council closes the old bridge to cars - The Example Times</title>"
        '<meta property="og:title" content="Why the old bridge is closing (you will not believe it)">'
        '<meta property="og:site_name" content="The Example Times">'
    )
    assert extract(
        head, "<h1>The Example Times</h1><h1>Council closes the old bridge to cars</h1>"
    ).title == ("Council closes the old bridge to cars")
    # No h1 agrees: og:title, as written.
    assert (
        extract(head, "<h1>Subscribe now</h1>").title
        == "Why the old bridge is closing (you will not believe it)"
    )
    # Only <title>: the site's suffix goes, whether named by og:site_name or the host.
    assert extract("<title>Council closes the old bridge | News Example</title>").title == (
        "Council closes the old bridge"
    )
    hill = extract_article(
        page("<title>Tea prices rise again - The Hill</title>"), url="https://thehill.com/a"
    )
    assert hill.title == "Tea prices rise again"
    # A part that only looks like navigation stays when it is the headline's own.
    assert extract("<title>Review - a quiet triumph</title>").title == "Review - a quiet triumph"


def test_published_date() -> None:
    head = '<meta property="article:published_time" content="2019-11-18T09:30:00Z">'
    assert extract(head).published == "2019-11-18"


def test_empty_and_broken_pages_give_an_empty_article() -> None:
    assert extract_article(b"", url=URL, outlet="Outlet") == Article(publisher="Outlet")
    assert extract_article(b"\x00\x01\x02", url=URL).lede is None


# -- the 181 real pages ----------------------------------------------------------


@pytest.fixture(scope="module")
def real_articles(shared_data: Path) -> list[Article]:
    folder = shared_data / "articles-scrapinghub"
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        extract_article(
            gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()),
            url=entry["url"],
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        for key, entry in truth.items()
    ]


@pytest.mark.slow
def test_coverage_on_real_pages(real_articles: list[Article]) -> None:
    """No portal outlet given: these figures are what the pages themselves say."""
    total = len(real_articles)
    assert total == 181

    def share(field: str) -> float:
        return sum(1 for a in real_articles if getattr(a, field)) / total

    assert sum(1 for a in real_articles if a.publisher or a.title) / total >= 0.95
    assert share("lede") >= 0.90
    assert share("title") >= 0.95
    assert share("image") >= 0.85
    assert share("published") >= 0.85


@pytest.mark.slow
def test_no_real_page_leaves_bad_text(real_articles: list[Article]) -> None:
    for article in real_articles:
        for text in (article.title, article.lede, article.publisher):
            assert_clean(text)
        assert article.lede is None or len(article.lede) <= 500
        assert article.image is None or article.image.startswith(("http://", "https://"))
