"""A real Intel TDX quote with its Intel PCS collateral (Phala-Network/dcap-qvl samples)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chainproof.errors import MalformedError
from chainproof.tee.expectations import Expectations
from chainproof.tee.tdx import TdxOptions, verify_quote
from tests.tee.conftest import TDX_AT, fixture, flip

pytest.importorskip("dcap_qvl", reason="dcap-qvl (the tdx extra) is not installed")

QUOTE = "tdx/tdx-quote.bin"
COLLATERAL = "tdx/tdx-quote-collateral.json"


def test_real_quote_verifies_at_a_pinned_time() -> None:
    result = verify_quote(fixture(QUOTE), fixture(COLLATERAL), at=TDX_AT)
    assert result.verified, result.failures
    assert result.claims["tcb_status"] == "UpToDate"
    assert result.claims["debug"] is False
    assert result.claims["measurement"].startswith("91eb2b44d141d4ec")
    assert result.claims["report_data"].startswith("9a9d48e7f6799642")


def test_collateral_expired_now() -> None:
    result = verify_quote(fixture(QUOTE), fixture(COLLATERAL), at=datetime.now(UTC))
    assert not result.verified
    assert "CrlExpired" in result.failures[0].message


def test_one_byte_changed_in_the_td_report() -> None:
    result = verify_quote(flip(fixture(QUOTE), 100), fixture(COLLATERAL), at=TDX_AT)
    assert not result.verified
    assert "signature" in result.failures[0].message


def test_outdated_platform() -> None:
    result = verify_quote(
        fixture("tdx/tdx-quote-outdated.bin"),
        fixture("tdx/tdx-quote-outdated-collateral.json"),
        at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert not result.verified


def test_tcb_status_policy_and_expectations() -> None:
    strict = verify_quote(
        fixture(QUOTE), fixture(COLLATERAL), at=TDX_AT, options=TdxOptions(frozenset({"None"}))
    )
    assert [f.name for f in strict.failures] == ["tcb_status"]
    wrong = verify_quote(
        fixture(QUOTE),
        fixture(COLLATERAL),
        at=TDX_AT,
        expectations=Expectations(measurement=bytes(48)),
    )
    assert [f.name for f in wrong.failures] == ["measurement"]


def test_truncated_quote_is_bad_input() -> None:
    with pytest.raises(MalformedError, match="TDX quote"):
        verify_quote(fixture(QUOTE)[:200], fixture(COLLATERAL), at=TDX_AT)


@pytest.mark.parametrize("collateral", [b"{", b"[]", b"{}", json.dumps({"tcb_info": 1}).encode()])
def test_malformed_collateral(collateral: bytes) -> None:
    with pytest.raises(MalformedError, match="collateral"):
        verify_quote(fixture(QUOTE), collateral, at=TDX_AT)
