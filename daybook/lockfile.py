"""One process at a time: an exclusive lock on a file, which names its holder."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from daybook.errors import LockedError


@contextlib.contextmanager
def exclusive(path: Path, refused: Callable[[str], str]) -> Iterator[None]:
    """Hold the lock ``path`` (made with its folder where missing), or raise ``LockedError``
    at once, with ``refused(pid of the holder)`` as its message. The file stays when the
    lock is released (closing it releases it, even when the process is killed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            raise LockedError(refused(holder)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
