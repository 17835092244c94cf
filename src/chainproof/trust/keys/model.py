"""Public keys and one verify operation for every algorithm chainproof accepts.

A :class:`VerificationKey` is what every signature format verifies with, whichever backend
(:mod:`chainproof.trust.keys.registry`) loaded it: ECDSA (DER or raw ``r‖s``), RSA PKCS#1 v1.5
or PSS, Ed25519, ML-DSA-65, and the hybrid ECDSA + ML-DSA-65 pair.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from chainproof.errors import MalformedError, UnsupportedError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes


#: PEM public keys are tiny; refuse to slurp anything large that a user mistyped.
MAX_KEY_FILE_BYTES = 1024 * 1024


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _default_hash(key: PublicKeyTypes) -> str:
    # cosign/sigstore pick the hash by curve; RSA keys default to SHA-256.
    if isinstance(key, ec.EllipticCurvePublicKey):
        return {"secp384r1": "sha384", "secp521r1": "sha512"}.get(key.curve.name, "sha256")
    return "sha256"


@dataclass(frozen=True)
class VerificationKey:
    """A public key plus where it came from; ``key_id`` is the SHA-256 of its DER SPKI."""

    public_key: PublicKeyTypes = field(repr=False, compare=False)
    uri: str
    key_id: str
    #: For a hybrid key: the ML-DSA-65 half, whose signature is required as well.
    pq: VerificationKey | None = None

    @classmethod
    def from_public_key(cls, public_key: PublicKeyTypes, uri: str) -> VerificationKey:
        if not isinstance(
            public_key,
            ec.EllipticCurvePublicKey
            | rsa.RSAPublicKey
            | ed25519.Ed25519PublicKey
            | mldsa.MLDSA65PublicKey,
        ):
            raise UnsupportedError(f"{uri}: unsupported key type {type(public_key).__name__}")
        der = public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(public_key, uri, hashlib.sha256(der).hexdigest())

    @property
    def algorithm(self) -> str:
        key = self.public_key
        if isinstance(key, ec.EllipticCurvePublicKey):
            return f"ecdsa-{key.curve.name}"
        if isinstance(key, rsa.RSAPublicKey):
            return f"rsa-{key.key_size}"
        if isinstance(key, mldsa.MLDSA65PublicKey):
            return "mldsa-65"
        return "ed25519"

    def der(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def verify(
        self,
        signature: bytes,
        data: bytes,
        *,
        hash_name: str = "",
        rsa_pss: bool = False,
        prehashed: bool = False,
    ) -> bool:
        """True when ``signature`` is valid over ``data``.

        ECDSA signatures are accepted DER-encoded or as raw ``r‖s`` (DSSE and JWS use the
        latter); RSA is PKCS#1 v1.5 unless ``rsa_pss``, which also accepts any salt length
        like notation-go does for PS256/384/512. ``prehashed`` means ``data`` is already the
        digest (hashedrekord signatures over an artifact's SHA-256).
        """
        key = self.public_key
        name = hash_name or _default_hash(key)
        algorithm = _HASHES.get(name)
        if algorithm is None:
            raise UnsupportedError(f"unsupported signature hash {name!r}")
        chosen: hashes.HashAlgorithm | Prehashed = (
            Prehashed(algorithm()) if prehashed else algorithm()
        )
        try:
            if isinstance(key, ed25519.Ed25519PublicKey | mldsa.MLDSA65PublicKey):
                if prehashed:
                    return False  # Ed25519 and ML-DSA (pure) sign messages, never digests
                key.verify(signature, data)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(_ecdsa_der(signature, key), data, ec.ECDSA(chosen))
            elif isinstance(key, rsa.RSAPublicKey):
                if rsa_pss:
                    key.verify(
                        signature,
                        data,
                        padding.PSS(padding.MGF1(algorithm()), padding.PSS.AUTO),
                        chosen,
                    )
                else:
                    key.verify(signature, data, padding.PKCS1v15(), chosen)
            else:  # pragma: no cover - from_public_key admits only the four above
                return False
        except InvalidSignature:
            return False
        return True


def _ecdsa_der(signature: bytes, key: ec.EllipticCurvePublicKey) -> bytes:
    """DER-encode a raw r‖s signature; pass DER through unchanged."""
    size = (key.curve.key_size + 7) // 8
    if len(signature) != 2 * size:
        return signature
    # A raw signature may start with 0x30 by chance: only a parse tells DER from r‖s.
    try:
        decode_dss_signature(signature)
    except ValueError:
        return encode_dss_signature(
            int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        )
    return signature


def _pem_blocks(data: bytes) -> list[bytes]:
    marker = b"-----BEGIN "
    starts = [i for i in range(len(data)) if data.startswith(marker, i)]
    return [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]


def key_from_pem(data: bytes, uri: str) -> VerificationKey:
    """One public key, or a hybrid pair: an ECDSA key followed by an ML-DSA-65 key."""
    blocks = _pem_blocks(data)
    if len(blocks) == 2 and all(b.startswith(b"-----BEGIN PUBLIC KEY") for b in blocks):
        classic = VerificationKey.from_public_key(public_key_from_pem(blocks[0], uri), uri)
        pq = VerificationKey.from_public_key(public_key_from_pem(blocks[1], uri), uri)
        if not isinstance(pq.public_key, mldsa.MLDSA65PublicKey) or isinstance(
            classic.public_key, mldsa.MLDSA65PublicKey
        ):
            raise MalformedError(f"{uri}: a hybrid key is a classic key followed by ML-DSA-65")
        combined = hashlib.sha256(classic.der() + pq.der()).hexdigest()
        return VerificationKey(classic.public_key, uri, combined, pq)
    return VerificationKey.from_public_key(public_key_from_pem(data, uri), uri)


def public_key_from_pem(data: bytes, what: str) -> PublicKeyTypes:
    """A public key from PEM: SubjectPublicKeyInfo, PKCS#1 RSA, or a certificate's key."""
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificate(data).public_key()
        return serialization.load_pem_public_key(data)
    except (ValueError, x509.InvalidVersion, UnsupportedAlgorithm) as exc:
        if b"PRIVATE KEY" in data:
            raise MalformedError(f"{what}: a private key where a public key was expected") from None
        raise MalformedError(f"{what}: not a PEM public key or certificate ({exc})") from None
