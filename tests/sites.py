"""Small sites built for the reader's tests: the bundled example days, and one real month
of the portal (March 2026 of ``../shared/data/portal-html-2025``), each ingested, related
and built in every format."""

from __future__ import annotations

import functools
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from daybook.ingest import ingest_paths
from daybook.ingest.entities import resolve
from daybook.ingest.pull import PullSettings
from daybook.publish import BuildOptions, build_site
from daybook.relate import Settings, refresh
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


def build(out: Path, *inputs: Path, opinion: Path | None = None) -> Path:
    """``inputs`` ingested, related and built into ``out / "site"``."""
    with Store(out / "site.db") as store:
        report = ingest_paths(store, list(inputs))
        assert not report.failures, report.failures[:3]
        refresh(store, Settings(), workers=1)
        build_site(store, out / "site", BuildOptions(opinion_dir=opinion))
    return out / "site"


def example_site(out: Path) -> Path:
    return build(out, ROOT / "examples", opinion=ROOT / "examples" / "opinion")


def example_editions(out: Path) -> Path:
    """The example in both editions (``daybook build --editions en,zh``), its entities
    asked of a stand-in for the MediaWiki API that knows ``examples/entities.json``."""
    from standin_api import StandInAPI  # only here: the other sites need no API

    api = StandInAPI().start().load_articles(ROOT / "examples" / "entities.json")
    try:
        with Store(out / "site.db") as store:
            ingest_paths(store, [ROOT / "examples"])
            refresh(store, Settings(), workers=1)
            resolve(store, PullSettings(api=api.api, delay=0))
            options = BuildOptions(opinion_dir=ROOT / "examples" / "opinion", editions=("en", "zh"))
            build_site(store, out / "site", options)
    finally:
        api.stop()
    return out / "site"


def real_month(out: Path) -> Path:
    """March 2026 of the real rendered portal pages."""
    days = out / "days"
    days.mkdir()
    for page in sorted((SHARED / "data" / "portal-html-2025").glob("2026-03-*.html")):
        shutil.copy(page, days / page.name)
    assert len(list(days.iterdir())) >= 28
    return build(out, days)


class QuietHandler(SimpleHTTPRequestHandler):
    """Python's own static file server, as a reader might deploy the site; logs nothing."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """``folder`` served by http.server on a loopback port: its address, no slash at the end."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def axe_source() -> str:
    """axe-core's script, from npm into ``.cache/axe`` the first time (``make test`` does it too)."""
    if not AXE.is_file():
        prefix = str(ROOT / ".cache" / "axe")
        command = ["npm", "install", "--prefix", prefix, "axe-core@4", "--no-audit", "--no-fund"]
        subprocess.run(command, check=True, capture_output=True)
    return AXE.read_text(encoding="utf-8")
