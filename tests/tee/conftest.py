"""Real attestation evidence (tests/tee/fixtures/SOURCES.md) and the times to verify it at."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

#: Inside every SEV-SNP certificate's validity, so results do not change as years pass.
SNP_AT = datetime(2026, 6, 1, tzinfo=UTC)
#: Inside the MAA token's eight-hour lifetime (2025-12-15T19:24:08Z to 2025-12-16T03:24:08Z).
MAA_AT = datetime(2025, 12, 16, tzinfo=UTC)
MAA_ISSUER = "https://sharedeus2.eus2.attest.azure.net"
#: Inside the TDX collateral's validity (TCB info 2025-06-19 to 2025-07-19).
TDX_AT = datetime(2025, 6, 27, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def flip(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    """``data`` with one byte changed."""
    changed = bytearray(data)
    changed[offset] ^= mask
    return bytes(changed)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
