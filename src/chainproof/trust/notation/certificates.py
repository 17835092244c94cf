"""Notary Project certificate requirements for a signing chain."""

from __future__ import annotations

import itertools
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509.oid import ExtendedKeyUsageOID

from chainproof.errors import SignatureError
from chainproof.trust import _x509


def check_chain(chain: tuple[x509.Certificate, ...]) -> None:
    leaf = chain[0]
    if _x509.is_ca(leaf):
        raise SignatureError("signing certificate is a CA certificate")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.digital_signature:
            raise SignatureError("signing certificate lacks the digitalSignature key usage")
    except x509.ExtensionNotFound:
        raise SignatureError("signing certificate has no key usage extension") from None
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.CODE_SIGNING not in eku:
            raise SignatureError("signing certificate's extended key usage is not code signing")
    except x509.ExtensionNotFound:
        pass
    for child, parent in itertools.pairwise(chain):
        if not _x509.is_ca(parent):
            raise SignatureError(f"{parent.subject.rfc4514_string()} is not a CA certificate")
        try:
            child.verify_directly_issued_by(parent)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            raise SignatureError(
                f"{child.subject.rfc4514_string()} is not issued by "
                f"{parent.subject.rfc4514_string()}"
            ) from None
    if not _x509.is_self_signed(chain[-1]):
        raise SignatureError("certificate chain does not end in a self-signed root")


def validity_problem(chain: tuple[x509.Certificate, ...], when: datetime) -> str:
    """ "" when every certificate is valid at ``when``, else why not."""
    for cert in chain:
        if when < cert.not_valid_before_utc:
            return (
                f'certificate "{cert.subject.rfc4514_string()}" is not valid before '
                f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC"
            )
        if when > cert.not_valid_after_utc:
            return (
                f'certificate "{cert.subject.rfc4514_string()}" expired at '
                f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC"
            )
    return ""
