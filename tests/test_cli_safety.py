"""Every mistake gets a clear answer: a missing, foreign or damaged store, a store URL, bad
arguments, a page without a date, inputs that hold no event; and only the commands that
make data (ingest, pull, update) create a store."""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from standin_api import StandInAPI

from daybook.cli import cli
from daybook.errors import StoreError
from daybook.ingest import NULL_CAPTURE, read_file
from daybook.ingest.pull import PullSettings
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "daybook"
WIKI = "{{Current events|year=2024|month=6|day=%d}}\n"
KABUL = "*[[Kabul]] hosts a conference on [[Afghanistan]]. [https://www.example.org/kabul (Example)]\n"


def run(*args: str, db: Path | str | None = None, env: dict[str, str] | None = None) -> Result:
    prefix = ["--db", str(db)] if db is not None else []
    return CliRunner().invoke(cli, [*prefix, *args], obj={}, env=env)


def files_in(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A real store of the example days, made by the CLI and closed."""
    db = tmp_path / "store" / "daybook.db"
    db.parent.mkdir()
    made = run("ingest", str(ROOT / "examples"), db=db)
    assert made.exit_code == 0, made.output
    return db


# -- 1. only commands that make data create a store -------------------------------------

READERS = [
    ["stats"],
    ["stats", "--json"],
    ["events"],
    ["events", "--date", "2024-05-07"],
    ["search", "kyiv"],
    ["related", "20240507-aaaaaaaaaaaa"],
    ["sources"],
    ["relate"],
    ["enrich", "--offline"],
    ["enrich", "--via", "http://127.0.0.1:9", "--allow-private"],
    ["build", "{tmp}/site"],
    ["serve", "{tmp}/served", "--port", "0"],
]


@pytest.mark.parametrize("args", READERS, ids=lambda args: " ".join(args))
def test_a_command_that_reads_refuses_a_missing_store_and_creates_nothing(
    tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "served").mkdir()
    before = files_in(tmp_path)
    db = tmp_path / "typo.db"
    result = run(*(a.format(tmp=tmp_path) for a in args), db=db)
    assert result.exit_code == 1
    assert result.output == f"Error: no daybook store at {db}; create one with daybook ingest\n"
    assert files_in(tmp_path) == before  # no store, no -wal/-shm, no lock, no site


def test_the_store_named_by_the_environment_and_a_relative_path_are_named_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("stats", env={"DAYBOOK_DB": "./typo.db"})
    assert (result.exit_code, result.output) == (
        1,
        "Error: no daybook store at ./typo.db; create one with daybook ingest\n",
    )
    nowhere = run("events", db="no/such/folder/d.db")
    assert (
        nowhere.output == "Error: no daybook store at no/such/folder/d.db; create one with daybook ingest\n"
    )
    assert files_in(tmp_path) == set()


def test_an_empty_file_is_no_store_yet_and_stays_empty(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    result = run("stats", db=db)
    assert result.output == f"Error: no daybook store at {db}; create one with daybook ingest\n"
    assert db.stat().st_size == 0 and files_in(tmp_path) == {"empty.db"}
    assert run("ingest", str(ROOT / "examples"), db=db).exit_code == 0  # ingest makes it one
    assert run("stats", db=db).exit_code == 0


def test_ingest_creates_the_store_the_library_opens_one_only_when_asked(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    assert run("ingest", str(ROOT / "examples"), db=db).exit_code == 0
    assert db.is_file()
    with Store(tmp_path / "made.db"):
        pass  # the library creates by default, as before
    with pytest.raises(StoreError, match=r"^no daybook store at .*gone\.db; create one with daybook ingest$"):
        Store(tmp_path / "gone.db", create=False)
    assert not (tmp_path / "gone.db").exists()


def test_the_process_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "daybook", "--db", "typo.db", "stats"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == "Error: no daybook store at typo.db; create one with daybook ingest\n"
    assert list(tmp_path.iterdir()) == []


# -- 2. store URLs, foreign files, damaged stores ----------------------------------------


@pytest.mark.parametrize("scheme", ["mysql", "foo"])
def test_a_store_url_is_refused_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scheme: str) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"{scheme}://daybook:secret@db.example.org:5432/daybook"
    kinds = "daybook stores are SQLite files or postgresql:// URLs"
    for args in (["stats"], ["ingest", str(ROOT / "examples")]):
        result = run(*args, db=url)
        assert (result.exit_code, result.output) == (
            2,
            f"Error: unsupported store URL scheme '{scheme}' in --db; {kinds}\n",
        )
    from_env = run("stats", env={"DAYBOOK_DB": url})
    assert from_env.output == f"Error: unsupported store URL scheme '{scheme}' in DAYBOOK_DB; {kinds}\n"
    with pytest.raises(StoreError, match=f"^unsupported store URL scheme '{scheme}'; {kinds}"):
        Store(url)
    assert files_in(tmp_path) == set()


def test_an_unreachable_postgresql_store_is_one_line_without_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = "postgresql://daybook:secret@127.0.0.1:1/daybook"  # port 1: nothing listens
    result = run("stats", db=url)
    assert result.exit_code == 1
    assert result.output.startswith("Error: postgresql://daybook:***@127.0.0.1:1/daybook: cannot open (")
    assert "secret" not in result.output and result.output.count("\n") == 1
    assert files_in(tmp_path) == set()


@pytest.mark.parametrize("command", [["stats"], ["events"], ["ingest", str(ROOT / "examples")]])
def test_a_file_that_is_not_a_store_is_named_and_left_alone(tmp_path: Path, command: list[str]) -> None:
    text = tmp_path / "notes.db"
    text.write_text("These are my notes, not a database.\n" * 200, encoding="utf-8")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE accounts (name TEXT)")
    conn.close()
    sums = {path: digest(path) for path in (text, other)}
    before = files_in(tmp_path)
    first = run(*command, db=text)
    assert (first.exit_code, first.output) == (
        1,
        f"Error: {text}: not a daybook store (file is not a database)\n",
    )
    second = run(*command, db=other)
    assert (second.exit_code, second.output) == (
        1,
        f"Error: {other}: not a daybook store (an SQLite database of something else)\n",
    )
    assert {path: digest(path) for path in (text, other)} == sums
    assert files_in(tmp_path) == before


def root_page(db: Path, table: str) -> tuple[int, int]:
    """Where a table's first page starts in the file, and the page size."""
    with sqlite3.connect(db) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    conn.close()
    return (page - 1) * size, size


DAMAGED = "the store is damaged (database disk image is malformed); restore it from a copy"


def test_a_truncated_store_is_named_damaged_and_not_touched(store_path: Path) -> None:
    data = store_path.read_bytes()
    store_path.write_bytes(data[: len(data) // 2])
    sums, before = digest(store_path), files_in(store_path.parent)
    for command in (["stats"], ["events", "--format", "jsonl"], ["search", "Kyiv"]):
        result = run(*command, db=store_path)
        assert (result.exit_code, result.output) == (1, f"Error: {store_path}: {DAMAGED}\n"), command
    assert digest(store_path) == sums and files_in(store_path.parent) == before


def test_damage_found_by_a_query_not_at_open_is_one_line_too(store_path: Path) -> None:
    offset, size = root_page(store_path, "events")
    with store_path.open("r+b") as file:
        file.seek(offset)
        file.write(b"\xa5" * size)
    sums = digest(store_path)
    store = Store(store_path, create=False)  # opens: the schema is whole
    with pytest.raises(StoreError) as caught, store:
        store.events()
    assert str(caught.value) == f"{store_path}: {DAMAGED}"
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)
    result = run("events", "--format", "jsonl", db=store_path)
    assert (result.exit_code, result.output) == (1, f"Error: {store_path}: {DAMAGED}\n")
    assert digest(store_path) == sums


# -- 3. arguments are checked before any work --------------------------------------------

REVERSED = "Error: --from 2024-05-08 is after --to 2024-05-06\n"
BAD_ARGUMENTS = [
    (["events", "--from", "2024-05-08", "--to", "2024-05-06"], REVERSED),
    (["events", "--to", "2024-05-06", "--from", "2024-05-08"], REVERSED),
    (["search", "Kyiv", "--from", "2024-05-08", "--to", "2024-05-06"], REVERSED),
    (["pull", "--from", "2024-05-08", "--to", "2024-05-06"], REVERSED),
    (["update", "{tmp}/site", "--from", "2024-05-08", "--to", "2024-05-06"], REVERSED),
    (
        ["events", "--date", "2024-02-30"],
        "Error: Invalid value for '--date': '2024-02-30' is not a date (day is out of range for month)\n",
    ),
    (
        ["events", "--from", "2024-5-6"],
        "Error: Invalid value for '--from': '2024-5-6' is not a date (want YYYY-MM-DD)\n",
    ),
    (
        ["ingest", "--date", "20240507", "x.wiki"],
        "Error: Invalid value for '--date': '20240507' is not a date (want YYYY-MM-DD)\n",
    ),
    (
        ["events", "--date", "2024-05-07", "--from", "2024-05-01"],
        "Error: give either --date or --from/--to, not both\n",
    ),
    (
        ["pull", "--from", "2999-01-01"],
        "Error: --from 2999-01-01 is after today ({today}, by UTC): give --to too\n",
    ),
    (["pull", "--to", "2024-05-06"], "Error: --to needs --from\n"),
    (["pull", "--days", "0"], "Error: Invalid value for '--days': 0 is not in the range x>=1.\n"),
    (["relate", "--k", "0"], "Error: Invalid value for '--k': 0 is not in the range x>=1.\n"),
    (["search", "Kyiv", "--limit", "0"], "Error: Invalid value for '--limit': 0 is not in the range x>=1.\n"),
    (
        ["enrich", "--concurrency", "0"],
        "Error: Invalid value for '--concurrency': 0 is not in the range x>=1.\n",
    ),
    (["enrich", "--per-host", "-2"], "Error: Invalid value for '--per-host': -2 is not in the range x>=1.\n"),
    (["relate", "--jobs", "0"], "Error: Invalid value for '--jobs': 0 is not in the range x>=1.\n"),
    (
        ["update", "{tmp}/site", "--jobs", "0"],
        "Error: Invalid value for '--jobs': 0 is not in the range x>=1.\n",
    ),
    (["enrich", "--delay", "-1"], "Error: Invalid value for '--delay': -1.0 is not in the range x>=0.\n"),
    (
        ["update", "{tmp}/site", "--delay", "-0.5"],
        "Error: Invalid value for '--delay': -0.5 is not in the range x>=0.\n",
    ),
    (["enrich", "--timeout", "-1"], "Error: Invalid value for '--timeout': -1.0 is not in the range x>0.\n"),
    (
        ["events", "--format", "csv"],
        "Error: Invalid value for '--format': 'csv' is not one of 'table', 'jsonl'.\n",
    ),
    (
        ["build", "{tmp}/site", "--formats", "md,pdf"],
        "Error: Invalid value for '--formats': unknown format(s) pdf; choose from md, html, json, xml\n",
    ),
    (
        ["update", "{tmp}/site", "--formats", ""],
        "Error: Invalid value for '--formats': unknown format(s) (none); choose from md, html, json, xml\n",
    ),
    (
        ["relate", "--ranker", "best"],
        "Error: Invalid value for '--ranker': 'best' is not one of 'shared', 'weighted'.\n",
    ),
    (
        ["update", "{tmp}/site", "--every", "often"],
        "Error: --every 'often': want an interval like 2h, 30m, 1h30m or 90s\n",
    ),
    (
        ["enrich", "--offline", "--refresh"],
        "Error: --offline fetches nothing: drop --via, --refresh and --retry-failed\n",
    ),
]


@pytest.mark.parametrize(
    ("args", "message"), BAD_ARGUMENTS, ids=lambda x: " ".join(x) if isinstance(x, list) else ""
)
def test_a_bad_argument_is_one_line_with_usage_status_and_no_work(
    tmp_path: Path, args: list[str], message: str
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    result = run(*(a.format(tmp=tmp_path) for a in args), db=tmp_path / "d.db")
    assert (result.exit_code, result.output) == (2, message.format(today=today))
    assert files_in(tmp_path) == set()  # not even ingest, pull or update made the store


def test_a_range_in_order_and_a_one_day_range_are_fine(store_path: Path) -> None:
    assert run("events", "--from", "2024-05-06", "--to", "2024-05-06", db=store_path).exit_code == 0
    assert run("search", "Kyiv", "--from", "2024-05-01", "--to", "2024-05-31", db=store_path).exit_code == 0


# -- 4. ingest --date, and messages name only options that exist --------------------------

UNDATED = "*[[Kabul]] hosts a conference on [[Afghanistan]]. [https://www.example.org/kabul (Example)]\n"


def test_ingest_date_names_the_day_of_a_page_without_one(tmp_path: Path) -> None:
    page = tmp_path / "notes.wiki"
    page.write_text(UNDATED, encoding="utf-8")
    db = tmp_path / "d.db"
    undated = run("ingest", str(page), db=db)
    assert undated.exit_code == 1
    assert undated.output.splitlines()[0] == (
        f"failed: {page}: no date in its name or its content: name the file like 2022-03-07.html,"
        " or give its date with --date YYYY-MM-DD"
    )
    dated = run("ingest", "--date", "2024-05-07", str(page), db=db)
    assert dated.exit_code == 0, dated.output
    assert dated.output == "1 of 1 files ingested: 1 days, 1 events (1 new, 0 edited, 0 removed)\n"
    assert run("events", "--date", "2024-05-07", "--format", "jsonl", db=db).output.count("Kabul") == 2


def test_ingest_date_takes_one_page_not_several_nor_jsonl(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    two = run("ingest", "--date", "2024-05-07", str(ROOT / "examples"), db=db)
    count = len([p for p in (ROOT / "examples").rglob("*") if p.suffix in (".html", ".wiki", ".jsonl")])
    assert (two.exit_code, two.output) == (
        2,
        f"Error: --date names the day of one page: give one file, not {count}\n",
    )
    export = tmp_path / "events.jsonl"
    export.write_text('{"date": "2024-05-07", "text": "Something happens."}\n', encoding="utf-8")
    jsonl = run("ingest", "--date", "2024-05-07", str(export), db=db)
    assert (jsonl.exit_code, jsonl.output) == (
        2,
        "Error: --date does not apply to JSONL: each event carries its own date\n",
    )
    assert not db.exists()


def message_strings() -> Iterator[tuple[str, str]]:
    """Every string literal (and f-string part) in the arguments of an exception or click
    error built anywhere in the package, and the option of each setting a ``UsageError``
    names (``setting="via"``: ``--via``), with where it is."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if not (name.endswith(("Error", "Exception")) or name in ("BadParameter", "fail")):
                continue
            for keyword in node.keywords:  # UsageError(..., setting="via"): the CLI says --via
                if keyword.arg == "setting" and isinstance(keyword.value, ast.Constant):
                    option = "--" + keyword.value.value.replace("_", "-")
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", option
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                for part in ast.walk(arg):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        yield f"{path.relative_to(ROOT)}:{part.lineno}", part.value


def command_options() -> dict[str, set[str]]:
    """Each command's options (the group's own under ''), as click knows them."""
    known = {"": {o for p in cli.params for o in (*p.opts, *p.secondary_opts)}}
    for name, command in cli.commands.items():
        known[name] = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    return known


def test_every_option_an_error_message_names_exists() -> None:
    known = command_options()
    everywhere = set().union(*known.values())
    named: dict[str, str] = {}
    for where, text in message_strings():
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", text):
            named[option] = where
            assert option in everywhere, f"{where}: {text!r} names {option}, which no command has"
        for command, rest in re.findall(r"(?:`|with )daybook ([a-z]+)((?: [^`;]*)?)", text):
            assert command in cli.commands, f"{where}: {text!r} names the command {command!r}"
            for option in re.findall(r"--[a-z][a-z-]*", rest):
                assert option in known[command], f"{where}: `daybook {command}` has no {option}"
    # The scan sees the messages this change wrote, so it can fail.
    assert {"--date", "--from", "--to", "--every", "--offline"} <= named.keys()


def test_the_readme_lists_every_command_and_the_new_options() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Using it", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^ {4}daybook ([a-z]+)", block, flags=re.MULTILINE))
    assert listed == set(cli.commands)
    assert "ingest [--date D] [--strict] PATH..." in block
    assert re.search(r"^ {4}daybook (pull|update) .*\[--strict\]", block, flags=re.MULTILINE)


# -- 5. an input with no event is named, and stores nothing --------------------------------


def test_the_shared_null_captures_are_sixty(shared_data: Path) -> None:
    nulls = [
        p.name
        for p in sorted((shared_data / "portal-html").glob("*.html"))
        if read_file(p).empty == NULL_CAPTURE
    ]
    assert len(nulls) == 60
    assert {n[:7] for n in nulls} == {"2020-10", "2021-01"}


def test_null_captures_are_warned_counted_and_not_stored(tmp_path: Path, shared_data: Path) -> None:
    folder = tmp_path / "days"
    folder.mkdir()
    portal = shared_data / "portal-html"
    months = [*portal.glob("2020-10-*.html"), *portal.glob("2021-01-*.html")]
    for page in [*months, portal / "2020-11-01.html", portal / "2021-02-01.html"]:
        shutil.copy(page, folder / page.name)
    db = tmp_path / "d.db"
    result = run("ingest", str(folder), db=db)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 60
    assert f"warning: {folder / '2020-10-05.html'}: null capture; skipped" in warnings
    summary = result.output.splitlines()[-1]
    assert summary.startswith("2 of 62 files ingested: 2 days, ")  # the first day of the next months
    assert summary.endswith("; 60 files skipped: no events")
    stats = json.loads(run("stats", "--json", db=db).output)
    assert (stats["days"], stats["first_date"], stats["last_date"]) == (2, "2020-11-01", "2021-02-01")
    strict = run("ingest", "--strict", str(folder / "2020-10-05.html"), db=db)
    assert strict.exit_code == 1
    assert strict.output.splitlines()[-1] == "Error: --strict: 1 file skipped: no events"


def test_an_empty_capture_never_wipes_a_stored_day(tmp_path: Path, shared_data: Path) -> None:
    db = tmp_path / "d.db"
    assert run("ingest", str(shared_data / "portal-html" / "2022-03-07.html"), db=db).exit_code == 0
    before = run("events", "--date", "2022-03-07", "--format", "jsonl", db=db).output
    count = len(before.splitlines())
    capture = tmp_path / "2022-03-07.html"
    shutil.copy(shared_data / "portal-html" / "2020-10-05.html", capture)
    again = run("ingest", str(capture), db=db)
    assert again.exit_code == 0
    assert (
        f"warning: {capture}: null capture; skipped, the store keeps its {count} events of 2022-03-07\n"
        in (again.output)
    )
    assert again.output.endswith(
        "0 of 1 files ingested: 0 days, 0 events (0 new, 0 edited, 0 removed); 1 file skipped: no events\n"
    )
    assert run("events", "--date", "2022-03-07", "--format", "jsonl", db=db).output == before


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("2020-01-01.html", "", "empty body"),
        ("2020-01-02.wiki", " \n\n", "empty body"),
        (
            "2020-01-03.html",
            "<html><head><title>Current Events</title></head><body> </body></html>",
            "empty body",
        ),
        (
            "2020-01-04.wiki",
            "{{Current events|year=2020|month=1|day=4|content=\n<!-- nothing yet -->\n}}\n",
            "only the header",
        ),
        ("2020-01-05.wiki", "{{Current events header|2020|01|5}}\n", "only the header"),
        ("2020-01-06.wiki", "{{Current events|year=2020|month=1|day=6|content=\n*\n* \n}}\n", "no events"),
    ],
)
def test_each_kind_of_empty_input_says_why(tmp_path: Path, name: str, content: str, why: str) -> None:
    page = tmp_path / name
    page.write_text(content, encoding="utf-8")
    db = tmp_path / "d.db"
    result = run("ingest", str(page), db=db)
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == f"warning: {page}: {why}; skipped"
    assert run("stats", "--json", db=db).output.startswith('{"days": 0,')


@pytest.fixture
def api() -> Iterator[StandInAPI]:
    server = StandInAPI().start()
    yield server
    server.stop()


def title(day: int) -> str:
    return PullSettings().title(dt.date(2024, 6, day))


def test_update_keeps_a_day_whose_page_was_emptied_and_strict_fails_on_it(
    api: StandInAPI, tmp_path: Path
) -> None:
    api.edit(title(1), WIKI % 1 + KABUL)
    header = api.edit(title(2), WIKI % 2)
    db, out = tmp_path / "d.db", tmp_path / "site"
    args = ["update", str(out), "--api", api.api, "--from", "2024-06-01", "--to", "2024-06-02",
            "--via", api.base, "--allow-private", "--wayback", "off", "--jobs", "1"]  # fmt: skip
    first = run(*args, "--strict", db=db)
    assert first.exit_code == 1
    assert f"warning: {title(2)} (revision {header}): only the header; skipped\n" in first.output
    assert "ingest: 1 day, 1 changed, 1 skipped (no events)" in first.output
    assert first.output.endswith("Error: --strict: 1 page skipped: no events\n")
    emptied = api.edit(title(1), WIKI % 1)
    second = run(*args, db=db)
    assert second.exit_code == 0, second.output
    assert (
        f"warning: {title(1)} (revision {emptied}): only the header; skipped,"
        " the store keeps its 1 event of 2024-06-01\n"
    ) in second.output
    assert "Kabul" in run("events", "--date", "2024-06-01", db=db).output
    third = run(*args, "--strict", db=db)  # read once: not warned about again
    assert third.exit_code == 0 and "warning" not in third.output


def test_pull_strict_fails_on_a_day_not_on_the_wiki(api: StandInAPI, tmp_path: Path) -> None:
    api.edit(title(1), WIKI % 1 + KABUL)
    db = tmp_path / "d.db"
    args = ["pull", "--api", api.api, "--from", "2024-06-01", "--to", "2024-06-03"]
    assert run(*args, db=db).exit_code == 0
    strict = run(*args, "--strict", db=db)
    assert strict.exit_code == 1
    assert strict.output == (
        "3 days: 0 pulled, 1 unchanged, 2 not on the wiki\n"
        "Error: --strict: 2 days not on the wiki (2024-06-02, 2024-06-03)\n"
    )
