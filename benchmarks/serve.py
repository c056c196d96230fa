"""Load ``daybook serve`` with wrk on loopback: pages, and searches.

The site is the real shared data, ingested, related and built into a temporary
folder (about a minute), unless --site and --db name one already built. The server
runs as ``daybook serve`` does, in its own process; wrk (Debian's ``wrk``) then runs
for a bounded time against each workload, every request a different path (a Lua
script walks the list):

- pages: up to 400 pages of every kind, each in a format drawn at random (event, day, entity, story, archive
  pages in .html, .md, .json and .xml);
- searches: ``/search?q=...&format=json`` for 40 queries of one to three words;
- search pages: the same queries as HTML.

For each: requests/s, latency p50 and p99, and errors (socket errors and answers
other than 2xx/3xx), which must be none.

Usage: python benchmarks/serve.py [--site DIR --db PATH] [--duration 10] [--threads 2] [--connections 16]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAYBOOK = Path(sys.executable).with_name("daybook")
DATA = ROOT.parent / "shared" / "data"
WORDS = [
    "kharkiv", "earthquake", "president", "election results", "covid vaccine", "supreme court",
    "wildfire", "liz truss", "zaporizhzhia nuclear plant", "protests", "floods", "taliban kabul",
    "bolsonaro", "hurricane florida", "ceasefire gaza", "olympics", "nobel prize", "oil prices",
    "missile strike", "prime minister resigns", "coup", "volcano", "world cup", "inflation",
    "pope francis", "climate summit", "cyclone", "train derailment", "hostages", "sanctions russia",
    "spacex launch", "vaccine mandate", "lockdown", "refugees", "mass shooting", "impeachment",
    "drone attack", "heatwave europe", "nuclear test", "general strike",
]  # fmt: skip
# Prints wrk's figures as one JSON line, and walks the request paths in turn.
LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %%d, "seconds": %%f, "p50_ms": %%f, "p99_ms": %%f, ' ..
    '"errors": %%d, "bad_status": %%d}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build(workdir: Path) -> tuple[Path, Path]:
    """The real data ingested, related and built, as the README's commands do."""
    db, site = workdir / "real.db", workdir / "site"
    for args in (
        ["ingest", str(DATA / "portal-html"), str(DATA / "portal-html-2025")],
        ["relate"],
        ["build", str(site)],
    ):
        subprocess.run([str(DAYBOOK), "--db", str(db), *args], check=True, stdout=subprocess.DEVNULL)
    return site, db


def sample_pages(site: Path, count: int = 400) -> list[str]:
    """Paths of pages of every kind and format, the same ones each run."""
    rng = random.Random(7)
    kinds = {
        "event": list((site / "news").glob("*/*/*/[!i]*.html")),
        "day": list((site / "news").glob("*/*/*/index.html")),
        "entity": list((site / "entity").glob("*.html")),
        "story": list((site / "story").glob("*.html")),
        "archive": list((site / "news").glob("*/*/index.html")),
    }
    paths = []
    for pages in kinds.values():
        for page in rng.sample(sorted(pages), min(count // len(kinds), len(pages))):
            ext = rng.choice(["html", "md", "json", "xml"])
            paths.append("/" + urllib.parse.quote(page.relative_to(site).with_suffix(f".{ext}").as_posix()))
    rng.shuffle(paths)
    return paths


@contextlib.contextmanager
def server(site: Path, db: Path, port: int) -> Iterator[str]:
    args = [str(DAYBOOK), "--db", str(db), "serve", str(site), "--port", str(port), "--quiet"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # until it answers
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url + "/index.html", timeout=1).close()
                break
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def wrk(url: str, paths: list[str], args: argparse.Namespace, workdir: Path, name: str) -> dict[str, float]:
    (workdir / f"{name}.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
    script = workdir / f"{name}.lua"
    script.write_text(LUA % (workdir / f"{name}.txt"), encoding="utf-8")
    load = [f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
    command = ["wrk", *load, "-s", str(script), url]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a site already built (with --db)")
    parser.add_argument("--db", type=Path, help="the store it was built from")
    parser.add_argument("--duration", type=int, default=10, help="seconds per workload (default 10)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="daybook-serve-") as tmp:
        workdir = Path(tmp)
        if args.site and args.db:
            site, db = args.site, args.db
        else:
            print("building the real data site...", file=sys.stderr)
            site, db = build(workdir)
        quoted = [urllib.parse.quote_plus(w) for w in WORDS]
        workloads = {
            "pages": sample_pages(site),
            "search (JSON)": [f"/search?q={q}&format=json" for q in quoted],
            "search (HTML)": [f"/search?q={q}" for q in quoted],
        }
        print(f"machine   {platform.processor() or platform.machine()}, Python {platform.python_version()}")
        print(f"wrk       -t{args.threads} -c{args.connections} -d{args.duration}s, loopback")
        with server(site, db, free_port()) as url:
            for name, paths in workloads.items():
                f = wrk(url, paths, args, workdir, name.split()[0] + str(len(name)))
                print(
                    f"{name:15} {f['requests'] / f['seconds']:8,.0f} req/s  p50 {f['p50_ms']:6.2f} ms"
                    f"  p99 {f['p99_ms']:6.2f} ms  errors {f['errors']:.0f}"
                    f"  non-2xx/3xx {f['bad_status']:.0f}"
                    f"  ({f['requests']:,.0f} requests, {len(paths)} paths)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
