"""TLS policy: the SSL context the client uses and what TLS failures mean to a user."""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

from chainproof.errors import TransportSecurityError

if TYPE_CHECKING:
    from chainproof.oci.registry.options import RegistryOptions

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def make_context(options: RegistryOptions) -> ssl.SSLContext:
    """A verifying client context with the TLS floor the options ask for."""
    if options.ca_file is not None:
        if not options.ca_file.is_file():
            raise TransportSecurityError(f"CA bundle {options.ca_file} does not exist")
        try:
            context = ssl.create_default_context(cafile=str(options.ca_file))
        except (ssl.SSLError, OSError) as exc:
            raise TransportSecurityError(
                f"cannot load CA bundle {options.ca_file}: {exc}"
            ) from None
    else:
        context = ssl.create_default_context()
    context.minimum_version = _VERSIONS[options.min_tls]
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


_VERSION_MARKERS = (
    "UNSUPPORTED_PROTOCOL",
    "PROTOCOL_VERSION",
    "NO_PROTOCOLS_AVAILABLE",
    "VERSION_TOO_LOW",
    "TLSV1_ALERT_PROTOCOL_VERSION",
)
_PLAINTEXT_MARKERS = (
    "WRONG_VERSION_NUMBER",
    "RECORD_LAYER_FAILURE",
    "HTTP_REQUEST",
    "PACKET_LENGTH_TOO_LONG",
)


def is_tls_failure(exc: BaseException) -> bool:
    return _ssl_error(exc) is not None or "SSL" in str(exc) or "CERTIFICATE" in str(exc)


def describe_failure(exc: BaseException, host: str, min_tls: str) -> TransportSecurityError:
    """Turn an ssl failure into a one-line explanation with the way out, if there is one."""
    error = _ssl_error(exc)
    text = str(error if error is not None else exc)
    upper = text.upper()
    if isinstance(error, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in upper:
        reason = getattr(error, "verify_message", "") or text
        if "mismatch" in reason.lower():
            return TransportSecurityError(
                f"TLS certificate of {host} does not match the host name ({reason})"
            )
        return TransportSecurityError(
            f"TLS certificate of {host} is not trusted ({reason}); "
            "pass --ca-file with the CA that issued it"
        )
    if any(marker in upper for marker in _VERSION_MARKERS):
        hint = " (pass --min-tls 1.2 to accept TLS 1.2)" if min_tls == "1.3" else ""
        return TransportSecurityError(
            f"{host} does not offer TLS {min_tls} or newer, the minimum required{hint}"
        )
    if any(marker in upper for marker in _PLAINTEXT_MARKERS):
        return TransportSecurityError(
            f"{host} does not speak TLS; to allow plain HTTP to it, pass --insecure-registry {host}"
        )
    return TransportSecurityError(f"TLS handshake with {host} failed: {text}")
