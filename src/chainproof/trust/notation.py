"""Notary Project (Notation) signatures: JWS and COSE envelopes, trust store and trust policy.

What is checked, following the Notary Project signature specification and notation-go:

* **integrity** — the envelope signature verifies with the leaf certificate of its ``x5c`` chain
  (RSASSA-PSS PS256/384/512 or ECDSA ES256/384/512; JWS signs ``protected "." payload``, COSE
  signs ``["Signature1", protected, h'', payload]``), and the signed payload's
  ``targetArtifact`` equals the image manifest (digest, size and media type);
* **authenticity** — the chain is well formed (each certificate issued by the next, CAs marked
  CA, leaf with digitalSignature and no CA flag, code-signing EKU if an EKU is present) and ends
  in a certificate of one of the policy's ``ca:`` / ``signingAuthority:`` trust stores; the
  leaf subject matches a trusted identity (``x509.subject:`` DN, attributes as a subset) or ``*``;
* **authentic timestamp** — with an RFC 3161 countersignature (verified against the policy's
  ``tsa:`` stores) every chain certificate must be valid at the timestamp; without one, now;
  a timestamped signature therefore stays valid after the signing certificate expires;
* **expiry** — ``io.cncf.notary.expiry`` not passed.

Verification levels: ``strict`` enforces all four, ``permissive`` logs authentic-timestamp and
expiry failures, ``audit`` enforces integrity only, ``skip`` verifies nothing. Revocation (OCSP,
CRL) needs the network and is not checked; results say so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chainproof import _jsonutil as _json
from chainproof.errors import MalformedError, NotFoundError, SignatureError, UnsupportedError
from chainproof.oci.image import read_blob
from chainproof.oci.model import Descriptor, Manifest
from chainproof.trust import _x509
from chainproof.trust.interface import SignatureFormat, SignatureVerification, TrustInputs
from chainproof.trust.keys import VerificationKey

if TYPE_CHECKING:
    from chainproof.oci.digest import Digest
    from chainproof.oci.sources.interface import ImageSource

ARTIFACT_TYPE = "application/vnd.cncf.notary.signature"
JWS_MEDIA_TYPE = "application/jose+json"
COSE_MEDIA_TYPE = "application/cose"
PAYLOAD_CONTENT_TYPE = "application/vnd.cncf.notary.payload.v1+json"
SCHEMES = frozenset({"notary.x509", "notary.x509.signingAuthority"})

MAX_ENVELOPE_BYTES = 4 * 1024 * 1024
MAX_CHAIN = 10
MAX_REFERRERS = 64
MAX_TRUST_STORE_FILES = 256

#: JWS "alg" and COSE algorithm ids → (hash, RSASSA-PSS?, expected key type).
_JWS_ALGS = {
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

LEVELS = ("strict", "permissive", "audit", "skip")


# --------------------------------------------------------------------------- envelopes


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
    if algorithm not in _JWS_ALGS:
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


# --------------------------------------------------------------------------- trust store


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
            certs += load_certificates(path.read_bytes(), str(path))
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


# --------------------------------------------------------------------------- trust policy


@dataclass(frozen=True)
class PolicyStatement:
    name: str
    scopes: tuple[str, ...]
    level: str
    overrides: dict[str, str]
    verify_timestamp: str  # "always" | "afterCertExpiry"
    trust_stores: tuple[str, ...]
    identities: tuple[str, ...]

    def action(self, validation: str) -> str:
        """ "enforce", "log" or "skip" for one validation at this statement's level."""
        if validation in self.overrides:
            return self.overrides[validation]
        table = {
            "strict": {},
            "permissive": {"authenticTimestamp": "log", "expiry": "log", "revocation": "log"},
            "audit": {
                "authenticity": "log",
                "authenticTimestamp": "log",
                "expiry": "log",
                "revocation": "log",
            },
        }
        if self.level == "skip":
            return "skip"
        return table[self.level].get(validation, "enforce")


_VALIDATIONS = ("integrity", "authenticity", "authenticTimestamp", "expiry", "revocation")


def _policy_error(message: str) -> MalformedError:
    return MalformedError(f"trust policy: {message}")


def _strings(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _policy_error(f"{what} must be a list of strings")
    return tuple(value)


@dataclass(frozen=True)
class TrustPolicy:
    """A ``trustpolicy.json`` (version 1.0) with its statements validated."""

    statements: tuple[PolicyStatement, ...]

    @classmethod
    def load(cls, path: Path) -> TrustPolicy:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"trust policy {path} not found") from None
        except OSError as exc:
            raise NotFoundError(f"trust policy {path}: {exc.strerror}") from None
        return cls.parse(data)

    @classmethod
    def parse(cls, data: bytes) -> TrustPolicy:
        doc = _json.loads_object(data, "trust policy")
        if doc.get("version") != "1.0":
            raise _policy_error(f"unsupported version {doc.get('version')!r}")
        raw = doc.get("trustPolicies")
        if not isinstance(raw, list) or not raw:
            raise _policy_error("trustPolicies must be a non-empty list")
        statements = [_statement(item) for item in raw]
        names = [s.name for s in statements]
        if len(set(names)) != len(names):
            raise _policy_error("statement names must be unique")
        scopes = [scope for s in statements for scope in s.scopes]
        if len(set(scopes)) != len(scopes):
            raise _policy_error("a registry scope appears in more than one statement")
        return cls(tuple(statements))

    def for_reference(self, reference: str) -> PolicyStatement:
        """The statement whose registry scope names ``reference``'s repository, else ``*``."""
        repository = _repository(reference)
        wildcard = None
        for statement in self.statements:
            if repository and repository in statement.scopes:
                return statement
            if "*" in statement.scopes:
                wildcard = statement
        if wildcard is None:
            raise SignatureError(f"no trust policy statement applies to {reference or 'image'}")
        return wildcard


def _statement(item: object) -> PolicyStatement:
    if not isinstance(item, dict):
        raise _policy_error("each statement must be an object")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise _policy_error("statement without a name")
    scopes = _strings(item.get("registryScopes"), f"{name}: registryScopes")
    if not scopes or ("*" in scopes and len(scopes) > 1):
        raise _policy_error(f"{name}: '*' must be the only registry scope")
    verification = item.get("signatureVerification")
    if not isinstance(verification, dict):
        raise _policy_error(f"{name}: signatureVerification missing")
    level = verification.get("level")
    if level not in LEVELS:
        raise _policy_error(f"{name}: level must be one of {', '.join(LEVELS)}")
    overrides = verification.get("override") or {}
    if not isinstance(overrides, dict) or not all(
        k in _VALIDATIONS and v in ("enforce", "log", "skip") for k, v in overrides.items()
    ):
        raise _policy_error(f"{name}: invalid override")
    if overrides.get("integrity", "enforce") != "enforce":
        raise _policy_error(f"{name}: integrity cannot be overridden")
    verify_timestamp = verification.get("verifyTimestamp", "always")
    if verify_timestamp not in ("always", "afterCertExpiry"):
        raise _policy_error(f"{name}: verifyTimestamp must be always or afterCertExpiry")
    stores = _strings(item.get("trustStores", []), f"{name}: trustStores")
    identities = _strings(item.get("trustedIdentities", []), f"{name}: trustedIdentities")
    if level != "skip" and (not stores or not identities):
        raise _policy_error(f"{name}: trustStores and trustedIdentities are required")
    if "*" in identities and len(identities) > 1:
        raise _policy_error(f"{name}: '*' must be the only trusted identity")
    for identity in identities:
        if identity != "*":
            _parse_identity(identity)
    return PolicyStatement(
        name, scopes, level, dict(overrides), verify_timestamp, stores, identities
    )


def _repository(reference: str) -> str:
    """``registry/repository`` of a reference, normalised as Docker does; "" if not a registry
    reference (an OCI layout or archive has no registry scope; only ``*`` applies)."""
    from chainproof.errors import InvalidReferenceError
    from chainproof.oci.reference import parse_registry

    text = reference.removeprefix("docker://")
    if not text or text.split(":", 1)[0] in ("oci", "oci-archive", "docker-archive"):
        return ""
    try:
        return parse_registry(text).name
    except InvalidReferenceError:
        return ""


_DN_KEYS = {
    "C": NameOID.COUNTRY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "L": NameOID.LOCALITY_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "CN": NameOID.COMMON_NAME,
}


def _parse_identity(identity: str) -> dict[str, str]:
    prefix, sep, dn = identity.partition(":")
    if prefix.strip() != "x509.subject" or not sep:
        raise _policy_error(f"trusted identity {identity!r} is not 'x509.subject: DN'")
    attrs: dict[str, str] = {}
    for part in dn.split(","):
        key, eq, value = part.strip().partition("=")
        if not eq or not key.strip() or key.strip() in attrs:
            raise _policy_error(f"trusted identity {identity!r} has a malformed DN")
        attrs[key.strip()] = value.strip()
    if not {"C", "ST", "O"} <= set(attrs):
        raise _policy_error(f"trusted identity {identity!r} must name C, ST and O")
    return attrs


def _subject_attrs(cert: x509.Certificate) -> dict[str, str]:
    attrs = {}
    for key, oid in _DN_KEYS.items():
        values = cert.subject.get_attributes_for_oid(oid)
        if values:
            attrs[key] = str(values[0].value)
    return attrs


def identity_matches(identities: tuple[str, ...], cert: x509.Certificate) -> bool:
    if "*" in identities:
        return True
    subject = _subject_attrs(cert)
    for identity in identities:
        wanted = _parse_identity(identity)
        if all(subject.get(k) == v for k, v in wanted.items()):
            return True
    return False


# --------------------------------------------------------------------------- verification


def _verify_signature(envelope: Envelope) -> None:
    leaf = envelope.chain[0]
    hash_name, pss = _JWS_ALGS[envelope.algorithm]
    public_key = leaf.public_key()
    if pss and not isinstance(public_key, rsa.RSAPublicKey):
        raise SignatureError(f"{envelope.algorithm} needs an RSA certificate")
    if not pss and not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise SignatureError(f"{envelope.algorithm} needs an ECDSA certificate")
    key = VerificationKey.from_public_key(public_key, "x5c[0]")
    if not key.verify(envelope.signature, envelope.signing_input, hash_name=hash_name, rsa_pss=pss):
        raise SignatureError("envelope signature does not verify with its signing certificate")


def _check_chain_shape(chain: tuple[x509.Certificate, ...]) -> None:
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


def _valid_at(chain: tuple[x509.Certificate, ...], when: datetime) -> str:
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


def verify_timestamp_token(
    token: bytes, signature: bytes, tsa_roots: list[x509.Certificate]
) -> datetime:
    """Verify an RFC 3161 TimeStampToken over ``signature``; return its generation time."""
    from rfc3161_client import VerificationError as TsaError
    from rfc3161_client import VerifierBuilder, decode_timestamp_response

    # Notation stores the bare TimeStampToken; rfc3161-client reads a TimeStampResp, which is
    # SEQUENCE { PKIStatusInfo { status granted(0) }, token }.
    body = b"\x30\x03\x02\x01\x00" + _der_sorted_certificates(token)
    response = _der_sequence(body)
    try:
        parsed = decode_timestamp_response(response)
        # rfc3161-client parses lazily; read what verification needs now.
        stamped: datetime = parsed.tst_info.gen_time
        _ = parsed.tst_info.message_imprint.hash_algorithm
    except ValueError:
        raise SignatureError("timestamp countersignature does not parse") from None
    if not tsa_roots:
        raise SignatureError("timestamp countersignature but no tsa trust store in the policy")
    errors = []
    for root in tsa_roots:
        builder = VerifierBuilder().add_root_certificate(root)
        try:
            builder.build().verify_message(parsed, signature)
        except (TsaError, ValueError) as exc:
            errors.append(str(exc))
            continue
        return stamped
    raise SignatureError(f"timestamp countersignature does not verify: {errors[0]}")


def _der_sorted_certificates(token: bytes) -> bytes:
    """The token with its certificate SET in DER order.

    Real TSAs (GlobalSign among them) emit the SignedData certificate set unsorted, which the
    strict DER parser of rfc3161-client refuses. The set is outside the signed attributes, so
    re-ordering it changes nothing the TSA signed.
    """
    from asn1crypto import cms

    try:
        info = cms.ContentInfo.load(token)
        signed = info["content"]
        certificates = signed["certificates"]
        if not certificates:
            return token
        ordered = sorted(c.dump() for c in certificates)
        signed["certificates"] = cms.CertificateSet(
            [cms.CertificateChoices.load(c) for c in ordered]
        )
        return bytes(info.dump())
    except (ValueError, TypeError, KeyError):
        raise SignatureError("timestamp countersignature is not a CMS SignedData") from None


def _der_sequence(body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        return b"\x30" + bytes([length]) + body
    size = (length.bit_length() + 7) // 8
    return b"\x30" + bytes([0x80 | size]) + length.to_bytes(size, "big") + body


@dataclass(frozen=True)
class NotationOutcome:
    verified: bool
    reason: str
    signer: str = ""
    warnings: tuple[str, ...] = ()
    timestamp: datetime | None = None


def _authenticity(envelope: Envelope, statement: PolicyStatement, store: TrustStore) -> str:
    """Chain shape, a trust-store anchor, a trusted identity: "" when all hold."""
    signer = envelope.chain[0].subject.rfc4514_string()
    try:
        _check_chain_shape(envelope.chain)
    except SignatureError as exc:
        return str(exc)
    kind = "signingAuthority" if envelope.signing_scheme.endswith("Authority") else "ca"
    anchors = [
        cert
        for ref in statement.trust_stores
        if ref.startswith(f"{kind}:")
        for cert in store.certificates(ref)
    ]
    if not any(cert in anchors for cert in envelope.chain):
        return "no certificate of the chain is in the policy's trust stores"
    if not identity_matches(statement.identities, envelope.chain[0]):
        return f"signing identity {signer} is not a trusted identity"
    return ""


def check_authentic_timestamp(
    envelope: Envelope, statement: PolicyStatement, store: TrustStore, now: datetime
) -> tuple[str, datetime | None]:
    """Authentic timestamp as notation-go decides it; returns (problem, stamped time).


    Without a tsa trust store in the policy the chain must be valid now; with one, a
    countersignature is required (unless verifyTimestamp is afterCertExpiry and the chain is
    still valid) and the chain must be valid at the stamped time, so a timestamped signature
    outlives its certificate.
    """
    if envelope.signing_scheme == "notary.x509.signingAuthority":
        # The signing authority vouches for the time: the chain must be valid then.
        if envelope.signing_time is None:
            return "signingAuthority envelope without an authentic signing time", None
        return _valid_at(envelope.chain, envelope.signing_time), envelope.signing_time
    tsa_stores = [ref for ref in statement.trust_stores if ref.startswith("tsa:")]
    invalid_now = _valid_at(envelope.chain, now)
    if not tsa_stores or (statement.verify_timestamp == "afterCertExpiry" and not invalid_now):
        return invalid_now, None
    if envelope.timestamp_token is None:
        return "no timestamp countersignature was found in the signature envelope", None
    tsa_roots = [cert for ref in tsa_stores for cert in store.certificates(ref)]
    try:
        stamped = verify_timestamp_token(envelope.timestamp_token, envelope.signature, tsa_roots)
    except SignatureError as exc:
        return str(exc), None
    invalid = _valid_at(envelope.chain, stamped)
    if invalid:
        return f"timestamp {stamped:%Y-%m-%d %H:%M:%S} UTC: {invalid}", stamped
    return "", stamped


def verify_envelope(
    envelope: Envelope,
    statement: PolicyStatement,
    store: TrustStore,
    *,
    target: Descriptor | None = None,
    now: datetime | None = None,
    fips: bool = False,
) -> NotationOutcome:
    """Apply the Notary Project validations at ``statement``'s level; never raises for a
    failed validation (that is the outcome), only for unreadable trust material."""
    if statement.level == "skip":
        return NotationOutcome(True, f"verification skipped by trust policy {statement.name}")
    now = now or datetime.now(UTC)
    warnings: list[str] = []
    signer = envelope.chain[0].subject.rfc4514_string()

    def fail_or_log(validation: str, message: str) -> NotationOutcome | None:
        action = statement.action(validation)
        if action == "enforce":
            return NotationOutcome(False, message, signer, tuple(warnings))
        if action == "log":
            warnings.append(f"{validation}: {message}")
        return None

    if fips:
        from chainproof.trust.fips import certificate_refusal

        for cert in envelope.chain:
            if reason := certificate_refusal(cert):
                return NotationOutcome(False, f"FIPS mode: {reason}", signer)

    # Integrity: always enforced.
    if envelope.signing_scheme not in SCHEMES:
        return NotationOutcome(False, f"unknown signing scheme {envelope.signing_scheme!r}")
    try:
        _verify_signature(envelope)
        artifact = target_artifact(envelope)
    except (SignatureError, MalformedError) as exc:
        return NotationOutcome(False, str(exc), signer)
    if target is not None and (
        artifact.digest != target.digest
        or artifact.size != target.size
        or artifact.media_type != target.media_type
    ):
        return NotationOutcome(
            False,
            f"signature is for {artifact.digest} ({artifact.media_type}, {artifact.size} bytes), "
            f"not {target.digest} ({target.media_type}, {target.size} bytes)",
            signer,
        )

    if statement.action("authenticity") != "skip":
        problem = _authenticity(envelope, statement, store)
        if problem and (outcome := fail_or_log("authenticity", problem)):
            return outcome

    stamped: datetime | None = None
    if statement.action("authenticTimestamp") != "skip":
        problem, stamped = check_authentic_timestamp(envelope, statement, store, now)
        if problem and (outcome := fail_or_log("authenticTimestamp", problem)):
            return outcome

    # Expiry of the signature itself.
    if (
        statement.action("expiry") != "skip"
        and envelope.expiry is not None
        and envelope.expiry < now
        and (outcome := fail_or_log("expiry", f"signature expired at {envelope.expiry}"))
    ):
        return outcome

    if statement.action("revocation") == "enforce":
        warnings.append("revocation: not checked (needs OCSP/CRL access)")
    reason = "signature verified"
    if stamped is not None:
        reason += f", timestamped {stamped:%Y-%m-%d %H:%M:%S} UTC"
    return NotationOutcome(True, reason, signer, tuple(warnings), stamped)


# --------------------------------------------------------------------------- the format


class NotationSignatures(SignatureFormat):
    """Notation signatures attached as OCI referrers (artifactType notary signature)."""

    name = "notation"

    def verify(
        self, source: ImageSource, subject: Digest, trust: TrustInputs
    ) -> list[SignatureVerification]:
        from chainproof.trust._referrers import find_referrers

        descriptors = find_referrers(source, subject, ARTIFACT_TYPE)
        if not descriptors:
            return []
        if trust.trust_policy is None:
            return [
                SignatureVerification(
                    self.name,
                    subject,
                    f"referrer {descriptors[0].digest}",
                    False,
                    "Notation signature found but no --trust-policy given",
                    unconfigured=True,
                )
            ]
        policy = TrustPolicy.load(trust.trust_policy)
        statement = policy.for_reference(trust.reference)
        store = TrustStore(trust.trust_store or trust.trust_policy.parent / "truststore")
        target = _subject_descriptor(source, subject)
        results = []
        for descriptor in descriptors[:MAX_REFERRERS]:
            location = f"referrer {descriptor.digest}"
            try:
                envelope = _envelope_of(source, descriptor, location)
                if envelope is None:
                    continue
                outcome = verify_envelope(
                    envelope, statement, store, target=target, now=trust.now, fips=trust.fips
                )
            except (MalformedError, UnsupportedError, SignatureError) as exc:
                results.append(SignatureVerification(self.name, subject, location, False, str(exc)))
                continue
            results.append(
                SignatureVerification(
                    self.name,
                    subject,
                    location,
                    outcome.verified,
                    outcome.reason,
                    outcome.signer,
                    warnings=outcome.warnings,
                )
            )
        return results


def _subject_descriptor(source: ImageSource, subject: Digest) -> Descriptor:
    from chainproof.oci.image import _check_manifest

    raw = source.get_manifest(subject)
    document, verified = _check_manifest(raw, subject, None, f"manifest {subject.short()}")
    del document
    return Descriptor(verified.media_type, subject, verified.size)


def _envelope_of(source: ImageSource, descriptor: Descriptor, location: str) -> Envelope | None:
    from chainproof.oci.image import fetch_manifest

    document, _ = fetch_manifest(source, descriptor, location)
    if not isinstance(document, Manifest):
        return None
    for layer in document.layers:
        if layer.media_type in (JWS_MEDIA_TYPE, COSE_MEDIA_TYPE):
            data = read_blob(source, layer, f"{location} envelope", MAX_ENVELOPE_BYTES)
            return parse_envelope(data, layer.media_type)
    return None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 over the DER certificate, as Notation's x509chain.thumbprint#S256 lists it."""
    from cryptography.hazmat.primitives.serialization import Encoding

    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
