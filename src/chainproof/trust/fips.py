"""FIPS mode: only FIPS 186-5 / FIPS 204 signature algorithms at approved sizes.

Approved here: ECDSA on P-256/P-384/P-521 with SHA-2, RSA (PKCS#1 v1.5 or PSS) with moduli of
2048 bits or more, EdDSA on Ed25519 (FIPS 186-5), ML-DSA-65 (FIPS 204). Everything else is refused
with the reason. Whether the crypto backend itself runs a validated FIPS module is reported
separately: approving algorithms is not the same as running validated code. Certificates
(Notation chains, Fulcio leaves) must also be signed with a SHA-2 or SHA-3 hash.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa

from chainproof.trust.keys.model import VerificationKey

_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
MIN_RSA_BITS = 2048


def refusal(key: VerificationKey) -> str:
    """Why ``key`` is not allowed in FIPS mode, or "" when it is."""
    public = key.public_key
    if isinstance(public, ec.EllipticCurvePublicKey):
        if public.curve.name not in _CURVES:
            return f"ECDSA curve {public.curve.name} is not approved by FIPS 186-5"
    elif isinstance(public, rsa.RSAPublicKey):
        if public.key_size < MIN_RSA_BITS:
            return f"RSA-{public.key_size} is below the FIPS 186-5 minimum of {MIN_RSA_BITS} bits"
    elif not isinstance(public, ed25519.Ed25519PublicKey | mldsa.MLDSA65PublicKey):
        return f"{type(public).__name__} is not a FIPS 186-5 or FIPS 204 algorithm"
    if key.pq is not None:
        return refusal(key.pq)
    return ""


#: FIPS 180-4 / FIPS 202 hashes a certificate may be signed with (SHA-1 and MD5 are not).
_APPROVED_HASHES = frozenset(
    {"sha224", "sha256", "sha384", "sha512", "sha3-224", "sha3-256", "sha3-384", "sha3-512"}
)


def certificate_refusal(cert: x509.Certificate) -> str:
    """Why a certificate is not allowed in FIPS mode (its key, or the hash it is signed
    with), or "" when it is. Ed25519- and ML-DSA-signed certificates name no separate hash."""
    subject = cert.subject.rfc4514_string()
    try:
        public = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return f'certificate "{subject}": unsupported public key'
    if not isinstance(
        public,
        ec.EllipticCurvePublicKey
        | rsa.RSAPublicKey
        | ed25519.Ed25519PublicKey
        | mldsa.MLDSA65PublicKey,
    ):
        return f'certificate "{subject}": {type(public).__name__} is not approved'
    if reason := refusal(VerificationKey.from_public_key(public, subject)):
        return f'certificate "{subject}": {reason}'
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return f'certificate "{subject}": unsupported signature algorithm'
    if algorithm is not None and algorithm.name not in _APPROVED_HASHES:
        return f'certificate "{subject}" is signed with {algorithm.name.upper()}, not SHA-2/SHA-3'
    return ""


def backend_fips_enabled() -> bool:
    """Whether OpenSSL under ``cryptography`` runs in FIPS mode (a validated provider)."""
    from cryptography.hazmat.bindings._rust import openssl

    return bool(openssl.is_fips_enabled())
