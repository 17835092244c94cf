"""Notary certificate-chain rules on envelopes built here: EKU, CA flags, issuance, validity."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.trust.notation import (
    JWS_MEDIA_TYPE,
    TrustPolicy,
    TrustStore,
    parse_envelope,
    verify_envelope,
)

if TYPE_CHECKING:
    from pathlib import Path

    from chainproof.trust.notation import NotationOutcome, PolicyStatement

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
TARGET = Descriptor(mt.OCI_MANIFEST, Digest.of(b"windows image manifest"), 1234)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Washington"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool,
    eku: x509.ObjectIdentifier | None = ExtendedKeyUsageOID.CODE_SIGNING,
    start: dt.datetime = dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    end: dt.datetime = dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
) -> x509.Certificate:
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if eku is not None and not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jws(leaf_key: ec.EllipticCurvePrivateKey, chain: list[x509.Certificate]) -> bytes:
    protected = _b64url(
        json.dumps(
            {
                "alg": "ES256",
                "crit": ["io.cncf.notary.signingScheme"],
                "cty": "application/vnd.cncf.notary.payload.v1+json",
                "io.cncf.notary.signingScheme": "notary.x509",
                "io.cncf.notary.signingTime": "2026-05-01T10:00:00Z",
            }
        ).encode()
    )
    payload = _b64url(
        json.dumps(
            {"targetArtifact": TARGET.__dict__ | {}}
            and {
                "targetArtifact": {
                    "mediaType": TARGET.media_type,
                    "digest": str(TARGET.digest),
                    "size": TARGET.size,
                }
            }
        ).encode()
    )
    der = leaf_key.sign(f"{protected}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS uses raw r‖s
    return json.dumps(
        {
            "payload": payload,
            "protected": protected,
            "header": {
                "x5c": [
                    base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                    for c in chain
                ]
            },
            "signature": _b64url(raw),
        }
    ).encode()


@pytest.fixture
def pki(tmp_path: Path) -> tuple[TrustStore, ec.EllipticCurvePrivateKey, x509.Certificate]:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert("Example Root", root_key, None, ca=True)
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
    leaf = _cert("Signer", leaf_key, ("Example Root", root_key), ca=False)
    outcome = _verify(_jws(leaf_key, [leaf, root]), store)
    assert outcome.verified, outcome.reason
    dn = "x509.subject: C=US, ST=Washington, O=Example Corp, CN=Signer"
    assert _verify(_jws(leaf_key, [leaf, root]), store, identity=dn).verified
    assert not _verify(
        _jws(leaf_key, [leaf, root]), store, identity=dn.replace("Signer", "Other")
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
        leaf = _cert("Signer", leaf_key, issuer, ca=False, eku=ExtendedKeyUsageOID.SERVER_AUTH)
    elif case == "leaf-is-ca":
        leaf = _cert("Signer", leaf_key, issuer, ca=True)
    elif case == "wrong-issuer":
        leaf = _cert(
            "Signer", leaf_key, ("Example Root", ec.generate_private_key(ec.SECP256R1())), ca=False
        )
    elif case == "expired":
        leaf = _cert(
            "Signer", leaf_key, issuer, ca=False, end=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        )
    elif case == "not-yet-valid":
        leaf = _cert(
            "Signer", leaf_key, issuer, ca=False, start=dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
        )
    else:
        other_key = ec.generate_private_key(ec.SECP256R1())
        chain_root = _cert("Example Root", other_key, None, ca=True)
        leaf = _cert("Signer", leaf_key, ("Example Root", other_key), ca=False)
    outcome = _verify(_jws(leaf_key, [leaf, chain_root]), store)
    assert not outcome.verified
    assert reason in outcome.reason
