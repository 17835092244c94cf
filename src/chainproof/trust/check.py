"""``signature.*`` and ``attestation.*`` checks over one platform image.

Both checks look at the platform manifest's digest and, for a multi-arch image, the index digest
too: a signature on either counts, and the evidence says which. What is trusted comes from a
:class:`TrustConfig` (built by :mod:`chainproof.policy` from a policy file or from the
cosign/notation-named flags): one :class:`SignatureRequirement` per signer group that must be
met — each with its own trust material and threshold — and the attestations that must be
present, each with the trust material that may sign it and the conditions its statement must
meet.

Verified in-toto statements are handed to later checks in ``context.shared["attestations"]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chainproof.checks.interface import Check, CheckResult, Severity, Status
from chainproof.errors import Error
from chainproof.trust.cosign.verify import CosignAttestations, CosignSignatures
from chainproof.trust.envelopes.intoto import predicate_kind
from chainproof.trust.interface import SignatureVerification, TrustInputs
from chainproof.trust.sigstore.bundle import SigstoreBundles

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from chainproof.checks.context import CheckContext
    from chainproof.oci.digest import Digest
    from chainproof.trust.interface import SignatureFormat

_SHARED_RESULTS = "trust.results"
SHARED_ATTESTATIONS = "attestations"


@dataclass(frozen=True)
class SignatureRequirement:
    """``threshold`` distinct signers verified by ``trust`` must have signed the image."""

    trust: TrustInputs
    threshold: int = 1
    #: The policy rule this requirement came from ("" for the command line's flags).
    rule: str = ""

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("threshold must be at least 1")


def _no_conditions(_statement: Mapping[str, Any]) -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class AttestationRequirement:
    """A verified attestation of ``predicate_type`` (URI or short name) must be attached.

    ``conditions`` returns the reasons a verified statement does not satisfy the requirement
    (empty: it does); the policy compiles them from SLSA fields, JMESPath and Rego.
    """

    predicate_type: str
    trust: TrustInputs
    rule: str = ""
    conditions: Callable[[Mapping[str, Any]], Sequence[str]] = field(
        default=_no_conditions, compare=False
    )
    #: Whether ``conditions`` tests anything (for the evidence).
    conditional: bool = False


@dataclass(frozen=True)
class TrustConfig:
    signatures: tuple[SignatureRequirement, ...] = ()
    attestations: tuple[AttestationRequirement, ...] = ()

    def trust_inputs(self) -> tuple[TrustInputs, ...]:
        """Every distinct set of trust material, in first-use order."""
        seen: dict[TrustInputs, None] = {}
        for trust in (*(s.trust for s in self.signatures), *(a.trust for a in self.attestations)):
            seen.setdefault(trust, None)
        return tuple(seen)


def _formats() -> tuple[SignatureFormat, ...]:
    from chainproof.trust.notation.verify import NotationSignatures

    return (CosignSignatures(), SigstoreBundles(), NotationSignatures(), CosignAttestations())


def _subjects(context: CheckContext) -> list[tuple[str, Digest]]:
    subjects = [("manifest", context.image.digest)]
    if context.image.index is not None:
        subjects.append(("index", context.image.index.digest))
    return subjects


def _configured(trust: TrustInputs) -> bool:
    return bool(trust.keys or trust.identities or trust.trust_policy)


Found = list[tuple[str, SignatureVerification]]


def _collect(context: CheckContext, trust: TrustInputs) -> tuple[Found, list[CheckResult]]:
    """Run every format once per subject and trust material; both checks share the outcome."""
    cache: dict[TrustInputs, tuple[Found, list[CheckResult]]] = context.shared.setdefault(
        _SHARED_RESULTS, {}
    )
    if trust in cache:
        return cache[trust]
    found: Found = []
    errors: list[CheckResult] = []
    for where, digest in _subjects(context):
        for fmt in _formats():
            try:
                found += [(where, r) for r in fmt.verify(context.source, digest, trust)]
            except Error as exc:
                errors.append(
                    CheckResult(
                        f"signature.{fmt.name}",
                        Status.ERROR,
                        Severity.HIGH,
                        f"reading {fmt.name} signatures of the {where} failed: {exc}",
                        {"subject": str(digest)},
                    )
                )
    cache[trust] = (found, errors)
    return found, errors


def _evidence(where: str, result: SignatureVerification) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "format": result.format,
        "on": where,
        "subject": str(result.subject),
        "location": result.location,
        "verified": result.verified,
        "signer": result.signer,
        "reason": result.reason,
    }
    if result.warnings:
        evidence["warnings"] = list(result.warnings)
    if result.statement is not None:
        evidence["predicate_type"] = result.statement.get("predicateType", "")
    return evidence


def _fips_result(signatures: list[SignatureVerification]) -> CheckResult:
    from chainproof.trust.fips import backend_fips_enabled

    enabled = backend_fips_enabled()
    return CheckResult(
        "signature.fips",
        Status.PASS if enabled else Status.WARN,
        Severity.INFO if enabled else Severity.LOW,
        "FIPS mode: keys restricted to FIPS 186-5/204 algorithms; the OpenSSL backend "
        + ("runs its FIPS provider" if enabled else "is NOT running a FIPS-validated provider"),
        {"backend_fips": enabled, "signatures": len(signatures)},
    )


def _is_attestation(result: SignatureVerification) -> bool:
    # A failed .att layer is still an attestation; a failed bundle cannot say, and counts as
    # a signature that did not verify.
    return result.attestation or result.format == "cosign-attestation"


def _skip(check_id: str, message: str) -> CheckResult:
    return CheckResult(check_id, Status.SKIP, Severity.INFO, message)


class SignatureCheck(Check):
    """Does every signature requirement have ``threshold`` distinct trusted signers?"""

    family = "signature"

    def __init__(self, config: TrustConfig | None = None) -> None:
        self.config = config or TrustConfig()

    def run(self, context: CheckContext) -> Iterable[CheckResult]:
        requirements = [r for r in self.config.signatures if _configured(r.trust)]
        if not requirements:
            yield _skip(
                "signature.verified",
                "no trust inputs given (--key, --certificate-identity, --trust-policy)",
            )
            return
        reported_errors: set[TrustInputs] = set()
        for requirement in requirements:
            found, errors = _collect(context, requirement.trust)
            if requirement.trust not in reported_errors:
                reported_errors.add(requirement.trust)
                yield from errors
            yield from _judge(requirement, found)


def _judge(requirement: SignatureRequirement, found: Found) -> Iterable[CheckResult]:
    rule = {"rule": requirement.rule} if requirement.rule else {}
    if requirement.trust.fips:
        yield _fips_result(signatures=[r for _, r in found])
    threshold = requirement.threshold
    signatures = [(w, r) for w, r in found if not _is_attestation(r)]
    by_format: dict[str, Found] = {}
    for where, result in signatures:
        by_format.setdefault(result.format, []).append((where, result))
    for name, results in sorted(by_format.items()):
        good = [r for _, r in results if r.verified]
        unjudged = all(r.unconfigured for _, r in results)
        status = Status.PASS if good else Status.SKIP if unjudged else Status.WARN
        yield CheckResult(
            f"signature.{name}",
            status,
            Severity.INFO if good or unjudged else Severity.MEDIUM,
            f"{len(good)} of {len(results)} {name} signature(s) verified"
            + ("" if good else f": {results[0][1].reason}"),
            {"signatures": [_evidence(w, r) for w, r in results], **rule},
        )
    signers = sorted({r.signer for _, r in signatures if r.verified})
    on = sorted({w for w, r in signatures if r.verified})
    evidence: dict[str, Any] = {
        "signers": signers,
        "threshold": threshold,
        "signed": on,
        "found": len(signatures),
        **rule,
    }
    for_rule = f" (rule {requirement.rule})" if requirement.rule else ""
    if len(signers) >= threshold:
        where = " and ".join(on)
        yield CheckResult(
            "signature.verified",
            Status.PASS,
            Severity.INFO,
            f"{len(signers)} trusted signer(s) (threshold {threshold}) signed the {where}"
            + for_rule,
            evidence,
        )
        return
    # Reasons from signatures the user gave trust inputs for explain the failure best.
    failed = sorted(
        (r for _, r in signatures if not r.verified),
        key=lambda r: (r.unconfigured, r.reason),
    )
    detail = f"; {failed[0].reason}" if failed else ""
    yield CheckResult(
        "signature.verified",
        Status.FAIL,
        Severity.HIGH,
        f"{len(signers)} trusted signer(s), {threshold} required{for_rule}: "
        f"{len(signatures)} signature(s) found{detail}",
        evidence,
    )


class AttestationCheck(Check):
    """Which verified in-toto attestations name this image, and are the required ones there
    (verified by the trust material of their requirement, meeting its conditions)?"""

    family = "attestation"

    def __init__(self, config: TrustConfig | None = None) -> None:
        self.config = config or TrustConfig()

    def run(self, context: CheckContext) -> Iterable[CheckResult]:
        materials = [t for t in self.config.trust_inputs() if _configured(t)]
        if not materials:
            yield _skip("attestation.verified", "no trust inputs given for attestations")
            return
        required = self.config.attestations
        by_trust: dict[TrustInputs, Found] = {}
        for trust in materials:
            found, _errors = _collect(context, trust)
            by_trust[trust] = [(w, r) for w, r in found if _is_attestation(r)]
        # The same attachment verified under two trust materials is one attestation.
        attestations = list(
            {
                (w, r.location, r.format): (w, r) for found in by_trust.values() for w, r in found
            }.values()
        )
        verified_keys = {
            (w, r.location, r.format)
            for found in by_trust.values()
            for w, r in found
            if r.verified and r.statement is not None
        }
        verified = [(w, r) for w, r in attestations if (w, r.location, r.format) in verified_keys]
        statements = [
            s
            for found in by_trust.values()
            for _, r in found
            if r.verified and (s := r.statement) is not None
        ]
        context.shared.setdefault(SHARED_ATTESTATIONS, []).extend(_dedupe_statements(statements))
        types = sorted({str(s.get("predicateType", "")) for s in statements})
        evidence: dict[str, Any] = {
            "attestations": [_evidence(w, r) for w, r in attestations],
            "predicate_types": types,
            "kinds": sorted({predicate_kind(t) for t in types}),
        }
        if not attestations:
            yield CheckResult(
                "attestation.verified",
                Status.FAIL if required else Status.SKIP,
                Severity.HIGH if required else Severity.INFO,
                "no attestations attached",
                evidence,
            )
            return
        outcomes = [_requirement_outcome(req, by_trust.get(req.trust, [])) for req in required]
        if any(req.rule or req.conditional for req in required):
            evidence["requirements"] = [o for _, o in outcomes]
        unmet = [(req, o) for req, o in zip(required, outcomes, strict=True) if not o[0]]
        if unmet:
            reasons = "; ".join(o["reason"] for _, (_, o) in unmet)
            yield CheckResult("attestation.verified", Status.FAIL, Severity.HIGH, reasons, evidence)
        elif verified:
            yield CheckResult(
                "attestation.verified",
                Status.PASS,
                Severity.INFO,
                f"{len(verified)} verified attestation(s): {', '.join(types)}",
                evidence,
            )
        else:
            yield CheckResult(
                "attestation.verified",
                Status.FAIL if required else Status.WARN,
                Severity.HIGH if required else Severity.MEDIUM,
                f"{len(attestations)} attestation(s) found, none verified: "
                f"{attestations[0][1].reason}",
                evidence,
            )


def _dedupe_statements(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import json

    seen: dict[str, dict[str, Any]] = {}
    for statement in statements:
        seen.setdefault(json.dumps(statement, sort_keys=True, default=str), statement)
    return list(seen.values())


def _type_matches(wanted: str, predicate_type: str) -> bool:
    return wanted in (predicate_type, predicate_kind(predicate_type))


def _requirement_outcome(
    requirement: AttestationRequirement, found: Found
) -> tuple[bool, dict[str, Any]]:
    """Whether one verified statement of the wanted type meets the conditions, and why not."""
    wanted = requirement.predicate_type
    of_type = [
        r.statement
        for _, r in found
        if r.verified
        and r.statement is not None
        and _type_matches(wanted, str(r.statement.get("predicateType", "")))
    ]
    outcome: dict[str, Any] = {"type": wanted}
    if requirement.rule:
        outcome["rule"] = requirement.rule
    if not of_type:
        outcome.update(satisfied=False, reason=f"no verified attestation of type {wanted}")
        return False, outcome
    unmet: list[str] = []
    for statement in of_type:
        problems = list(requirement.conditions(statement))
        if not problems:
            outcome.update(satisfied=True, reason="")
            return True, outcome
        unmet = unmet or problems
    for_rule = f" (rule {requirement.rule})" if requirement.rule else ""
    outcome.update(
        satisfied=False,
        unmet=unmet,
        reason=f"{len(of_type)} verified {wanted} attestation(s), none meets the policy"
        f"{for_rule}: {unmet[0]}",
    )
    return False, outcome


def checks(config: TrustConfig | None = None) -> tuple[Check, ...]:
    """The trust checks, in the order ``chainproof verify`` should run them."""
    return (SignatureCheck(config), AttestationCheck(config))
