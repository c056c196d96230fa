"""Python's cyclic garbage collector paused for a bounded piece of work."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The cyclic collector off until the block ends (then as it was). For work that makes
    many objects and few cycles: each pass of the collector walks every object still
    alive, and a relate or an update keeps hundreds of thousands of them, so its passes
    cost more than the little they would free before the block ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
