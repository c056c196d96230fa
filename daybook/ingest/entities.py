"""Entities as the wiki knows them: each entity title asked of the MediaWiki API.

An entity is the link text's article title, so ``ISIS`` and ``Islamic State of Iraq
and the Levant`` were two entities. ``resolve`` asks the API, 50 titles a request and
as politely as ``pull`` (the same client), for each title the stored events hold and
whose answer is missing or older than ``max_age``:

- its redirect target (``redirects=1``): the store then merges the title into the
  article it leads to, wherever events hold it (``Store.save_entity_info``);
- its Wikidata item and whether it is a disambiguation page
  (``prop=pageprops&ppprop=wikibase_item|disambiguation``);
- its short description (``prop=description``);
- its title on the Chinese Wikipedia (``prop=langlinks&lllang=zh``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from daybook.errors import UsageError
from daybook.ingest.pull import BATCH, MediaWiki, PullSettings
from daybook.model import EntityInfo
from daybook.net.settings import DEFAULT_MAX_AGE
from daybook.store import Store


@dataclass
class EntitiesReport:
    """What one round of ``resolve`` did."""

    asked: int = 0
    merged: list[tuple[str, str]] = field(default_factory=list)  # (alias, target) merged
    missing: int = 0
    disambiguation: int = 0
    requests: int = 0

    def summary(self) -> str:
        line = f"{self.asked} entit{'y' if self.asked == 1 else 'ies'} asked, {len(self.merged)} merged"
        if self.missing:
            line += f", {self.missing} not on the wiki"
        if self.disambiguation:
            line += f", {self.disambiguation} disambiguation"
        return line


def read_answer(titles: Sequence[str], parts: Iterable[dict[str, Any]], asked_at: str) -> list[EntityInfo]:
    """The information of each title asked (and of each article a title led to, so the
    merged entity has its own), from the parts of one query's answer. Pure."""
    names: dict[str, str] = {}  # asked or normalized title -> the title the API went on with
    pages: dict[str, dict[str, Any]] = {}
    for query in parts:
        for hop in ("normalized", "redirects"):
            names.update((str(n["from"]), str(n["to"])) for n in query.get(hop, []) if "to" in n)
        for page in query.get("pages", []):
            if page.get("invalid"):
                continue
            known = pages.setdefault(str(page["title"]), {})
            for key, value in page.items():  # a page can come in parts (continue)
                if key == "langlinks" and "langlinks" in known:
                    known["langlinks"] = [*known["langlinks"], *value]
                else:
                    known[key] = value
    infos: dict[str, EntityInfo] = {}
    for title in titles:
        target = title
        for _ in range(3):  # normalized, then redirected, then the redirect's normalization
            target = names.get(target, target)
        page = pages.get(target)
        if page is None:  # an invalid title: nothing to say of it
            continue
        info = _info(target, page, asked_at)
        infos[title] = EntityInfo(
            **{**info.__dict__, "title": title, "target": None if target == title else target}
        )
        if target != title and not info.missing:
            infos.setdefault(target, info)
    return list(infos.values())


def _info(title: str, page: dict[str, Any], asked_at: str) -> EntityInfo:
    props = page.get("pageprops") or {}
    zh = next((str(link["title"]) for link in page.get("langlinks", []) if link.get("lang") == "zh"), None)
    description = page.get("description")
    return EntityInfo(
        title=title,
        missing=bool(page.get("missing")),
        qid=str(props["wikibase_item"]) if props.get("wikibase_item") else None,
        description=str(description) if description else None,
        zh_title=zh or None,
        disambiguation="disambiguation" in props,
        asked_at=asked_at,
    )


def resolve(
    store: Store,
    settings: PullSettings | None = None,
    *,
    max_age: dt.timedelta = DEFAULT_MAX_AGE,
    now: dt.datetime | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> EntitiesReport:
    """Ask the API about every entity title with no answer younger than ``max_age``;
    keep the answers and merge the redirects (each batch committed as it comes)."""
    if max_age < dt.timedelta(0):
        raise UsageError("the age after which to ask again cannot be negative", setting="max_age")
    now = now or dt.datetime.now(dt.UTC)
    asked_at = now.isoformat(timespec="seconds")
    titles = store.entities_to_ask((now - max_age).isoformat(timespec="seconds"))
    report = EntitiesReport(asked=len(titles))
    with MediaWiki(settings, transport=transport, sleep=sleep) as wiki:
        for start in range(0, len(titles), BATCH):
            chunk = titles[start : start + BATCH]
            parts = wiki.query(
                {
                    "titles": "|".join(chunk),
                    "redirects": "1",
                    "prop": "pageprops|description|langlinks",
                    "ppprop": "wikibase_item|disambiguation",
                    "lllang": "zh",
                    "lllimit": "max",
                }
            )
            infos = read_answer(chunk, list(parts), asked_at)
            report.merged += store.save_entity_info(infos)
            asked = [i for i in infos if i.title in chunk]
            report.missing += sum(i.missing for i in asked)
            report.disambiguation += sum(i.disambiguation for i in asked)
        report.requests = wiki.requests
    return report
