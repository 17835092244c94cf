"""Sigstore bundles: the whole conformance suite, sigstore-python's and sigstore-go's bundles."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from chainproof.errors import Error, MalformedError, NotFoundError, SignatureError
from chainproof.trust.interface import IdentityRule
from chainproof.trust.keys.registry import load_key
from chainproof.trust.sigstore.bundle import BundleVerification, verify_bundle
from chainproof.trust.sigstore.verifier import load_trusted_root
from tests.conftest import SHARED_FIXTURES

_SUITE = SHARED_FIXTURES / "signing" / "sigstore-conformance-bundles" / "bundle-verify"
_PRODUCTION = (
    SHARED_FIXTURES / "signing" / "sigstore-trusted-roots" / "production.trusted_root.json"
)
_STAGING = SHARED_FIXTURES / "signing" / "sigstore-trusted-roots" / "staging.trusted_root.json"
_BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
_ACTIONS = "https://token.actions.githubusercontent.com"


def _cases() -> list[tuple[str, str]]:
    index = _SUITE / "INDEX.tsv"
    if not index.is_file():
        return []
    with index.open(newline="") as handle:
        return [(row["case"], row["expected"]) for row in csv.DictReader(handle, delimiter="\t")]


def _text(path: Path, default: str) -> str:
    return path.read_text().strip() if path.is_file() else default


@pytest.mark.parametrize(("case", "expected"), _cases())
def test_conformance_case(shared_fixtures: Path, case: str, expected: str) -> None:
    """Every case of sigstore-conformance's bundle-verify suite gives its expected outcome."""
    directory = _SUITE / case
    artifact = directory / "artifact"
    if not artifact.is_file():
        artifact = _SUITE / "a.txt"
    root_path = directory / "trusted_root.json"
    rule = IdentityRule(
        identity=_text(directory / "identity", _BEACON),
        issuer=_text(directory / "issuer", _ACTIONS),
    )
    try:
        root = load_trusted_root(root_path if root_path.is_file() else _PRODUCTION)
        keys = (load_key(str(directory / "key.pub")),) if (directory / "key.pub").is_file() else ()
        verify_bundle(
            (directory / "bundle.sigstore.json").read_bytes(),
            root,
            artifact=artifact.read_bytes(),
            identities=(rule,),
            keys=keys,
        )
    except Error as exc:
        assert expected == "FAIL", f"{case} should pass but failed: {exc}"
    else:
        assert expected == "PASS", f"{case} should fail but passed"


def test_conformance_suite_is_complete() -> None:
    cases = _cases()
    if not cases:
        pytest.skip("conformance suite not present")
    assert len(cases) == 70
    assert sum(1 for _, e in cases if e == "PASS") == 21


def test_wrong_identity_fails_happy_bundle(signing: Path) -> None:
    directory = _SUITE / "happy-path-v0.3"
    with pytest.raises(SignatureError, match="matches no trusted identity"):
        verify_bundle(
            (directory / "bundle.sigstore.json").read_bytes(),
            load_trusted_root(_PRODUCTION),
            artifact=(_SUITE / "a.txt").read_bytes(),
            identities=(IdentityRule(identity="someone@example.com", issuer=_ACTIONS),),
        )


def test_identity_regexp_accepts_and_reports_signer(signing: Path) -> None:
    result = verify_bundle(
        (_SUITE / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes(),
        load_trusted_root(_PRODUCTION),
        artifact_sha256=hashlib.sha256((_SUITE / "a.txt").read_bytes()).digest(),
        identities=(
            IdentityRule(
                identity_regexp=r"https://github\.com/sigstore-conformance/.*",
                issuer_regexp=r"https://token\.actions\..*",
            ),
        ),
    )
    assert result.content == "messageSignature"
    assert result.signer.startswith("https://github.com/sigstore-conformance/")


_PY = [
    ("bundle.txt.sigstore", "bundle.txt", "a@tny.town", True),
    ("bundle_v3.txt.sigstore", "bundle_v3.txt", "william@yossarian.net", True),
    ("bundle_v3_alt.txt.sigstore", "bundle_v3_alt.txt", "william@yossarian.net", True),
    ("staging-rekor-v2.txt.sigstore.json", "staging-rekor-v2.txt", "jku@goto.fi", True),
    ("bundle_cve_2022_36056.txt.sigstore", "bundle_cve_2022_36056.txt", "", False),
]


@pytest.mark.parametrize(("bundle", "artifact", "identity", "ok"), _PY)
def test_sigstore_python_bundles(
    signing: Path, bundle: str, artifact: str, identity: str, ok: bool
) -> None:
    base = signing / "sigstore-python-bundles"
    rule = IdentityRule(identity_regexp=".*", issuer="https://github.com/login/oauth")

    def call() -> BundleVerification:
        return verify_bundle(
            (base / bundle).read_bytes(),
            load_trusted_root(_STAGING),
            artifact=(base / artifact).read_bytes(),
            identities=(rule,),
        )

    if ok:
        assert call().signer.startswith(identity)
    else:
        # CVE-2022-36056: signature, SET and proof are each valid; only the cross-check catches it.
        with pytest.raises(SignatureError, match="inconsistent"):
            call()


def test_sigstore_python_dsse_rekor_v2(signing: Path) -> None:
    base = signing / "sigstore-python-bundles"
    result = verify_bundle(
        (base / "a.dsse.staging-rekor-v2.txt.sigstore.json").read_bytes(),
        load_trusted_root(_STAGING),
        identities=(IdentityRule(identity=_BEACON, issuer=_ACTIONS),),
    )
    assert result.content == "dsseEnvelope"
    assert result.payload_type == "application/vnd.in-toto+json"


@pytest.mark.parametrize(
    "bundle", ["bundle_invalid_version.txt.sigstore", "bundle_no_log_entry.txt.sigstore"]
)
def test_sigstore_python_bad_bundles(signing: Path, bundle: str) -> None:
    with pytest.raises((MalformedError, SignatureError)):
        verify_bundle(
            (signing / "sigstore-python-bundles" / bundle).read_bytes(),
            load_trusted_root(_STAGING),
            artifact=b"",
            identities=(IdentityRule(identity_regexp=".*", issuer_regexp=".*"),),
        )


def test_sigstore_go_provenance_keyless(signing: Path) -> None:
    base = signing / "sigstore-go-dsse-examples"
    result = verify_bundle(
        (base / "bundle-provenance.json").read_bytes(),
        load_trusted_root(base / "trusted-root-public-good.json"),
        identities=(
            IdentityRule(
                "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
                issuer=_ACTIONS,
            ),
        ),
    )
    assert result.content == "dsseEnvelope"
    assert b"https://slsa.dev/provenance/v0.2" in result.payload


def test_sigstore_go_publish_managed_key(signing: Path) -> None:
    base = signing / "sigstore-go-dsse-examples"
    key = load_key(str(base / "publish_key.pub"))
    result = verify_bundle(
        (base / "bundle-publish.json").read_bytes(),
        load_trusted_root(base / "trusted-root-public-good.json"),
        keys=(key,),
    )
    assert result.signer == f"key {key.key_id}"
    other = load_key(str(signing / "cosign-simplesigning-connaisseur" / "alice.key"))
    with pytest.raises(SignatureError, match="any of the given keys"):
        verify_bundle(
            (base / "bundle-publish.json").read_bytes(),
            load_trusted_root(base / "trusted-root-public-good.json"),
            keys=(other,),
        )


def test_cosign_oci_attestation_bundle(signing: Path) -> None:
    base = signing / "cosign-oci-bundle-attestation"
    data = (base / "oci-attestation.sigstore.json").read_bytes()
    root = load_trusted_root(base / "trusted_root_pgi.json")
    subject = bytes.fromhex("732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4")
    anyone = (IdentityRule(identity_regexp=".*", issuer_regexp=".*"),)
    result = verify_bundle(data, root, artifact_sha256=subject, identities=anyone)
    assert result.signer == "cody@soyland.com (issuer https://github.com/login/oauth)"
    with pytest.raises(SignatureError, match="no in-toto subject"):
        verify_bundle(
            data, root, artifact_sha256=hashlib.sha256(b"other").digest(), identities=anyone
        )
    with pytest.raises(SignatureError):
        verify_bundle(
            data,
            root,
            artifact_sha256=subject,
            identities=(IdentityRule("eve@example.com", issuer_regexp=".*"),),
        )


def test_flipped_byte_in_bundle_fails(signing: Path) -> None:
    base = signing / "sigstore-python-bundles"
    data = bytearray((base / "bundle_v3.txt.sigstore").read_bytes())
    # Flip one character inside the base64 message signature.
    marker = data.index(b'"signature": "') + len(b'"signature": "') + 10
    data[marker] = ord("A") if data[marker] != ord("A") else ord("B")
    with pytest.raises((SignatureError, MalformedError)):
        verify_bundle(
            bytes(data),
            load_trusted_root(_STAGING),
            artifact=(base / "bundle_v3.txt").read_bytes(),
            identities=(IdentityRule(identity_regexp=".*", issuer_regexp=".*"),),
        )


def test_missing_trusted_root_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_trusted_root(tmp_path / "absent.json")
    bad = tmp_path / "root.json"
    bad.write_text('{"mediaType": 1')
    with pytest.raises(MalformedError):
        load_trusted_root(bad)
