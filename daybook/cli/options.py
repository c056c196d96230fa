"""The command line's option groups, parameter types and validators, and the
turning of domain errors into click's (shared by the commands of ``daybook.cli``)."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from daybook.errors import DaybookError, ParseError, UsageError
from daybook.net.settings import (
    DEFAULT_API,
    DEFAULT_API_DELAY,
    DEFAULT_TITLE_PATTERN,
    DEFAULT_WAYBACK,
    ENGLISH_MONTHS,
    USER_AGENT,
    FetchSettings,
)
from daybook.store import Store, is_postgresql, url_scheme
from daybook.urls import DEFAULT_BASE_URL, FORMATS

# The stages (httpx, rich, jinja...) are imported where a command uses them, not here:
# every command, ``--help`` included, starts without them.
if TYPE_CHECKING:
    from rich.progress import Progress

    from daybook.ingest.pull import PullSettings
    from daybook.publish.options import BuildOptions

F = TypeVar("F", bound=Callable[..., Any])

# Progress bars only for runs long enough to want one.
PROGRESS_THRESHOLD = 20


def options(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Several click options as one decorator, for options commands share."""

    def apply(command: F) -> F:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


class DateParam(click.ParamType[dt.date, Any]):
    """A day, written YYYY-MM-DD, that the calendar has."""

    name = "date"
    _shape = re.compile(r"\d{4}-\d{2}-\d{2}")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        if not self._shape.fullmatch(str(value)):
            self.fail(f"{value!r} is not a date (want YYYY-MM-DD)", param, ctx)
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            self.fail(f"{value!r} is not a date ({exc})", param, ctx)


DATE = DateParam()


def _check_range(ctx: click.Context, param: click.Parameter, value: dt.date | None) -> dt.date | None:
    """The callback of --from and --to: whichever comes second on the command line finds
    the other in ``ctx.meta`` and refuses a range that ends before it starts."""
    bounds = ctx.meta.setdefault("daybook.date_range", {})
    bounds[param.name] = value
    start, end = bounds.get("start"), bounds.get("end")
    if start is not None and end is not None and start > end:
        raise click.UsageError(f"--from {start} is after --to {end}", ctx)
    return value


def date_range_options(first: str, last: str) -> Callable[[F], F]:
    """``--from D --to D`` (dates, passed as ``start`` and ``end``), checked to be in order."""
    return options(
        click.option("--from", "start", type=DATE, callback=_check_range, help=first),
        click.option("--to", "end", type=DATE, callback=_check_range, help=last),
    )


strict_option = click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 on any warning (an input that held no event, a day not on the wiki): for scheduled jobs.",
)

user_agent_option = click.option(
    "--user-agent",
    envvar="DAYBOOK_USER_AGENT",
    default=USER_AGENT,
    show_default=True,
    help="The User-Agent sent (also DAYBOOK_USER_AGENT).",
)


def jobs_option(help: str) -> Callable[[F], F]:
    """--jobs: how many processes a command computes in (relate, update, build)."""
    return click.option(
        "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="the CPUs", help=help
    )


# How enrich (and update, which calls it) reaches the web.
web_options = options(
    click.option(
        "--via",
        metavar="URL",
        help="Send every request to this origin (http://host:port) instead, with each URL's path,"
        " query and Host: a local server standing in for the web.",
    ),
    click.option(
        "--allow-private", is_flag=True, help="Also fetch private, loopback and link-local addresses."
    ),
    click.option(
        "--wayback",
        envvar="DAYBOOK_WAYBACK",
        default=DEFAULT_WAYBACK,
        show_default=True,
        metavar="URL",
        help="Wayback Machine availability API asked about dead links (also DAYBOOK_WAYBACK);"
        " 'off' never asks.",
    ),
    click.option(
        "--per-host",
        type=click.IntRange(min=1),
        default=FetchSettings.per_host,
        show_default=True,
        help="Requests in flight to one host.",
    ),
    click.option(
        "--delay",
        type=click.FloatRange(min=0),
        default=FetchSettings.delay,
        show_default=True,
        help="Seconds between request starts to one host.",
    ),
    user_agent_option,
)


def site_formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    """--formats, split and checked as the build will check them."""
    from daybook.publish.options import BuildOptions

    formats = tuple(f.strip() for f in value.split(",") if f.strip())
    try:
        BuildOptions(formats=formats)
    except UsageError as exc:
        raise click.BadParameter(error_line(exc), ctx, param) from exc
    return formats


# What the site is made of (build, and update, which must build it alike).
site_options = options(
    click.option(
        "--formats",
        default=",".join(FORMATS),
        show_default=True,
        callback=site_formats,
        help="Comma-separated formats to write (md, html, json, xml).",
    ),
    click.option(
        "--base-url",
        default=DEFAULT_BASE_URL,
        show_default=True,
        help="The site's public address, for feeds and the sitemap.",
    ),
    click.option(
        "--opinion",
        "opinion_dir",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="A folder of opinion pieces (Markdown with title, date, author front matter).",
    ),
)


def build_options(formats: tuple[str, ...], base_url: str, opinion_dir: Path | None) -> BuildOptions:
    """The site's options from ``site_options``."""
    from daybook.publish.options import BuildOptions

    return BuildOptions(formats=formats, base_url=base_url, opinion_dir=opinion_dir)


def wayback_url(option: str) -> str | None:
    """The --wayback option: an availability API, or None for ``off``."""
    return None if option.strip().lower() in ("", "off") else option.strip()


def error_line(exc: DaybookError) -> str:
    """A domain error as the command line says it: the setting at fault named by its
    option (``--via``), which the library's messages never name."""
    if isinstance(exc, UsageError) and exc.setting:
        return f"--{exc.setting.replace('_', '-')} {exc.detail}"
    if isinstance(exc, ParseError) and exc.setting == "date":
        return f"{exc} with --date YYYY-MM-DD"
    return str(exc)


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn a domain error into click's one-line ``Error: ...`` and exit status 1."""
    try:
        yield
    except DaybookError as exc:
        raise click.ClickException(error_line(exc)) from exc


@contextmanager
def usage_errors() -> Iterator[None]:
    """Where the arguments are checked, before any work: a ``UsageError`` is click's usage
    error (exit status 2), any other domain error a one-line error (1)."""
    try:
        yield
    except UsageError as exc:
        raise click.UsageError(error_line(exc)) from exc
    except DaybookError as exc:
        raise click.ClickException(error_line(exc)) from exc


@contextmanager
def open_store(ctx: click.Context, *, create: bool = False) -> Iterator[Store]:
    """The store of --db; only the commands that add data (``create``) make one."""
    with domain_errors(), Store(ctx.obj["db"], create=create) as store:
        yield store


def progress_bar(label: str, *, shown: bool = True) -> Progress:
    """A progress bar on stderr, only when it is a terminal (and the run long enough)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not shown or not console.is_terminal,
    )


def show_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Rows as a table on standard output (the commands' ``--format table``)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, show_lines=False, expand=True)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def _store_path(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """--db: a path or a ``postgresql://`` URL; a URL of another scheme names a kind of
    store daybook does not have."""
    scheme = url_scheme(value)
    if scheme is not None and not is_postgresql(value):
        where = "DAYBOOK_DB" if ctx.get_parameter_source("db") is ParameterSource.ENVIRONMENT else "--db"
        raise click.UsageError(
            f"unsupported store URL scheme {scheme!r} in {where}; daybook stores are SQLite files"
            " or postgresql:// URLs",
            ctx,
        )
    return value


@contextmanager
def _one_line() -> Iterator[None]:
    try:
        yield
    except click.UsageError as exc:
        exc.ctx = None  # shown without the usage lines: the error is the one line to read
        raise


api_option = click.option(
    "--api",
    envvar="DAYBOOK_API",
    default=DEFAULT_API,
    show_default=True,
    metavar="URL",
    help="The wiki's MediaWiki Action API (also DAYBOOK_API).",
)

pull_options = options(
    api_option,
    click.option(
        "--api-delay",
        type=click.FloatRange(min=0),
        default=DEFAULT_API_DELAY,
        show_default=True,
        metavar="SECONDS",
        help="Seconds between the starts of two requests to the wiki's API (politeness).",
    ),
    click.option(
        "--title-pattern",
        envvar="DAYBOOK_TITLE_PATTERN",
        default=DEFAULT_TITLE_PATTERN,
        show_default=True,
        help="A day's page title: {year}, {month}, {day} and {month_name} are filled in"
        " (other editions; also DAYBOOK_TITLE_PATTERN).",
    ),
    click.option(
        "--month-names",
        envvar="DAYBOOK_MONTH_NAMES",
        default=",".join(ENGLISH_MONTHS),
        help="The 12 month names for {month_name}, comma-separated (also DAYBOOK_MONTH_NAMES).",
    ),
    date_range_options("First day to pull (YYYY-MM-DD).", "Last day to pull (inclusive; default: today)."),
    click.option(
        "--days",
        type=click.IntRange(min=1),
        help="Today (by UTC) and the N-1 days before (update: 7 when no day is given).",
    ),
)


def pull_settings(
    api: str, api_delay: float, title_pattern: str, month_names: str, user_agent: str
) -> PullSettings:
    from daybook.ingest.pull import PullSettings

    return PullSettings(
        api=api,
        delay=api_delay,
        title_pattern=title_pattern,
        month_names=tuple(name.strip() for name in month_names.split(",")),
        user_agent=user_agent,
    )


def chosen_days(first: dt.date | None, last: dt.date | None, days: int | None) -> list[dt.date] | None:
    """The days --from/--to ask for; None for --days (recent days move with the clock)."""
    from daybook.ingest.pull import date_range

    if days is not None and (first or last):
        raise UsageError("give either --days or --from/--to, not both")
    if last is not None and first is None:
        raise UsageError("--to needs --from")
    if first is None:
        return None
    if last is None:
        last = dt.datetime.now(dt.UTC).date()
        if first > last:
            raise UsageError(f"--from {first} is after today ({last}, by UTC): give --to too")
    return date_range(first, last)
