"""Opinion pieces: hand-written Markdown files with front matter (title, date, author;
and, for a piece first published elsewhere, its source and licence).

---
title: Why the archive matters
date: 2024-05-08
author: A. Writer
source: https://example.org/why-the-archive-matters   # optional: where it first appeared
license: CC BY 4.0                                     # optional: its licence, and
license_url: https://creativecommons.org/licenses/by/4.0/   # optional: the licence's text
---
The body, in Markdown.

A piece is its author's: its pages credit the author, and the source and licence where
the front matter gives them (without a licence, no licence is claimed for it).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from daybook import urls
from daybook.errors import ParseError
from daybook.ingest.outline import collapse
from daybook.render.pages import OpinionPiece

SUMMARY_LENGTH = 280
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class Parsed:
    """What one opinion file says."""

    title: str
    date: dt.date
    author: str
    body: str
    source: str | None = None
    license: str | None = None
    license_url: str | None = None


def _optional(meta: dict[object, object], key: str) -> str | None:
    value = meta.get(key)
    return collapse(str(value)) if value else None


def parse_opinion(text: str, *, name: str = "<opinion>") -> Parsed:
    """Title, date, author, Markdown body, and source and licence if given, of one opinion file."""
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ParseError(name, "no front matter: start the file with '---', end it with '---'", 1)
    header, body = match[1], match[2]
    try:
        meta = yaml.safe_load(header) or {}
    except yaml.YAMLError as exc:
        raise ParseError(name, f"front matter is not valid YAML ({exc})", 1) from exc
    if not isinstance(meta, dict):
        raise ParseError(name, "front matter must be 'key: value' lines", 1)
    missing = [key for key in ("title", "date", "author") if not meta.get(key)]
    if missing:
        raise ParseError(name, f"front matter lacks {', '.join(missing)}", 1)
    date = meta["date"]
    if isinstance(date, dt.datetime):
        date = date.date()
    if not isinstance(date, dt.date):
        try:
            date = dt.date.fromisoformat(str(date))
        except ValueError as exc:
            raise ParseError(name, f"date {date!r} is not YYYY-MM-DD", 1) from exc
    for key in ("source", "license_url"):
        value = _optional(meta, key)
        if value and key == "license_url" and not value.startswith(("http://", "https://")):
            raise ParseError(name, f"{key} {value!r} is not an http(s) URL", 1)
    return Parsed(
        collapse(str(meta["title"])),
        date,
        collapse(str(meta["author"])),
        body.strip() + "\n",
        _optional(meta, "source"),
        _optional(meta, "license"),
        _optional(meta, "license_url"),
    )


def summary(body: str) -> str:
    """The first paragraph of a body, as plain text, cut at a word boundary."""
    first = next((p for p in body.split("\n\n") if p.strip() and not p.lstrip().startswith("#")), "")
    text = collapse(first.replace("*", "").replace("_", " "))
    if len(text) <= SUMMARY_LENGTH:
        return text
    return text[:SUMMARY_LENGTH].rsplit(" ", 1)[0] + "…"


def load_opinion(folder: Path) -> list[OpinionPiece]:
    """Every ``*.md`` piece in ``folder``, newest first; slugs unique per day."""
    pieces: list[Parsed] = []
    for path in sorted(folder.glob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ParseError(str(path), f"cannot read ({exc})") from exc
        pieces.append(parse_opinion(text, name=str(path)))
    pieces.sort(key=lambda p: (p.date, p.title))
    result: list[OpinionPiece] = []
    for date, same_day in itertools.groupby(pieces, key=lambda p: p.date):
        day_pieces = list(same_day)
        slugs = urls.unique_slugs(urls.slugify(p.title, fallback="opinion") for p in day_pieces)
        for p, slug in zip(day_pieces, slugs, strict=True):
            stem = urls.opinion_stem(date, slug)
            result.append(
                OpinionPiece(
                    stem, p.title, date, p.author, p.body, summary(p.body), p.source, p.license, p.license_url
                )
            )
    return sorted(result, key=lambda p: (p.date, p.title), reverse=True)
