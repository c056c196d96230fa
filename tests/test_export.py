"""``daybook export`` (issue 21): the research dataset of the shared 2025 set, byte for byte
reproducible, its Parquet copies with the documented schema, every line valid against
its JSON Schema, and a datasheet whose counts are the store's; WCEP's layout with the
article texts of the pages enrich kept (a stand-in web on loopback)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from standin_web import StandInWeb, events_jsonl, ground_truth

from daybook.cli import cli
from daybook.export import FIELDS, TABLES, ExportOptions, export, parquet_schema
from daybook.ingest import ingest_paths
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "docs" / "schemas" / "export"


def lines(path: Path) -> list[dict[str, object]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def run(*args: str, db: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], obj={})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def store_2025(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    db = tmp_path_factory.mktemp("export") / "2025.db"
    with Store(db, create=True) as store:
        report = ingest_paths(store, [shared_data / "portal-html-2025"])
        assert not report.failures
    return db


@pytest.mark.slow
def test_export_of_the_2025_set_is_reproducible_valid_and_counted(store_2025: Path, tmp_path: Path) -> None:
    code, output = run("export", str(tmp_path / "a"), "--wcep", db=store_2025)
    assert code == 0, output
    code, _ = run("export", str(tmp_path / "b"), "--wcep", db=store_2025)
    assert code == 0
    a, b = tmp_path / "a", tmp_path / "b"
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(
        ["DATASHEET.md", "SHA256SUMS", *(f"{t}.{ext}" for t in TABLES for ext in ("jsonl.gz", "parquet"))]
    )
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    # Again into the same folder: the same bytes, nothing else there.
    code, _ = run("export", str(a), "--wcep", db=store_2025)
    assert code == 0 and sorted(p.name for p in a.iterdir()) == names
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    # SHA256SUMS lists every other file with its digest.
    sums = dict(reversed(line.split("  ")) for line in (a / "SHA256SUMS").read_text().splitlines())
    assert sorted(sums) == [n for n in names if n != "SHA256SUMS"]
    assert all(hashlib.sha256((a / n).read_bytes()).hexdigest() == sums[n] for n in sums)

    code, stats_out = run("stats", "--json", db=store_2025)
    stats = json.loads(stats_out)
    events = lines(a / "events.jsonl.gz")
    assert len(events) == stats["events"]
    assert len(lines(a / "sources.jsonl.gz")) == stats["sources"]
    assert len(lines(a / "entities.jsonl.gz")) == stats["entities"]
    for table in TABLES:
        schema = json.loads((SCHEMAS / f"{table}.json").read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(schema)
        rows = lines(a / f"{table}.jsonl.gz")
        for row in rows:
            validator.validate(row)
        assert [name for name, *_ in FIELDS[table]] == list(schema["properties"])
        # The Parquet copy: the documented schema, the same rows.
        parquet = pq.read_table(a / f"{table}.parquet")
        assert parquet.schema.equals(parquet_schema(table))
        assert parquet.num_rows == len(rows)
        first = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in parquet.slice(0, 1).to_pylist()[0].items()
        }
        assert first == rows[0]
    # The datasheet's counts are the store's.
    sheet = (a / "DATASHEET.md").read_text(encoding="utf-8")
    assert f"| events | {stats['events']} |" in sheet
    assert f"| sources | {stats['sources']} |" in sheet
    assert f"| entities | {stats['entities']} |" in sheet
    per_category = Counter(e["category"] for e in events)
    per_year = Counter(str(e["date"])[:4] for e in events)
    header = next(line for line in sheet.splitlines() if line.startswith("| category |"))
    years = [c.strip() for c in header.strip("|").split("|")][1:-1]
    assert years == sorted(per_year)
    for category, total in per_category.items():
        row = next(line for line in sheet.splitlines() if line.startswith(f"| {category} |"))
        cells = [int(c) for c in row.strip("|").split("|")[1:]]
        by_year = Counter(str(e["date"])[:4] for e in events if e["category"] == category)
        assert cells == [*(by_year[y] for y in years), total]
    assert re.search(r"store fingerprint .*`[0-9a-f]{64}`", sheet)
    with Store(store_2025) as store:
        assert store.fingerprint() in sheet
    for name, *_ in (f for table in TABLES for f in FIELDS[table]):
        assert f"| {name} |" in sheet


def test_export_selects_days_and_a_category(store_2025: Path, tmp_path: Path) -> None:
    options = ExportOptions(category="Sports", parquet=False)
    with Store(store_2025) as store:
        from datetime import date

        report = export(store, tmp_path / "x", ExportOptions(start=date(2026, 1, 1), end=date(2026, 1, 31)))
        sports = export(store, tmp_path / "s", options)
    january = lines(tmp_path / "x" / "events.jsonl.gz")
    assert january and all(str(e["date"]).startswith("2026-01") for e in january)
    assert report.rows["events"] == len(january)
    assert sports.rows["events"] > 0
    assert {e["category"] for e in lines(tmp_path / "s" / "events.jsonl.gz")} == {"Sports"}
    assert not (tmp_path / "s" / "events.parquet").exists()


def test_export_refuses_a_folder_holding_other_files(store_2025: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    code, output = run("export", str(tmp_path), db=store_2025)
    assert code == 1 and "mine.txt: in the way" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


@pytest.fixture(scope="module")
def web(shared_data: Path) -> Iterator[StandInWeb]:
    server = StandInWeb.with_articles().start()
    yield server
    server.stop()


@pytest.mark.slow
def test_wcep_articles_carry_the_text_of_the_kept_pages(web: StandInWeb, tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    truth = json.loads((web_data() / "ground-truth.json").read_text(encoding="utf-8"))
    cited = list(ground_truth().values())[:12]
    (tmp_path / "e.jsonl").write_text(events_jsonl(cited), encoding="utf-8")
    assert run("ingest", str(tmp_path / "e.jsonl"), db=db)[0] == 0
    enrich = ["enrich", "--via", web.base, "--allow-private", "--delay", "0", "--wayback", "off"]
    assert run(*enrich, db=db)[0] == 0
    code, output = run("export", str(tmp_path / "out"), "--wcep", db=db)
    assert code == 0, output
    rows = lines(tmp_path / "out" / "wcep.jsonl.gz")
    schema = json.loads((SCHEMAS / "wcep.json").read_text(encoding="utf-8"))
    by_url = {entry["url"]: entry["articleBody"] for entry in truth.values()}
    with_text = 0
    for row in rows:
        jsonschema.validate(row, schema)
        (article,) = row["articles"]
        assert article["url"] == row["reference_urls"][0] and article["origin"] == "WCEP"
        if article["text"]:
            with_text += 1
            words = set(str(by_url[article["url"]]).split())
            found = set(article["text"].split())
            assert len(words & found) >= 0.5 * min(len(words), len(found)), article["url"]
    assert with_text >= 10


def web_data() -> Path:
    return ROOT.parent / "shared" / "data" / "articles-scrapinghub"
