"""The exception tree of chainproof.

Every error a user can cause or meet derives from :class:`Error` and carries a one-line,
user-facing message; the CLI prints ``chainproof: error: <message>`` and exits with
:attr:`Error.exit_code`. Anything else escaping the library is a bug.

::

    Error                         exit 2 unless noted
    ├── UsageError                bad command-line usage
    ├── InputError                unreadable, malformed or unsupported input
    │   ├── InvalidReferenceError an image reference that does not parse
    │   ├── NotFoundError         a path, tag, digest or platform that is not there
    │   ├── MalformedError        JSON/tar/compression that does not parse, or exceeds limits
    │   └── UnsupportedError      a media type or format chainproof refuses (e.g. schema 1)
    ├── RegistryError             the registry answered badly or could not be reached
    │   ├── AuthError             401/403 after trying the credentials we have
    │   └── TransportSecurityError TLS failure, version below the minimum, insecure host refused
    └── IntegrityError            exit 1: content does not match the digest or size asked for
"""

from __future__ import annotations


class Error(Exception):
    """Root of every chainproof error; ``str(error)`` is the user-facing message."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        # One line only: the CLI contract promises a one-line error.
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self)


class UsageError(Error):
    """The command line is wrong."""


class InputError(Error):
    """The input cannot be read, parsed or is not supported."""


class InvalidReferenceError(InputError):
    """An image reference that does not parse."""


class NotFoundError(InputError):
    """A path, tag, digest, blob or platform that does not exist."""


class MalformedError(InputError):
    """Data that does not parse, is truncated, or exceeds chainproof's safety limits."""


class UnsupportedError(InputError):
    """A media type, schema or format chainproof deliberately does not accept."""


class RegistryError(Error):
    """A registry could not be reached or answered with an error."""


class AuthError(RegistryError):
    """The registry refused our credentials (or we had none)."""


class TransportSecurityError(RegistryError):
    """TLS could not be established with the required guarantees."""


class IntegrityError(Error):
    """Content does not match the digest or size it was asked for."""

    exit_code = 1


class SignatureError(Error):
    """A signature, certificate, transparency-log proof or trust policy did not verify."""

    exit_code = 1


class DownloadError(Error):
    """An advisory feed could not be downloaded completely (network, HTTP status, truncation)."""
