"""The ``daybook`` command: one thin command per stage over the library.

Each command opens the store, makes one library call, and turns a ``DaybookError``
into a one-line message and a non-zero exit.
"""

from __future__ import annotations

import datetime as dt
import json
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
from daybook.errors import DaybookError, UsageError
from daybook.ingest import discover, ingest_paths
from daybook.store import Store

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


def main() -> None:
    """Entry point of the ``daybook`` console script."""
    cli(obj={})
