"""The ``daybook`` command: one thin command per stage over the library.

Each command opens the store, makes one library call, and turns a ``DaybookError``
into a one-line message and a non-zero exit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from daybook import __version__, urls
from daybook.cli.options import (
    DATE,
    PROGRESS_THRESHOLD,
    _one_line,
    _store_path,
    api_option,
    build_options,
    chosen_days,
    date_range_options,
    domain_errors,
    error_line,
    jobs_option,
    open_store,
    progress_bar,
    pull_options,
    pull_settings,
    show_table,
    site_options,
    strict_option,
    usage_errors,
    user_agent_option,
    wayback_url,
    web_options,
)
from daybook.errors import DaybookError, UsageError
from daybook.net.settings import DEFAULT_LEASE, DEFAULT_MAX_AGE, FetchSettings
from daybook.relate import DEFAULT_K, DEFAULT_RANKER, RANKERS, Settings
from daybook.store import DEFAULT_PATH, Store
from daybook.store.search import DEFAULT_LIMIT

# Each command imports the stages it calls (httpx, rich, jinja... come with them), so that
# a command, or --help, pays only for its own: `daybook relate` with nothing to do starts fast.
if TYPE_CHECKING:
    from daybook.relate import Ranker


class DaybookGroup(click.Group):
    """The command group, whose usage errors (a bad option value, a missing argument) are
    one line, ``Error: ...``, like every other error, with click's exit status 2."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line():
            return super().invoke(ctx)


@click.group(cls=DaybookGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="DAYBOOK_DB",
    default=os.fspath(DEFAULT_PATH),
    show_default=True,
    callback=_store_path,
    help="The store: an SQLite file or a postgresql://user@host/db URL (also DAYBOOK_DB)."
    " Only ingest, pull, update and copy create it.",
)
@click.version_option(__version__, prog_name="daybook")
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """daybook: the Wikipedia Current Events Portal as a linked news archive."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db
    source = ctx.get_parameter_source("db")
    ctx.obj["db_given"] = source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--date",
    "on",
    type=DATE,
    help="The day of the page (YYYY-MM-DD), for one file whose name and content carry none.",
)
@strict_option
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], on: dt.date | None, strict: bool) -> None:
    """Ingest portal day files: .wiki/.wikitext/.txt, .html/.htm, or .jsonl; folders are searched.

    The date comes from --date, else a file name like 2022-03-07.html, else the page.
    A day ingested again replaces that day's events. Files that fail are reported and
    skipped; the exit status is then 1. A file that holds no event (an empty capture)
    is named in a warning and stores nothing: a day stored before keeps its events.
    """
    from daybook.ingest import ingest_paths, plan

    with usage_errors():
        files = plan(paths, date=on)
    with (
        open_store(ctx, create=True) as store,
        progress_bar("ingest", shown=len(files) >= PROGRESS_THRESHOLD) as progress,
    ):
        task = progress.add_task("ingest", total=len(files))
        report = ingest_paths(store, files, date=on, on_file=lambda _: progress.advance(task))
    for failure in report.failures:
        click.echo(f"failed: {error_line(failure)}", err=True)
    for skipped in report.skipped:
        click.echo(f"warning: {skipped}", err=True)
    added = sum(len(c.added) for c in report.changes)
    edited = sum(len(c.edited) for c in report.changes)
    removed = sum(len(c.removed) for c in report.changes)
    ingested = report.files - len(report.failures) - len(report.skipped)
    summary = (
        f"{ingested} of {report.files} files ingested: "
        f"{report.days} days, {report.events} events ({added} new, {edited} edited, {removed} removed)"
    )
    if report.skipped:
        summary += f"; {_count(len(report.skipped), 'file')} skipped: no events"
    click.echo(summary)
    if (unrendered := report.unrendered_summary()) is not None:
        click.echo(unrendered)
    if report.failures:
        raise click.ClickException(f"{len(report.failures)} file(s) failed")
    if strict and report.skipped:
        raise click.ClickException(f"--strict: {_count(len(report.skipped), 'file')} skipped: no events")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@cli.command("copy")
@click.argument("src")
@click.argument("dst")
def copy_command(src: str, dst: str) -> None:
    """Copy a whole store to another: SQLite to PostgreSQL or back (each a path or a
    postgresql:// URL; --db is not used). DST is made if need be.

    In batches, with a progress bar; stopped at any point, the same command again
    finishes the copy, with nothing twice.
    """
    from daybook.store import copy_store, resolve_location

    with usage_errors():
        if resolve_location(src) == resolve_location(dst):
            raise UsageError(f"{src}: copying a store onto itself")
    with (
        domain_errors(),
        Store(src, create=False) as source,
        Store(dst) as target,
        progress_bar("copy") as progress,
    ):
        task = progress.add_task("copy", total=None)
        rows = copy_store(
            source,
            target,
            on_total=lambda count: progress.update(task, total=count),
            on_rows=lambda count: progress.advance(task, count),
        )
    click.echo(f"{_count(rows, 'row')} of {source.name} in {target.name}")


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
@click.option("--date", "on", type=DATE, help="One day (YYYY-MM-DD).")
@date_range_options("First day of a range (inclusive).", "Last day of a range (inclusive).")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.pass_context
def events(
    ctx: click.Context, on: dt.date | None, start: dt.date | None, end: dt.date | None, fmt: str
) -> None:
    """The stored events, in page order. The JSONL form can be ingested again."""
    if on is not None and (start or end):
        raise click.UsageError("give either --date or --from/--to, not both")
    with open_store(ctx) as store:
        found = store.events(date=on, start=start, end=end)
    if fmt == "jsonl":
        out = sys.stdout
        for event in found:
            out.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")
        return
    rows = [
        (event.date.isoformat(), event.category, " > ".join(event.story), event.text, str(len(event.sources)))
        for event in found
    ]
    show_table(("date", "category", "story", "event", "src"), rows)


@cli.command()
@web_options
@click.option("--offline", is_flag=True, help="Fetch nothing: extract again from the pages already kept.")
@click.option("--refresh", is_flag=True, help="Fetch every source again, even those with a result.")
@click.option("--retry-failed", is_flag=True, help="Fetch again the sources that failed before.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=FetchSettings.concurrency,
    show_default=True,
    help="Requests in flight, all hosts together.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=FetchSettings.timeout,
    show_default=True,
    help="Seconds one attempt at a page may take.",
)
@click.option(
    "--lease",
    type=click.FloatRange(min=1),
    default=DEFAULT_LEASE,
    show_default=True,
    help="PostgreSQL, several enrich at once: seconds before a dead worker's sources go to others.",
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
    lease: float,
) -> None:
    """Fetch each cited source once; keep its page, lede, image, publisher, title and date.

    Fetching is polite (robots.txt, per-host limits and delay, retries with backoff).
    A dead link is replaced by its Wayback Machine snapshot nearest the event's date,
    marked archived. Stopped at any point, a rerun goes on where it stopped. Failures
    are kept with their reason (see `daybook sources`); --retry-failed tries them again.

    On a PostgreSQL store, enrich may run several times at once (on one machine or many):
    the runs share the sources, and the per-host limit and delay hold for all together.
    """
    from daybook.enrich import enrich as enrich_sources
    from daybook.enrich import reextract

    with usage_errors():
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
            wayback=wayback_url(wayback),
        )
    with (
        open_store(ctx) as store,
        progress_bar("enrich") as progress,
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
                store,
                settings,
                refresh=refresh,
                retry_failed=retry_failed,
                on_total=total,
                on_result=advance,
                lease=lease,
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
    rows = [
        (
            f"{'' if record.status is None else record.status}{' (archived)' if record.archived else ''}",
            record.article.publisher or "",
            record.article.title or record.reason or "",
            record.url,
        )
        for record in records
    ]
    show_table(("status", "publisher", "title", "url"), rows)


@cli.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@site_options
@click.option(
    "--editions",
    default="en",
    show_default=True,
    metavar="LIST",
    help="Comma-separated editions to build: en (at OUT), zh (at OUT/zh, Chinese).",
)
@jobs_option("Processes to build in: this one and those rendering pages (the files are the same).")
@click.pass_context
def build(
    ctx: click.Context,
    out: Path,
    formats: tuple[str, ...],
    base_url: str,
    opinion_dir: Path | None,
    editions: str,
    jobs: int,
) -> None:
    """Build the site into OUT: every page in Markdown, HTML, JSON and XML, feeds, sitemap.

    OUT must be new, empty (but for .git) or a site daybook built. Files whose content
    did not change are left untouched; files daybook wrote that no page produces any
    more are removed, and no other file. `--editions en,zh` adds the Chinese edition
    at OUT/zh (run `daybook entities` first for Chinese names).
    """
    from daybook.publish import build_site
    from daybook.publish.options import render_pool

    with usage_errors():
        options = build_options(formats, base_url, opinion_dir)
        chosen = tuple(dict.fromkeys(e.strip() for e in editions.split(",") if e.strip()))
        options = dataclasses.replace(options, editions=chosen)
    renderer = render_pool(jobs - 1)  # forked before the progress bar's thread starts
    try:
        with open_store(ctx) as store:
            days = len(store.dates())
            with progress_bar("build", shown=days >= PROGRESS_THRESHOLD) as progress:
                task = progress.add_task("build", total=days)
                report = build_site(
                    store, out, options, on_day=lambda _: progress.advance(task), renderer=renderer, jobs=jobs
                )
    finally:
        if renderer is not None:
            renderer.terminate()
            renderer.join()
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
@jobs_option("Processes to compute in (the result is the same).")
@click.pass_context
def relate(ctx: click.Context, ranker: Ranker, k: int, full: bool, jobs: int) -> None:
    """Compute and store every event's k most related events, from all time, with the shared entities.

    The first run (or a change of ranker or k) computes every list; later runs update
    only the lists that the days ingested since can change, and say how many did.
    """
    from daybook.relate import refresh

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
    show_table(
        ("#", "date", "event", "context"),
        [(str(e.rank), e.date.isoformat(), e.text, ", ".join(e.context)) for e in found],
    )


# How old an entity's answer may be before it is asked again (pull, entities).
max_age_option = click.option(
    "--max-age",
    type=click.FloatRange(min=0),
    default=DEFAULT_MAX_AGE.days,
    show_default=True,
    metavar="DAYS",
    help="Ask again about entities last asked this many days ago or more.",
)


# Which portal days to pull, and from where (pull, update).
@cli.command()
@pull_options
@user_agent_option
@strict_option
@max_age_option
@click.pass_context
def pull(
    ctx: click.Context,
    api: str,
    api_delay: float,
    title_pattern: str,
    month_names: str,
    start: dt.date | None,
    end: dt.date | None,
    days: int | None,
    user_agent: str,
    strict: bool,
    max_age: float,
) -> None:
    """Fetch portal day pages from the MediaWiki API and keep their wikitext, revision and time.

    Give --from D [--to D] or --days N. A day whose revision did not change since it
    was pulled is not fetched again. `daybook update` turns what was pulled into events.
    """
    from daybook.ingest.entities import resolve as resolve_entities
    from daybook.ingest.pull import pull as pull_days
    from daybook.ingest.pull import recent_days

    with usage_errors():
        settings = pull_settings(api, api_delay, title_pattern, month_names, user_agent)
        dates = chosen_days(start, end, days)
        if dates is None and days is None:
            raise UsageError("which days? give --from D [--to D] or --days N")
    with open_store(ctx, create=True) as store:
        report = pull_days(store, dates if dates is not None else recent_days(days or 1), settings)
        # The entities of the stored events, as the same wiki knows them (issue 15).
        known = resolve_entities(store, settings, max_age=dt.timedelta(days=max_age))
    click.echo(report.summary())
    if known.asked:
        click.echo(known.summary())
    if strict and report.missing:
        raise click.ClickException(f"--strict: {_not_on_the_wiki(report.missing)}")


@cli.command()
@api_option
@user_agent_option
@max_age_option
@click.pass_context
def entities(ctx: click.Context, api: str, user_agent: str, max_age: float) -> None:
    """Ask the wiki about every entity the stored events hold: redirects are merged into
    their article, and each gets its Wikidata item, short description and Chinese title.

    `daybook pull` does the same; this is for stores ingested from files. Run
    `daybook relate` after it: merged entities change related lists.
    """
    from daybook.ingest.entities import resolve as resolve_entities
    from daybook.ingest.pull import PullSettings

    with usage_errors():
        settings = PullSettings(api=api, user_agent=user_agent)
    with open_store(ctx, create=False) as store:
        report = resolve_entities(store, settings, max_age=dt.timedelta(days=max_age))
    click.echo(report.summary())


def _not_on_the_wiki(missing: list[dt.date]) -> str:
    listed = ", ".join(day.isoformat() for day in missing[:5]) + (", ..." if len(missing) > 5 else "")
    return f"{_count(len(missing), 'day')} not on the wiki ({listed})"


@cli.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@pull_options
@web_options
@site_options
@jobs_option("Processes relate may use.")
@click.option("--every", metavar="INTERVAL", help="Run again every INTERVAL (2h, 30m, 1h30m) until stopped.")
@strict_option
@click.pass_context
def update(
    ctx: click.Context,
    out: Path,
    api: str,
    api_delay: float,
    title_pattern: str,
    month_names: str,
    start: dt.date | None,
    end: dt.date | None,
    days: int | None,
    via: str | None,
    allow_private: bool,
    wayback: str,
    per_host: int,
    delay: float,
    user_agent: str,
    formats: tuple[str, ...],
    base_url: str,
    opinion_dir: Path | None,
    jobs: int,
    every: str | None,
    strict: bool,
) -> None:
    """Bring the archive up to date from Wikipedia and commit the site in OUT to git.

    Pulls the recent days (--days, 7 by default), ingests what changed (an edited
    event keeps its page), enriches the new sources, updates the related lists,
    renders again only the pages that changed, and commits OUT (a git repository,
    made on first use) with a message saying what changed. With nothing new, no file
    is written and no commit made. Killed at any point, the next update finishes the
    job. A second update of the same store exits at once while one runs. With --strict,
    a pulled page that held no event or a day not on the wiki makes the exit status 1.
    """
    from daybook.ingest.pull import recent_days
    from daybook.update import UpdateOptions, parse_interval, update_lock
    from daybook.update import every as every_interval
    from daybook.update import update as update_site

    with usage_errors():
        dates = chosen_days(start, end, days)
        options = UpdateOptions(
            pull=pull_settings(api, api_delay, title_pattern, month_names, user_agent),
            fetch=FetchSettings(
                user_agent=user_agent,
                allow_private=allow_private,
                via=via or None,
                wayback=wayback_url(wayback),
                per_host=per_host,
                delay=delay,
            ),
            build=build_options(formats, base_url, opinion_dir),
            jobs=jobs,
        )
        interval = parse_interval(every) if every else None
    with open_store(ctx, create=True) as store, domain_errors(), update_lock(store.path):

        def once() -> None:
            report = update_site(store, out, dates or recent_days(days or 7), options)
            click.echo(report.summary())
            for failure in report.failures:
                click.echo(f"failed: {failure}", err=True)
            for skipped in report.skipped:
                click.echo(f"warning: {skipped}", err=True)
            if report.failures and interval is None:
                raise click.ClickException(f"{len(report.failures)} page(s) could not be read")
            missing = report.pulled.missing if report.pulled else []
            warned = [f"{_count(len(report.skipped), 'page')} skipped: no events"] if report.skipped else []
            warned += [_not_on_the_wiki(missing)] if missing else []
            if strict and warned:
                message = f"--strict: {'; '.join(warned)}"
                if interval is None:
                    raise click.ClickException(message)
                click.echo(f"Error: {message}", err=True)  # on a schedule: said, and the next round comes

        def again() -> None:
            try:
                once()
            except DaybookError as exc:  # a failed run (the wiki down...) must not end the schedule
                click.echo(f"Error: {error_line(exc)}", err=True)

        if interval is None:
            once()
        else:
            with contextlib.suppress(KeyboardInterrupt):
                every_interval(interval, again)


@cli.command()
@click.argument("page")
@click.option(
    "--site",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The site folder (OUT of `daybook update`).",
)
def history(page: str, site: Path) -> None:
    """The commits that changed PAGE (its path in the site: news/2024/05/7/index.md), newest first."""
    from daybook.site_repo import SiteRepo, site_path

    with domain_errors():
        repo = SiteRepo(site)
        if not repo.exists:
            raise UsageError(f"{site} is not a git repository: `daybook update {site}` makes it one")
        path = site_path(page, site)
        changes = repo.history(path)
    if not changes:
        raise click.ClickException(f"no commit in {site} changed {path}")
    for change in changes:
        when = dt.datetime.fromisoformat(change.date).astimezone(dt.UTC)
        click.echo(f"{change.commit[:12]}  {when:%Y-%m-%d %H:%M} UTC  {change.message}")


@cli.command()
@click.argument("words", nargs=-1, required=True)
@date_range_options("First day (inclusive).", "Last day (inclusive).")
@click.option("--entity", help="Only events holding this entity (its article title).")
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.pass_context
def search(
    ctx: click.Context,
    words: tuple[str, ...],
    start: dt.date | None,
    end: dt.date | None,
    entity: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Full-text search of event text, entities, stories, and the sources' ledes and titles.

    Events with all the words come first, best first, the newer first on a tie; a word
    ending in * matches the words it begins; "quoted words" must stand together.
    """
    from rich.markup import escape as rich_escape

    from daybook.search import PageLocator
    from daybook.search import search as search_events
    from daybook.store import MARK_END, MARK_START

    with open_store(ctx) as store:
        locate = PageLocator()
        query = " ".join(words)
        hits = search_events(store, query, start=start, end=end, entity=entity, limit=limit, locate=locate)
    if fmt == "jsonl":
        for hit in hits:
            sys.stdout.write(json.dumps(hit.to_json(), ensure_ascii=False) + "\n")
        return
    rows = []
    for hit in hits:
        snippet = rich_escape(hit.marked).replace(MARK_START, "[bold]").replace(MARK_END, "[/bold]")
        rows.append((str(hit.rank), hit.date.isoformat(), snippet))
    show_table(("#", "date", "event"), rows)


@cli.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--quiet", is_flag=True, help="Do not log each request.")
@click.pass_context
def serve(ctx: click.Context, out: Path, host: str, port: int, quiet: bool) -> None:
    """Serve the site built in OUT, and search at /search?q=WORDS (add &format=json for JSON).

    Search ranks and cuts snippets as the site's search.html does, over the site's own index,
    or, for a site built without one, over the same index made from the store (--db); a
    store named by --db or DAYBOOK_DB must exist.
    """
    from daybook.serve import serve as make_server

    db = Path(ctx.obj["db"])
    if ctx.obj["db_given"] or db.exists():
        with open_store(ctx):  # checked now, not at the first search
            pass
    with domain_errors():
        try:
            server = make_server(out, host=host, port=port, db=db if db.exists() else None, quiet=quiet)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from exc
    click.echo(f"Serving {out.resolve()} at {server.url}/ (search: {server.searcher.backend}); Ctrl-C stops")
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


@cli.command("export")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@date_range_options("First day to export (inclusive).", "Last day to export (inclusive).")
@click.option("--category", help="Only the events filed under this category (as the portal names it).")
@click.option(
    "--wcep", is_flag=True, help="Also write wcep.jsonl.gz: the WCEP dataset's layout, with article texts."
)
@click.pass_context
def export_command(
    ctx: click.Context,
    out: Path,
    start: dt.date | None,
    end: dt.date | None,
    category: str | None,
    wcep: bool,
) -> None:
    """Write the events as a research dataset into OUT: JSON Lines (gzip) and Parquet
    (with pyarrow), a DATASHEET.md and SHA256SUMS. The same store exports the same bytes.

    OUT must be new, empty or an earlier export."""
    from daybook.export import ExportOptions, export

    with open_store(ctx) as store, domain_errors():
        report = export(store, out, ExportOptions(start=start, end=end, category=category, wcep=wcep))
    click.echo(f"{report.summary()}; see {out / 'DATASHEET.md'}")


def _iso_week(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    from daybook.publish.digest import parse_week

    try:
        return parse_week(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc


@cli.command()
@click.option("--week", required=True, callback=_iso_week, help="The ISO week, e.g. 2024-W19.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["email", "md", "html", "json", "xml"]),
    default="email",
    show_default=True,
    help="email: one HTML document for a mailing list (inline styles, no script, under 100 KB).",
)
@click.option(
    "--base-url", default=urls.DEFAULT_BASE_URL, show_default=True, help="The site's public address."
)
@click.pass_context
def digest(ctx: click.Context, week: tuple[int, int], fmt: str, base_url: str) -> None:
    """Write the digest of an ISO week to standard output: its stories, most events first."""
    from daybook.publish.digest import digest_page, email_html
    from daybook.render import render_all

    with open_store(ctx) as store:
        page = digest_page(store, *week)
    if fmt == "email":
        sys.stdout.write(email_html(page, base_url))
        return
    title = f"The week {page.label}"
    (content,) = render_all("week", page, [fmt], title, None, base_url).values()
    sys.stdout.write(content)


def main() -> None:
    """Entry point of the ``daybook`` console script."""
    cli(obj={})
