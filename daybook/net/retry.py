"""The one retry policy of daybook's network clients (enrich's ``fetch``, ``daybook pull``):
which answers are worth another try, and how long to wait before it."""

from __future__ import annotations

import datetime as dt
import random
from email.utils import parsedate_to_datetime


def busy(status: int) -> bool:
    """An HTTP status worth another try: 429 (too many requests) or any 5xx."""
    return status == 429 or status >= 500


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date (a date
    past is 0); None when there is none or it is neither."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def retry_wait(
    after: float | None, attempt: int, *, backoff: float, max_wait: float, jitter: float = 0.0
) -> float:
    """The wait before attempt ``attempt + 1``: the server's ``Retry-After`` where it gave one,
    else ``backoff`` doubled with each attempt (spread by ``jitter``, a share, so that
    clients retried together do not come back together); never more than ``max_wait``."""
    if after is not None:
        return min(after, max_wait)
    wait = backoff * 2.0**attempt
    if jitter:
        wait *= random.uniform(1 - jitter, 1 + jitter)
    return min(wait, max_wait)
