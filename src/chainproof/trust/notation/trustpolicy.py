"""Notation ``trustpolicy.json`` (version 1.0): statements, levels, scopes, trusted identities."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from chainproof import _jsonutil as _json
from chainproof._files import read_bounded
from chainproof.errors import MalformedError, SignatureError

LEVELS = ("strict", "permissive", "audit", "skip")


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
        return cls.parse(read_bounded(path, "trust policy", _json.MAX_JSON_BYTES))

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
