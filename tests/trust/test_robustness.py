"""Damaged inputs give a chainproof error (exit 1 or 2), never a crash."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainproof.errors import Error
from chainproof.trust.envelopes import dsse, intoto
from chainproof.trust.interface import IdentityRule
from chainproof.trust.notation import envelope as notation_envelope
from chainproof.trust.notation import trustpolicy, truststore
from chainproof.trust.notation import verify as notation_verify
from chainproof.trust.sigstore.bundle import verify_bundle
from chainproof.trust.sigstore.verifier import load_trusted_root
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
        ("jws_signature.sig", notation_envelope.JWS_MEDIA_TYPE),
        ("cose_signature.sig", notation_envelope.COSE_MEDIA_TYPE),
    ):
        data = _mutate(_fixture(base / name), edits, cut)
        try:
            envelope = notation_envelope.parse_envelope(data, media_type)
            notation_envelope.target_artifact(envelope)
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
        trustpolicy.TrustPolicy.parse(_mutate(data, edits, cut))


@_settings
@given(_edits, _cut)
def test_damaged_cose_full_verification(edits: list[tuple[int, int]], cut: int | None) -> None:
    """Damage inside the DER certificates and the RFC 3161 token (COSE carries both raw)."""
    base = SIGNING / "notation-notation-go"
    data = _mutate(_fixture(base / "timestamp" / "sigEnv" / "coseWithTimestamp.sig"), edits, cut)
    policy = trustpolicy.TrustPolicy.parse(
        b'{"version": "1.0", "trustPolicies": [{"name": "t", "registryScopes": ["*"],'
        b' "signatureVerification": {"level": "strict"},'
        b' "trustStores": ["ca:valid-trust-store", "tsa:test-timestamp"],'
        b' "trustedIdentities": ["*"]}]}'
    ).statements[0]
    with contextlib.suppress(Error):
        envelope = notation_envelope.parse_envelope(data, notation_envelope.COSE_MEDIA_TYPE)
        notation_verify.verify_envelope(
            envelope, policy, truststore.TrustStore(base / "truststore")
        )


@_settings
@given(_edits, _cut)
def test_damaged_keyless_cosign_manifest(edits: list[tuple[int, int]], cut: int | None) -> None:
    from chainproof.oci.digest import Digest
    from chainproof.oci.sources.interface import RawManifest
    from chainproof.trust.cosign.verify import CosignSignatures
    from chainproof.trust.interface import TrustInputs
    from tests.trust.dumpsource import DumpSource

    dump = SIGNING / "cosign-simplesigning-connaisseur" / "securesystemsengineering" / "testimage"
    subject = Digest.parse(
        "sha256:31dc72a13a0c34b40eb95419d2b2fd67320c856baf3b72da518023ee8d370aee"
    )
    tag = f"sha256-{subject.encoded}.sig"
    damaged = _mutate(_fixture(dump / "manifests" / f"{tag}.json"), edits, cut)

    class Damaged(DumpSource):
        def get_tag(self, name: str) -> RawManifest | None:
            return RawManifest(damaged, "") if name == tag else super().get_tag(name)

    trust = TrustInputs(
        identities=_ANYONE,
        trusted_root=SIGNING / "sigstore-trusted-roots" / "production.trusted_root.json",
    )
    with contextlib.suppress(Error):
        CosignSignatures().verify(Damaged(dump), subject, trust)
