"""Shared test fixtures: where the repository and the real sequences are."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.paths import REAL_DATA, REPO


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The two real thermal sequences (read in place, never copied); tests skip without them."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real sequences not found at {REAL_DATA}")
    return REAL_DATA
