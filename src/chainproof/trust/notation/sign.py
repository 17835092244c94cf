"""Create Notation (Notary Project) signatures with a user's own X.509 signing chain.

What ``notation sign --key`` does with a key and its certificate: the payload
``{"targetArtifact": descriptor}`` is signed in a JWS (JSON serialization) or COSE_Sign1
envelope with the ``notary.x509`` signing scheme, the certificate chain (leaf first, ending in
its self-signed root) in ``x5c`` / COSE label 33, and the envelope attached as an OCI 1.1
referrer (``artifactType application/vnd.cncf.notary.signature``) with the chain's SHA-256
thumbprints in ``io.cncf.notary.x509chain.thumbprint#S256``.

Algorithms follow the Notary Project's table: ECDSA P-256/384/521 → ES256/384/512 (raw
``r‖s``), RSA 2048/3072/4096 → PS256/384/512 (RSASSA-PSS, salt length = hash length). RSASSA-PSS
needs the private key in memory; key backends that sign PKCS#1 v1.5 only are refused for RSA.
The chain is checked before anything is signed (leaf matches the key, code-signing usage,
each certificate issued by the next, valid now), so a signature chainproof writes is one a
Notary verifier can accept.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from chainproof._files import read_bounded
from chainproof.errors import InputError, MalformedError, SignatureError, UnsupportedError
from chainproof.trust.keys.private import SigningKey
from chainproof.trust.notation.certificates import validity_problem, verify_chain
from chainproof.trust.notation.envelope import (
    ARTIFACT_TYPE,
    COSE_MEDIA_TYPE,
    JWS_MEDIA_TYPE,
    MAX_CHAIN,
    PAYLOAD_CONTENT_TYPE,
)
from chainproof.trust.notation.truststore import (
    MAX_CERTIFICATE_FILE_BYTES,
    fingerprint,
    load_certificates,
)

if TYPE_CHECKING:
    from pathlib import Path

    from chainproof.oci.model import Descriptor
    from chainproof.trust.attachment import Attachment
    from chainproof.trust.keys.interface import Signer

ENVELOPES = {"jws": JWS_MEDIA_TYPE, "cose": COSE_MEDIA_TYPE}
SIGNING_AGENT = "chainproof"
THUMBPRINT_ANNOTATION = "io.cncf.notary.x509chain.thumbprint#S256"

_EC_ALGS = {"secp256r1": ("ES256", 32), "secp384r1": ("ES384", 48), "secp521r1": ("ES512", 66)}
_COSE_IDS = {"PS256": -37, "PS384": -38, "PS512": -39, "ES256": -7, "ES384": -35, "ES512": -36}


class NotationSigner:
    """A private key and its certificate chain, checked to belong together."""

    def __init__(self, key: Signer, chain: tuple[x509.Certificate, ...]) -> None:
        self.algorithm = _algorithm(key)
        if not chain or len(chain) > MAX_CHAIN:
            raise InputError(f"certificate chain must have 1 to {MAX_CHAIN} certificates")
        leaf_key = (
            chain[0]
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        if leaf_key != key.public.der():
            raise InputError("the signing certificate does not certify the signing key")
        try:
            verify_chain(chain, [chain[-1]])
        except SignatureError as exc:
            raise InputError(f"certificate chain: {exc}") from None
        self.key = key
        self.chain = chain

    def check_valid(self, when: datetime) -> None:
        problem = validity_problem(self.chain, when)
        if problem:
            raise InputError(f"cannot sign: {problem}")

    def sign(self, message: bytes) -> bytes:
        public = self.key.public.public_key
        if isinstance(public, ec.EllipticCurvePublicKey):
            _, size = _EC_ALGS[public.curve.name]
            # Every Signer signs ECDSA with the curve's own hash (P-384 → SHA-384, ...), as
            # ES256/384/512 require; JWS and COSE carry the raw r‖s form.
            r, s = decode_dss_signature(self.key.sign(message))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        private = self.key.private_key if isinstance(self.key, SigningKey) else None
        if not isinstance(private, rsa.RSAPrivateKey):  # _algorithm refused other RSA signers
            raise UnsupportedError("Notation RSA signing needs an RSA key file")
        hash_type = _rsa_hash(private.key_size)
        return private.sign(
            message,
            padding.PSS(mgf=padding.MGF1(hash_type()), salt_length=hash_type.digest_size),
            hash_type(),
        )


def _rsa_hash(bits: int) -> type[hashes.SHA256] | type[hashes.SHA384] | type[hashes.SHA512]:
    # The Notary Project pairs RSA-2048/3072/4096 with PS256/384/512.
    if bits >= 4096:
        return hashes.SHA512
    return hashes.SHA384 if bits >= 3072 else hashes.SHA256


def _algorithm(key: Signer) -> str:
    public = key.public.public_key
    if isinstance(public, ec.EllipticCurvePublicKey):
        if public.curve.name not in _EC_ALGS:
            raise UnsupportedError(f"Notation does not sign with ECDSA curve {public.curve.name}")
        return _EC_ALGS[public.curve.name][0]
    if isinstance(public, rsa.RSAPublicKey):
        if public.key_size < 2048:
            raise UnsupportedError(
                f"Notation needs RSA of 2048 bits or more, not {public.key_size}"
            )
        if not isinstance(key, SigningKey):
            raise UnsupportedError(
                "Notation signs RSA with RSASSA-PSS; this key backend signs PKCS#1 v1.5 only "
                "(use an ECDSA key, or an RSA key file)"
            )
        return (
            "PS512" if public.key_size >= 4096 else "PS384" if public.key_size >= 3072 else "PS256"
        )
    raise UnsupportedError(
        f"Notation signs with ECDSA or RSA keys only, not {key.public.algorithm}"
    )


def load_chain(certificate: Path, chain: Path | None = None) -> tuple[x509.Certificate, ...]:
    """The leaf certificate file (PEM, possibly holding the whole chain) plus an optional chain
    file (intermediates and root), leaf first; the root is required, as Notary verifiers need
    a chain that ends in a trust-store anchor."""
    certs: list[x509.Certificate] = []
    for path in (certificate, chain):
        if path is None:
            continue
        data = read_bounded(path, "certificate file", MAX_CERTIFICATE_FILE_BYTES)
        certs += load_certificates(data, str(path))
    if not certs:
        raise MalformedError(f"{certificate}: no certificate found")
    return tuple(certs)


def _payload(target: Descriptor) -> bytes:
    descriptor = {"mediaType": target.media_type, "digest": str(target.digest), "size": target.size}
    return json.dumps({"targetArtifact": descriptor}, separators=(",", ":")).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def jws_envelope(
    target: Descriptor, signer: NotationSigner, signing_time: datetime, expiry: datetime | None
) -> bytes:
    crit = ["io.cncf.notary.signingScheme"]
    header: dict[str, object] = {
        "alg": signer.algorithm,
        "crit": crit,
        "cty": PAYLOAD_CONTENT_TYPE,
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": signing_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if expiry is not None:
        crit.append("io.cncf.notary.expiry")
        header["io.cncf.notary.expiry"] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    protected = _b64url(json.dumps(header, separators=(",", ":")).encode())
    payload = _b64url(_payload(target))
    signature = signer.sign(f"{protected}.{payload}".encode("ascii"))
    envelope = {
        "payload": payload,
        "protected": protected,
        "header": {
            "x5c": [base64.b64encode(_der(c)).decode() for c in signer.chain],
            "io.cncf.notary.signingAgent": SIGNING_AGENT,
        },
        "signature": _b64url(signature),
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def cose_envelope(
    target: Descriptor, signer: NotationSigner, signing_time: datetime, expiry: datetime | None
) -> bytes:
    crit: list[object] = ["io.cncf.notary.signingScheme"]
    protected: dict[object, object] = {
        1: _COSE_IDS[signer.algorithm],
        2: crit,
        3: PAYLOAD_CONTENT_TYPE,
        "io.cncf.notary.signingScheme": "notary.x509",
        # notation-go writes times as CBOR tag 1 (epoch seconds).
        "io.cncf.notary.signingTime": cbor2.CBORTag(1, int(signing_time.timestamp())),
    }
    if expiry is not None:
        crit.append("io.cncf.notary.expiry")
        protected["io.cncf.notary.expiry"] = cbor2.CBORTag(1, int(expiry.timestamp()))
    protected_raw = cbor2.dumps(protected)
    payload = _payload(target)
    signature = signer.sign(cbor2.dumps(["Signature1", protected_raw, b"", payload]))
    unprotected = {
        33: [_der(c) for c in signer.chain],
        "io.cncf.notary.signingAgent": SIGNING_AGENT,
    }
    return bytes(cbor2.dumps(cbor2.CBORTag(18, [protected_raw, unprotected, payload, signature])))


def notation_attachment(
    target: Descriptor,
    signer: NotationSigner,
    *,
    envelope: str = "jws",
    expiry: timedelta | None = None,
    now: datetime | None = None,
) -> Attachment:
    """The referrer manifest (and blobs) of one Notation signature of ``target``."""
    from chainproof.trust.attachment import referrer_attachment

    if envelope not in ENVELOPES:
        raise UnsupportedError(f"unknown Notation envelope {envelope!r} (jws or cose)")
    signing_time = (now or datetime.now(UTC)).replace(microsecond=0)
    signer.check_valid(signing_time)
    until = signing_time + expiry if expiry is not None else None
    build = jws_envelope if envelope == "jws" else cose_envelope
    data = build(target, signer, signing_time, until)
    thumbprints = json.dumps([fingerprint(c) for c in signer.chain], separators=(",", ":"))
    annotations = {
        THUMBPRINT_ANNOTATION: thumbprints,
        "org.opencontainers.image.created": signing_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return referrer_attachment(
        target, ARTIFACT_TYPE, [(ENVELOPES[envelope], data, {})], annotations=annotations
    )
