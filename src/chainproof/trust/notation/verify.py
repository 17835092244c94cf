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

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from chainproof.errors import MalformedError, SignatureError, UnsupportedError
from chainproof.oci.image import read_blob
from chainproof.oci.model import Descriptor, Manifest
from chainproof.trust.interface import SignatureFormat, SignatureVerification, TrustInputs
from chainproof.trust.keys.model import VerificationKey
from chainproof.trust.notation.certificates import (
    revocation_unavailable,
    validity_problem,
    verify_chain,
)
from chainproof.trust.notation.envelope import (
    ARTIFACT_TYPE,
    COSE_MEDIA_TYPE,
    JWS_ALGORITHMS,
    JWS_MEDIA_TYPE,
    MAX_ENVELOPE_BYTES,
    SCHEMES,
    Envelope,
    parse_envelope,
    target_artifact,
)
from chainproof.trust.notation.timestamp import verify_timestamp_token
from chainproof.trust.notation.trustpolicy import PolicyStatement, TrustPolicy, identity_matches
from chainproof.trust.notation.truststore import TrustStore

if TYPE_CHECKING:
    from chainproof.oci.digest import Digest
    from chainproof.oci.sources.interface import ImageSource


MAX_REFERRERS = 64


def _verify_signature(envelope: Envelope) -> None:
    leaf = envelope.chain[0]
    hash_name, pss = JWS_ALGORITHMS[envelope.algorithm]
    public_key = leaf.public_key()
    if pss and not isinstance(public_key, rsa.RSAPublicKey):
        raise SignatureError(f"{envelope.algorithm} needs an RSA certificate")
    if not pss and not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise SignatureError(f"{envelope.algorithm} needs an ECDSA certificate")
    key = VerificationKey.from_public_key(public_key, "x5c[0]")
    if not key.verify(envelope.signature, envelope.signing_input, hash_name=hash_name, rsa_pss=pss):
        raise SignatureError("envelope signature does not verify with its signing certificate")


@dataclass(frozen=True)
class NotationOutcome:
    verified: bool
    reason: str
    signer: str = ""
    warnings: tuple[str, ...] = ()
    timestamp: datetime | None = None


def _authenticity(envelope: Envelope, statement: PolicyStatement, store: TrustStore) -> str:
    """The certificate requirements and a path to a trust-store anchor, then a trusted identity:
    "" when all hold."""
    signer = envelope.chain[0].subject.rfc4514_string()
    kind = "signingAuthority" if envelope.signing_scheme.endswith("Authority") else "ca"
    anchors = [
        cert
        for ref in statement.trust_stores
        if ref.startswith(f"{kind}:")
        for cert in store.certificates(ref)
    ]
    try:
        verify_chain(envelope.chain, anchors)
    except SignatureError as exc:
        return str(exc)
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
        return validity_problem(envelope.chain, envelope.signing_time), envelope.signing_time
    tsa_stores = [ref for ref in statement.trust_stores if ref.startswith("tsa:")]
    invalid_now = validity_problem(envelope.chain, now)
    if not tsa_stores or (statement.verify_timestamp == "afterCertExpiry" and not invalid_now):
        return invalid_now, None
    if envelope.timestamp_token is None:
        return "no timestamp countersignature was found in the signature envelope", None
    tsa_roots = [cert for ref in tsa_stores for cert in store.certificates(ref)]
    try:
        stamped = verify_timestamp_token(envelope.timestamp_token, envelope.signature, tsa_roots)
    except SignatureError as exc:
        return str(exc), None
    invalid = validity_problem(envelope.chain, stamped)
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

    # Revocation: fails closed at "enforce" (strict) when a certificate names OCSP or a CRL,
    # since chainproof cannot consult them; see revocation_unavailable.
    if statement.action("revocation") != "skip":
        problem = revocation_unavailable(envelope.chain)
        if problem and (outcome := fail_or_log("revocation", problem)):
            return outcome
    reason = "signature verified"
    if stamped is not None:
        reason += f", timestamped {stamped:%Y-%m-%d %H:%M:%S} UTC"
    return NotationOutcome(True, reason, signer, tuple(warnings), stamped)


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
