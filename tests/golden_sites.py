"""The golden sites: two whole builds and the trees they are compared with.

``tests/test_golden_site.py`` builds each site in a fresh folder and compares every
published file, byte for byte, with ``tests/golden/site-<name>/``. Run as a script
(``scripts/regenerate-golden-sites``) it builds them again and replaces those trees,
for when a change of the output is intended: review ``git diff tests/golden`` before
committing it.

The builds go through the CLI in-process, as ``make demo`` runs it: ingest, relate,
build with the default formats and base URL.
"""

from __future__ import annotations

import difflib
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from daybook.cli import cli

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
DATA = ROOT.parent / "shared" / "data"
REGENERATE = "scripts/regenerate-golden-sites"


@dataclass(frozen=True)
class GoldenSite:
    """A build to keep golden: what is ingested, the opinion folder, and its expected tree."""

    name: str
    inputs: tuple[Path, ...]
    opinion: Path | None = None

    @property
    def expected(self) -> Path:
        return GOLDEN / f"site-{self.name}"


# `make demo`: the bundled example days and opinion piece.
EXAMPLE = GoldenSite("example", (ROOT / "examples",), ROOT / "examples" / "opinion")
# One real day of the shared data (10 events, sources, entities, stories), alone.
DAY = GoldenSite("day", (DATA / "portal-html-2025" / "2026-01-13.html",))
SITES = (EXAMPLE, DAY)


def daybook(*args: str) -> str:
    """Run the ``daybook`` CLI in-process; its output, or an AssertionError saying why it failed."""
    result = CliRunner().invoke(cli, list(args), obj={})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, f"daybook {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result.output


def build(site: GoldenSite, work: Path, jobs: int | None = None) -> Path:
    """Build ``site`` as ``make demo`` does, with its store and output in ``work``; the output.
    ``jobs``: the build's processes (default: as ``make demo``, one per CPU)."""
    missing = [str(p) for p in site.inputs if not p.exists()]
    assert not missing, f"inputs of the {site.name} site missing: {', '.join(missing)}"
    work.mkdir(parents=True, exist_ok=True)
    db = str(work / "daybook.db")
    out = work / "site"
    daybook("--db", db, "ingest", *map(str, site.inputs))
    daybook("--db", db, "relate")
    opinion = ("--opinion", str(site.opinion)) if site.opinion else ()
    processes = ("--jobs", str(jobs)) if jobs is not None else ()
    daybook("--db", db, "build", str(out), *opinion, *processes)
    return out


def published(root: Path) -> dict[str, Path]:
    """The site's published files by their path under ``root`` ('/'-separated): every
    file but hidden ones (``.daybook-site.db``, ``.git`` and whatever is under a hidden
    folder), which are the build's own state, not the site."""
    files: dict[str, Path] = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or path.is_dir():
            continue
        files[relative.as_posix()] = path
    return files


@dataclass(frozen=True)
class Comparison:
    """How an actual tree differs from the expected one."""

    missing: list[str]
    extra: list[str]
    differing: list[str]
    diffs: list[str]

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.differing)

    def report(self, expected: Path, actual: Path, shown: int = 20) -> str:
        lines = [
            f"the built site {actual} differs from {expected}: {len(self.missing)} missing,"
            f" {len(self.extra)} extra, {len(self.differing)} differing files"
        ]
        for label, names in (
            ("missing (expected, not built)", self.missing),
            ("extra (built, not expected)", self.extra),
            ("differing", self.differing),
        ):
            if names:
                lines.append(f"{label}:")
                lines.extend(f"  {name}" for name in names[:shown])
                if len(names) > shown:
                    lines.append(f"  ... and {len(names) - shown} more")
        lines.extend(self.diffs)
        lines.append(
            f"If the change is intended, run {REGENERATE} and review and commit `git diff tests/golden`."
        )
        return "\n".join(lines)


def compare(expected: Path, actual: Path, diffs: int = 3, diff_lines: int = 60) -> Comparison:
    """Every published file of ``actual`` against ``expected``, byte for byte; a unified
    diff of the first ``diffs`` differing text files, at most ``diff_lines`` lines each."""
    want = published(expected)
    got = published(actual)
    common = want.keys() & got.keys()
    differing = sorted(name for name in common if want[name].read_bytes() != got[name].read_bytes())
    shown: list[str] = []
    for name in differing[:diffs]:
        shown.append(unified_diff(name, want[name].read_bytes(), got[name].read_bytes(), diff_lines))
    return Comparison(sorted(want.keys() - got.keys()), sorted(got.keys() - want.keys()), differing, shown)


def unified_diff(name: str, want: bytes, got: bytes, limit: int) -> str:
    try:
        old, new = want.decode("utf-8"), got.decode("utf-8")
    except UnicodeDecodeError:
        return f"--- {name}: binary, {len(want)} bytes expected, {len(got)} built"
    lines = list(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"expected/{name}",
            f"built/{name}",
            n=2,
        )
    )
    if not lines:  # only line endings or a final newline differ
        lines = [f"--- {name}: same lines, different line endings or final newline\n"]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... {len(lines) - limit} more diff lines\n"]
    # A long line (minified JSON, one-line XML) is cut so that the report stays readable.
    return "".join(line if len(line) <= 400 else line[:400] + " [...]\n" for line in lines).rstrip("\n")


def replace_tree(built: Path, expected: Path) -> None:
    """Make ``expected`` hold exactly the published files of ``built``."""
    if expected.exists():
        shutil.rmtree(expected)
    for name, path in published(built).items():
        target = expected / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def tree_size(root: Path) -> tuple[int, int]:
    """The number of published files under ``root`` and their bytes."""
    files = published(root).values()
    return len(files), sum(path.stat().st_size for path in files)


def regenerate(sites: Iterable[GoldenSite]) -> None:
    """Build each site twice in fresh folders, refuse if the two builds differ (the
    golden test could never pass), else replace its expected tree."""
    for site in sites:
        with tempfile.TemporaryDirectory(prefix=f"golden-{site.name}-") as work:
            first = build(site, Path(work) / "first")
            second = build(site, Path(work) / "second")
            unstable = compare(first, second)
            if unstable:
                sys.exit(f"the {site.name} build is not deterministic:\n{unstable.report(first, second)}")
            before = compare(site.expected, first) if site.expected.exists() else None
            replace_tree(first, site.expected)
        count, size = tree_size(site.expected)
        change = (
            "new"
            if before is None
            else f"{len(before.missing)} removed, {len(before.extra)} added, {len(before.differing)} changed"
        )
        print(f"{site.expected.relative_to(ROOT)}: {count} files, {size / 1e6:.2f} MB ({change})")


def main(argv: list[str]) -> None:
    names = {site.name: site for site in SITES}
    unknown = [name for name in argv if name not in names]
    if unknown or any(arg in ("-h", "--help") for arg in argv):
        sys.exit(f"usage: {REGENERATE} [{' '.join(names)}]  (all of them by default)")
    regenerate([names[name] for name in argv] if argv else SITES)


if __name__ == "__main__":
    main(sys.argv[1:])
