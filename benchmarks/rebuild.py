"""Time a no-change rebuild against the full build it follows, for one or more versions of
daybook's code in turn, each build in a fresh process.

For each version (``--code DIR``: a folder holding a ``daybook`` package, such as a ``git
archive`` of a commit, put first on ``PYTHONPATH``; ``.`` for this checkout), and for each
of ``--rounds`` rounds: a full build of the store into a new folder, then ``--rebuilds``
builds of the same folder with nothing changed. Each line gives the wall time, the CPU
time (user + system of the build's process and its render workers), the files written and
kept, and the 1-minute load when it began; each rebuild, its share of the full build's wall
and CPU time. The store (``--store``: a related corpus, such as ``publish.py`` makes) is
only read; the sites' states go beside it (``DB.sites``).

Usage: python benchmarks/rebuild.py --store DB --workdir DIR [--code DIR ...]
                                    [--rounds 1] [--rebuilds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import run  # noqa: E402 - beside this script, not the package


@dataclass
class Run:
    seconds: float
    cpu: float
    written: int
    unchanged: int
    load: float


def build(db: Path, out: Path, code: Path | None) -> Run:
    """One build in a fresh process (``publish.py --measure``), with ``code`` first on the path."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code.resolve())
    load = os.getloadavg()[0]
    command = [sys.executable, str(HERE / "publish.py"), "--measure", str(db), str(out)]
    seconds, cpu, _, output = run(command, env)
    result = json.loads(output.strip().splitlines()[-1])
    return Run(seconds, cpu, int(result["written"]), int(result["unchanged"]), load)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a related corpus store (only read)")
    parser.add_argument("--workdir", type=Path, required=True, help="a folder for the sites")
    parser.add_argument(
        "--code", type=Path, action="append", help="a folder holding daybook (default: this one)"
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--rebuilds", type=int, default=2)
    args = parser.parse_args(argv)
    codes: list[Path | None] = list(args.code) if args.code else [None]
    args.workdir.mkdir(parents=True, exist_ok=True)
    for round_ in range(1, args.rounds + 1):
        for at, code in enumerate(codes):
            name = "this checkout" if code is None else str(code)
            out = args.workdir / f"site-{at}"
            shutil.rmtree(out, ignore_errors=True)
            full = build(args.store, out, code)
            print(
                f"round {round_}, {name}: full build {full.seconds:.1f} s, CPU {full.cpu:.1f} s,"
                f" {full.written:,} written (load {full.load:.1f})",
                flush=True,
            )
            for n in range(1, args.rebuilds + 1):
                again = build(args.store, out, code)
                print(
                    f"round {round_}, {name}: rebuild {n} {again.seconds:.1f} s"
                    f" ({again.seconds / full.seconds:.1%}),"
                    f" CPU {again.cpu:.1f} s ({again.cpu / full.cpu:.1%}),"
                    f" {again.written:,} written, {again.unchanged:,} kept (load {again.load:.1f})",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
