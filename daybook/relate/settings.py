"""How related lists are ranked: the rankers and their settings, declared once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Ranker = Literal["shared", "weighted"]
RANKERS: tuple[Ranker, ...] = ("shared", "weighted")
DEFAULT_RANKER: Ranker = "weighted"
DEFAULT_K = 10


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How lists are ranked. Defaults are those of ``daybook relate``."""

    ranker: Ranker = DEFAULT_RANKER
    k: int = DEFAULT_K
    #: weighted: an entity held by more than this share of events is common ...
    common_share: float = 0.01
    #: ... and by more than this many (a small archive has no common entity)
    common_floor: int = 100
    #: weighted: what a shared common entity adds, in tenths of a nat (a rare one adds 23 or more
    #: in a corpus under a million events): enough to break ties among rare matches, no more
    common_weight: int = 20

    def __post_init__(self) -> None:
        if self.ranker not in RANKERS:
            raise ValueError(f"unknown ranker {self.ranker!r}; expected one of {', '.join(RANKERS)}")
        if self.k < 1:
            raise ValueError(f"k must be at least 1, not {self.k}")

    def common_threshold(self, events: int) -> int:
        """An entity held by more events than this is common."""
        return max(self.common_floor, math.ceil(self.common_share * events))
