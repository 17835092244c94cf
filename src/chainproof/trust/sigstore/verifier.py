"""sigstore-python's verifier as chainproof uses it offline: trusted roots, identities, fixes.

Shared by the Sigstore bundle format (:mod:`chainproof.trust.sigstore.bundle`) and cosign's
keyless tag-schema signatures (:mod:`chainproof.trust.cosign.verify`):

* :func:`load_trusted_root` parses (and caches) a ``trusted_root.json``;
* :class:`IdentityPolicy` accepts any of chainproof's identity rules (exact or regexp);
* :class:`SigstoreVerifier` is :class:`sigstore.verify.Verifier` with TSA validity windows as
  closed intervals and Rekor ``intoto/0.0.2`` entries accepted;
* :func:`check_intoto_v002_body` binds an ``intoto/0.0.2`` log entry to the envelope it logs.

The subclass reaches into a few of sigstore-python's private hooks; the dependency is pinned to
one major version and the conformance suite in the tests notices any drift.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError
from rfc3161_client import VerificationError as Rfc3161VerificationError
from rfc3161_client import VerifierBuilder
from sigstore._internal.timestamp import TimestampSource, TimestampVerificationResult
from sigstore.errors import Error as SigstoreError
from sigstore.errors import VerificationError
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier
from sigstore_models.trustroot import v1 as trustroot_v1

from chainproof import _jsonutil as _json
from chainproof._files import read_bounded
from chainproof.errors import MalformedError, NotFoundError, SignatureError
from chainproof.trust import _x509
from chainproof.trust.envelopes.dsse import pae
from chainproof.trust.keys.model import VerificationKey

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from cryptography.x509 import Certificate
    from rfc3161_client import TimeStampResponse

    from chainproof.trust.interface import IdentityRule


def load_trusted_root(path: Path) -> TrustedRoot:
    """Parse a ``trusted_root.json``; a malformed root is bad input (exit 2), not a failure.

    Parsed roots are cached by path, size and modification time: an admission service verifies
    many images against the same root, and parsing it costs more than a signature check.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise NotFoundError(f"trusted root {path} not found") from None
    except OSError as exc:
        raise NotFoundError(f"trusted root {path}: {exc.strerror}") from None
    return _load_trusted_root(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _load_trusted_root(path: Path, size: int, mtime_ns: int) -> TrustedRoot:
    del size, mtime_ns  # cache key only
    data = read_bounded(path, "trusted root", _json.MAX_JSON_BYTES)
    _json.loads_object(data, f"trusted root {path}")  # size/depth bounds first
    try:
        # Parse the bytes read and bounded above (TrustedRoot.from_file would read again).
        return TrustedRoot(trustroot_v1.TrustedRoot.from_json(data))
    except (SigstoreError, ValidationError, ValueError) as exc:
        raise MalformedError(f"trusted root {path}: {first_line(exc)}") from None


def clear_caches() -> None:
    """Forget parsed trusted roots (tests and the cold benchmark)."""
    _load_trusted_root.cache_clear()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return " ".join(text[:3]) if text else type(exc).__name__


class IdentityPolicy:
    """A sigstore ``VerificationPolicy`` accepting any of chainproof's identity rules."""

    def __init__(self, rules: tuple[IdentityRule, ...]) -> None:
        self._rules = rules
        self.matched = ""

    def verify(self, cert: Certificate) -> None:
        issuer = _x509.certificate_issuer(cert)
        names = _x509.certificate_identities(cert)
        for rule in self._rules:
            for name in names:
                if rule.matches(name, issuer):
                    self.matched = f"{name} (issuer {issuer})"
                    return
        raise VerificationError(
            f"certificate identity {', '.join(names) or '(none)'} from issuer "
            f"{issuer or '(none)'} matches no trusted identity"
        )


def _closed_range(start: datetime, end: datetime | None, when: datetime) -> bool:
    return start <= when and (end is None or when <= end)


class SigstoreVerifier(Verifier):
    """sigstore's verifier with the fixes listed in the module docstring."""

    def _verify_signed_timestamp(
        self, timestamp_response: TimeStampResponse, message: bytes
    ) -> TimestampVerificationResult | None:
        # Same as upstream except that validFor.end is inclusive (TimeRange is closed).
        for authority in self._trusted_root.get_timestamp_authorities():
            certificates = authority.certificates(allow_expired=True)
            if len(certificates) < 2:
                continue
            builder = (
                VerifierBuilder()
                .tsa_certificate(certificates[0])
                .add_root_certificate(certificates[-1])
            )
            for certificate in certificates[1:-1]:
                builder = builder.add_intermediate_certificate(certificate)
            try:
                builder.build().verify_message(timestamp_response, message)
            except Rfc3161VerificationError:
                continue
            gen_time = timestamp_response.tst_info.gen_time
            if _closed_range(
                authority.validity_period_start, authority.validity_period_end, gen_time
            ):
                return TimestampVerificationResult(
                    source=TimestampSource.TIMESTAMP_AUTHORITY, time=gen_time
                )
        return None

    def _establish_time(self, bundle: Bundle) -> list[TimestampVerificationResult]:
        entry = bundle.log_entry._inner
        kind = entry.kind_version
        if kind.kind == "intoto" and entry.integrated_time and entry.inclusion_promise:
            # Upstream refuses integrated time for intoto entries; the SET binds it just the
            # same, and cosign attestations before 2024 are logged as intoto/0.0.2.
            times = []
            if bundle.verification_material.timestamp_verification_data:
                times = self._verify_timestamp_authority(bundle)
            times.append(
                TimestampVerificationResult(
                    source=TimestampSource.TRANSPARENCY_SERVICE,
                    time=datetime.fromtimestamp(entry.integrated_time, tz=UTC),
                )
            )
            return times
        return super()._establish_time(bundle)

    def verify_dsse(self, bundle: Bundle, policy: Any) -> tuple[str, bytes]:
        kind = bundle.log_entry._inner.kind_version
        if (kind.kind, kind.version) != ("intoto", "0.0.2"):
            return super().verify_dsse(bundle, policy)
        self._verify_common_signing_cert(bundle, policy)
        envelope = bundle._dsse_envelope
        if envelope is None:
            raise SignatureError("bundle has no DSSE envelope")
        _verify_keyless_envelope(
            bundle.signing_certificate,
            envelope._inner.payload_type,
            envelope._inner.payload,
            [s.sig for s in envelope._inner.signatures],
        )
        check_intoto_v002_body(
            bundle.log_entry._inner.canonicalized_body,
            envelope._inner.payload,
            [s.sig for s in envelope._inner.signatures],
            lambda pem: _x509.same_pem(pem, bundle.signing_certificate),
        )
        return (envelope._inner.payload_type, envelope._inner.payload)


def _verify_keyless_envelope(
    certificate: Certificate, payload_type: str, payload: bytes, signatures: list[bytes]
) -> None:
    """What sigstore-python's DSSE check asks of a keyless envelope, with chainproof's DSSE."""
    if len(signatures) != 1:
        raise SignatureError(f"DSSE: exactly 1 signature allowed, got {len(signatures)}")
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise SignatureError("DSSE: the signing certificate's key is not an ECDSA key")
    key = VerificationKey.from_public_key(public_key, "signing certificate")
    if not key.verify(signatures[0], pae(payload_type, payload), hash_name="sha256"):
        raise SignatureError("DSSE: invalid signature")


def check_intoto_v002_body(
    body: bytes, payload: bytes, signatures: list[bytes], verifier: Callable[[bytes], bool]
) -> None:
    """The intoto/0.0.2 log entry must record this envelope, signed by this certificate/key."""
    try:
        spec = json.loads(body)["spec"]["content"]
        logged = spec["envelope"]
        # intoto/0.0.2 stores the payload (when it stores it at all) and the signatures
        # base64-encoded twice.
        logged_payload = (
            base64.b64decode(base64.b64decode(logged["payload"])) if "payload" in logged else None
        )
        logged_sigs = [
            (base64.b64decode(base64.b64decode(s["sig"])), base64.b64decode(s["publicKey"]))
            for s in logged["signatures"]
        ]
        payload_hash = spec.get("payloadHash") or {}
    except (KeyError, TypeError, ValueError) as exc:
        raise SignatureError(f"malformed intoto/0.0.2 log entry ({exc})") from None
    if logged_payload is None and not payload_hash:
        raise SignatureError("intoto/0.0.2 log entry records neither payload nor its hash")
    if logged_payload is not None and logged_payload != payload:
        raise SignatureError("transparency log entry is inconsistent with the DSSE payload")
    if payload_hash and (
        payload_hash.get("algorithm") != "sha256"
        or payload_hash.get("value") != hashlib.sha256(payload).hexdigest()
    ):
        raise SignatureError("transparency log entry payload hash does not match")
    if sorted(sig for sig, _ in logged_sigs) != sorted(signatures) or not all(
        verifier(pem) for _, pem in logged_sigs
    ):
        raise SignatureError("transparency log entry signatures are inconsistent with the bundle")
