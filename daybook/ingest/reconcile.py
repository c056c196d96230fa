"""Edits keep their ids: match a day's new events to the events they replace (pure).

The portal's editors fix typos and add sources after the fact. An event's id is a
hash of its content, so an edited event comes back from the parser under a new id;
left at that, its page would vanish and a new one appear. ``reconcile`` pairs the
events that appear on a day with those that vanish from it: a new event citing
exactly the same sources as a vanished one, or whose text is mostly the same, is
that event edited, and takes its id.

Text is compared word by word (difflib over lower-cased words and punctuation):
over characters, any two English sentences share half their letters, so "Kharkiv
power cut." would count as an edit of "Kharkiv metro hit.".
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Sequence

from daybook.model import Event, normalize_url

SIMILAR = 0.6  # word-level difflib ratio from which two texts are one event edited
_WORDS = re.compile(r"\w+|[^\w\s]")


def reconcile(old: Sequence[Event], new: Sequence[Event]) -> tuple[Event, ...]:
    """``new`` with each edited event given the id of the ``old`` event it edits.

    Only events whose ids are not on both sides are paired, best match first (same
    sources, then the more similar text, then the nearer position on the page); each
    old event is given to one new event at most.
    """
    new_ids = {e.id for e in new}
    old_ids = {e.id for e in old}
    gone = [(at, e) for at, e in enumerate(old) if e.id not in new_ids]
    fresh = [(at, e) for at, e in enumerate(new) if e.id not in old_ids]
    if not gone or not fresh:
        return tuple(new)
    candidates = []
    for new_at, event in fresh:
        words = _words(event.text)
        for old_at, before in gone:
            score = _similarity(before, event, words)
            if score is not None:
                candidates.append((-score, abs(new_at - old_at), new_at, old_at))
    renamed: dict[int, str] = {}
    taken: set[int] = set()
    for _, _, new_at, old_at in sorted(candidates):
        if new_at not in renamed and old_at not in taken:
            renamed[new_at] = old[old_at].id
            taken.add(old_at)
    # A follow-up names its parent by id: it follows the parent's new id.
    moved = {new[at].id: ident for at, ident in renamed.items()}
    return tuple(
        dataclasses.replace(
            e, id=renamed.get(at, e.id), parent=moved.get(e.parent, e.parent) if e.parent else None
        )
        for at, e in enumerate(new)
    )


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def _similarity(before: Event, after: Event, words: list[str]) -> float | None:
    """How alike two events are (above 1: same sources), or None if not one event."""
    matcher = difflib.SequenceMatcher(None, _words(before.text), words, autojunk=False)
    sources = {normalize_url(s.url) for s in before.sources}
    if sources and sources == {normalize_url(s.url) for s in after.sources}:
        return 1.0 + matcher.ratio()
    if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:
        return None
    ratio = matcher.ratio()
    return ratio if ratio >= SIMILAR else None
