"""Notary certificate-chain rules on envelopes built here: EKU, CA flags, issuance, validity."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.trust.notation.envelope import JWS_MEDIA_TYPE, parse_envelope
from chainproof.trust.notation.trustpolicy import TrustPolicy
from chainproof.trust.notation.truststore import TrustStore
from chainproof.trust.notation.verify import verify_envelope
from tests.trust.notary_pki import make_cert, make_jws

if TYPE_CHECKING:
    from pathlib import Path

    from chainproof.trust.notation.trustpolicy import PolicyStatement
    from chainproof.trust.notation.verify import NotationOutcome

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
TARGET = Descriptor(mt.OCI_MANIFEST, Digest.of(b"windows image manifest"), 1234)


@pytest.fixture
def pki(tmp_path: Path) -> tuple[TrustStore, ec.EllipticCurvePrivateKey, x509.Certificate]:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = make_cert("Example Root", root_key, None, ca=True)
    store = tmp_path / "x509" / "ca" / "example"
    store.mkdir(parents=True)
    (store / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return TrustStore(tmp_path), root_key, root


def _policy(identity: str) -> PolicyStatement:
    return TrustPolicy.parse(
        json.dumps(
            {
                "version": "1.0",
                "trustPolicies": [
                    {
                        "name": "example",
                        "registryScopes": ["*"],
                        "signatureVerification": {"level": "strict"},
                        "trustStores": ["ca:example"],
                        "trustedIdentities": [identity],
                    }
                ],
            }
        ).encode()
    ).statements[0]


def _verify(data: bytes, store: TrustStore, identity: str = "*") -> NotationOutcome:
    envelope = parse_envelope(data, JWS_MEDIA_TYPE)
    return verify_envelope(envelope, _policy(identity), store, target=TARGET, now=NOW)


def test_es256_chain_to_root(
    pki: tuple[TrustStore, ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    store, root_key, root = pki
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = make_cert("Signer", leaf_key, ("Example Root", root_key), ca=False)
    outcome = _verify(make_jws(leaf_key, [leaf, root], TARGET), store)
    assert outcome.verified, outcome.reason
    dn = "x509.subject: C=US, ST=Washington, O=Example Corp, CN=Signer"
    assert _verify(make_jws(leaf_key, [leaf, root], TARGET), store, identity=dn).verified
    assert not _verify(
        make_jws(leaf_key, [leaf, root], TARGET), store, identity=dn.replace("Signer", "Other")
    ).verified


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("server-auth-eku", "extended key usage is not code signing"),
        ("leaf-is-ca", "signing certificate is a CA certificate"),
        ("wrong-issuer", "is not issued by"),
        ("expired", "expired"),
        ("not-yet-valid", "not valid before"),
        ("untrusted-root", "trust stores"),
    ],
)
def test_bad_chains(
    pki: tuple[TrustStore, ec.EllipticCurvePrivateKey, x509.Certificate], case: str, reason: str
) -> None:
    store, root_key, root = pki
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    issuer = ("Example Root", root_key)
    chain_root = root
    if case == "server-auth-eku":
        leaf = make_cert("Signer", leaf_key, issuer, ca=False, eku=ExtendedKeyUsageOID.SERVER_AUTH)
    elif case == "leaf-is-ca":
        leaf = make_cert("Signer", leaf_key, issuer, ca=True)
    elif case == "wrong-issuer":
        leaf = make_cert(
            "Signer", leaf_key, ("Example Root", ec.generate_private_key(ec.SECP256R1())), ca=False
        )
    elif case == "expired":
        leaf = make_cert(
            "Signer", leaf_key, issuer, ca=False, end=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        )
    elif case == "not-yet-valid":
        leaf = make_cert(
            "Signer", leaf_key, issuer, ca=False, start=dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
        )
    else:
        other_key = ec.generate_private_key(ec.SECP256R1())
        chain_root = make_cert("Example Root", other_key, None, ca=True)
        leaf = make_cert("Signer", leaf_key, ("Example Root", other_key), ca=False)
    outcome = _verify(make_jws(leaf_key, [leaf, chain_root], TARGET), store)
    assert not outcome.verified
    assert reason in outcome.reason


def test_signing_authority_scheme(tmp_path: Path) -> None:
    """notary.x509.signingAuthority: the chain must be valid at the authentic signing time (so
    an expired certificate still verifies) and anchor in a signingAuthority store."""
    root_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    root = make_cert("Example Root", root_key, None, ca=True)
    leaf = make_cert(
        "Signer",
        leaf_key,
        ("Example Root", root_key),
        ca=False,
        end=dt.datetime(2026, 5, 2, tzinfo=dt.UTC),
    )
    store = tmp_path / "x509" / "signingAuthority" / "sa"
    store.mkdir(parents=True)
    (store / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    doc = {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "sa",
                "registryScopes": ["*"],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["signingAuthority:sa"],
                "trustedIdentities": ["*"],
            }
        ],
    }
    statement = TrustPolicy.parse(json.dumps(doc).encode()).statements[0]
    envelope = parse_envelope(
        make_jws(leaf_key, [leaf, root], TARGET, signing_authority=True), JWS_MEDIA_TYPE
    )
    outcome = verify_envelope(envelope, statement, TrustStore(tmp_path), target=TARGET, now=NOW)
    assert outcome.verified, outcome.reason
    assert leaf.not_valid_after_utc < NOW
    # The same envelope against a ca: store is not anchored.
    doc["trustPolicies"][0]["trustStores"] = ["ca:sa"]  # type: ignore[index]
    (tmp_path / "x509" / "ca").mkdir()
    (tmp_path / "x509" / "signingAuthority" / "sa").rename(tmp_path / "x509" / "ca" / "sa")
    statement = TrustPolicy.parse(json.dumps(doc).encode()).statements[0]
    assert not verify_envelope(
        envelope, statement, TrustStore(tmp_path), target=TARGET, now=NOW
    ).verified
