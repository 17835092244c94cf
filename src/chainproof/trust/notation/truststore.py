"""The Notation trust store: ``{root}/x509/{ca|signingAuthority|tsa}/{name}/*`` certificates."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from chainproof._files import read_bounded
from chainproof.errors import MalformedError, NotFoundError
from chainproof.trust import _x509

MAX_TRUST_STORE_FILES = 256
#: A certificate file holds a few certificates of a few KiB each.
MAX_CERTIFICATE_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class TrustStore:
    """``{root}/x509/{ca|signingAuthority|tsa}/{name}/*`` certificates (PEM or DER)."""

    root: Path

    def certificates(self, store: str) -> list[x509.Certificate]:
        """Certificates of a ``type:name`` reference from a trust policy."""
        kind, sep, name = store.partition(":")
        if not sep or kind not in ("ca", "signingAuthority", "tsa") or not name:
            raise MalformedError(f"trust store reference {store!r} is not type:name")
        if "/" in name or "\\" in name or name in (".", ".."):
            raise MalformedError(f"trust store name {name!r} is not a plain name")
        directory = self.root / "x509" / kind / name
        if not directory.is_dir():
            raise NotFoundError(f"trust store {store} not found at {directory}")
        files = sorted(p for p in directory.iterdir() if p.is_file())
        if len(files) > MAX_TRUST_STORE_FILES:
            raise MalformedError(f"trust store {store}: more than {MAX_TRUST_STORE_FILES} files")
        certs: list[x509.Certificate] = []
        for path in files:
            data = read_bounded(path, "trust store file", MAX_CERTIFICATE_FILE_BYTES)
            certs += load_certificates(data, str(path))
        if not certs:
            raise MalformedError(f"trust store {store} holds no certificates")
        return certs


def load_certificates(data: bytes, what: str) -> list[x509.Certificate]:
    """One DER certificate, or any number of PEM certificates."""
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
        return [_x509.parsed(cert, what) for cert in certs]
    except _x509.PARSE_ERRORS:
        raise MalformedError(f"{what}: not a PEM or DER certificate") from None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 over the DER certificate, as Notation's x509chain.thumbprint#S256 lists it."""
    from cryptography.hazmat.primitives.serialization import Encoding

    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
