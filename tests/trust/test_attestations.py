"""Attestations from cosign .att tags and Sigstore bundles attached as referrers."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from chainproof.oci.digest import Digest
from chainproof.trust.cosign.verify import DSSE_MEDIA_TYPE, CosignAttestations, attachment_tag
from chainproof.trust.envelopes.dsse import INTOTO_PAYLOAD_TYPE, pae
from chainproof.trust.interface import IdentityRule, TrustInputs
from chainproof.trust.keys.model import VerificationKey
from chainproof.trust.sigstore.bundle import BUNDLE_ARTIFACT_TYPE, SigstoreBundles
from tests.trust.memsource import MemorySource

if TYPE_CHECKING:
    from pathlib import Path

IMAGE = Digest.of(b"pretend image manifest")


def _statement(digest: Digest, predicate_type: str) -> bytes:
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "image", "digest": {digest.algorithm: digest.encoded}}],
            "predicateType": predicate_type,
            "predicate": {"buildDefinition": {}},
        }
    ).encode()


def _att_source(private: ec.EllipticCurvePrivateKey, statement: bytes) -> MemorySource:
    signature = private.sign(pae(INTOTO_PAYLOAD_TYPE, statement), ec.ECDSA(hashes.SHA256()))
    envelope = json.dumps(
        {
            "payloadType": INTOTO_PAYLOAD_TYPE,
            "payload": base64.b64encode(statement).decode(),
            "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
        }
    ).encode()
    source = MemorySource()
    source.add_artifact(
        [(DSSE_MEDIA_TYPE, envelope, {"dev.cosignproject.cosign/signature": ""})],
        tag=attachment_tag(IMAGE, "att"),
        config_type="application/vnd.oci.image.config.v1+json",
    )
    return source


def test_att_tag_key_based() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    key = VerificationKey.from_public_key(private.public_key(), "test")
    source = _att_source(private, _statement(IMAGE, "https://slsa.dev/provenance/v1"))
    results = CosignAttestations().verify(source, IMAGE, TrustInputs(keys=(key,)))
    assert [r.verified for r in results] == [True]
    assert results[0].statement is not None
    assert results[0].statement["predicateType"] == "https://slsa.dev/provenance/v1"
    other = VerificationKey.from_public_key(
        ec.generate_private_key(ec.SECP256R1()).public_key(), "other"
    )
    assert not any(
        r.verified for r in CosignAttestations().verify(source, IMAGE, TrustInputs(keys=(other,)))
    )


def test_att_for_another_subject_fails() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    key = VerificationKey.from_public_key(private.public_key(), "test")
    source = _att_source(private, _statement(Digest.of(b"other"), "https://spdx.dev/Document"))
    results = CosignAttestations().verify(source, IMAGE, TrustInputs(keys=(key,)))
    assert [r.verified for r in results] == [False]
    assert "no subject" in results[0].reason


def test_bundle_referrer_attestation(signing: Path) -> None:
    base = signing / "cosign-oci-bundle-attestation"
    subject = Digest.parse(
        "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4"
    )
    source = MemorySource()
    source.add_artifact(
        [(BUNDLE_ARTIFACT_TYPE, (base / "oci-attestation.sigstore.json").read_bytes(), {})],
        artifact_type=BUNDLE_ARTIFACT_TYPE,
        subject=subject,
    )
    trust = TrustInputs(
        identities=(IdentityRule("cody@soyland.com", issuer="https://github.com/login/oauth"),),
        trusted_root=base / "trusted_root_pgi.json",
    )
    results = SigstoreBundles().verify(source, subject, trust)
    assert [r.verified for r in results] == [True]
    assert results[0].statement is not None
    assert results[0].statement["predicateType"] == "https://cosign.sigstore.dev/attestation/v1"
    # The same bundle attached to a different image does not vouch for it.
    other = Digest.of(b"another image")
    source.add_artifact(
        [(BUNDLE_ARTIFACT_TYPE, (base / "oci-attestation.sigstore.json").read_bytes(), {})],
        artifact_type=BUNDLE_ARTIFACT_TYPE,
        subject=other,
    )
    results = SigstoreBundles().verify(source, other, trust)
    assert [r.verified for r in results] == [False]
    assert "no in-toto subject" in results[0].reason
    assert SigstoreBundles().verify(source, Digest.of(b"nothing attached"), trust) == []
