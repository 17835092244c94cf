"""PEM public keys (or certificates) in files: the ``file://`` / plain-path key backend."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chainproof._files import read_bounded
from chainproof.trust.keys.interface import KeyBackend
from chainproof.trust.keys.model import MAX_KEY_FILE_BYTES, key_from_pem

if TYPE_CHECKING:
    from chainproof.trust.keys.model import VerificationKey


class FileKeyBackend(KeyBackend):
    """PEM public keys (or certificates) in files: ``path`` or ``file://path``."""

    schemes = ("", "file")

    def load_public(self, uri: str) -> VerificationKey:
        path = Path(uri.removeprefix("file://"))
        return key_from_pem(read_bounded(path, "key file", MAX_KEY_FILE_BYTES), uri)
