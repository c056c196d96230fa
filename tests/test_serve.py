"""``daybook serve``: the site's files with their content types, search in HTML and JSON,
and no way out of the site."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html

from daybook.cli import cli
from daybook.ingest import ingest_paths
from daybook.publish import build_site
from daybook.render import html
from daybook.serve import SiteServer, resolve, serve
from daybook.store import Store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example site and its store, with a secret beside the site and a symlink to it."""
    tmp = tmp_path_factory.mktemp("serve")
    with Store(tmp / "site.db") as store:
        assert not ingest_paths(store, [ROOT / "examples"]).failures
        build_site(store, tmp / "site")
    (tmp / "secret.txt").write_text("secret", encoding="utf-8")
    os.symlink(tmp / "secret.txt", tmp / "site" / "leak.txt")
    os.symlink(tmp, tmp / "site" / "outside")
    return tmp / "site", tmp / "site.db"


def running(server: SiteServer) -> Iterator[SiteServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def server(built: tuple[Path, Path]) -> Iterator[SiteServer]:
    yield from running(serve(built[0], port=0, db=built[1], quiet=True))


def get(server: SiteServer, path: str, method: str = "GET", **headers: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    conn.request(method, path, headers=headers)
    response = conn.getresponse()
    response.read()
    return response


def raw(server: SiteServer, target: str) -> str:
    """The status line for a request target sent exactly as written (clients normalise ``..``)."""
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1"))
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_every_format_has_its_content_type(server: SiteServer) -> None:
    for path, expected in [
        ("/index.md", "text/markdown; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/index.json", "application/json"),
        ("/index.xml", "application/xml; charset=utf-8"),
        ("/entity/porto-alegre.md", "text/markdown; charset=utf-8"),
        ("/index_rss.xml", "application/rss+xml; charset=utf-8"),
        ("/index_atom.xml", "application/atom+xml; charset=utf-8"),
        ("/index_feed.json", "application/feed+json"),
        ("/" + html.stylesheet_path(), "text/css; charset=utf-8"),  # assets/style.<hash>.css
        ("/robots.txt", "text/plain; charset=utf-8"),
        ("/assets/search.js", "text/javascript; charset=utf-8"),
        ("/search/manifest.json", "application/json"),
    ]:
        response = get(server, path)
        assert (response.status, response.getheader("Content-Type")) == (200, expected), path
        assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_folders_redirect_by_path_and_serve_their_index(server: SiteServer) -> None:
    response = get(server, "/news", Host="example.org")
    assert response.status == 301 and response.getheader("Location") == "/news/"
    assert get(server, "/news/").status == 200 and get(server, "/").status == 200
    assert get(server, "/news/2024/05/7/index").getheader("Content-Type").startswith("text/html")


def test_head_conditional_get_and_methods(server: SiteServer) -> None:
    full = get(server, "/index.html")
    head = get(server, "/index.html", "HEAD")
    assert head.status == 200 and head.getheader("Content-Length") == full.getheader("Content-Length")
    assert get(server, "/index.html", **{"If-None-Match": full.getheader("ETag") or ""}).status == 304
    assert get(server, "/index.html", "POST").status == 405


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/news/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",
        "/news/..%5c..%5csecret.txt",
        "/%252e%252e/secret.txt",
        "/leak.txt",
        "/outside/secret.txt",
        "/.daybook-pages.json",
        "/index.html%00.txt",
        "//etc/passwd",
        "/..",
    ],
)
def test_no_path_leaves_the_site(server: SiteServer, target: str) -> None:
    assert raw(server, target).split(" ")[1] in ("400", "404"), target


def test_resolve_refuses_what_leaves_the_root(built: tuple[Path, Path]) -> None:
    root = built[0].resolve()
    assert resolve(root, "/index.html") == root / "index.html"
    for path in ("/../secret.txt", "/a/../../x", "/leak.txt", "/outside", "/.hidden", "/x%00", "/a\\b"):
        assert resolve(root, path) is None, path


def test_search_answers_json_and_html(server: SiteServer) -> None:
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    conn.request("GET", "/search?q=porto+alegre+airport&format=json")
    response = conn.getresponse()
    assert response.getheader("Content-Type") == "application/json"
    hits = json.loads(response.read())
    assert hits[0]["text"].startswith("The airport of Porto Alegre")
    for hit in hits:
        assert {"id", "date", "text", "url"} <= set(hit)
        conn.request("GET", hit["url"])  # the same keep-alive connection
        page = conn.getresponse()
        assert page.status == 200 and hit["text"] in page.read().decode("utf-8")
    conn.request("GET", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E+porto")
    page = conn.getresponse()
    body = page.read().decode("utf-8")
    assert page.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "<script>alert" not in body
    doc = lxml_html.fromstring(body)
    assert doc.xpath("//ol[@id='search-results']/li/a/@href")
    assert doc.xpath("//ol[@id='search-results']//mark")
    conn.request("GET", "/search?format=json")
    assert json.loads(conn.getresponse().read()) == []


def test_without_a_store_search_uses_the_static_index(built: tuple[Path, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(built[0], site, symlinks=True)
    for server in running(serve(site, port=0, db=tmp_path / "missing.db", quiet=True)):
        assert server.searcher.backend == "the site's static index"
        conn = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
        conn.request("GET", "/search?q=airport&format=json")
        hits = json.loads(conn.getresponse().read())
        assert hits and hits[0]["url"].startswith("/news/2024/05/7/the-airport")


def test_serve_command_refuses_a_missing_folder_and_a_taken_port(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["serve", str(tmp_path / "nowhere")], obj={})
    assert missing.exit_code != 0 and "does not exist" in missing.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = runner.invoke(cli, ["serve", str(tmp_path), "--port", str(port)], obj={})
    assert busy.exit_code == 1 and "cannot listen" in busy.output


def test_a_missing_page_gets_the_site_404_page(server: SiteServer) -> None:
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    conn.request("GET", "/news/1999/01/1/no-such-event.html")
    response = conn.getresponse()
    body = response.read().decode("utf-8")
    assert response.status == 404 and response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "<h1>Page not found</h1>" in body and 'href="/index.html"' in body
