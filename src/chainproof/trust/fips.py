"""FIPS mode: only FIPS 186-5 / FIPS 204 signature algorithms at approved sizes.

Approved here: ECDSA on P-256/P-384/P-521 with SHA-2, RSA (PKCS#1 v1.5 or PSS) with moduli of
2048 bits or more, EdDSA on Ed25519 (FIPS 186-5), ML-DSA-65 (FIPS 204). Everything else is refused
with the reason. Whether the crypto backend itself runs a validated FIPS module is reported
separately: approving algorithms is not the same as running validated code.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa

from chainproof.trust.keys import VerificationKey

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


def backend_fips_enabled() -> bool:
    """Whether OpenSSL under ``cryptography`` runs in FIPS mode (a validated provider)."""
    from cryptography.hazmat.bindings._rust import openssl

    return bool(openssl.is_fips_enabled())
