"""A small PKI for Notation tests: certificates and JWS envelopes built on the spot."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from chainproof.oci.model import Descriptor


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Washington"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def make_cert(
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


def make_jws(
    leaf_key: ec.EllipticCurvePrivateKey,
    chain: list[x509.Certificate],
    target: Descriptor,
    *,
    signing_authority: bool = False,
    signing_time: str = "2026-05-01T10:00:00Z",
) -> bytes:
    """A Notation JWS envelope (ES256, raw r‖s) over ``target``, with ``chain`` as x5c."""
    header: dict[str, object] = {
        "alg": "ES256",
        "crit": ["io.cncf.notary.signingScheme"],
        "cty": "application/vnd.cncf.notary.payload.v1+json",
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": signing_time,
    }
    if signing_authority:
        header["io.cncf.notary.signingScheme"] = "notary.x509.signingAuthority"
        header["io.cncf.notary.authenticSigningTime"] = header.pop("io.cncf.notary.signingTime")
        header["crit"] = ["io.cncf.notary.signingScheme", "io.cncf.notary.authenticSigningTime"]
    protected = _b64url(json.dumps(header).encode())
    doc = {"mediaType": target.media_type, "digest": str(target.digest), "size": target.size}
    payload = _b64url(json.dumps({"targetArtifact": doc}).encode())
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
