"""The event store (SQLite, or PostgreSQL through ``backend``): schema, migrations,
transactions and queries.

The only package that talks SQL. One day is the unit of change: ingesting a day
replaces that day's events in one transaction and leaves every other day alone.
Sources and entities outlive the events that cite them, so metadata fetched for a
source (enrich) survives a day being ingested again.
"""

from __future__ import annotations

from daybook.model import (
    ArticleMeta,
    DayChange,
    EntityInfo,
    PendingPublish,
    PortalPage,
    RawResponse,
    RelatedEvent,
    SearchRow,
    SourceJob,
    SourceRecord,
    Stats,
)
from daybook.store.backend import is_postgresql
from daybook.store.base import (
    DEFAULT_PATH,
    StoreBase,
    resolve_location,
    resolve_path,
    store_error,
    url_scheme,
)
from daybook.store.copy import copy_store
from daybook.store.dataset import DatasetMixin
from daybook.store.days import day_sha
from daybook.store.leases import LeasesMixin, pass_start
from daybook.store.portal_pages import PortalPagesMixin
from daybook.store.schema import MIGRATIONS
from daybook.store.search import MARK_END, MARK_START
from daybook.store.sources import SourcesMixin
from daybook.store.threads import ThreadsMixin

__all__ = [
    "DEFAULT_PATH",
    "MARK_END",
    "MARK_START",
    "MIGRATIONS",
    "ArticleMeta",
    "DayChange",
    "EntityInfo",
    "PendingPublish",
    "PortalPage",
    "RawResponse",
    "RelatedEvent",
    "SearchRow",
    "SourceJob",
    "SourceRecord",
    "Stats",
    "Store",
    "StoreBase",
    "copy_store",
    "day_sha",
    "is_postgresql",
    "pass_start",
    "resolve_location",
    "resolve_path",
    "store_error",
    "url_scheme",
]


class Store(PortalPagesMixin, SourcesMixin, ThreadsMixin, DatasetMixin, LeasesMixin):
    """An open daybook store. Use as a context manager, or call ``close()``.

    ``create=False`` opens only an existing store, creating no file at all (the commands
    that read); ``create=True`` makes the store when there is none (those that add data).
    A driver's error about the store itself, at open or later in a ``with`` block, becomes
    a ``StoreError`` naming the file.
    """
