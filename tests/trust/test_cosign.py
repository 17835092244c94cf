"""cosign tag-schema signatures over connaisseur's byte-exact registry dump."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from chainproof.errors import SignatureError
from chainproof.oci.digest import Digest
from chainproof.trust.cosign.verify import CosignSignatures, attachment_tag, check_simplesigning
from chainproof.trust.interface import IdentityRule, TrustInputs
from chainproof.trust.keys.registry import load_key
from tests.trust.dumpsource import DumpSource

if TYPE_CHECKING:
    from pathlib import Path

ALICE_ONLY = Digest.parse("sha256:071bf7a986f1ca9cb2a1f0bc8392822a7777f90d58f2d2c6f271913e08de7c81")
THREE = Digest.parse("sha256:bfec161fecb0a887df7cb85e4da327c65986ccda7060cf3cd92171c6c90d7533")
KEYLESS = Digest.parse("sha256:31dc72a13a0c34b40eb95419d2b2fd67320c856baf3b72da518023ee8d370aee")


@pytest.fixture
def base(signing: Path) -> Path:
    return signing / "cosign-simplesigning-connaisseur"


@pytest.fixture
def source(base: Path) -> DumpSource:
    return DumpSource(base / "securesystemsengineering" / "testimage")


def _keys(base: Path, *names: str) -> TrustInputs:
    return TrustInputs(keys=tuple(load_key(str(base / f"{n}.key")) for n in names))


def test_expected_json_cases(base: Path, source: DumpSource) -> None:
    """Every key-based case in expected.json: valid keys verify, invalid keys do not."""
    cases = json.loads((base / "expected.json").read_text())["cases"]
    fmt = CosignSignatures()
    for case in cases:
        digest = Digest.parse(case["digest"])
        valid = case.get("valid_keys") or [
            k for ks in case.get("valid_keys_by_layer", []) for k in ks
        ]
        for name in valid:
            results = fmt.verify(source, digest, _keys(base, name))
            assert any(r.verified for r in results), (case["digest"], name)
        for name in case.get("invalid_keys", []):
            results = fmt.verify(source, digest, _keys(base, name))
            assert results and not any(r.verified for r in results), (case["digest"], name)


def test_three_layers_three_signers(base: Path, source: DumpSource) -> None:
    results = CosignSignatures().verify(source, THREE, _keys(base, "alice", "bob", "charlie"))
    verified = [r for r in results if r.verified]
    assert [r.location.rsplit("#", 1)[1] for r in verified] == ["0", "1", "2"]
    assert len({r.signer for r in verified}) == 3  # distinct keys: a 3-of-3 threshold holds


def test_signature_for_other_image_fails(base: Path, source: DumpSource) -> None:
    """alice's valid signature for 071bf7… served as if it were bfec16…'s: must fail."""

    class Swapped(DumpSource):
        def get_tag(self, tag: str):  # type: ignore[no-untyped-def]
            if tag == attachment_tag(THREE, "sig"):
                tag = attachment_tag(ALICE_ONLY, "sig")
            return super().get_tag(tag)

    swapped = Swapped(source.root)
    results = CosignSignatures().verify(swapped, THREE, _keys(base, "alice"))
    assert results and not any(r.verified for r in results)
    assert "not sha256:bfec16" in results[0].reason


def test_unsigned_image_has_no_signatures(base: Path, source: DumpSource) -> None:
    unsigned = Digest.of(b"{}")
    assert CosignSignatures().verify(source, unsigned, _keys(base, "alice")) == []


def test_keyless_with_identity(signing: Path, source: DumpSource) -> None:
    root = signing / "sigstore-trusted-roots" / "production.trusted_root.json"
    good = TrustInputs(
        identities=(
            IdentityRule(
                "philipp.belitz@securesystems.de", issuer="https://github.com/login/oauth"
            ),
        ),
        trusted_root=root,
    )
    results = CosignSignatures().verify(source, KEYLESS, good)
    assert [r.verified for r in results] == [True]
    assert results[0].signer.startswith("philipp.belitz@securesystems.de")
    bad = TrustInputs(
        identities=(IdentityRule("mallory@example.com", issuer="https://github.com/login/oauth"),),
        trusted_root=root,
    )
    results = CosignSignatures().verify(source, KEYLESS, bad)
    assert [r.verified for r in results] == [False]
    assert "matches no trusted identity" in results[0].reason
    staging = TrustInputs(
        identities=good.identities,
        trusted_root=signing / "sigstore-trusted-roots" / "staging.trusted_root.json",
    )
    assert not any(r.verified for r in CosignSignatures().verify(source, KEYLESS, staging))


def test_keyless_tampered_bundle_annotation_fails(signing: Path, source: DumpSource) -> None:
    """Rewriting the logged signature in the Rekor body breaks the SET (and the cross-check)."""
    tag = attachment_tag(KEYLESS, "sig")
    raw = source.get_tag(tag)
    assert raw is not None
    manifest = json.loads(raw.data)
    annotations = manifest["layers"][0]["annotations"]
    bundle = json.loads(annotations["dev.sigstore.cosign/bundle"])
    bundle["Payload"]["integratedTime"] += 1
    annotations["dev.sigstore.cosign/bundle"] = json.dumps(bundle)

    class Tampered(DumpSource):
        def get_tag(self, name: str):  # type: ignore[no-untyped-def]
            if name == tag:
                from chainproof.oci.sources.interface import RawManifest

                return RawManifest(json.dumps(manifest).encode(), "")
            return super().get_tag(name)

    results = CosignSignatures().verify(
        Tampered(source.root),
        KEYLESS,
        TrustInputs(
            identities=(IdentityRule(identity_regexp=".*", issuer_regexp=".*"),),
            trusted_root=signing / "sigstore-trusted-roots" / "production.trusted_root.json",
        ),
    )
    assert [r.verified for r in results] == [False]
    assert "signed entry timestamp" in results[0].reason


def test_simplesigning_checks() -> None:
    ok = {
        "critical": {
            "type": "cosign container image signature",
            "image": {"docker-manifest-digest": str(THREE)},
            "identity": {},
        }
    }
    assert check_simplesigning(json.dumps(ok).encode(), THREE)["critical"]
    wrong_type = {**ok, "critical": {**ok["critical"], "type": "something else"}}
    with pytest.raises(SignatureError, match="unexpected type"):
        check_simplesigning(json.dumps(wrong_type).encode(), THREE)
    with pytest.raises(SignatureError, match="no 'critical'"):
        check_simplesigning(b'{"optional": {}}', THREE)
