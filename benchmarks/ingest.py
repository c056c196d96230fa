"""Ingest every shared portal day into a fresh store and print days/s and events/s.

Usage: python benchmarks/ingest.py [DATA_DIR ...]   (default: ../shared/data/portal-html*)
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from daybook.ingest import discover, ingest_paths
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETS = [
    ROOT.parent / "shared" / "data" / "portal-html",
    ROOT.parent / "shared" / "data" / "portal-html-2025",
]


def main(argv: list[str]) -> int:
    sets = [Path(a) for a in argv] or DEFAULT_SETS
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.db") as store:
        files = discover(sets)
        started = time.perf_counter()
        report = ingest_paths(store, files)
        elapsed = time.perf_counter() - started
        stats = store.stats()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"files            {report.files} ({len(report.failures)} failed)")
    print(f"days             {stats.days}")
    print(f"events           {stats.events}")
    print(f"seconds          {elapsed:.2f}")
    print(f"days/s           {stats.days / elapsed:.1f}")
    print(f"events/s         {stats.events / elapsed:.0f}")
    print(f"peak RSS MiB     {peak_mib:.0f}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
