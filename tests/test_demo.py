"""``make demo``'s steps (scripts/demo) in a temporary folder: the example days ingested,
their sources enriched from the loopback stand-in serving ``examples/articles``, related
and built; the event pages show lede, cover image and publisher, and the covers are in
the site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parents[1]


def test_the_demo_enriches_the_example_from_its_stand_in(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BIN": str(Path(sys.executable).parent),
        "DB": str(tmp_path / "example.db"),
        "OUT": str(tmp_path / "site"),
        "EXAMPLES": str(ROOT / "examples"),
    }
    run = subprocess.run(
        [ROOT / "scripts" / "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "19 fetched, 0 archived, 0 failed" in run.stderr + run.stdout
    site = tmp_path / "site"
    pages = [p for p in (site / "news").rglob("*.json") if p.name != "index.json"]
    assert len(pages) == 16
    for path in pages:  # every event: each of its sources was written an article
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["lede"] and data["image"], path
        assert all(s["publisher"] and s["title"] for s in data["sources"]), path
        image = data["image"].removeprefix("http://localhost:8000/")
        assert image != data["image"] and (site / image).is_file(), "the cover is in the site"

    page = next((site / "news/2024/05/7").glob("the-airport-of-porto-alegre*.html"))
    doc = lxml_html.parse(str(page)).getroot()
    assert doc.xpath("string(//p[@class='lede'])").startswith("With water over the runway")
    # The site's own image, linked relatively: it shows opened from a file too.
    assert doc.xpath("//figure[@class='cover']/img/@src") == ["../../../../images/flood.svg"]
    assert "Example Wire" in doc.xpath("string(//ol[@class='sources']/li)")
    assert (
        doc.xpath("string(//ol[@class='sources']/li/a/cite)")
        == "Porto Alegre airport shuts until the end of May"
    )
