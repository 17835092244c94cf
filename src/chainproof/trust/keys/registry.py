"""Key URIs → key backends: ``load_key(uri)`` and ``load_signer(uri)``.

The backend is picked by URI scheme from :func:`backends`: a plain path or ``file://``,
``pkcs11:`` (RFC 7512), ``hashivault://`` and ``openbao://`` (Transit), ``awskms://``. Unknown
schemes are refused with a clear error rather than guessed at. The backends never import this
module, so adding one is one line in :func:`backends`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chainproof._files import read_bounded
from chainproof.errors import UnsupportedError
from chainproof.trust.keys.file import FileKeyBackend
from chainproof.trust.keys.interface import KeyBackend, Signer
from chainproof.trust.keys.model import MAX_KEY_FILE_BYTES

if TYPE_CHECKING:
    from chainproof.trust.keys.model import VerificationKey


def backends() -> tuple[KeyBackend, ...]:
    """One backend per scheme (imported lazily: optional libraries load only when used)."""
    from chainproof.trust.keys.awskms import AwsKmsKeyBackend
    from chainproof.trust.keys.pkcs11 import Pkcs11KeyBackend
    from chainproof.trust.keys.vault import TransitKeyBackend

    return (FileKeyBackend(), Pkcs11KeyBackend(), TransitKeyBackend(), AwsKmsKeyBackend())


#: Schemes users may try that chainproof knows of but does not serve yet.
_KNOWN_UNSUPPORTED = ("azurekms", "gcpkms", "k8s")


def _scheme(uri: str) -> str:
    head, sep, _ = uri.partition(":")
    # A Windows drive letter ("C:\\keys\\a.pub") is a path, not a scheme.
    if not sep or len(head) == 1 or not head.replace("+", "").replace("-", "").isalnum():
        return ""
    return head.lower()


def _backend(uri: str) -> KeyBackend:
    scheme = _scheme(uri)
    for backend in backends():
        if scheme in backend.schemes:
            return backend
    if scheme in _KNOWN_UNSUPPORTED:
        raise UnsupportedError(f"key URI scheme {scheme!r} is not supported yet ({uri})")
    raise UnsupportedError(f"unknown key URI scheme {scheme!r} in {uri!r}")


def is_file_key(uri: str) -> bool:
    """Whether ``uri`` names a key file (cosign's encrypted format for private keys)."""
    return _scheme(uri) in FileKeyBackend.schemes


def load_key(uri: str) -> VerificationKey:
    """The public key a ``--key`` value names."""
    return _backend(uri).load_public(uri)


def load_signer(uri: str, password: bytes | None = None) -> Signer:
    """The private key a ``--key`` value names, ready to sign.

    Files are cosign's encrypted private keys (``password`` opens them); other schemes keep
    the key where it is (an HSM signs inside the token).
    """
    backend = _backend(uri)
    if isinstance(backend, FileKeyBackend):
        from chainproof.trust.keys.private import decrypt_private_key

        path = Path(uri.removeprefix("file://"))
        data = read_bounded(path, "key file", MAX_KEY_FILE_BYTES)
        return decrypt_private_key(data, password or b"", str(path))
    return backend.signer(uri)
