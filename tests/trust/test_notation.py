"""Notation: notation-go's JWS/COSE envelopes, RFC 3161 timestamps, trust store and policy."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from chainproof.errors import MalformedError, NotFoundError, SignatureError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.trust.interface import TrustInputs
from chainproof.trust.notation.envelope import (
    ARTIFACT_TYPE,
    COSE_MEDIA_TYPE,
    JWS_MEDIA_TYPE,
    parse_envelope,
)
from chainproof.trust.notation.trustpolicy import TrustPolicy
from chainproof.trust.notation.truststore import TrustStore, fingerprint
from chainproof.trust.notation.verify import (
    NotationSignatures,
    check_authentic_timestamp,
    verify_envelope,
)
from tests.trust.memsource import MemorySource

if TYPE_CHECKING:
    from pathlib import Path

    from chainproof.trust.notation.trustpolicy import PolicyStatement

TARGET = Descriptor(
    mt.OCI_MANIFEST,
    Digest.parse("sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0"),
    481,
)
ALPINE_DN = "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=alpine"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _policy(
    level: str = "strict",
    stores: tuple[str, ...] = ("ca:test",),
    identities: tuple[str, ...] = ("*",),
    **verification: object,
) -> PolicyStatement:
    doc = {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "test",
                "registryScopes": ["*"],
                "signatureVerification": {"level": level, **verification},
                "trustStores": list(stores),
                "trustedIdentities": list(identities),
            }
        ],
    }
    return TrustPolicy.parse(json.dumps(doc).encode()).statements[0]


@pytest.fixture
def notation(signing: Path) -> Path:
    return signing / "notation-notation-go"


@pytest.fixture
def alpine_store(notation: Path, tmp_path: Path) -> TrustStore:
    store = tmp_path / "x509" / "ca" / "test"
    store.mkdir(parents=True)
    shutil.copy(notation / "alpine-selfsigned-2000-2123.pem", store)
    return TrustStore(tmp_path)


def _envelope(path: Path):  # type: ignore[no-untyped-def]
    data = path.read_bytes()
    return parse_envelope(data, JWS_MEDIA_TYPE if data[:1] == b"{" else COSE_MEDIA_TYPE)


@pytest.mark.parametrize("name", ["jws_signature.sig", "cose_signature.sig"])
@pytest.mark.parametrize("identity", ["*", ALPINE_DN])
def test_envelopes_verify(
    notation: Path, alpine_store: TrustStore, name: str, identity: str
) -> None:
    envelope = _envelope(notation / name)
    assert envelope.algorithm == "PS256"
    outcome = verify_envelope(
        envelope, _policy(identities=(identity,)), alpine_store, target=TARGET, now=NOW
    )
    assert outcome.verified, outcome.reason
    assert outcome.signer == "CN=alpine,O=Notary,L=Seattle,ST=WA,C=US"


@pytest.mark.parametrize("name", ["jws_signature.sig", "cose_signature.sig"])
@pytest.mark.parametrize(
    "target",
    [
        Descriptor(mt.OCI_MANIFEST, Digest.of(b"other"), 481),
        Descriptor(mt.OCI_MANIFEST, TARGET.digest, 482),
        Descriptor(mt.DOCKER_MANIFEST, TARGET.digest, 481),
    ],
)
def test_target_mismatch_fails(
    notation: Path, alpine_store: TrustStore, name: str, target: Descriptor
) -> None:
    outcome = verify_envelope(
        _envelope(notation / name), _policy(), alpine_store, target=target, now=NOW
    )
    assert not outcome.verified
    assert "signature is for sha256:19dbd2e4" in outcome.reason


def test_wrong_identity_and_untrusted_store(notation: Path, alpine_store: TrustStore) -> None:
    envelope = _envelope(notation / "jws_signature.sig")
    other = "x509.subject: C=US, ST=WA, O=Someone Else"
    outcome = verify_envelope(
        envelope, _policy(identities=(other,)), alpine_store, target=TARGET, now=NOW
    )
    assert not outcome.verified
    assert "not a trusted identity" in outcome.reason
    # audit logs authenticity failures and passes; integrity still holds.
    outcome = verify_envelope(
        envelope, _policy("audit", identities=(other,)), alpine_store, now=NOW
    )
    assert outcome.verified
    assert any(w.startswith("authenticity:") for w in outcome.warnings)
    # A store that holds other certificates does not anchor the chain.
    store = TrustStore(notation / "truststore")
    outcome = verify_envelope(envelope, _policy(stores=("ca:valid-trust-store",)), store, now=NOW)
    assert not outcome.verified
    assert "trust stores" in outcome.reason


def test_tampered_signature_fails_even_in_audit(notation: Path, alpine_store: TrustStore) -> None:
    doc = json.loads((notation / "jws_signature.sig").read_bytes())
    signature = doc["signature"]
    doc["signature"] = ("A" if signature[5] != "A" else "B").join([signature[:5], signature[6:]])
    envelope = parse_envelope(json.dumps(doc).encode(), JWS_MEDIA_TYPE)
    for level in ("strict", "permissive", "audit"):
        outcome = verify_envelope(envelope, _policy(level), alpine_store, now=NOW)
        assert not outcome.verified
        assert "does not verify" in outcome.reason
    assert verify_envelope(
        envelope, _policy("skip", stores=(), identities=()), alpine_store
    ).verified


def test_tampered_cose_payload_fails(notation: Path, alpine_store: TrustStore) -> None:
    data = bytearray((notation / "cose_signature.sig").read_bytes())
    at = data.index(b"19dbd2e4")
    data[at] = ord("2")
    outcome = verify_envelope(
        parse_envelope(bytes(data), COSE_MEDIA_TYPE), _policy(), alpine_store, now=NOW
    )
    assert not outcome.verified


_TIMESTAMP_CASES = [
    ("jwsWithTimestamp.sig", ""),
    ("coseWithTimestamp.sig", ""),
    ("jwsExpiredWithTimestamp.sig", ""),
    ("coseExpiredWithTimestamp.sig", ""),
    ("timestampAfterNotAfter.sig", "expired at 2001-09-18 11:54:34"),
    ("timestampBeforeNotBefore.sig", "not valid before 2099-09-18 11:54:34"),
    ("withoutTimestamp.sig", "no timestamp countersignature was found in the signature envelope"),
]


@pytest.mark.parametrize(("name", "problem"), _TIMESTAMP_CASES)
def test_authentic_timestamp(notation: Path, name: str, problem: str) -> None:
    """notation-go's TestAuthenticTimestamp expectations (verifyTimestamp: always)."""
    envelope = _envelope(notation / "timestamp" / "sigEnv" / name)
    policy = _policy(stores=("ca:valid-trust-store", "tsa:test-timestamp"))
    found, stamped = check_authentic_timestamp(
        envelope, policy, TrustStore(notation / "truststore"), NOW
    )
    if problem:
        assert problem in found
    else:
        assert found == ""
        assert stamped is not None and stamped.year == 2024


def test_timestamped_signature_outlives_its_certificate(notation: Path, tmp_path: Path) -> None:
    envelope = _envelope(notation / "timestamp" / "sigEnv" / "jwsExpiredWithTimestamp.sig")
    assert envelope.chain[0].not_valid_after_utc < NOW
    (tmp_path / "x509" / "ca" / "tsa-signer").mkdir(parents=True)
    (tmp_path / "x509" / "ca" / "tsa-signer" / "leaf.pem").write_bytes(
        envelope.chain[0].public_bytes(Encoding.PEM)
    )
    shutil.copytree(notation / "truststore" / "x509" / "tsa", tmp_path / "x509" / "tsa")
    store = TrustStore(tmp_path)
    with_tsa = _policy(stores=("ca:tsa-signer", "tsa:test-timestamp"))
    outcome = verify_envelope(envelope, with_tsa, store, now=NOW)
    assert outcome.verified, outcome.reason
    assert outcome.timestamp is not None
    # Without a TSA store the expired certificate is judged now and fails in strict …
    no_tsa = _policy(stores=("ca:tsa-signer",))
    outcome = verify_envelope(envelope, no_tsa, store, now=NOW)
    assert not outcome.verified
    assert "expired" in outcome.reason
    # … and is only logged in permissive.
    outcome = verify_envelope(
        envelope, _policy("permissive", stores=("ca:tsa-signer",)), store, now=NOW
    )
    assert outcome.verified
    assert any("expired" in w for w in outcome.warnings)


def test_full_verify_with_timestamp(notation: Path) -> None:
    envelope = _envelope(notation / "timestamp" / "sigEnv" / "coseWithTimestamp.sig")
    policy = _policy(stores=("ca:valid-trust-store", "tsa:test-timestamp"))
    outcome = verify_envelope(envelope, policy, TrustStore(notation / "truststore"), now=NOW)
    assert outcome.verified, outcome.reason
    assert "timestamped 2024-06-18" in outcome.reason


def test_microsoft_root_loads_as_trust_anchor(signing: Path, tmp_path: Path) -> None:
    base = signing / "microsoft-supplychain-root"
    store_dir = tmp_path / "x509" / "ca" / "microsoft-supplychain-2022"
    store_dir.mkdir(parents=True)
    shutil.copy(base / "Microsoft_Supply_Chain_RSA_Root_CA_2022.crt", store_dir)
    policy = TrustPolicy.load(base / "trustpolicy.json")
    statement = policy.for_reference("mcr.microsoft.com/azurelinux/base/core:3.0")
    assert statement.name == "mcr-azure-linux"
    (root,) = TrustStore(tmp_path).certificates(statement.trust_stores[0])
    assert root.subject.rfc4514_string() == (
        "CN=Microsoft Supply Chain RSA Root CA 2022,O=Microsoft Corporation,C=US"
    )
    assert fingerprint(root) == "23ffe2b8bdb9a1711515d4cffda04bc7f793d513c76c243f1020507d8669b7db"
    with pytest.raises(SignatureError, match="no trust policy statement"):
        policy.for_reference("docker.io/library/alpine:3")


@pytest.mark.parametrize(
    "doc",
    [
        b'{"version": "1.0", "trustPolicies": [',
        b'{"version": "2.0", "trustPolicies": []}',
        b'{"version": "1.0", "trustPolicies": [{"name": "a", "registryScopes": ["*"],'
        b' "signatureVerification": {"level": "paranoid"}, "trustStores": ["ca:x"],'
        b' "trustedIdentities": ["*"]}]}',
        b'{"version": "1.0", "trustPolicies": [{"name": "a", "registryScopes": ["*", "r/x"],'
        b' "signatureVerification": {"level": "strict"}, "trustStores": ["ca:x"],'
        b' "trustedIdentities": ["*"]}]}',
        b'{"version": "1.0", "trustPolicies": [{"name": "a", "registryScopes": ["r/x"],'
        b' "signatureVerification": {"level": "strict"}, "trustStores": ["ca:x"],'
        b' "trustedIdentities": ["x509.subject: CN=only-a-cn"]}]}',
        b'{"version": "1.0", "trustPolicies": [{"name": "a", "registryScopes": ["r/x"],'
        b' "signatureVerification": {"level": "strict", "override": {"integrity": "log"}},'
        b' "trustStores": ["ca:x"], "trustedIdentities": ["*"]}]}',
    ],
)
def test_bad_trust_policies(doc: bytes) -> None:
    with pytest.raises(MalformedError):
        TrustPolicy.parse(doc)


def test_trust_store_errors(tmp_path: Path) -> None:
    store = TrustStore(tmp_path)
    with pytest.raises(NotFoundError):
        store.certificates("ca:absent")
    with pytest.raises(MalformedError):
        store.certificates("ca:../escape")
    (tmp_path / "x509" / "ca" / "junk").mkdir(parents=True)
    (tmp_path / "x509" / "ca" / "junk" / "a.crt").write_bytes(b"not a certificate")
    with pytest.raises(MalformedError):
        store.certificates("ca:junk")


@pytest.mark.parametrize(
    "data",
    [b"{", b'{"protected": "e30", "payload": "e30", "header": {}, "signature": ""}'],
)
def test_malformed_jws(data: bytes) -> None:
    with pytest.raises(MalformedError):
        parse_envelope(data, JWS_MEDIA_TYPE)


def test_truncated_cose(notation: Path) -> None:
    data = (notation / "cose_signature.sig").read_bytes()
    with pytest.raises(MalformedError):
        parse_envelope(data[: len(data) // 2], COSE_MEDIA_TYPE)


def test_referrer_discovery(notation: Path, tmp_path: Path) -> None:
    """The JWS signature attached as a referrer of the real manifest from notation-go's layout."""
    source = MemorySource()
    manifest = (notation / "oci-layout" / "blobs" / "sha256" / TARGET.digest.encoded).read_bytes()
    source.manifests[str(TARGET.digest)] = manifest
    source.add_artifact(
        [(JWS_MEDIA_TYPE, (notation / "jws_signature.sig").read_bytes(), {})],
        artifact_type=ARTIFACT_TYPE,
        subject=TARGET.digest,
        subject_size=TARGET.size,
    )
    store = tmp_path / "truststore" / "x509" / "ca" / "alpine"
    store.mkdir(parents=True)
    shutil.copy(notation / "alpine-selfsigned-2000-2123.pem", store)
    policy = tmp_path / "trustpolicy.json"
    policy.write_text(
        json.dumps(
            {
                "version": "1.0",
                "trustPolicies": [
                    {
                        "name": "alpine",
                        "registryScopes": ["registry.example/alpine"],
                        "signatureVerification": {"level": "strict"},
                        "trustStores": ["ca:alpine"],
                        "trustedIdentities": [ALPINE_DN],
                    }
                ],
            }
        )
    )
    trust = TrustInputs(trust_policy=policy, reference="registry.example/alpine:v2", now=NOW)
    results = NotationSignatures().verify(source, TARGET.digest, trust)
    assert [r.verified for r in results] == [True]
    with pytest.raises(SignatureError, match="no trust policy statement"):
        NotationSignatures().verify(
            source,
            TARGET.digest,
            TrustInputs(trust_policy=policy, reference="registry.example/other:v2", now=NOW),
        )


@pytest.mark.parametrize(
    ("reference", "statement"),
    [
        ("mcr.microsoft.com/azurelinux/base/core:3.0", "mcr"),
        ("docker://mcr.microsoft.com/azurelinux/base/core@sha256:" + "a" * 64, "mcr"),
        ("alpine:3", "hub"),
        ("docker.io/library/alpine", "hub"),
        ("oci:/tmp/layout:latest", "any"),
        ("registry.example/other", "any"),
    ],
)
def test_registry_scopes(reference: str, statement: str) -> None:
    def entry(name: str, scope: str) -> dict[str, object]:
        return {
            "name": name,
            "registryScopes": [scope],
            "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:x"],
            "trustedIdentities": ["*"],
        }

    policy = TrustPolicy.parse(
        json.dumps(
            {
                "version": "1.0",
                "trustPolicies": [
                    entry("mcr", "mcr.microsoft.com/azurelinux/base/core"),
                    entry("hub", "docker.io/library/alpine"),
                    entry("any", "*"),
                ],
            }
        ).encode()
    )
    assert policy.for_reference(reference).name == statement


def test_x5c_not_base64_is_malformed(notation: Path) -> None:
    doc = json.loads((notation / "jws_signature.sig").read_bytes())
    doc["header"]["x5c"] = ["M!!!not-base64"]
    with pytest.raises(MalformedError, match="not base64"):
        parse_envelope(json.dumps(doc).encode(), JWS_MEDIA_TYPE)
