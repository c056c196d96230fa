"""Time the entity, story and category feeds (issue 21): daybook's prepared strings
(``publish.follow.thread_feed``) against feedgen writing the same Atom feed.

Feeds of ``--entries`` events (50, a full feed) with two sources each, ``--feeds`` times
each way, in one process; printed: feeds per second and milliseconds a feed, each way,
and what that makes for ``--names`` names (a 150,000-event archive has about 100,000
entities, stories and categories; most feeds are far shorter than 50 entries, so this is
the worst case).

Usage: python benchmarks/follow.py [--feeds 2000] [--entries 50] [--names 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from collections.abc import Sequence

from feedgen.feed import FeedGenerator

from daybook import urls
from daybook.publish.follow import FollowEntry, thread_feed

BASE = urls.DEFAULT_BASE_URL


def entries(count: int) -> list[FollowEntry]:
    first = dt.date(2024, 1, 1)
    return [
        FollowEntry(
            f"2024{n:04d}-abcdef",
            f"Event number {n}: something happens somewhere, and officials say more about it.",
            f"news/2024/01/{n % 28 + 1}/event-number-{n}-something-happens",
            first + dt.timedelta(days=n % 300),
            (
                ("Example Wire", f"https://news.example.org/{n}"),
                ("Daily", f"https://daily.example.com/a/{n}"),
            ),
        )
        for n in range(count)
    ]


def with_feedgen(name: str, stem: str, items: Sequence[FollowEntry]) -> str:
    """The same feed through feedgen's object model."""
    fg = FeedGenerator()
    page = urls.absolute(f"{stem}.html", BASE)
    fg.id(page)
    fg.title(f"{name} · daybook")
    fg.subtitle("Entity: the latest events, from the Wikipedia Current Events Portal")
    fg.link(href=page, rel="alternate")
    fg.link(href=urls.absolute(urls.feed_path(stem), BASE), rel="self")
    fg.language("en")
    latest = list(items[-50:])[::-1]
    moment = dt.datetime.combine(latest[0].date, dt.time(), tzinfo=dt.UTC)
    fg.updated(moment)
    for item in reversed(latest):
        entry = fg.add_entry()
        href = urls.absolute(f"{item.stem}.html", BASE)
        entry.id(href)
        entry.title(item.headline)
        entry.link(href=href)
        for outlet, url in item.sources:
            entry.link(href=url, rel="related", title=outlet)
        when = dt.datetime.combine(item.date, dt.time(), tzinfo=dt.UTC)
        entry.published(when)
        entry.updated(when)
        entry.summary(item.headline)
    return str(fg.atom_str(pretty=True).decode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--names", type=int, default=100_000)
    args = parser.parse_args()
    items = entries(args.entries)
    print(f"machine  {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"load     {os.getloadavg()[0]:.2f} (1 min)")
    results = {}
    for label, make in (
        ("prepared strings", lambda n: thread_feed("entity", f"Name {n}", f"entity/name-{n}", items, BASE)),
        ("feedgen", lambda n: with_feedgen(f"Name {n}", f"entity/name-{n}", items)),
    ):
        started, cpu = time.perf_counter(), time.process_time()
        size = sum(len(make(n)) for n in range(args.feeds))
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        results[label] = used / args.feeds
        each = used / args.feeds
        print(
            f"{label:<17} {args.feeds / wall:8,.0f} feeds/s  {1000 * each:6.3f} ms CPU a feed"
            f"  ({size / args.feeds / 1024:.1f} KiB a feed); {args.names:,} feeds:"
            f" {each * args.names:.1f} s CPU"
        )
    print(f"feedgen / prepared strings: {results['feedgen'] / results['prepared strings']:.1f}x")


if __name__ == "__main__":
    main()
