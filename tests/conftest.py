"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

#: ../shared/fixtures beside the checkout: real data collected from public projects.
SHARED_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The shared fixture tree; tests using it skip (with the reason) when it is absent."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {SHARED_FIXTURES} (clone ../shared beside)")
    return SHARED_FIXTURES
