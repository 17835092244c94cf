"""PEM public keys (or certificates) in files: the ``file://`` / plain-path key backend."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chainproof.errors import MalformedError, NotFoundError
from chainproof.trust.keys.interface import KeyBackend
from chainproof.trust.keys.model import MAX_KEY_FILE_BYTES, key_from_pem

if TYPE_CHECKING:
    from chainproof.trust.keys.model import VerificationKey


class FileKeyBackend(KeyBackend):
    """PEM public keys (or certificates) in files: ``path`` or ``file://path``."""

    schemes = ("", "file")

    def load_public(self, uri: str) -> VerificationKey:
        path = Path(uri.removeprefix("file://"))
        try:
            size = path.stat().st_size
            if size > MAX_KEY_FILE_BYTES:
                raise MalformedError(f"{path}: {size} bytes is too large for a public key")
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"key file {path} not found") from None
        except IsADirectoryError:
            raise NotFoundError(f"key file {path} is a directory") from None
        except PermissionError:
            raise NotFoundError(f"key file {path} is not readable") from None
        return key_from_pem(data, uri)
