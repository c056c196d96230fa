"""The editions' words: a message catalogue per edition (gettext ``.po`` files read with
Babel), and dates as each edition writes them.

The English edition is the site as it always was: its messages are their own
translation, and its dates are written with names of daybook's own (``Tuesday 7 May
2024``), never the build machine's locale. Every other edition has a catalogue,
``locale/<edition>/LC_MESSAGES/daybook.po``; a message it lacks stays English. Dates
come from Babel's CLDR data for the edition's locale, with fixed patterns, so the bytes
never depend on the machine either.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from importlib import resources

from babel.dates import format_date
from babel.messages.pofile import read_po

from daybook import urls

# Each edition's locale for Babel (dates) and for ``lang``/``hreflang``.
LOCALES = {"en": "en", "zh": "zh_Hans_CN"}
LANG = {"en": "en", "zh": "zh-Hans"}
# How each edition names itself in the link to it.
SELF_NAMES = {"en": "English", "zh": "中文"}

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip
_ZH_WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")
# CLDR date patterns of each edition other than English: full, long, day and month, month
# alone, month and year.
_PATTERNS = {"zh": {"full": "full", "long": "long", "day": "M月d日", "month": "M月", "year_month": "y年M月"}}


@functools.cache
def catalogue(edition: str) -> dict[str, str]:
    """The edition's messages (msgid -> its translation); empty for English."""
    if edition == urls.DEFAULT_EDITION:
        return {}
    path = resources.files("daybook.render").joinpath(f"locale/{edition}/LC_MESSAGES/daybook.po")
    with path.open("rb") as po:
        messages = read_po(po, locale=LOCALES[edition])
    return {str(m.id): str(m.string) for m in messages if m.id and m.string and not m.fuzzy}


def translator(edition: str) -> Callable[[str], str]:
    """``gettext`` for one edition: a message's translation, else the message."""
    found = catalogue(edition)
    return lambda message: found.get(message, message)


def _date(value: str | dt.date | None) -> dt.date | None:
    if not value:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


@functools.lru_cache(maxsize=1 << 16)  # Babel takes ~0.1 ms a date; a site repeats its dates
def _format(date: dt.date, pattern: str, edition: str) -> str:
    return str(format_date(date, _PATTERNS[edition][pattern], locale=LOCALES[edition]))


# English dates as daybook writes them, by the name of the pattern the other editions use.
_ENGLISH: dict[str, Callable[[dt.date], str]] = {
    "full": lambda d: f"{_WEEKDAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}",
    "long": lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",
    "day": lambda d: f"{d.day} {_MONTHS[d.month - 1]}",
    "month": lambda d: _MONTHS[d.month - 1],
    "year_month": lambda d: f"{_MONTHS[d.month - 1]} {d.year}",
}


def _written(value: str | dt.date | None, pattern: str, edition: str) -> str:
    if (date := _date(value)) is None:
        return ""
    return _ENGLISH[pattern](date) if edition == urls.DEFAULT_EDITION else _format(date, pattern, edition)


def long_date(value: str | dt.date | None, edition: str = urls.DEFAULT_EDITION) -> str:
    """``Tuesday 7 May 2024``; ``2024年5月7日星期二``."""
    return _written(value, "full", edition)


def medium_date(value: str | dt.date | None, edition: str = urls.DEFAULT_EDITION) -> str:
    """``7 May 2024``; ``2024年5月7日``."""
    return _written(value, "long", edition)


def short_date(value: str | dt.date | None, edition: str = urls.DEFAULT_EDITION) -> str:
    """``7 May``; ``5月7日``: where the year is plain from the page."""
    return _written(value, "day", edition)


def month_only(month: int, edition: str = urls.DEFAULT_EDITION) -> str:
    """``May``; ``5月``."""
    return _written(dt.date(2000, month, 1), "month", edition)


def month_name(year: int, month: int, edition: str = urls.DEFAULT_EDITION) -> str:
    """``May 2024``; ``2024年5月``."""
    return _written(dt.date(year, month, 1), "year_month", edition)


def weekdays(edition: str = urls.DEFAULT_EDITION) -> list[tuple[str, str, str]]:
    """Monday to Sunday: (full name, two-letter, one-letter) for calendars' heads."""
    if edition == urls.DEFAULT_EDITION:
        return [(d, d[:2], d[0]) for d in _WEEKDAYS]
    return [(f"星期{d}", d, d) for d in _ZH_WEEKDAYS]
