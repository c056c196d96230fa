"""Reading the store ahead of the pages that need it, in a thread of its own.

An update makes the pages of each name its day touches one after another; most of a
name's reading is the database's own work (joining and counting thousands of rows),
during which the driver lets go of Python's lock. Read ahead in a thread, with a
connection of its own, it runs on the other core while this one makes the pages of
the names before it.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from daybook.store import Store

Item = TypeVar("Item")
Result = TypeVar("Result")

DEPTH = 16  # items read ahead of the one being used, at most (what they hold stays small)


class _Reader(Generic[Item, Result]):
    """``read(store, item)`` of each item, in order, a few items ahead of their use."""

    def __init__(
        self,
        location: str,
        items: Iterable[Item],
        read: Callable[[Store, Item], Result],
        pool: concurrent.futures.ThreadPoolExecutor,
    ) -> None:
        self._location, self._items, self._read, self._pool = location, iter(items), read, pool
        self._store: Store | None = None  # opened, used and closed in the pool's one thread
        self._pending: collections.deque[concurrent.futures.Future[Result]] = collections.deque()

    def _task(self, item: Item) -> Result:
        if self._store is None:
            self._store = Store(self._location, create=False)
        return self._read(self._store, item)

    def _submit_next(self) -> None:
        for item in self._items:
            self._pending.append(self._pool.submit(self._task, item))
            return

    def results(self) -> Iterator[Result]:
        for _ in range(DEPTH):
            self._submit_next()
        while self._pending:
            result = self._pending.popleft().result()  # a reading's error is raised here
            self._submit_next()
            yield result

    def close(self) -> None:
        """Drop the readings not started; close the connection in the thread that opened it."""
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        # After the reading under way, if any (it may be opening the store).
        self._pool.submit(self._close_store).result()

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


@contextlib.contextmanager
def read_ahead(
    location: str, items: Iterable[Item], read: Callable[[Store, Item], Result]
) -> Iterator[Iterator[Result]]:
    """``read(store, item)`` of each of ``items``, in their order, read in a thread over a
    connection of its own to the store at ``location`` (opened, never created), up to
    ``DEPTH`` items ahead. An error of a reading is raised where its result is taken."""
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="daybook-read-ahead") as pool:
        reader = _Reader(location, items, read, pool)
        try:
            yield reader.results()
        finally:
            reader.close()
