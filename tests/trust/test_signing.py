"""Keys, cosign's encrypted key format, and sign → verify round trips (with tampering)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa

from chainproof.errors import MalformedError, UnsupportedError
from chainproof.oci.digest import Digest
from chainproof.oci.sources.interface import RawManifest
from chainproof.trust.attachment import Attachment
from chainproof.trust.cosign.sign import attest_image, sign_image
from chainproof.trust.cosign.verify import CosignAttestations, CosignSignatures
from chainproof.trust.interface import TrustInputs
from chainproof.trust.keys.algorithms import ALGORITHMS
from chainproof.trust.keys.model import VerificationKey, key_from_pem
from chainproof.trust.keys.private import (
    HybridSigningKey,
    SigningKey,
    WrongPasswordError,
    decrypt_private_key,
    encrypt_private_key,
    generate,
    public_pem,
)
from chainproof.trust.keys.registry import load_key
from tests.trust.memsource import MemorySource

if TYPE_CHECKING:
    from pathlib import Path

IMAGE = Digest.of(b"an image manifest")
REPO = "registry.example/team/app"


def _publish(source: MemorySource, attachment: Attachment) -> None:
    source.blobs.update(attachment.blobs)
    source.tags[attachment.tag] = attachment.manifest


def _single(key: SigningKey | HybridSigningKey) -> SigningKey:
    assert isinstance(key, SigningKey)
    return key


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ed25519", "mldsa-65"])
def test_encrypted_key_round_trip(algorithm: str) -> None:
    key = _single(generate(algorithm))
    pem = encrypt_private_key(key, b"correct horse")
    assert pem.startswith(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    body = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    doc = json.loads(body)
    assert doc["kdf"]["name"] == "scrypt" and doc["cipher"]["name"] == "nacl/secretbox"
    again = decrypt_private_key(pem, b"correct horse")
    assert again.public.key_id == key.public.key_id
    with pytest.raises(WrongPasswordError):
        decrypt_private_key(pem, b"wrong")


def test_encrypted_key_bad_inputs() -> None:
    with pytest.raises(MalformedError):
        decrypt_private_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", b"")
    doc = {
        "kdf": {"name": "scrypt", "params": {"N": 1 << 30, "r": 8, "p": 1}, "salt": "AA=="},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(b"n" * 24).decode()},
        "ciphertext": "AA==",
    }
    pem = (
        b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
        + base64.b64encode(json.dumps(doc).encode())
        + b"\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    )
    with pytest.raises(MalformedError, match="scrypt parameters"):
        decrypt_private_key(pem, b"")
    with pytest.raises(UnsupportedError):
        generate("dsa-1024")
    assert "hybrid-ecdsa-p256-mldsa-65" in ALGORITHMS


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ed25519", "rsa-3072", "mldsa-65"])
def test_sign_then_verify(algorithm: str) -> None:
    key = _single(generate(algorithm))
    source = MemorySource()
    _publish(source, sign_image(IMAGE, key, REPO))
    results = CosignSignatures().verify(source, IMAGE, TrustInputs(keys=(key.public,)))
    assert [r.verified for r in results] == [True]
    other = _single(generate(algorithm))
    results = CosignSignatures().verify(source, IMAGE, TrustInputs(keys=(other.public,)))
    assert [r.verified for r in results] == [False]


def test_second_signature_appends_a_layer() -> None:
    alice, bob = _single(generate()), _single(generate())
    source = MemorySource()
    first = sign_image(IMAGE, alice, REPO)
    _publish(source, first)
    _publish(source, sign_image(IMAGE, bob, REPO, existing=RawManifest(first.manifest, "")))
    results = CosignSignatures().verify(source, IMAGE, TrustInputs(keys=(alice.public, bob.public)))
    assert sorted(r.signer for r in results if r.verified) == sorted(
        [f"key {alice.public.key_id}", f"key {bob.public.key_id}"]
    )


def test_payload_is_cosign_byte_format() -> None:
    attachment = sign_image(IMAGE, _single(generate()), REPO)
    layer = json.loads(attachment.manifest)["layers"][0]
    payload = attachment.blobs[layer["digest"]]
    assert payload == (
        b'{"critical":{"identity":{"docker-reference":"registry.example/team/app"},'
        b'"image":{"docker-manifest-digest":"' + str(IMAGE).encode() + b'"},'
        b'"type":"cosign container image signature"},"optional":null}'
    )
    assert attachment.tag == f"sha256-{IMAGE.encoded}.sig"


@pytest.mark.parametrize("part", ["image", "payload", "signature", "manifest-digest"])
def test_one_changed_byte_fails(part: str) -> None:
    key = _single(generate())
    source = MemorySource()
    attachment = sign_image(IMAGE, key, REPO)
    _publish(source, attachment)
    manifest = json.loads(attachment.manifest)
    layer = manifest["layers"][0]
    subject = IMAGE
    if part == "image":
        subject = Digest.of(b"an image manifesT")
        source.tags[f"sha256-{subject.encoded}.sig"] = attachment.manifest
    elif part == "payload":
        payload = bytearray(source.blobs[layer["digest"]])
        payload[-3] ^= 1
        source.blobs[layer["digest"]] = bytes(payload)  # blob no longer matches its digest
    elif part == "signature":
        sig = bytearray(
            base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
        )
        sig[10] ^= 1
        layer["annotations"]["dev.cosignproject.cosign/signature"] = base64.b64encode(sig).decode()
        source.tags[attachment.tag] = json.dumps(manifest).encode()
    else:
        layer["digest"] = "sha256:" + hashlib.sha256(b"x").hexdigest()
        source.tags[attachment.tag] = json.dumps(manifest).encode()
    trust = TrustInputs(keys=(key.public,))
    if part in ("payload", "manifest-digest"):
        from chainproof.errors import IntegrityError, NotFoundError

        with pytest.raises((IntegrityError, NotFoundError)):
            CosignSignatures().verify(source, subject, trust)
        return
    results = CosignSignatures().verify(source, subject, trust)
    assert results and not any(r.verified for r in results)


def test_hybrid_needs_both_halves(tmp_path: Path) -> None:
    hybrid = generate("hybrid-ecdsa-p256-mldsa-65")
    assert isinstance(hybrid, HybridSigningKey)
    pub = tmp_path / "hybrid.pub"
    pub.write_bytes(public_pem(hybrid.classic) + public_pem(hybrid.pq))
    key = load_key(str(pub))
    assert key.pq is not None
    source = MemorySource()
    attachment = sign_image(IMAGE, hybrid, REPO)
    _publish(source, attachment)
    assert [
        r.verified for r in CosignSignatures().verify(source, IMAGE, TrustInputs(keys=(key,)))
    ] == [True]
    # An ordinary cosign verifier with only the ECDSA key still sees a valid signature …
    classic = TrustInputs(keys=(hybrid.classic.public,))
    assert [r.verified for r in CosignSignatures().verify(source, IMAGE, classic)] == [True]
    # … but the hybrid key refuses a signature whose ML-DSA half is gone.
    manifest = json.loads(attachment.manifest)
    del manifest["layers"][0]["annotations"]["dev.chainproof.pq/signature"]
    source.tags[attachment.tag] = json.dumps(manifest).encode()
    assert [
        r.verified for r in CosignSignatures().verify(source, IMAGE, TrustInputs(keys=(key,)))
    ] == [False]
    with pytest.raises(MalformedError, match="hybrid"):
        key_from_pem(public_pem(hybrid.pq) + public_pem(hybrid.classic), "reversed")


def test_attest_then_verify() -> None:
    key = _single(generate("ed25519"))
    source = MemorySource()
    predicate = {"buildDefinition": {"buildType": "https://example.com/build"}}
    _publish(source, attest_image(IMAGE, key, REPO, "https://slsa.dev/provenance/v1", predicate))
    results = CosignAttestations().verify(source, IMAGE, TrustInputs(keys=(key.public,)))
    assert [r.verified for r in results] == [True]
    assert results[0].statement is not None
    assert results[0].statement["predicate"] == predicate
    assert (
        CosignAttestations().verify(source, Digest.of(b"other"), TrustInputs(keys=(key.public,)))
        == []
    )


def test_mldsa_acvp_keygen_and_sigver(shared_fixtures: Path) -> None:
    """FIPS 204 ACVP vectors: keys from seeds, and sigVer through the internal interface."""
    base = shared_fixtures / "pq"
    keygen = json.loads((base / "ML-DSA-keyGen-FIPS204.subset.json").read_text())
    checked = 0
    for group in keygen["testGroups"]:
        if group["parameterSet"] != "ML-DSA-65":
            continue
        for case in group["tests"]:
            private = mldsa.MLDSA65PrivateKey.from_seed_bytes(bytes.fromhex(case["seed"]))
            public = VerificationKey.from_public_key(private.public_key(), "acvp")
            assert private.public_key().public_bytes_raw().hex().upper() == case["pk"]
            assert public.algorithm == "mldsa-65"
            checked += 1
    assert checked >= 2
    sigver = json.loads((base / "ML-DSA-sigVer-FIPS204.subset.json").read_text())
    outcomes = []
    for group in sigver["testGroups"]:
        if group["parameterSet"] != "ML-DSA-65":
            continue
        pk = bytes.fromhex(group["pk"])
        public_key = mldsa.MLDSA65PublicKey.from_public_bytes(pk)
        for case in group["tests"]:
            # ACVP v1.1.0.35 exercises Verify_internal: mu = SHAKE256(SHAKE256(pk,64) || M', 64).
            tr = hashlib.shake_256(pk).digest(64)
            mu = hashlib.shake_256(tr + bytes.fromhex(case["message"])).digest(64)
            try:
                public_key.verify_mu(bytes.fromhex(case["signature"]), mu)
                ok = True
            except InvalidSignature:
                ok = False
            outcomes.append(ok == case["testPassed"])
    assert outcomes and all(outcomes)
