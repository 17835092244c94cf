"""Private keys: generation, signing, and cosign's encrypted key format.

Private keys are stored the way cosign stores them, so cosign users can bring their keys and take
chainproof's away: PEM ``ENCRYPTED SIGSTORE PRIVATE KEY`` (older cosign: ``ENCRYPTED COSIGN
PRIVATE KEY``) around the JSON of go-securesystemslib's ``encrypted`` package — scrypt (N=32768,
r=8, p=1, 32-byte salt) derives the key for NaCl secretbox (XSalsa20-Poly1305, 24-byte nonce) over
the PKCS#8 DER private key.

Algorithms: ECDSA P-256 (default, SHA-256), Ed25519, RSA-3072 (PKCS#1 v1.5 / SHA-256, as cosign
signs), ML-DSA-65 (FIPS 204, pure), and a *hybrid* ECDSA-P256 + ML-DSA-65 pair whose two signatures
are both required. See ``docs/signatures.md`` for how a hybrid signature is attached.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from chainproof import _jsonutil as _json
from chainproof.errors import InputError, MalformedError, UnsupportedError
from chainproof.trust.keys.algorithms import ALGORITHMS, DEFAULT_ALGORITHM
from chainproof.trust.keys.interface import Signer
from chainproof.trust.keys.model import VerificationKey

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

PEM_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY"
_PEM_TYPES = (PEM_TYPE, "ENCRYPTED COSIGN PRIVATE KEY")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 32768, 8, 1
#: Refuse work factors an attacker-supplied key file could use to stall us.
_MAX_SCRYPT_N = 1 << 20

_Private = (
    ec.EllipticCurvePrivateKey
    | rsa.RSAPrivateKey
    | ed25519.Ed25519PrivateKey
    | mldsa.MLDSA65PrivateKey
)


class WrongPasswordError(InputError):
    """The password does not open the encrypted private key."""


@dataclass(frozen=True)
class SigningKey(Signer):
    """One private key in memory; ``sign`` produces what cosign would for the algorithm."""

    private_key: _Private = field(repr=False)

    @property
    def public(self) -> VerificationKey:
        return VerificationKey.from_public_key(self.private_key.public_key(), "generated")

    def sign(self, data: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            hash_name = {"secp384r1": hashes.SHA384(), "secp521r1": hashes.SHA512()}
            return key.sign(data, ec.ECDSA(hash_name.get(key.curve.name, hashes.SHA256())))
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return key.sign(data)


@dataclass(frozen=True)
class HybridSigningKey:
    """ECDSA-P256 + ML-DSA-65: the classic signature stays where cosign looks for it."""

    classic: Signer
    pq: Signer


def generate_key(algorithm: str = DEFAULT_ALGORITHM) -> SigningKey:
    """A fresh single key (every algorithm except the hybrid pair)."""
    if algorithm == "ecdsa-p256":
        return SigningKey(ec.generate_private_key(ec.SECP256R1()))
    if algorithm == "ed25519":
        return SigningKey(ed25519.Ed25519PrivateKey.generate())
    if algorithm == "rsa-3072":
        return SigningKey(rsa.generate_private_key(65537, 3072))
    if algorithm == "mldsa-65":
        return SigningKey(mldsa.MLDSA65PrivateKey.generate())
    raise UnsupportedError(f"unknown key algorithm {algorithm!r} (one of {', '.join(ALGORITHMS)})")


def generate_hybrid() -> HybridSigningKey:
    """A fresh ECDSA-P256 + ML-DSA-65 pair."""
    return HybridSigningKey(generate_key("ecdsa-p256"), generate_key("mldsa-65"))


def generate(algorithm: str = DEFAULT_ALGORITHM) -> SigningKey | HybridSigningKey:
    if algorithm == "hybrid-ecdsa-p256-mldsa-65":
        return generate_hybrid()
    return generate_key(algorithm)


def _kdf(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password)


def encrypt_private_key(key: Signer, password: bytes) -> bytes:
    """cosign's encrypted PEM for ``key``."""
    import nacl.secret

    if not isinstance(key, SigningKey):
        raise UnsupportedError("only keys held in memory can be exported to a key file")
    der = key.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    salt = os.urandom(32)
    nonce = os.urandom(24)
    box = nacl.secret.SecretBox(_kdf(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P))
    ciphertext = box.encrypt(der, nonce).ciphertext
    document = {
        "kdf": {
            "name": "scrypt",
            "params": {"N": _SCRYPT_N, "r": _SCRYPT_R, "p": _SCRYPT_P},
            "salt": base64.b64encode(salt).decode(),
        },
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    body = base64.encodebytes(json.dumps(document).encode()).decode()
    # encodebytes wraps at 76 columns; PEM wants 64.
    flat = body.replace("\n", "")
    lines = [flat[i : i + 64] for i in range(0, len(flat), 64)]
    return (
        f"-----BEGIN {PEM_TYPE}-----\n" + "\n".join(lines) + f"\n-----END {PEM_TYPE}-----\n"
    ).encode()


def _pem_body(data: bytes, what: str) -> bytes:
    text = data.decode("ascii", "replace")
    for label in _PEM_TYPES:
        begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
        if begin in text and end in text:
            inner = text.split(begin, 1)[1].split(end, 1)[0]
            try:
                return base64.b64decode("".join(inner.split()), validate=True)
            except (binascii.Error, ValueError):
                raise MalformedError(f"{what}: PEM body is not base64") from None
    raise MalformedError(f"{what}: not an encrypted cosign/sigstore private key")


def decrypt_private_key(data: bytes, password: bytes, what: str = "private key") -> SigningKey:
    import nacl.exceptions
    import nacl.secret

    doc = _json.loads_object(_pem_body(data, what), what, max_bytes=64 * 1024)
    try:
        kdf, cipher = doc["kdf"], doc["cipher"]
        if kdf["name"] != "scrypt" or cipher["name"] != "nacl/secretbox":
            raise UnsupportedError(
                f"{what}: unsupported kdf {kdf['name']!r} / cipher {cipher['name']!r}"
            )
        params = kdf["params"]
        n, r, p = int(params["N"]), int(params["r"]), int(params["p"])
        salt = base64.b64decode(kdf["salt"])
        nonce = base64.b64decode(cipher["nonce"])
        ciphertext = base64.b64decode(doc["ciphertext"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise MalformedError(f"{what}: malformed encrypted key document") from None
    if not (2 <= n <= _MAX_SCRYPT_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise MalformedError(f"{what}: scrypt parameters out of range")
    if len(nonce) != 24:
        raise MalformedError(f"{what}: secretbox nonce must be 24 bytes")
    box = nacl.secret.SecretBox(_kdf(password, salt, n, r, p))
    try:
        der = box.decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError:
        raise WrongPasswordError(f"{what}: wrong password (or the key file is corrupted)") from None
    try:
        private = serialization.load_der_private_key(der, password=None)
    except (ValueError, UnsupportedAlgorithm):
        raise MalformedError(f"{what}: decrypted content is not a PKCS#8 private key") from None
    return SigningKey(_checked(private, what))


def is_cosign_key(data: bytes) -> bool:
    """Whether ``data`` is cosign's encrypted private key format (else a plain PEM key)."""
    return any(f"-----BEGIN {label}-----".encode() in data for label in _PEM_TYPES)


def load_pem_private_key(data: bytes, password: bytes | None, what: str) -> SigningKey:
    """A standard PEM private key (PKCS#8, SEC 1 or PKCS#1; encrypted PKCS#8 needs
    ``password``), as ``notation`` and ``openssl`` write them."""
    try:
        private = serialization.load_pem_private_key(data, password=password)
    except TypeError:
        raise InputError(f"{what}: the key is encrypted and needs a password") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        if password is not None and b"ENCRYPTED" in data:
            raise WrongPasswordError(f"{what}: wrong password (or the key is corrupted)") from None
        raise MalformedError(f"{what}: not a PEM private key ({exc})") from None
    return SigningKey(_checked(private, what))


def _checked(private: PrivateKeyTypes, what: str) -> _Private:
    if isinstance(
        private,
        ec.EllipticCurvePrivateKey
        | rsa.RSAPrivateKey
        | ed25519.Ed25519PrivateKey
        | mldsa.MLDSA65PrivateKey,
    ):
        return private
    raise UnsupportedError(f"{what}: unsupported key type {type(private).__name__}")


def public_pem(key: Signer) -> bytes:
    return key.public.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
