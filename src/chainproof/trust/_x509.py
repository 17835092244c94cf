"""Certificate helpers shared by the keyless formats: who a Fulcio certificate names."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509.oid import ObjectIdentifier

from chainproof.errors import MalformedError

#: Fulcio's OIDC issuer extensions: v1 holds raw bytes, v2 a DER UTF8String.
_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")


def _der_utf8(value: bytes) -> str:
    # A DER UTF8String: tag 0x0C, a short or long length, then the text.
    if len(value) >= 2 and value[0] == 0x0C:
        length = value[1]
        offset = 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(value[2 : 2 + count], "big")
            offset = 2 + count
        return value[offset : offset + length].decode("utf-8", "replace")
    return value.decode("utf-8", "replace")


#: What cryptography raises for a certificate that does not parse. Several are not ValueErrors,
#: and most surface lazily, when a field is first read.
PARSE_ERRORS = (
    ValueError,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    UnsupportedAlgorithm,
)


def parsed(cert: x509.Certificate, what: str) -> x509.Certificate:
    """``cert`` with every field verification reads parsed now, so damage is a MalformedError
    here and not an exception deep inside chain building."""
    try:
        cert.public_key()
        _ = (cert.subject, cert.issuer, cert.extensions, cert.serial_number)
        _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.signature_hash_algorithm)
    except PARSE_ERRORS as exc:
        raise MalformedError(f"{what}: certificate does not parse ({type(exc).__name__})") from None
    return cert


def load_der(data: bytes, what: str) -> x509.Certificate:
    """A DER certificate, fully parsed, or MalformedError naming ``what``."""
    try:
        cert = x509.load_der_x509_certificate(data)
    except PARSE_ERRORS:
        raise MalformedError(f"{what}: certificate does not parse") from None
    return parsed(cert, what)


def load_pem(data: bytes, what: str) -> x509.Certificate:
    """A PEM certificate, fully parsed, or MalformedError naming ``what``."""
    try:
        cert = x509.load_pem_x509_certificate(data)
    except PARSE_ERRORS:
        raise MalformedError(f"{what}: not a PEM certificate") from None
    return parsed(cert, what)


def same_pem(pem: bytes, cert: x509.Certificate) -> bool:
    """Whether ``pem`` holds exactly ``cert`` (False when it does not parse)."""
    try:
        return x509.load_pem_x509_certificate(pem) == cert
    except PARSE_ERRORS:
        return False


def certificate_issuer(cert: x509.Certificate) -> str:
    """The OIDC issuer Fulcio recorded in ``cert``, or "" when it has none."""
    for ext in cert.extensions:
        if ext.oid == _ISSUER_V2 and isinstance(ext.value, x509.UnrecognizedExtension):
            return _der_utf8(ext.value.value)
    for ext in cert.extensions:
        if ext.oid == _ISSUER_V1 and isinstance(ext.value, x509.UnrecognizedExtension):
            return ext.value.value.decode("utf-8", "replace")
    return ""


def certificate_identities(cert: x509.Certificate) -> list[str]:
    """Every subject alternative name a keyless policy may match (email, URI, other)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names: list[str] = [*san.get_values_for_type(x509.RFC822Name)]
    names += san.get_values_for_type(x509.UniformResourceIdentifier)
    for other in san.get_values_for_type(x509.OtherName):
        names.append(_der_utf8(other.value))
    return names


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True
