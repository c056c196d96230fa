"""Shared fixtures: where the real data and the test fixtures live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real input data beside the project (``../shared/data``); the suite needs it."""
    assert DATA.is_dir(), f"real data missing: {DATA} (clone the project beside shared/)"
    return DATA
