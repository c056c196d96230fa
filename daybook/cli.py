"""The ``daybook`` command: one thin command per stage over the library.

Each command opens the store, makes one library call, and turns a ``DaybookError``
into a one-line message and a non-zero exit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from daybook import __version__
from daybook.enrich import enrich as enrich_sources
from daybook.enrich import reextract
from daybook.errors import DaybookError, UsageError
from daybook.fetch import DEFAULT_WAYBACK, USER_AGENT, FetchSettings
from daybook.ingest import discover, ingest_paths
from daybook.publish import DEFAULT_BASE_URL, BuildOptions, build_site
from daybook.relate import DEFAULT_K, DEFAULT_RANKER, RANKERS, Ranker, Settings
from daybook.relation import refresh
from daybook.store import Store
from daybook.urls import FORMATS

F = TypeVar("F", bound=Callable[..., Any])

# Progress bars only for runs long enough to want one.
PROGRESS_THRESHOLD = 20


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn a domain error into click's one-line ``Error: ...`` and exit status 1."""
    try:
        yield
    except DaybookError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def open_store(ctx: click.Context) -> Iterator[Store]:
    with domain_errors(), Store(ctx.obj["db"]) as store:
        yield store


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (want YYYY-MM-DD)", param_hint=option) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="DAYBOOK_DB",
    default="daybook.db",
    show_default=True,
    help="The SQLite store (also DAYBOOK_DB).",
)
@click.version_option(__version__, prog_name="daybook")
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """daybook: the Wikipedia Current Events Portal as a linked news archive."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Ingest portal day files: .wiki/.wikitext/.txt, .html/.htm, or .jsonl; folders are searched.

    The date comes from a file name like 2022-03-07.html, else from the page. A day
    ingested again replaces that day's events. Files that fail are reported and
    skipped; the exit status is then 1.
    """
    err = Console(stderr=True)
    with open_store(ctx) as store:
        total = len(discover(paths))
        with Progress(
            TextColumn("ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=total < PROGRESS_THRESHOLD or not err.is_terminal,
        ) as progress:
            task = progress.add_task("ingest", total=total)
            report = ingest_paths(store, paths, on_file=lambda _: progress.advance(task))
    for failure in report.failures:
        click.echo(f"failed: {failure}", err=True)
    added = sum(len(c.added) for c in report.changes)
    removed = sum(len(c.removed) for c in report.changes)
    click.echo(
        f"{report.files - len(report.failures)} of {report.files} files ingested: "
        f"{report.days} days, {report.events} events ({added} new, {removed} removed)"
    )
    if report.failures:
        raise click.ClickException(f"{len(report.failures)} file(s) failed")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of a table.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """How many days, events, sources and entities the store holds."""
    with open_store(ctx) as store:
        figures = store.stats().to_json()
    if as_json:
        click.echo(json.dumps(figures))
        return
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        click.echo(f"{key.replace('_', ' '):<{width}}  {value if value is not None else '-'}")


@cli.command()
@click.option("--date", "on", help="One day (YYYY-MM-DD).")
@click.option("--from", "start", help="First day of a range (inclusive).")
@click.option("--to", "end", help="Last day of a range (inclusive).")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.pass_context
def events(ctx: click.Context, on: str | None, start: str | None, end: str | None, fmt: str) -> None:
    """The stored events, in page order. The JSONL form can be ingested again."""
    day = parse_date(on, "--date")
    first, last = parse_date(start, "--from"), parse_date(end, "--to")
    with domain_errors():
        if day is not None and (first or last):
            raise UsageError("give either --date or --from/--to, not both")
    with open_store(ctx) as store:
        found = store.events(date=day, start=first, end=last)
    if fmt == "jsonl":
        out = sys.stdout
        for event in found:
            out.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")
        return
    table = Table("date", "category", "story", "event", "src", show_lines=False, expand=True)
    for event in found:
        table.add_row(
            event.date.isoformat(),
            event.category,
            " > ".join(event.story),
            event.text,
            str(len(event.sources)),
        )
    Console().print(table)


@cli.command()
@click.option(
    "--via",
    metavar="URL",
    help="Send every request to this origin (http://host:port) instead, with each URL's path,"
    " query and Host: a local server standing in for the web.",
)
@click.option("--allow-private", is_flag=True, help="Also fetch private, loopback and link-local addresses.")
@click.option("--offline", is_flag=True, help="Fetch nothing: extract again from the pages already kept.")
@click.option("--refresh", is_flag=True, help="Fetch every source again, even those with a result.")
@click.option("--retry-failed", is_flag=True, help="Fetch again the sources that failed before.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Requests in flight, all hosts together.",
)
@click.option(
    "--per-host",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Requests in flight to one host.",
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    default=0.5,
    show_default=True,
    help="Seconds between request starts to one host.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=20.0,
    show_default=True,
    help="Seconds one attempt at a page may take.",
)
@click.option(
    "--wayback",
    envvar="DAYBOOK_WAYBACK",
    default=DEFAULT_WAYBACK,
    show_default=True,
    metavar="URL",
    help="Wayback Machine availability API asked about dead links (also DAYBOOK_WAYBACK); 'off' never asks.",
)
@click.option(
    "--user-agent",
    envvar="DAYBOOK_USER_AGENT",
    default=USER_AGENT,
    show_default=True,
    help="The User-Agent sent (also DAYBOOK_USER_AGENT).",
)
@click.pass_context
def enrich(
    ctx: click.Context,
    via: str | None,
    allow_private: bool,
    offline: bool,
    refresh: bool,
    retry_failed: bool,
    concurrency: int,
    per_host: int,
    delay: float,
    timeout: float,
    wayback: str,
    user_agent: str,
) -> None:
    """Fetch each cited source once; keep its page, lede, image, publisher, title and date.

    Fetching is polite (robots.txt, per-host limits and delay, retries with backoff).
    A dead link is replaced by its Wayback Machine snapshot nearest the event's date,
    marked archived. Stopped at any point, a rerun goes on where it stopped. Failures
    are kept with their reason (see `daybook sources`); --retry-failed tries them again.
    """
    with domain_errors():
        if offline and (via or refresh or retry_failed):
            raise UsageError("--offline fetches nothing: drop --via, --refresh and --retry-failed")
        settings = FetchSettings(
            user_agent=user_agent,
            concurrency=concurrency,
            per_host=per_host,
            delay=delay,
            timeout=timeout,
            allow_private=allow_private,
            via=via or None,
            wayback=None if wayback.strip().lower() in ("", "off") else wayback.strip(),
        )
    err = Console(stderr=True)
    with (
        open_store(ctx) as store,
        Progress(
            TextColumn("enrich"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not err.is_terminal,
        ) as progress,
    ):
        task = progress.add_task("enrich", total=None)

        def total(count: int) -> None:
            progress.update(task, total=count)

        def advance() -> None:
            progress.advance(task)

        if offline:
            report = reextract(store, on_total=total, on_result=advance)
        else:
            report = enrich_sources(
                store, settings, refresh=refresh, retry_failed=retry_failed, on_total=total, on_result=advance
            )
    click.echo(report.summary())


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.pass_context
def sources(ctx: click.Context, fmt: str) -> None:
    """Every cited source and what enrich found: status, final URL, archived, title, lede...

    The status is the HTTP status, or a word for what went wrong (timeout, robots, dns,
    refused, private, not-html, too-large, redirects...); empty until enriched.
    """
    with open_store(ctx) as store:
        records = store.source_records()
    if fmt == "jsonl":
        out = sys.stdout
        for record in records:
            out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
        return
    table = Table("status", "publisher", "title", "url", show_lines=False, expand=True)
    for record in records:
        status = "" if record.status is None else str(record.status)
        table.add_row(
            status + (" (archived)" if record.archived else ""),
            record.article.publisher or "",
            record.article.title or record.reason or "",
            record.url,
        )
    Console().print(table)


@cli.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--formats",
    default=",".join(FORMATS),
    show_default=True,
    help="Comma-separated formats to write (md, html, json, xml).",
)
@click.option(
    "--base-url",
    default=DEFAULT_BASE_URL,
    show_default=True,
    help="The site's public address, for feeds and the sitemap.",
)
@click.option(
    "--opinion",
    "opinion_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A folder of opinion pieces (Markdown with title, date, author front matter).",
)
@click.pass_context
def build(ctx: click.Context, out: Path, formats: str, base_url: str, opinion_dir: Path | None) -> None:
    """Build the site into OUT: every page in Markdown, HTML, JSON and XML, feeds, sitemap.

    Files whose content did not change are left untouched; files no page produces
    any more are removed.
    """
    err = Console(stderr=True)
    with open_store(ctx) as store:
        options = BuildOptions(
            formats=tuple(f.strip() for f in formats.split(",") if f.strip()),
            base_url=base_url,
            opinion_dir=opinion_dir,
        )
        days = len(store.dates())
        with Progress(
            TextColumn("build"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=days < PROGRESS_THRESHOLD or not err.is_terminal,
        ) as progress:
            task = progress.add_task("build", total=days)
            report = build_site(store, out, options, on_day=lambda _: progress.advance(task))
    click.echo(f"{report.summary()}; open {(out / 'index.html').resolve()}")


@cli.command()
@click.option(
    "--ranker",
    type=click.Choice(RANKERS),
    default=DEFAULT_RANKER,
    show_default=True,
    help="shared: most shared entities, then newest (the original site). weighted: rare shared"
    " entities count more, one very common entity cannot fill a list, closer in time wins ties.",
)
@click.option("--k", type=click.IntRange(min=1), default=DEFAULT_K, show_default=True, help="List length.")
@click.option("--full", is_flag=True, help="Compute every list again, even if few can have changed.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="the CPUs",
    help="Processes to compute in (the result is the same).",
)
@click.pass_context
def relate(ctx: click.Context, ranker: Ranker, k: int, full: bool, jobs: int) -> None:
    """Compute and store every event's k most related events, from all time, with the shared entities.

    The first run (or a change of ranker or k) computes every list; later runs update
    only the lists that the days ingested since can change, and say how many did.
    """
    with open_store(ctx) as store:
        report = refresh(store, Settings(ranker=ranker, k=k), full=full, workers=jobs)
    click.echo(report.summary())


@cli.command()
@click.argument("event_id")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.pass_context
def related(ctx: click.Context, event_id: str, fmt: str) -> None:
    """The stored related events of EVENT_ID, best first, each with its Context (shared entities)."""
    with open_store(ctx) as store:
        found = store.related(event_id)
    if fmt == "jsonl":
        for entry in found:
            sys.stdout.write(json.dumps(entry.to_json(), ensure_ascii=False) + "\n")
        return
    table = Table("#", "date", "event", "context", show_lines=False, expand=True)
    for entry in found:
        table.add_row(str(entry.rank), entry.date.isoformat(), entry.text, ", ".join(entry.context))
    Console().print(table)


def main() -> None:
    """Entry point of the ``daybook`` console script."""
    cli(obj={})
