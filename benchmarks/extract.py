"""Extract metadata from the 181 real article pages and print coverage and cleanliness.

Coverage is what the pages themselves give: no portal outlet is passed, so publisher
is not padded with the fallback enrich uses. Every text is put through ftfy's badness
check and searched for HTML entities and U+FFFD; the figures should all be zero.

Usage: python benchmarks/extract.py [DATA_DIR]   (default: ../shared/data/articles-scrapinghub)
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

import ftfy.badness

from daybook.enrich.extract import extract_article, has_entity

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "articles-scrapinghub"
FIELDS = ("lede", "image", "publisher", "title", "published")


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else DEFAULT
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = [
        (gzip.decompress((folder / "html" / f"{k}.html.gz").read_bytes()), v["url"]) for k, v in truth.items()
    ]
    started = time.perf_counter()
    articles = [
        extract_article(body, url=url, headers={"Content-Type": "text/html; charset=utf-8"})
        for body, url in pages
    ]
    elapsed = time.perf_counter() - started
    total = len(articles)
    texts = [t for a in articles for t in (a.title, a.lede, a.publisher) if t]
    print(f"pages                 {total}")
    for field in FIELDS:
        found = sum(1 for a in articles if getattr(a, field))
        print(f"{field + ' coverage':<22}{found / total:6.1%}  ({found})")
    either = sum(1 for a in articles if a.publisher or a.title)
    print(f"{'publisher or title':<22}{either / total:6.1%}  ({either})")
    print(f"texts checked         {len(texts)}")
    print(f"ftfy badness          {sum(1 for t in texts if ftfy.badness.is_bad(t))}")
    print(f"HTML entities         {sum(1 for t in texts if has_entity(t))}")
    print(f"U+FFFD                {sum(1 for t in texts if chr(0xFFFD) in t)}")
    print(f"ms/page               {elapsed / total * 1000:.2f}  (one CPU, trafilatura set-up included)")
    bad = any(ftfy.badness.is_bad(t) or has_entity(t) or chr(0xFFFD) in t for t in texts)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
