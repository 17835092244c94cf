"""in-toto Statements (v0.1 and v1): subjects matched by digest, predicates by type."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from chainproof import _jsonutil as _json
from chainproof.errors import MalformedError

STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENT_TYPES = frozenset(
    {"https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1"}
)

#: cosign v3 signs images with a DSSE in-toto statement of this type (no predicate): a signature,
#: not an attestation.
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"

#: Predicate types chainproof names; anything else is reported as "custom".
PREDICATE_KINDS: dict[str, str] = {
    "https://slsa.dev/provenance/v0.2": "slsa-provenance-v0.2",
    "https://slsa.dev/provenance/v1": "slsa-provenance-v1",
    "https://cyclonedx.org/bom": "cyclonedx",
    "https://cyclonedx.org/bom/v1.4": "cyclonedx",
    "https://cyclonedx.org/bom/v1.5": "cyclonedx",
    "https://cyclonedx.org/bom/v1.6": "cyclonedx",
    "https://spdx.dev/Document": "spdx",
    "https://spdx.dev/Document/v2.3": "spdx",
    "https://openvex.dev/ns": "openvex",
    "https://openvex.dev/ns/v0.2.0": "openvex",
    "https://cosign.sigstore.dev/attestation/v1": "cosign-custom",
    COSIGN_SIGN_PREDICATE: "cosign-signature",
    "https://cosign.sigstore.dev/attestation/vuln/v1": "cosign-vuln",
}


def predicate_kind(predicate_type: str) -> str:
    """A short name for a predicate type URI; "custom" for URIs chainproof does not know."""
    if predicate_type in PREDICATE_KINDS:
        return PREDICATE_KINDS[predicate_type]
    if predicate_type.startswith("https://openvex.dev/ns"):
        return "openvex"
    return "custom"


@dataclass(frozen=True)
class Subject:
    name: str
    digest: dict[str, str]


@dataclass(frozen=True)
class Statement:
    type: str
    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Any = field(hash=False, compare=False)

    @property
    def predicate_kind(self) -> str:
        return predicate_kind(self.predicate_type)

    def has_subject(self, algorithm: str, hex_digest: str) -> bool:
        """Whether a subject names this digest (case-insensitive hex, constant-time compare)."""
        want = hex_digest.lower().encode()
        return any(
            hmac.compare_digest(s.digest.get(algorithm, "").lower().encode(), want)
            for s in self.subjects
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "_type": self.type,
            "subject": [{"name": s.name, "digest": s.digest} for s in self.subjects],
            "predicateType": self.predicate_type,
            "predicate": self.predicate,
        }


def parse_statement(payload: bytes, what: str = "in-toto statement") -> Statement:
    obj = _json.loads_object(payload, what, max_bytes=64 * 1024 * 1024)
    kind = obj.get("_type")
    if kind not in STATEMENT_TYPES:
        raise MalformedError(f"{what}: unknown statement type {kind!r}")
    raw_subjects = obj.get("subject")
    if not isinstance(raw_subjects, list) or not raw_subjects:
        raise MalformedError(f"{what}: no subjects")
    subjects = []
    for i, raw in enumerate(raw_subjects):
        digest = raw.get("digest") if isinstance(raw, dict) else None
        if not isinstance(digest, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in digest.items()
        ):
            raise MalformedError(f"{what}: subject {i} has no digest map")
        name = raw.get("name", "")
        subjects.append(Subject(name if isinstance(name, str) else "", dict(digest)))
    predicate_type = obj.get("predicateType")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise MalformedError(f"{what}: predicateType missing")
    return Statement(kind, tuple(subjects), predicate_type, obj.get("predicate"))


def statement_bytes(
    name: str,
    digest: dict[str, str],
    predicate_type: str,
    predicate: Any,
    annotations: dict[str, str] | None = None,
) -> bytes:
    """A Statement v1 with one subject, in compact JSON as cosign writes it (``annotations``,
    sorted, on the subject when given)."""
    subject: dict[str, Any] = {"name": name, "digest": digest}
    if annotations:
        subject["annotations"] = dict(sorted(annotations.items()))
    return json.dumps(
        {
            "_type": STATEMENT_V1,
            "subject": [subject],
            "predicateType": predicate_type,
            "predicate": predicate,
        },
        separators=(",", ":"),
    ).encode()
