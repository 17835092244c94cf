"""SignatureCheck / AttestationCheck over a CheckContext: thresholds, multi-arch, options."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chainproof.checks.interface import Status
from chainproof.errors import NotFoundError, UnsupportedError, UsageError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.image import PlatformImage
from chainproof.oci.model import Index, parse_config, parse_manifest
from chainproof.trust.check import SHARED_ATTESTATIONS, AttestationCheck, SignatureCheck
from chainproof.trust.cosign.verify import DSSE_MEDIA_TYPE, SIMPLESIGNING_MEDIA_TYPE, attachment_tag
from chainproof.trust.envelopes.dsse import INTOTO_PAYLOAD_TYPE, pae
from tests.trust.dumpsource import DumpSource
from tests.trust.flagconfig import Case, case, run, trust_config
from tests.trust.memsource import MemorySource

if TYPE_CHECKING:
    from pathlib import Path

_CONFIG = json.dumps(
    {"os": "windows", "architecture": "amd64", "rootfs": {"diff_ids": []}}
).encode()


def _image(manifest_bytes: bytes, index: Index | None = None) -> PlatformImage:
    digest = Digest.of(manifest_bytes)
    manifest = parse_manifest(manifest_bytes, digest)
    assert not isinstance(manifest, Index)
    return PlatformImage("test", manifest, parse_config(_CONFIG, Digest.of(_CONFIG)), index)


def _run(kind: type[SignatureCheck | AttestationCheck], subject: Case) -> dict[str, Any]:
    return run(kind, subject)


@pytest.fixture
def dump(signing: Path) -> tuple[Path, DumpSource]:
    base = signing / "cosign-simplesigning-connaisseur"
    return base, DumpSource(base / "securesystemsengineering" / "testimage")


def _dump_context(dump: tuple[Path, DumpSource], tag: str, **options: Any) -> Case:
    base, source = dump
    raw = source.get_tag(tag)
    assert raw is not None
    if "keys" in options:
        options["keys"] = [str(base / f"{k}.key") for k in options["keys"]]
    return case(_image(raw.data), source, **options)


def test_threshold_three_of_three(dump: tuple[Path, DumpSource]) -> None:
    context = _dump_context(
        dump, "multi-cosigned-alice-bob-charlie", keys=["alice", "bob", "charlie"], threshold=3
    )
    results = _run(SignatureCheck, context)
    assert results["signature.verified"].status == Status.PASS
    assert len(results["signature.verified"].evidence["signers"]) == 3
    assert results["signature.cosign"].status == Status.PASS


def test_threshold_not_met(dump: tuple[Path, DumpSource]) -> None:
    context = _dump_context(dump, "multi-cosigned-alice", keys=["alice", "bob"], threshold=2)
    result = _run(SignatureCheck, context)["signature.verified"]
    assert result.status == Status.FAIL
    assert result.message.startswith("1 trusted signer(s), 2 required")


def test_wrong_key_fails(dump: tuple[Path, DumpSource]) -> None:
    result = _run(SignatureCheck, _dump_context(dump, "multi-cosigned-alice", keys=["default"]))
    assert result["signature.verified"].status == Status.FAIL
    assert "does not verify with any of the given keys" in result["signature.verified"].message


def test_keyless_options(dump: tuple[Path, DumpSource], signing: Path) -> None:
    root = str(signing / "sigstore-trusted-roots" / "production.trusted_root.json")
    context = _dump_context(
        dump,
        "keyless",
        certificate_identity="philipp.belitz@securesystems.de",
        certificate_oidc_issuer="https://github.com/login/oauth",
        trusted_root=root,
    )
    assert _run(SignatureCheck, context)["signature.verified"].status == Status.PASS
    context = _dump_context(
        dump,
        "keyless",
        certificate_identity_regexp=r".*@evil\.example",
        certificate_oidc_issuer="https://github.com/login/oauth",
        trusted_root=root,
    )
    assert _run(SignatureCheck, context)["signature.verified"].status == Status.FAIL


def test_no_trust_inputs_skips(dump: tuple[Path, DumpSource]) -> None:
    results = _run(SignatureCheck, _dump_context(dump, "multi-cosigned-alice"))
    assert results["signature.verified"].status == Status.SKIP


def test_unsigned_image_fails(dump: tuple[Path, DumpSource]) -> None:
    base, source = dump
    context = case(
        _image(
            json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": mt.OCI_MANIFEST,
                    "config": {
                        "mediaType": mt.OCI_CONFIG,
                        "digest": str(Digest.of(_CONFIG)),
                        "size": len(_CONFIG),
                    },
                    "layers": [],
                }
            ).encode()
        ),
        source,
        keys=[str(base / "alice.key")],
    )
    result = _run(SignatureCheck, context)["signature.verified"]
    assert result.status == Status.FAIL
    assert "0 signature(s) found" in result.message


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"certificate_identity": "a@b.c"}, UsageError),
        ({"certificate_identity_regexp": "(", "certificate_oidc_issuer": "x"}, UsageError),
        ({"keys": ["/nonexistent/key.pub"]}, NotFoundError),
        ({"keys": ["azurekms://vault.example/cosign"]}, UnsupportedError),
    ],
)
def test_bad_options(options: dict[str, Any], error: type[Exception]) -> None:
    """Bad trust flags are bad input when the implicit policy is built, before any I/O."""
    with pytest.raises(error):
        trust_config(**options)


def test_bad_threshold(dump: tuple[Path, DumpSource]) -> None:
    with pytest.raises(UsageError, match="threshold"):
        _dump_context(dump, "multi-cosigned-alice", keys=["alice"], threshold=0)


def _signed_multiarch() -> tuple[MemorySource, PlatformImage, ec.EllipticCurvePrivateKey]:
    """An index with one platform manifest; the index (not the manifest) carries a signature
    and the manifest an attestation."""
    private = ec.generate_private_key(ec.SECP256R1())
    source = MemorySource()
    config = source.add_blob(_CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, **config},
        "layers": [],
    }
    manifest_digest = source.add_manifest(manifest)
    manifest_bytes = source.manifests[str(manifest_digest)]
    index_doc = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [
            {
                "mediaType": mt.OCI_MANIFEST,
                "digest": str(manifest_digest),
                "size": len(manifest_bytes),
                "platform": {"os": "windows", "architecture": "amd64"},
            }
        ],
    }
    index_digest = source.add_manifest(index_doc)
    index = parse_manifest(source.manifests[str(index_digest)], index_digest)
    assert isinstance(index, Index)
    payload = json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": "r/x"},
                "image": {"docker-manifest-digest": str(index_digest)},
                "type": "cosign container image signature",
            },
            "optional": None,
        }
    ).encode()
    signature = base64.b64encode(private.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    source.add_artifact(
        [(SIMPLESIGNING_MEDIA_TYPE, payload, {"dev.cosignproject.cosign/signature": signature})],
        tag=attachment_tag(index_digest, "sig"),
        config_type=mt.OCI_CONFIG,
    )
    statement = json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v0.1",
            "subject": [{"name": "x", "digest": {"sha256": manifest_digest.encoded}}],
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "predicate": {"builder": {"id": "test"}},
        }
    ).encode()
    sig = private.sign(pae(INTOTO_PAYLOAD_TYPE, statement), ec.ECDSA(hashes.SHA256()))
    envelope = json.dumps(
        {
            "payloadType": INTOTO_PAYLOAD_TYPE,
            "payload": base64.b64encode(statement).decode(),
            "signatures": [{"sig": base64.b64encode(sig).decode()}],
        }
    ).encode()
    source.add_artifact(
        [(DSSE_MEDIA_TYPE, envelope, {})],
        tag=attachment_tag(manifest_digest, "att"),
        config_type=mt.OCI_CONFIG,
    )
    return source, _image(manifest_bytes, index), private


def _key_file(tmp_path: Path, private: ec.EllipticCurvePrivateKey) -> str:
    path = tmp_path / "cosign.pub"
    path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return str(path)


def test_multiarch_index_signature_counts(tmp_path: Path) -> None:
    source, image, private = _signed_multiarch()
    context = case(image, source, keys=[_key_file(tmp_path, private)])
    result = _run(SignatureCheck, context)["signature.verified"]
    assert result.status == Status.PASS
    assert result.evidence["signed"] == ["index"]
    assert "signed the index" in result.message


def test_attestation_check_hands_over_predicates(tmp_path: Path) -> None:
    source, image, private = _signed_multiarch()
    options: dict[str, Any] = {
        "keys": [_key_file(tmp_path, private)],
        "attestation_types": ["slsa-provenance-v0.2"],
    }
    context = case(image, source, **options)
    result = _run(AttestationCheck, context)["attestation.verified"]
    assert result.status == Status.PASS
    assert result.evidence["predicate_types"] == ["https://slsa.dev/provenance/v0.2"]
    assert context.context.shared[SHARED_ATTESTATIONS][0]["predicate"] == {
        "builder": {"id": "test"}
    }
    options["attestation_types"] = ["https://spdx.dev/Document"]
    result = _run(AttestationCheck, case(image, source, **options))["attestation.verified"]
    assert result.status == Status.FAIL
    assert "https://spdx.dev/Document" in result.message


def test_cosign_v3_sign_statement_counts_as_signature(
    dump: tuple[Path, DumpSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verified bundle whose statement is cosign v3's "sign" predicate is a signature, not an
    attestation; other predicates are attestations."""
    from chainproof.trust import check as check_module
    from chainproof.trust.envelopes.intoto import COSIGN_SIGN_PREDICATE
    from chainproof.trust.interface import SignatureFormat, SignatureVerification, TrustInputs

    class Bundles(SignatureFormat):
        name = "sigstore-bundle"

        def verify(
            self, source: object, subject: Digest, trust: TrustInputs
        ) -> list[SignatureVerification]:
            def statement(kind: str) -> dict[str, Any]:
                return {
                    "_type": "https://in-toto.io/Statement/v1",
                    "predicateType": kind,
                    "subject": [{"digest": {"sha256": subject.encoded}}],
                }

            return [
                SignatureVerification(
                    self.name,
                    subject,
                    "r1",
                    True,
                    "ok",
                    "signer-a",
                    statement(COSIGN_SIGN_PREDICATE),
                    attestation=False,
                ),
                SignatureVerification(
                    self.name,
                    subject,
                    "r2",
                    True,
                    "ok",
                    "signer-a",
                    statement("https://slsa.dev/provenance/v1"),
                    attestation=True,
                ),
            ]

    monkeypatch.setattr(check_module, "_formats", lambda: (Bundles(),))
    context = _dump_context(dump, "multi-cosigned-alice", keys=["alice"])
    signature = _run(SignatureCheck, context)["signature.verified"]
    attestation = _run(AttestationCheck, context)["attestation.verified"]
    assert signature.status == Status.PASS
    assert signature.evidence["found"] == 1
    assert attestation.evidence["predicate_types"] == ["https://slsa.dev/provenance/v1"]
