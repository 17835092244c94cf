"""Paths into the signing fixtures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="session")
def signing(shared_fixtures: Path) -> Path:
    return shared_fixtures / "signing"
