"""Pulling portal days from the MediaWiki API (daybook.ingest.pull), against a local stand-in."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from standin_api import StandInAPI

from daybook.cli import cli
from daybook.errors import PullError, UsageError
from daybook.ingest import parse_pulled
from daybook.ingest.html import parse_portal_html
from daybook.ingest.pull import PullSettings, date_range, pull, recent_days
from daybook.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wikitext"
MAY_6, MAY_7, MAY_8 = dt.date(2024, 5, 6), dt.date(2024, 5, 7), dt.date(2024, 5, 8)


@pytest.fixture
def api() -> Iterator[StandInAPI]:
    standin = StandInAPI().start()
    yield standin
    standin.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "t.db") as store:
        yield store


def settings(api: StandInAPI, **changes: object) -> PullSettings:
    return PullSettings(**{"api": api.api, "delay": 0, "backoff": 0, **changes})  # type: ignore[arg-type]


def no_sleep(seconds: float) -> None:
    pass


def test_titles_follow_the_pattern() -> None:
    assert PullSettings().title(MAY_7) == "Portal:Current events/2024 May 7"
    german = PullSettings(
        title_pattern="Portal:Aktuelles/{year}-{month:02d}-{day:02d} ({month_name})",
        month_names=("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
                     "September", "Oktober", "November", "Dezember"),
    )  # fmt: skip
    assert german.title(MAY_7) == "Portal:Aktuelles/2024-05-07 (Mai)"


@pytest.mark.parametrize(
    "changes",
    [
        {"title_pattern": "Portal:Current events/{year} {monthname} {day}"},
        {"month_names": ("Jan", "Feb")},
        {"api": "en.wikipedia.org/w/api.php"},
        {"delay": -1},
    ],
)
def test_bad_settings_are_usage_errors(changes: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        PullSettings(**changes)  # type: ignore[arg-type]


def test_days_are_today_and_those_before() -> None:
    assert recent_days(3, today=MAY_8) == [MAY_6, MAY_7, MAY_8]
    assert date_range(MAY_6, MAY_8) == [MAY_6, MAY_7, MAY_8]
    with pytest.raises(UsageError):
        date_range(MAY_8, MAY_6)
    with pytest.raises(UsageError):
        recent_days(0)


def test_pull_keeps_text_revision_and_time_and_skips_unchanged_days(api: StandInAPI, store: Store) -> None:
    title = settings(api).title
    first = api.edit(title(MAY_6), (FIXTURES / "2015-11-18.wiki").read_text(encoding="utf-8"))
    api.edit(title(MAY_7), (FIXTURES / "2018-06-12.wiki").read_text(encoding="utf-8"))
    report = pull(store, [MAY_6, MAY_7, MAY_8], settings(api))
    assert report.pulled == [MAY_6, MAY_7] and report.missing == [MAY_8] and report.unchanged == 0
    # Days never pulled are fetched with their text at once: one request; then each
    # revision's rendering, one request each.
    assert report.requests == 3 and api.content_requests() == [[title(MAY_6), title(MAY_7), title(MAY_8)]]
    (page,) = [p for p in store.portal_pages_to_ingest() if p.date == MAY_6]
    assert (page.revision, page.title) == (first, title(MAY_6))
    assert page.saved_at.endswith("Z") and page.wikitext.startswith("{{Current events")
    assert all("daybook" in agent for agent in api.user_agents)
    assert all(request["maxlag"] == "5" for request in api.requests)

    again = pull(store, [MAY_6, MAY_7], settings(api))
    assert again.pulled == [] and again.unchanged == 2
    assert len(api.content_requests()) == 1, "an unchanged day is not fetched again"

    edited = api.edit(title(MAY_7), "{{Current events}}\n'''Sports'''\n*A match is played.\n")
    third = pull(store, [MAY_6, MAY_7], settings(api))
    assert third.pulled == [MAY_7] and third.unchanged == 1
    assert api.content_requests()[-1] == [title(MAY_7)]
    assert store.portal_revisions([MAY_6, MAY_7]) == {MAY_6: first, MAY_7: edited}


def test_the_rendering_of_the_same_revision_is_kept_beside_the_wikitext(
    api: StandInAPI, store: Store, shared_data: Path
) -> None:
    real = (shared_data / "portal-html-2025" / "2025-09-14.html").read_text(encoding="utf-8")
    revision = api.edit(settings(api).title(MAY_7), "{{Current events}}\n*Something happens.\n", html=real)
    assert pull(store, [MAY_7], settings(api)).pulled == [MAY_7]
    assert api.parse_requests() == [str(revision)]
    (page,) = store.portal_pages_to_ingest()
    assert page.html == real and page.wikitext.startswith("{{Current events}}") and page.format == "html"
    # The events come from the rendering, not the wikitext.
    assert parse_pulled(page).events == parse_portal_html(real, date=MAY_7).events
    assert not any("Something happens" in event.text for event in parse_pulled(page).events)


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("empty-parse", "rendered page is empty"), ("null", "not an object"), ("parse-error", "MWException")],
)
def test_an_empty_or_failed_answer_is_reported_and_never_stored(
    api: StandInAPI, store: Store, fault: str, reason: str
) -> None:
    title = settings(api).title(MAY_7)
    first = api.edit(title, "{{Current events}}\n*Something happens.\n")
    pull(store, [MAY_7], settings(api))
    (kept,) = store.portal_pages_to_ingest()
    api.edit(title, "{{Current events}}\n*Something else happens.\n")
    api.faults[:] = ["", "", fault]  # the ids and the text answered, the rendering not
    report = pull(store, [MAY_7, MAY_8], settings(api), sleep=no_sleep)
    assert report.pulled == [] and [day for day, _ in report.failed] == [MAY_7]
    assert reason in report.failed[0][1] and "1 not kept" in report.summary()
    assert store.portal_revisions([MAY_7]) == {MAY_7: first}
    assert store.portal_pages_to_ingest() == [kept]


def test_an_empty_wikitext_is_never_a_days_text(api: StandInAPI, store: Store) -> None:
    title = settings(api).title(MAY_7)
    first = api.edit(title, "{{Current events}}\n*Something happens.\n")
    pull(store, [MAY_7], settings(api))
    api.edit(title, "  \n")
    report = pull(store, [MAY_7], settings(api))
    assert report.failed == [(MAY_7, "the wikitext is empty")]
    assert store.portal_revisions([MAY_7]) == {MAY_7: first}


def test_titles_go_fifty_to_a_request(api: StandInAPI, store: Store) -> None:
    days = date_range(dt.date(2024, 1, 1), dt.date(2024, 4, 30))  # 121 days
    for day in days:
        api.edit(settings(api).title(day), "{{Current events}}\n*Something happens.\n")
    report = pull(store, days, settings(api))
    assert len(report.pulled) == 121
    assert [len(titles) for titles in api.content_requests()] == [50, 50, 21]


def test_titles_the_wiki_normalizes_are_matched(api: StandInAPI, store: Store) -> None:
    underscored = settings(api, title_pattern="Portal:Current_events/{year}_{month_name}_{day}")
    api.edit("Portal:Current events/2024 May 7", "{{Current events}}\n*Something happens.\n")
    assert pull(store, [MAY_7], underscored).pulled == [MAY_7]


@pytest.mark.parametrize("fault", ["maxlag", "429", "500"])
def test_busy_answers_are_retried(api: StandInAPI, store: Store, fault: str) -> None:
    api.edit(settings(api).title(MAY_7), "{{Current events}}\n*Something happens.\n")
    api.faults[:] = [fault, fault]
    waits: list[float] = []
    report = pull(store, [MAY_7], settings(api, backoff=1.0), sleep=waits.append)
    assert report.pulled == [MAY_7] and len(api.requests) == 4  # two faults, the text, its rendering
    assert waits == [0.0, 0.0]  # the stand-in's Retry-After: 0 is honoured over the backoff


def test_a_retry_after_date_is_honoured(api: StandInAPI, store: Store) -> None:
    """Retry-After may be an HTTP date (RFC 9110): the wait is until then, not the backoff."""
    api.edit(settings(api).title(MAY_7), "{{Current events}}\n*Something happens.\n")
    api.faults[:] = ["429-date"]
    waits: list[float] = []
    report = pull(store, [MAY_7], settings(api, backoff=1.0), sleep=waits.append)
    assert report.pulled == [MAY_7] and len(waits) == 1 and 25 <= waits[0] <= 30


def test_the_api_busy_for_too_long_is_an_error(api: StandInAPI, store: Store) -> None:
    api.faults[:] = ["maxlag"] * 3
    with pytest.raises(PullError, match=r"maxlag.*gave up after 3 attempts"):
        pull(store, [MAY_7], settings(api, retries=2), sleep=no_sleep)


def test_an_answer_that_is_not_the_api_is_an_error(api: StandInAPI, store: Store) -> None:
    api.faults[:] = ["html"]
    with pytest.raises(PullError, match="not JSON"):
        pull(store, [MAY_7], settings(api), sleep=no_sleep)


def test_no_server_is_retried_then_an_error(store: Store) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    nowhere = PullSettings(api=f"http://127.0.0.1:{port}/w/api.php", delay=0, retries=2, backoff=0.5)
    with pytest.raises(PullError, match="ConnectError"):
        pull(store, [MAY_7], nowhere, sleep=waits.append)
    assert waits == [0.5, 1.0]  # doubling backoff


def test_requests_are_spaced_by_the_delay(api: StandInAPI, store: Store) -> None:
    api.edit(settings(api).title(MAY_6), "{{Current events}}\n*Something happens.\n")
    pull(store, [MAY_6], settings(api))
    api.edit(settings(api).title(MAY_6), "{{Current events}}\n*Something else happens.\n")
    waits: list[float] = []
    pull(store, [MAY_6], settings(api, delay=2.0), sleep=waits.append)  # ids, the text, its rendering
    assert len(waits) == 2 and all(1.5 < wait <= 2.0 for wait in waits)


def test_pull_command(api: StandInAPI, tmp_path: Path) -> None:
    api.edit(settings(api).title(MAY_7), (FIXTURES / "2018-06-12.wiki").read_text(encoding="utf-8"))
    db = str(tmp_path / "c.db")
    args = ["--db", db, "pull", "--api", api.api, "--from", "2024-05-06", "--to", "2024-05-07"]
    result = CliRunner().invoke(cli, args, obj={})
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 days: 1 pulled, 0 unchanged, 1 not on the wiki"
    today = dt.datetime.now(dt.UTC).date()
    api.edit(settings(api).title(today), "{{Current events}}\n*Something happens today.\n")
    recent = CliRunner().invoke(
        cli, ["--db", db, "pull", "--days", "2"], env={"DAYBOOK_API": api.api}, obj={}
    )
    assert recent.exit_code == 0 and "2 days: 1 pulled" in recent.output
    for wrong in (["pull"], ["pull", "--days", "2", "--from", "2024-05-06"], ["pull", "--to", "2024-05-06"]):
        failed = CliRunner().invoke(cli, ["--db", db, *wrong], obj={})
        assert failed.exit_code == 2 and failed.output.startswith("Error: ")


def test_the_api_delay_is_the_users_to_choose(tmp_path: Path) -> None:
    """--api-delay sets the politeness towards the wiki's API; a negative one is refused
    before any work (no store made)."""
    from daybook.cli.options import pull_settings

    chosen = pull_settings(
        "https://wiki.example/w/api.php", 0.0, "Portal:{year}", "a,b,c,d,e,f,g,h,i,j,k,l", "x"
    )
    assert chosen.delay == 0.0 and PullSettings().delay == 0.5
    db = tmp_path / "never.db"
    for command in ("pull", "update"):
        args = ["--db", str(db), command, *(["out"] if command == "update" else []), "--api-delay", "-1"]
        refused = CliRunner().invoke(cli, [*args, "--from", "2024-05-06"], obj={})
        assert refused.exit_code == 2 and "--api-delay" in refused.output
    assert not db.exists()
