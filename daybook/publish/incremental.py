"""An incremental build: what a change of some days, or of some related lists, can touch,
made again in every edition of a site already built (``update_site``); a full build
(``build``) makes the rest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path

from daybook import urls
from daybook.publish import digest
from daybook.publish.build import Build, Hook, make_all, merged, open_editions
from daybook.publish.explore import update_explore, write_search
from daybook.publish.options import BuildOptions, Renderer
from daybook.publish.writer import WriteReport
from daybook.store import Store


def update_site(
    store: Store,
    out: Path,
    options: BuildOptions | None = None,
    *,
    dates: Iterable[dt.date],
    event_ids: Iterable[str] = (),
    ready: Callable[[WriteReport], Iterable[dt.date]] | None = None,
    related: Callable[[], Iterable[str]] | None = None,
    before_save: Hook = None,
    renderer: Renderer = None,
) -> WriteReport:
    """Rebuild only what a change can touch: the pages of ``dates`` (their events, the
    day pages and their neighbours), the event pages of ``event_ids``, the entity and
    story pages of the names those days' events hold or held, the search index from
    those days on, archives, front page, feeds and sitemap. Pages of events gone from
    those days are removed (or redirected, if the event lives on under a new slug). A
    folder never built before (new or empty; or whose state is damaged) gets a full build.
    Every edition the site's state remembers (``build --editions``) is made so, each in its
    folder, unless ``options`` names editions other than English alone.

    ``ready`` is given the report so far (once: in the English build) once the pages
    that do not show sources' metadata are made (and written),
    before those that do (the changed days' own pages, the search index, the front
    page and feeds): an update enriches the new sources meanwhile. It returns further
    days whose sources' metadata changed, whose pages are then made again too.
    ``related``, if given, is called once, before the first page showing a related list:
    it waits for the related lists to be up to date (an update relates beside the pages
    showing none, entity and story pages first) and returns further events whose lists
    changed, whose pages are made too.
    ``before_save`` is given the report once every file of every edition is written
    (the others' paths under their folders), before the site's state records the
    build (an update commits the site to git there: killed before the state is saved,
    the next update renders and commits the same pages again).
    ``renderer``: worker processes to render pages in (see ``render_pool``).
    """
    asked = list(event_ids)
    builds = open_editions(store, out, options or BuildOptions(), renderer, full=False)
    try:
        enriched: list[dt.date] | None = None
        relisted: list[str] | None = None

        def listed() -> list[str]:
            """The events to make again (each edition makes them), once relate is done."""
            nonlocal relisted
            if relisted is None:
                relisted = sorted({*asked, *(related() if related is not None else ())})
            return relisted

        def once(report: WriteReport) -> Iterable[dt.date]:
            """``ready`` for the first edition; the others make the same days again."""
            nonlocal enriched
            if enriched is None:
                enriched = [] if ready is None else list(ready(report))
            return enriched

        made: list[tuple[str, Build, WriteReport]] = []
        for build in builds.values():
            build.before_related = listed
        for edition, build in builds.items():
            if build.state.full:
                once(build.report)
                made.append((edition, build, make_all(build, None)))
            else:
                made.append((edition, build, _update(build, sorted(set(dates)), listed, once)))
        report = made[0][2]
        for edition, _, more in made[1:]:
            report = merged(report, more, urls.edition_root(edition))
        # Every edition's files are written before any state records them (a commit
        # there takes them all: see ``before_save``).
        if before_save is not None:
            before_save(report)
        for _, build, _ in made:
            build.save()
        return report
    finally:
        for build in builds.values():
            build.close()


def _update(
    build: Build,
    changed: list[dt.date],
    event_ids: Callable[[], Iterable[str]],
    ready: Callable[[WriteReport], Iterable[dt.date]],
) -> WriteReport:
    """Make what a change of these days can touch, in one edition (not saved).
    ``event_ids`` waits for the related lists (``update_site``'s ``related``)."""
    store, state = build.store, build.state
    build.index.changed.update(changed)
    prefixes = [urls.day_dir(d) + "/" for d in changed]
    # The last build's pages of the changed days, and its redirects, are made again
    # from the store; whichever of them no page claims then is removed.
    before: dict[str, str | None] = {}
    for prefix in prefixes:
        before.update(state.pages_under(prefix))
    old_redirects = state.redirects()
    for stem in [*before, *old_redirects]:
        state.forget(stem)
    for stem in old_redirects:
        state.drop_redirect(stem)
    names_before = state.day_names(d.isoformat() for d in changed)
    # First what shows no source's metadata, and of it first what shows no related list
    # (relate may still be at work beside): entity and story pages, weeks; then the pages
    # listing a changed day's events (their headlines), the neighbours' day pages.
    update_explore(build, changed, names_before)
    digest.update_weeks(build, changed)
    ids = event_ids()
    on_days = [ident for date in changed for ident, _, _ in store.event_headlines(date)]
    gone = [i for i in before.values() if i is not None]
    referrers = store.referrers([*on_days, *gone])
    build.events(sorted({*ids, *referrers} - set(on_days)))
    neighbours = {n for d in changed for n in build.index.neighbour_dates(d) if n is not None}
    for date in sorted(neighbours - set(changed)):
        build.day(date)
    # Events listing their story's neighbours may list the changed days' events, added or gone:
    # those near them in the stories these days hold or held (made once the names settled).
    lines = {name for kind, name in names_before if kind == "story"}
    lines.update(line for _, _, story, _ in store.day_threads(changed) for line in story)
    build.events(sorted(build.index.story_around(lines, changed) - set(on_days)))
    # Then the changed days' own pages, and whatever shows the latest metadata.
    build.archives(changed)
    build.flush()  # every file so far on disk: ``ready`` may look at them
    enriched = sorted(set(ready(build.report)) - set(changed))
    for date in changed:
        if date in build.index.day_counts:
            build.day(date)
    build.days_again(enriched)
    build.redirects({**old_redirects, **{s: i for s, i in before.items() if i is not None}})
    for stem in sorted({*before, *old_redirects}):
        if not state.has(stem):
            build.remove_page(stem)
    if "html" in build.options.formats and (changed or enriched):
        write_search(build, since=min([*changed, *enriched]))
    recent, latest = build.recent_days()
    build.finish(recent, latest)
    build.flush()
    return build.report
