"""DSSE envelopes (Dead Simple Signing Envelope v1): PAE, parsing, writing, verification.

chainproof's one DSSE implementation: cosign attestations, Sigstore bundles and VEX attestations
all go through it. Signatures are over ``PAE(payloadType, payload)``, never the payload alone.
ECDSA signatures may be DER (cosign, sigstore) or raw ``r‖s`` (the spec's own test vector); both
are accepted.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chainproof import _jsonutil as _json
from chainproof.errors import MalformedError

if TYPE_CHECKING:
    from chainproof.trust.keys.interface import Signer
    from chainproof.trust.keys.model import VerificationKey

#: Attestations are statements with a predicate; SBOM predicates can be large.
MAX_ENVELOPE_BYTES = 64 * 1024 * 1024
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class DsseSignature:
    sig: bytes
    keyid: str = ""


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[DsseSignature, ...]

    def pae(self) -> bytes:
        return pae(self.payload_type, self.payload)

    def to_json(self) -> dict[str, Any]:
        """The envelope in the DSSE specification's field order."""
        return {
            "payloadType": self.payload_type,
            "payload": base64.b64encode(self.payload).decode(),
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()} for s in self.signatures
            ],
        }

    def dumps(self) -> bytes:
        """Compact JSON, as cosign writes an attestation layer."""
        return json.dumps(self.to_json(), separators=(",", ":")).encode()


def sign_envelope(payload_type: str, payload: bytes, signer: Signer) -> Envelope:
    """An envelope over ``payload`` with one signature (empty key id, as cosign writes)."""
    return Envelope(
        payload_type, payload, (DsseSignature(signer.sign(pae(payload_type, payload))),)
    )


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedError(f"{what} must be a base64 string")
    try:
        # DSSE allows standard or URL-safe base64, padded or not.
        text = value.replace("-", "+").replace("_", "/")
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedError(f"{what} is not valid base64") from None


def parse_envelope(data: bytes | str, what: str = "DSSE envelope") -> Envelope:
    return envelope_from_json(_json.loads_object(data, what, max_bytes=MAX_ENVELOPE_BYTES), what)


def envelope_from_json(
    obj: dict[str, Any], what: str = "DSSE envelope", *, signed: bool = True
) -> Envelope:
    """An envelope from its parsed JSON; ``signed=False`` admits one without signatures (a
    document the user vouches for, such as a ``--vex`` file, whose signatures nobody checks)."""
    payload_type = obj.get("payloadType")
    if not isinstance(payload_type, str) or not payload_type:
        raise MalformedError(f"{what}: payloadType missing")
    signatures = obj.get("signatures", [] if not signed else None)
    if not isinstance(signatures, list) or (signed and not signatures):
        raise MalformedError(f"{what}: no signatures")
    parsed = []
    for i, entry in enumerate(signatures):
        if not isinstance(entry, dict):
            raise MalformedError(f"{what}: signature {i} is not an object")
        keyid = entry.get("keyid", "")
        parsed.append(
            DsseSignature(
                _b64(entry.get("sig"), f"{what}: signature {i}"),
                keyid if isinstance(keyid, str) else "",
            )
        )
    return Envelope(payload_type, _b64(obj.get("payload"), f"{what}: payload"), tuple(parsed))


def verify_envelope(
    envelope: Envelope, keys: tuple[VerificationKey, ...]
) -> list[tuple[DsseSignature, VerificationKey]]:
    """Every (signature, key) pair that verifies; a threshold counts distinct keys."""
    message = envelope.pae()
    matched: list[tuple[DsseSignature, VerificationKey]] = []
    for signature in envelope.signatures:
        for key in keys:
            if key.verify(signature.sig, message):
                matched.append((signature, key))
                break
    return matched
