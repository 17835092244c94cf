"""The key extension point: a :class:`KeyBackend` per URI scheme, a :class:`Signer` per private key.

A backend turns a key URI into a :class:`~chainproof.trust.keys.model.VerificationKey` and,
when it holds private keys, a :class:`Signer`; :mod:`chainproof.trust.keys.registry` picks the
backend by scheme.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chainproof.trust.keys.model import VerificationKey


class Signer(abc.ABC):
    """Something that signs with one private key: a key in memory, an HSM object, a KMS key."""

    @property
    @abc.abstractmethod
    def public(self) -> VerificationKey:
        """The matching public key."""

    @property
    def algorithm(self) -> str:
        return self.public.algorithm

    @abc.abstractmethod
    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` as cosign would for this algorithm (ECDSA signatures DER-encoded)."""


class KeyBackend(abc.ABC):
    """Loads keys named by URI for one scheme."""

    #: URI schemes this backend serves ("" for plain file paths).
    schemes: tuple[str, ...]

    @abc.abstractmethod
    def load_public(self, uri: str) -> VerificationKey:
        """The public key ``uri`` names. Raises an InputError subclass when it cannot."""

    def signer(self, uri: str) -> Signer:
        """A signer for the private key ``uri`` names (backends that hold private keys)."""
        from chainproof.errors import UnsupportedError

        raise UnsupportedError(f"{uri}: this key backend cannot sign")
