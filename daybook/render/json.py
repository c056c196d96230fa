"""JSON: a page's data (``render.data``), serialised the same way every time."""

from __future__ import annotations

import json as _json
from typing import Any


def dumps(data: dict[str, Any]) -> str:
    """Stable JSON: keys in a fixed order, UTF-8 text, a newline at the end.

    Compact, not indented: the indenting encoder is pure Python and several times
    slower, and an API reader loses nothing.
    """
    return _json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
