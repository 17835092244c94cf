"""Damaged inputs give a chainproof error (exit 1 or 2), never a crash."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainproof.errors import Error
from chainproof.trust import dsse, intoto, notation
from chainproof.trust.interface import IdentityRule
from chainproof.trust.sigstore_bundle import load_trusted_root, verify_bundle
from tests.conftest import SHARED_FIXTURES

SIGNING = SHARED_FIXTURES / "signing"
_ANYONE = (IdentityRule(identity_regexp=".*", issuer_regexp=".*"),)


def _mutate(data: bytes, cuts: list[tuple[int, int]], truncate: int | None) -> bytes:
    buf = bytearray(data)
    for position, value in cuts:
        if buf:
            buf[position % len(buf)] = value
    if truncate is not None and buf:
        del buf[truncate % len(buf) :]
    return bytes(buf)


_edits = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=4)
_cut = st.none() | st.integers(0, 1 << 20)
_settings = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _fixture(path: Path) -> bytes:
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return path.read_bytes()


@_settings
@given(_edits, _cut)
def test_damaged_bundles(edits: list[tuple[int, int]], cut: int | None) -> None:
    base = SIGNING / "cosign-oci-bundle-attestation"
    data = _fixture(base / "oci-attestation.sigstore.json")
    root = load_trusted_root(base / "trusted_root_pgi.json")
    with contextlib.suppress(Error):
        verify_bundle(_mutate(data, edits, cut), root, identities=_ANYONE)


@_settings
@given(_edits, _cut)
def test_damaged_notation_envelopes(edits: list[tuple[int, int]], cut: int | None) -> None:
    base = SIGNING / "notation-notation-go"
    for name, media_type in (
        ("jws_signature.sig", notation.JWS_MEDIA_TYPE),
        ("cose_signature.sig", notation.COSE_MEDIA_TYPE),
    ):
        data = _mutate(_fixture(base / name), edits, cut)
        try:
            envelope = notation.parse_envelope(data, media_type)
            notation.target_artifact(envelope)
        except Error:
            pass


@_settings
@given(_edits, _cut)
def test_damaged_dsse_and_statements(edits: list[tuple[int, int]], cut: int | None) -> None:
    envelope = _fixture(SIGNING / "dsse-spec-testvector" / "envelope.json")
    statement = _fixture(
        SIGNING / "sigstore-go-dsse-examples" / "statement-provenance-sigstorejs1.3.0.json"
    )
    for parse, data in ((dsse.parse_envelope, envelope), (intoto.parse_statement, statement)):
        with contextlib.suppress(Error):
            parse(_mutate(data, edits, cut))


@_settings
@given(_edits, _cut)
def test_damaged_trust_policy(edits: list[tuple[int, int]], cut: int | None) -> None:
    data = _fixture(SIGNING / "microsoft-supplychain-root" / "trustpolicy.json")
    with contextlib.suppress(Error):
        notation.TrustPolicy.parse(_mutate(data, edits, cut))
