"""Sign → push → verify through a real docker-registry, and one changed byte → a failing check."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chainproof.checks.interface import Status
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.image import resolve
from chainproof.oci.model import Descriptor
from chainproof.trust.attachment import Attachment
from chainproof.trust.check import AttestationCheck, SignatureCheck
from chainproof.trust.cosign.sign import attest_image, sign_image
from chainproof.trust.keys.private import SigningKey, generate, public_pem
from chainproof.trust.notation.envelope import ARTIFACT_TYPE, JWS_MEDIA_TYPE
from tests.trust.flagconfig import Case, case, run
from tests.trust.notary_pki import make_cert, make_jws
from tests.trust.registry import Registry, RegistrySource

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

REPO = "windows/servercore"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (apt install docker-registry)")
    server = Registry(tmp_path_factory.mktemp("registry"))
    yield server
    server.close()


def _push_image(registry: Registry, tag: str, marker: bytes) -> Digest:
    config = json.dumps(
        {
            "os": "windows",
            "architecture": "amd64",
            "os.version": "10.0.20348.2966",
            "rootfs": {"type": "layers", "diff_ids": []},
            "history": [{"created_by": marker.decode()}],
        }
    ).encode()
    layer = b"layer bytes " + marker
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": {"mediaType": mt.OCI_CONFIG, **registry.push_blob(REPO, config)},
            "layers": [{"mediaType": mt.OCI_LAYER, **registry.push_blob(REPO, layer)}],
        }
    ).encode()
    return registry.push_manifest(REPO, tag, manifest, mt.OCI_MANIFEST)


def _push_attachment(registry: Registry, attachment: Attachment) -> None:
    for data in attachment.blobs.values():
        registry.push_blob(REPO, data)
    registry.push_manifest(REPO, attachment.tag, attachment.manifest, attachment.media_type)


def _context(registry: Registry, tag: str, **options: Any) -> Case:
    source = RegistrySource(registry, REPO, tag)
    target = resolve(source, f"{REPO}:{tag}")
    return case(target.images[0], source, f"registry.example/{REPO}:{tag}", **options)


def _results(subject: Case) -> dict[str, Any]:
    return {**run(SignatureCheck, subject), **run(AttestationCheck, subject)}


@pytest.fixture(scope="module")
def signed(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An image signed with cosign (key), attested (SLSA), and Notation-signed (referrer)."""
    tmp = tmp_path_factory.mktemp("keys")
    key = generate()
    assert isinstance(key, SigningKey)
    (tmp / "cosign.pub").write_bytes(public_pem(key))
    digest = _push_image(registry, "ltsc2022", b"original")
    _push_attachment(registry, sign_image(digest, key, f"registry.example/{REPO}"))
    _push_attachment(
        registry,
        attest_image(
            digest,
            key,
            f"registry.example/{REPO}",
            "https://slsa.dev/provenance/v1",
            {"buildDefinition": {"buildType": "https://example.com/windows-build"}},
        ),
    )
    # Notation: a CA, a code-signing leaf, a JWS envelope attached through the referrers fallback.
    root_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    now = dt.datetime.now(dt.UTC)
    root = make_cert(
        "Example Root",
        root_key,
        None,
        ca=True,
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(days=30),
    )
    leaf = make_cert(
        "Example Signer",
        leaf_key,
        ("Example Root", root_key),
        ca=False,
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(days=30),
    )
    manifest_bytes = RegistrySource(registry, REPO, "ltsc2022").get_manifest(digest).data
    envelope = make_jws(
        leaf_key, [leaf, root], Descriptor(mt.OCI_MANIFEST, digest, len(manifest_bytes))
    )
    empty = registry.push_blob(REPO, b"{}")
    signature_manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "artifactType": ARTIFACT_TYPE,
            "config": {"mediaType": mt.OCI_EMPTY, **empty},
            "layers": [{"mediaType": JWS_MEDIA_TYPE, **registry.push_blob(REPO, envelope)}],
            "subject": {
                "mediaType": mt.OCI_MANIFEST,
                "digest": str(digest),
                "size": len(manifest_bytes),
            },
        }
    ).encode()
    registry.attach_referrer(REPO, digest, signature_manifest, ARTIFACT_TYPE)
    store = tmp / "truststore" / "x509" / "ca" / "example"
    store.mkdir(parents=True)
    (store / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (tmp / "trustpolicy.json").write_text(
        json.dumps(
            {
                "version": "1.0",
                "trustPolicies": [
                    {
                        "name": "servercore",
                        "registryScopes": [f"registry.example/{REPO}"],
                        "signatureVerification": {"level": "strict"},
                        "trustStores": ["ca:example"],
                        "trustedIdentities": [
                            "x509.subject: C=US, ST=Washington, O=Example Corp, CN=Example Signer"
                        ],
                    }
                ],
            }
        )
    )
    return {"key": key, "digest": digest, "dir": tmp}


def test_roundtrip_passes_with_two_formats(registry: Registry, signed: dict[str, Any]) -> None:
    context = _context(
        registry,
        "ltsc2022",
        keys=[str(signed["dir"] / "cosign.pub")],
        trust_policy=str(signed["dir"] / "trustpolicy.json"),
        threshold=2,
        attestation_types=["slsa-provenance-v1"],
    )
    results = _results(context)
    assert results["signature.verified"].status == Status.PASS, results[
        "signature.verified"
    ].message
    assert results["signature.cosign"].status == Status.PASS
    assert results["signature.notation"].status == Status.PASS
    assert results["attestation.verified"].status == Status.PASS


def test_wrong_key_fails(registry: Registry, signed: dict[str, Any], tmp_path: Path) -> None:
    other = tmp_path / "other.pub"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    results = _results(_context(registry, "ltsc2022", keys=[str(other)]))
    result = results["signature.verified"]
    assert result.status == Status.FAIL
    assert "does not verify with any of the given keys" in result.message
    # The Notation signature is reported, not judged: no --trust-policy was given.
    assert results["signature.notation"].status == Status.SKIP


def test_changed_image_byte_fails(registry: Registry, signed: dict[str, Any]) -> None:
    _push_image(registry, "ltsc2022-changed", b"originaL")
    result = _results(
        _context(registry, "ltsc2022-changed", keys=[str(signed["dir"] / "cosign.pub")])
    )
    assert result["signature.verified"].status == Status.FAIL
    assert "0 signature(s) found" in result["signature.verified"].message


@pytest.mark.parametrize("part", ["signature", "payload"])
def test_changed_signature_or_payload_fails(
    registry: Registry, signed: dict[str, Any], part: str
) -> None:
    digest: Digest = signed["digest"]
    tag = f"sha256-{digest.encoded}.sig"
    source = RegistrySource(registry, REPO, "ltsc2022")
    original = source.get_tag(tag)
    assert original is not None
    manifest = json.loads(original.data)
    layer = manifest["layers"][0]
    if part == "signature":
        sig = bytearray(
            base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
        )
        sig[8] ^= 0x01
        layer["annotations"]["dev.cosignproject.cosign/signature"] = base64.b64encode(sig).decode()
    else:
        payload = b"".join(source.open_blob(Descriptor.from_json(layer, "layer")))
        changed = payload.replace(b"registry.example", b"registry.exampla")
        layer.update(registry.push_blob(REPO, changed))
    registry.push_manifest(REPO, tag, json.dumps(manifest).encode(), mt.OCI_MANIFEST)
    try:
        result = _results(_context(registry, "ltsc2022", keys=[str(signed["dir"] / "cosign.pub")]))
        assert result["signature.verified"].status == Status.FAIL
        assert "does not verify" in result["signature.verified"].message
    finally:
        registry.push_manifest(REPO, tag, original.data, mt.OCI_MANIFEST)
