"""A private Sigstore instance for tests: Fulcio CA, CT log, Rekor log, and their trusted root.

It issues Fulcio-style leaf certificates (code signing, SAN e-mail, OIDC issuer extension, an
embedded SCT from the CT log over the precertificate) and Rekor bundles (SET over the canonical
entry), so keyless cosign ``.sig``/``.att`` signatures can be made on the spot — the shared
fixtures hold a real keyless ``.sig`` but no keyless ``.att``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import struct
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_SCT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
_ISSUER_V1_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _der_octet_string(body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        return b"\x04" + bytes([length]) + body
    size = (length.bit_length() + 7) // 8
    return b"\x04" + bytes([0x80 | size]) + length.to_bytes(size, "big") + body


class SigstoreInstance:
    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self.ca_key = ec.generate_private_key(ec.SECP384R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.rekor_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "test-fulcio")])
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - dt.timedelta(days=1))
            .not_valid_after(start + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), critical=False
            )
            .sign(self.ca_key, hashes.SHA384())
        )

    def trusted_root(self) -> dict[str, Any]:
        def key(k: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
            return {
                "rawBytes": base64.b64encode(_spki(k)).decode(),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": "2000-01-01T00:00:00Z"},
            }

        def log_id(k: ec.EllipticCurvePrivateKey) -> dict[str, str]:
            return {"keyId": base64.b64encode(hashlib.sha256(_spki(k)).digest()).decode()}

        ca_der = self.ca.public_bytes(serialization.Encoding.DER)
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [
                {
                    "baseUrl": "https://rekor.test",
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": key(self.rekor_key),
                    "logId": log_id(self.rekor_key),
                }
            ],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "test-fulcio", "commonName": ""},
                    "uri": "https://fulcio.test",
                    "certChain": {
                        "certificates": [{"rawBytes": base64.b64encode(ca_der).decode()}]
                    },
                    "validFor": {"start": "2000-01-01T00:00:00Z"},
                }
            ],
            "ctlogs": [
                {
                    "baseUrl": "https://ctfe.test",
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": key(self.ct_key),
                    "logId": log_id(self.ct_key),
                }
            ],
            "timestampAuthorities": [],
        }

    def leaf(
        self, key: ec.EllipticCurvePrivateKey, email: str, issuer: str, when: dt.datetime
    ) -> x509.Certificate:
        """A Fulcio-style certificate with an SCT embedded over its precertificate."""
        serial = x509.random_serial_number()

        def builder() -> x509.CertificateBuilder:
            return (
                x509.CertificateBuilder()
                .subject_name(x509.Name([]))
                .issuer_name(self.ca.subject)
                .public_key(key.public_key())
                .serial_number(serial)
                .not_valid_before(when - dt.timedelta(minutes=1))
                .not_valid_after(when + dt.timedelta(minutes=10))
                .add_extension(
                    x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                    critical=True,
                )
                .add_extension(
                    x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
                )
                .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=True)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                    critical=False,
                )
                .add_extension(
                    x509.UnrecognizedExtension(_ISSUER_V1_OID, issuer.encode()), critical=False
                )
            )

        precert = builder().sign(self.ca_key, hashes.SHA384())
        timestamp = int(when.timestamp() * 1000)
        tbs = precert.tbs_certificate_bytes
        issuer_key_hash = hashlib.sha256(_spki(self.ca_key)).digest()
        signed = (
            struct.pack("!BBQH", 0, 0, timestamp, 1)
            + issuer_key_hash
            + len(tbs).to_bytes(3, "big")
            + tbs
            + struct.pack("!H", 0)
        )
        signature = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            b"\x00"
            + hashlib.sha256(_spki(self.ct_key)).digest()
            + struct.pack("!QH", timestamp, 0)
            + b"\x04\x03"
            + struct.pack("!H", len(signature))
            + signature
        )
        sct_list = struct.pack("!H", len(sct) + 2) + struct.pack("!H", len(sct)) + sct
        return (
            builder()
            .add_extension(
                x509.UnrecognizedExtension(_SCT_OID, _der_octet_string(sct_list)), critical=False
            )
            .sign(self.ca_key, hashes.SHA384())
        )

    def rekor_bundle(self, body: dict[str, Any], when: dt.datetime) -> str:
        """cosign's ``dev.sigstore.cosign/bundle`` annotation: the entry and its SET."""
        payload: dict[str, Any] = {
            "body": base64.b64encode(json.dumps(body).encode()).decode(),
            "integratedTime": int(when.timestamp()),
            "logIndex": 7,
            "logID": hashlib.sha256(_spki(self.rekor_key)).hexdigest(),
        }
        signature = self.rekor_key.sign(rfc8785.dumps(payload), ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {"SignedEntryTimestamp": base64.b64encode(signature).decode(), "Payload": payload}
        )


def intoto_body(payload: bytes, signature: bytes, certificate: x509.Certificate) -> dict[str, Any]:
    """A Rekor intoto/0.0.2 entry for a DSSE envelope (payload and signature base64 twice)."""
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)

    def twice(data: bytes) -> str:
        return base64.b64encode(base64.b64encode(data)).decode()

    return {
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {
            "content": {
                "envelope": {
                    "payloadType": "application/vnd.in-toto+json",
                    "payload": twice(payload),
                    "signatures": [
                        {"sig": twice(signature), "publicKey": base64.b64encode(cert_pem).decode()}
                    ],
                },
                "payloadHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(payload).hexdigest(),
                },
            }
        },
    }
