"""Events per month as an SVG bar chart, drawn at build time: the page needs no JavaScript.

Every month from the first to the last with events gets a slot, so gaps in a story
show as gaps. Bars take the text colour (``currentColor``), so the chart follows the
light and dark themes; each bar's ``<title>`` names its month and count.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable

WIDTH, HEIGHT = 720, 160
TOP, BOTTOM = 16, 22  # room for the scale above and the month labels below
MAX_SLOT = 40  # a few months stay bars, not blocks


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    start, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [dt.date(n // 12, n % 12 + 1, 1) for n in range(start, end + 1)]


def _label(month: dt.date) -> str:
    return f"{month:%B %Y}"


def month_chart(counts: Iterable[tuple[str, int]]) -> str:
    """The chart of ``("2022-03", 12)`` pairs (months with events, any order), as SVG markup."""
    by_month = {dt.date.fromisoformat(f"{month}-01"): n for month, n in counts if n > 0}
    if not by_month:
        return ""
    months = _months(min(by_month), max(by_month))
    most = max(by_month.values())
    busiest = max(by_month, key=lambda m: (by_month[m], m))
    plot = HEIGHT - TOP - BOTTOM
    slot = min(WIDTH / len(months), MAX_SLOT)
    gap = min(slot * 0.2, 4)
    span = _label(months[0]) + (f" to {_label(months[-1])}" if len(months) > 1 else "")
    summary = f"Events per month, {span}: {sum(by_month.values())} in all, most in {_label(busiest)} ({most})"
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-label="{html.escape(summary)}">',
        f"<title>{html.escape(summary)}</title>",
        f'<text x="0" y="{TOP - 4}" font-size="12" fill="currentColor">{most}</text>',
        f'<line x1="0" y1="{TOP + plot}" x2="{WIDTH}" y2="{TOP + plot}" stroke="currentColor"'
        ' stroke-opacity="0.4"/>',
    ]
    for i, month in enumerate(months):
        n = by_month.get(month, 0)
        if not n:
            continue
        height = max(plot * n / most, 1.0)  # one event still shows
        out.append(
            f'<rect x="{i * slot + gap / 2:.2f}" y="{TOP + plot - height:.2f}"'
            f' width="{max(slot - gap, 0.5):.2f}" height="{height:.2f}" fill="currentColor">'
            f"<title>{_label(month)}: {n} event{'s' if n != 1 else ''}</title></rect>"
        )
    baseline = HEIGHT - 6
    out.append(f'<text x="0" y="{baseline}" font-size="12" fill="currentColor">{months[0]:%b %Y}</text>')
    if len(months) * slot >= 120:  # room for both labels
        out.append(
            f'<text x="{len(months) * slot:.2f}" y="{baseline}" font-size="12" text-anchor="end"'
            ' fill="currentColor">'
            f"{months[-1]:%b %Y}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)
