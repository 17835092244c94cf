"""Keyless cosign ``.att`` attestations, from a private Sigstore instance made on the spot.

The shared fixtures hold a real keyless ``.sig`` (connaisseur) but no keyless ``.att``; this
builds one the way cosign does (Fulcio-style certificate with an embedded SCT, DSSE envelope,
Rekor intoto/0.0.2 entry and its SET in ``dev.sigstore.cosign/bundle``) and checks that each
part is verified: a changed byte of the payload, signature, certificate or log entry fails.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chainproof.oci.digest import Digest
from chainproof.trust.cosign.verify import DSSE_MEDIA_TYPE, CosignAttestations, attachment_tag
from chainproof.trust.envelopes.dsse import INTOTO_PAYLOAD_TYPE, pae
from chainproof.trust.interface import IdentityRule, TrustInputs
from tests.trust.memsource import MemorySource
from tests.trust.sigstore_pki import SigstoreInstance, intoto_body

IMAGE = Digest.of(b"keyless attested image")
WHEN = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
EMAIL = "builder@example.com"
ISSUER = "https://issuer.example"


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> tuple[SigstoreInstance, Path]:
    sigstore = SigstoreInstance(WHEN)
    root = tmp_path_factory.mktemp("root") / "trusted_root.json"
    root.write_text(json.dumps(sigstore.trusted_root()))
    return sigstore, root


def _statement() -> bytes:
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "img", "digest": {"sha256": IMAGE.encoded}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {"buildDefinition": {"buildType": "https://example/b"}},
        }
    ).encode()


def _source(sigstore: SigstoreInstance, tamper: str = "") -> MemorySource:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = sigstore.leaf(key, EMAIL, ISSUER, WHEN)
    payload = _statement()
    signature = key.sign(pae(INTOTO_PAYLOAD_TYPE, payload), ec.ECDSA(hashes.SHA256()))
    body: dict[str, Any] = intoto_body(payload, signature, certificate)
    if tamper == "inconsistent log entry":
        # Logged (and SET-signed) for another payload: the CVE-2022-36056 cross-check.
        body = intoto_body(payload + b" ", signature, certificate)
    bundle = sigstore.rekor_bundle(body, WHEN)
    if tamper == "payload":
        payload = payload.replace(b"https://example/b", b"https://example/X")
    elif tamper == "signature":
        signature = bytes([signature[0]]) + bytes([signature[1] ^ 1]) + signature[2:]
    elif tamper == "log entry":
        document = json.loads(bundle)
        logged = json.loads(base64.b64decode(document["Payload"]["body"]))
        logged["spec"]["content"]["payloadHash"]["value"] = "00" * 32
        document["Payload"]["body"] = base64.b64encode(json.dumps(logged).encode()).decode()
        bundle = json.dumps(document)
    elif tamper == "foreign certificate":
        # A certificate for the same key from another Fulcio: chain to the root fails.
        certificate = SigstoreInstance(WHEN).leaf(key, EMAIL, ISSUER, WHEN)
    envelope = json.dumps(
        {
            "payloadType": INTOTO_PAYLOAD_TYPE,
            "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
        }
    ).encode()
    annotations = {
        "dev.cosignproject.cosign/signature": "",
        "dev.sigstore.cosign/certificate": certificate.public_bytes(
            serialization.Encoding.PEM
        ).decode(),
        "dev.sigstore.cosign/bundle": bundle,
        "predicateType": "https://slsa.dev/provenance/v1",
    }
    source = MemorySource()
    source.add_artifact(
        [(DSSE_MEDIA_TYPE, envelope, annotations)],
        tag=attachment_tag(IMAGE, "att"),
        config_type="application/vnd.oci.image.config.v1+json",
    )
    return source


def _trust(root: Path, identity: str = EMAIL, regexp: str = "") -> TrustInputs:
    rule = (
        IdentityRule(identity, regexp, ISSUER) if not regexp else IdentityRule("", regexp, ISSUER)
    )
    return TrustInputs(identities=(rule,), trusted_root=root)


def test_keyless_att_verifies_with_identity_or_regexp(
    instance: tuple[SigstoreInstance, Path],
) -> None:
    sigstore, root = instance
    source = _source(sigstore)
    [result] = CosignAttestations().verify(source, IMAGE, _trust(root))
    assert result.verified, result.reason
    assert EMAIL in result.signer
    assert result.statement is not None
    assert result.statement["predicateType"] == "https://slsa.dev/provenance/v1"
    [result] = CosignAttestations().verify(source, IMAGE, _trust(root, regexp=r".*@example\.com"))
    assert result.verified, result.reason
    # Regexps match the whole identity, as cosign's do.
    [result] = CosignAttestations().verify(source, IMAGE, _trust(root, regexp=r"builder"))
    assert not result.verified
    [result] = CosignAttestations().verify(source, IMAGE, _trust(root, "someone@example.com"))
    assert not result.verified
    # FIPS mode: a P-256 leaf signed by a P-384/SHA-384 Fulcio CA is approved.
    fips = dataclasses.replace(_trust(root), fips=True)
    [result] = CosignAttestations().verify(source, IMAGE, fips)
    assert result.verified, result.reason


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("payload", "does not verify"),
        ("signature", "does not verify"),
        ("log entry", "Rekor signed entry timestamp does not verify"),
        ("inconsistent log entry", "inconsistent with the DSSE payload"),
        ("foreign certificate", "signing certificate"),
    ],
)
def test_keyless_att_changed_byte_fails(
    instance: tuple[SigstoreInstance, Path], tamper: str, reason: str
) -> None:
    sigstore, root = instance
    results = CosignAttestations().verify(_source(sigstore, tamper), IMAGE, _trust(root))
    assert [r.verified for r in results] == [False]
    assert reason in results[0].reason
