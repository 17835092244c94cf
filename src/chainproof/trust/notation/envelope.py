"""Notation signature envelopes: JWS (JSON serialization) and COSE_Sign1, parsed and bounded.

Only the Notary Project's signed attributes are accepted as critical headers; the payload must be
``application/vnd.cncf.notary.payload.v1+json``; the certificate chain (``x5c`` / COSE label 33)
holds 1 to :data:`MAX_CHAIN` certificates.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cbor2
from cryptography import x509

from chainproof import _jsonutil as _json
from chainproof.errors import MalformedError, UnsupportedError
from chainproof.oci.model import Descriptor
from chainproof.trust import _x509

ARTIFACT_TYPE = "application/vnd.cncf.notary.signature"


JWS_MEDIA_TYPE = "application/jose+json"


COSE_MEDIA_TYPE = "application/cose"


PAYLOAD_CONTENT_TYPE = "application/vnd.cncf.notary.payload.v1+json"


SCHEMES = frozenset({"notary.x509", "notary.x509.signingAuthority"})


MAX_ENVELOPE_BYTES = 4 * 1024 * 1024


MAX_CHAIN = 10


#: JWS "alg" and COSE algorithm ids → (hash, RSASSA-PSS?, expected key type).
JWS_ALGORITHMS = {
    "PS256": ("sha256", True),
    "PS384": ("sha384", True),
    "PS512": ("sha512", True),
    "ES256": ("sha256", False),
    "ES384": ("sha384", False),
    "ES512": ("sha512", False),
}


_COSE_ALGS = {-37: "PS256", -38: "PS384", -39: "PS512", -7: "ES256", -35: "ES384", -36: "ES512"}


_KNOWN_CRIT = frozenset(
    {
        "io.cncf.notary.signingScheme",
        "io.cncf.notary.expiry",
        "io.cncf.notary.authenticSigningTime",
        "io.cncf.notary.verificationPlugin",
        "io.cncf.notary.verificationPluginMinVersion",
    }
)


@dataclass(frozen=True)
class Envelope:
    """A parsed Notation signature envelope (JWS or COSE)."""

    media_type: str
    algorithm: str  # PS256 … ES512
    signing_input: bytes
    signature: bytes
    payload: bytes
    chain: tuple[x509.Certificate, ...] = field(repr=False)
    signing_scheme: str
    signing_time: datetime | None
    expiry: datetime | None
    timestamp_token: bytes | None = field(default=None, repr=False)


def _b64url(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise MalformedError(f"{what} must be a base64url string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedError(f"{what} is not valid base64url") from None


def _rfc3339(value: object, what: str) -> datetime:
    if not isinstance(value, str):
        raise MalformedError(f"{what} must be an RFC 3339 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedError(f"{what}: {value!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise MalformedError(f"{what}: {value!r} has no time zone")
    return parsed


def _chain(raw: object, what: str) -> tuple[x509.Certificate, ...]:
    items = raw if isinstance(raw, list | tuple) else [raw]
    if not items or len(items) > MAX_CHAIN:
        raise MalformedError(f"{what}: certificate chain must have 1 to {MAX_CHAIN} certificates")
    certs = []
    for item in items:
        try:
            data = base64.b64decode(item, validate=True) if isinstance(item, str) else item
        except (binascii.Error, ValueError):
            raise MalformedError(f"{what}: certificate is not base64") from None
        if not isinstance(data, bytes):
            raise MalformedError(f"{what}: certificate is not DER bytes")
        certs.append(_x509.load_der(data, what))
    return tuple(certs)


def _check_crit(crit: object, present: set[str], what: str) -> None:
    if crit is None:
        return
    if not isinstance(crit, list | tuple) or not all(isinstance(c, str | int) for c in crit):
        raise MalformedError(f"{what}: crit must be a list")
    for name in crit:
        if isinstance(name, str) and name not in _KNOWN_CRIT:
            raise UnsupportedError(f"{what}: unsupported critical header {name!r}")
        if isinstance(name, str) and name not in present:
            raise MalformedError(f"{what}: critical header {name!r} is missing")


def parse_jws(data: bytes) -> Envelope:
    what = "JWS envelope"
    obj = _json.loads_object(data, what, max_bytes=MAX_ENVELOPE_BYTES)
    protected_b64 = obj.get("protected")
    payload_b64 = obj.get("payload")
    if not isinstance(protected_b64, str) or not isinstance(payload_b64, str):
        raise MalformedError(f"{what}: protected header or payload missing")
    protected = _json.loads_object(_b64url(protected_b64, what), f"{what} protected header")
    header = obj.get("header")
    if not isinstance(header, dict):
        raise MalformedError(f"{what}: unprotected header missing")
    algorithm = protected.get("alg")
    if not isinstance(algorithm, str):
        raise MalformedError(f"{what}: protected header has no alg")
    if algorithm not in JWS_ALGORITHMS:
        raise UnsupportedError(f"{what}: unsupported algorithm {algorithm!r}")
    if protected.get("cty") != PAYLOAD_CONTENT_TYPE:
        raise MalformedError(f"{what}: content type is not {PAYLOAD_CONTENT_TYPE}")
    _check_crit(protected.get("crit"), set(protected), what)
    scheme = protected.get("io.cncf.notary.signingScheme")
    signing_time_key = (
        "io.cncf.notary.authenticSigningTime"
        if scheme == "notary.x509.signingAuthority"
        else "io.cncf.notary.signingTime"
    )
    expiry = protected.get("io.cncf.notary.expiry")
    token = header.get("io.cncf.notary.timestampSignature")
    return Envelope(
        JWS_MEDIA_TYPE,
        str(algorithm),
        f"{protected_b64}.{payload_b64}".encode("ascii"),
        _b64url(obj.get("signature"), f"{what} signature"),
        _b64url(payload_b64, f"{what} payload"),
        _chain(header.get("x5c"), what),
        str(scheme),
        _rfc3339(protected[signing_time_key], what) if signing_time_key in protected else None,
        _rfc3339(expiry, what) if expiry is not None else None,
        _b64url(token, f"{what} timestamp") if token is not None else None,
    )


def _cose_time(value: object, what: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    raise MalformedError(f"{what}: time header is not a CBOR date")


def _as_dict(value: object) -> dict[Any, Any] | None:
    if isinstance(value, dict):
        return value
    items = getattr(value, "items", None)
    if callable(items):
        return dict(items())
    return None


def parse_cose(data: bytes) -> Envelope:
    what = "COSE envelope"
    if len(data) > MAX_ENVELOPE_BYTES:
        raise MalformedError(f"{what}: larger than {MAX_ENVELOPE_BYTES} bytes")
    try:
        tagged = cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise MalformedError(f"{what}: malformed CBOR ({exc})") from None
    if not isinstance(tagged, cbor2.CBORTag) or tagged.tag != 18:
        raise MalformedError(f"{what}: not a tagged COSE_Sign1 message")
    message = tagged.value
    if not isinstance(message, list | tuple) or len(message) != 4:
        raise MalformedError(f"{what}: COSE_Sign1 must have four elements")
    protected_raw, unprotected, payload, signature = message
    # cbor2 hands back maps nested in arrays as its own immutable mapping type.
    unprotected = _as_dict(unprotected)
    if not isinstance(protected_raw, bytes) or unprotected is None:
        raise MalformedError(f"{what}: malformed headers")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise MalformedError(f"{what}: payload must be attached and signature present")
    try:
        protected = cbor2.loads(protected_raw)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError):
        raise MalformedError(f"{what}: protected header is not CBOR") from None
    protected = _as_dict(protected)
    if protected is None:
        raise MalformedError(f"{what}: protected header is not a map")
    algorithm = _COSE_ALGS.get(protected.get(1))  # type: ignore[arg-type]
    if algorithm is None:
        raise UnsupportedError(f"{what}: unsupported algorithm {protected.get(1)!r}")
    if protected.get(3) != PAYLOAD_CONTENT_TYPE:
        raise MalformedError(f"{what}: content type is not {PAYLOAD_CONTENT_TYPE}")
    _check_crit(protected.get(2), {k for k in protected if isinstance(k, str)}, what)
    scheme = protected.get("io.cncf.notary.signingScheme")
    time_key = (
        "io.cncf.notary.authenticSigningTime"
        if scheme == "notary.x509.signingAuthority"
        else "io.cncf.notary.signingTime"
    )
    sig_structure = cbor2.dumps(["Signature1", protected_raw, b"", payload])
    expiry = protected.get("io.cncf.notary.expiry")
    token = unprotected.get("io.cncf.notary.timestampSignature")
    return Envelope(
        COSE_MEDIA_TYPE,
        algorithm,
        sig_structure,
        signature,
        payload,
        _chain(unprotected.get(33), what),
        str(scheme),
        _cose_time(protected[time_key], what) if time_key in protected else None,
        _cose_time(expiry, what) if expiry is not None else None,
        token if isinstance(token, bytes) else None,
    )


def parse_envelope(data: bytes, media_type: str) -> Envelope:
    if media_type == JWS_MEDIA_TYPE:
        return parse_jws(data)
    if media_type == COSE_MEDIA_TYPE:
        return parse_cose(data)
    raise UnsupportedError(f"unsupported Notation envelope media type {media_type!r}")


def target_artifact(envelope: Envelope) -> Descriptor:
    payload = _json.loads_object(envelope.payload, "Notation payload")
    target = payload.get("targetArtifact")
    return Descriptor.from_json(target, "Notation targetArtifact")
