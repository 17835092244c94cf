"""``signature.*`` and ``attestation.*`` checks over one platform image.

Both checks look at the platform manifest's digest and, for a multi-arch image, the index digest
too: a signature on either counts, and the evidence says which. Trust inputs come from
``context.options`` (the CLI fills them from cosign/notation-named flags):

=================================  ==========================================================
``keys``                           list of key URIs / paths (``--key``, repeatable)
``certificate_identity[_regexp]``  keyless signer SAN (exact or regex)
``certificate_oidc_issuer[_regexp]`` keyless OIDC issuer (exact or regex)
``trusted_root``                   Sigstore ``trusted_root.json``
``trust_policy``, ``trust_store``  Notation ``trustpolicy.json`` and trust-store directory
``threshold``                      distinct verified signers required (default 1)
``attestation_types``              predicate types (URI or short name) that must be present
``reference``                      the reference the user gave (Notation registry scopes)
``fips``                           refuse keys outside FIPS 186-5/204; report the backend's state
``insecure_ignore_tlog``           accept key-signed Sigstore bundles without a log entry
=================================  ==========================================================

Verified in-toto statements are handed to later checks in ``context.shared["attestations"]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainproof.checks.interface import Check, CheckResult, Severity, Status
from chainproof.errors import Error, UsageError
from chainproof.trust.cosign.verify import CosignAttestations, CosignSignatures
from chainproof.trust.envelopes.intoto import predicate_kind
from chainproof.trust.interface import IdentityRule, SignatureVerification, TrustInputs
from chainproof.trust.keys.registry import load_key
from chainproof.trust.sigstore.bundle import SigstoreBundles

if TYPE_CHECKING:
    from collections.abc import Iterable

    from chainproof.checks.context import CheckContext
    from chainproof.oci.digest import Digest
    from chainproof.trust.interface import SignatureFormat

_SHARED_INPUTS = "trust.inputs"
_SHARED_RESULTS = "trust.results"
SHARED_ATTESTATIONS = "attestations"


def _opt(options: dict[str, Any], key: str) -> str:
    value = options.get(key)
    return value if isinstance(value, str) else ""


def trust_inputs(options: dict[str, Any]) -> TrustInputs:
    """Build (and validate) the trust inputs a verification was given."""
    keys = options.get("keys") or ()
    if isinstance(keys, str):
        keys = (keys,)
    identity = _opt(options, "certificate_identity")
    identity_re = _opt(options, "certificate_identity_regexp")
    issuer = _opt(options, "certificate_oidc_issuer")
    issuer_re = _opt(options, "certificate_oidc_issuer_regexp")
    identities: tuple[IdentityRule, ...] = ()
    if identity or identity_re or issuer or issuer_re:
        if not (identity or identity_re) or not (issuer or issuer_re):
            raise UsageError(
                "keyless verification needs both --certificate-identity[-regexp] and "
                "--certificate-oidc-issuer[-regexp]"
            )
        identities = (IdentityRule(identity, identity_re, issuer, issuer_re),)
        import re

        for pattern in (identity_re, issuer_re):
            if pattern:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise UsageError(f"invalid regular expression {pattern!r}: {exc}") from None

    def path(key: str) -> Path | None:
        value = _opt(options, key)
        return Path(value) if value else None

    loaded = tuple(load_key(str(uri)) for uri in keys)
    if options.get("fips"):
        from chainproof.trust.fips import refusal

        for key in loaded:
            reason = refusal(key)
            if reason:
                raise UsageError(f"FIPS mode refuses key {key.uri}: {reason}")
    return TrustInputs(
        keys=loaded,
        identities=identities,
        trusted_root=path("trusted_root"),
        trust_policy=path("trust_policy"),
        trust_store=path("trust_store"),
        reference=_opt(options, "reference"),
        fips=bool(options.get("fips")),
        ignore_tlog=bool(options.get("insecure_ignore_tlog")),
    )


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


def _collect(
    context: CheckContext,
) -> tuple[TrustInputs, list[tuple[str, SignatureVerification]], list[CheckResult]]:
    """Run every format once per subject; both checks share the outcome."""
    cached = context.shared.get(_SHARED_RESULTS)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    trust = context.shared.get(_SHARED_INPUTS)
    if trust is None:
        trust = trust_inputs(context.options)
        context.shared[_SHARED_INPUTS] = trust
    found: list[tuple[str, SignatureVerification]] = []
    errors: list[CheckResult] = []
    if _configured(trust):
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
    outcome = (trust, found, errors)
    context.shared[_SHARED_RESULTS] = outcome
    return outcome


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
    """Are there at least ``threshold`` distinct trusted signers for this image?"""

    family = "signature"

    def run(self, context: CheckContext) -> Iterable[CheckResult]:
        trust, found, errors = _collect(context)
        if not _configured(trust):
            yield _skip(
                "signature.verified",
                "no trust inputs given (--key, --certificate-identity, --trust-policy)",
            )
            return
        yield from errors
        if context.options.get("fips"):
            yield _fips_result(signatures=[r for _, r in found])
        raw_threshold = context.options.get("threshold")
        try:
            threshold = 1 if raw_threshold is None else int(raw_threshold)
        except (TypeError, ValueError):
            raise UsageError(f"--threshold must be a number, not {raw_threshold!r}") from None
        if threshold < 1:
            raise UsageError("--threshold must be at least 1")
        signatures = [(w, r) for w, r in found if not _is_attestation(r)]
        by_format: dict[str, list[tuple[str, SignatureVerification]]] = {}
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
                {"signatures": [_evidence(w, r) for w, r in results]},
            )
        signers = sorted({r.signer for _, r in signatures if r.verified})
        on = sorted({w for w, r in signatures if r.verified})
        evidence: dict[str, Any] = {
            "signers": signers,
            "threshold": threshold,
            "signed": on,
            "found": len(signatures),
        }
        if len(signers) >= threshold:
            where = " and ".join(on)
            yield CheckResult(
                "signature.verified",
                Status.PASS,
                Severity.INFO,
                f"{len(signers)} trusted signer(s) (threshold {threshold}) signed the {where}",
                evidence,
            )
        else:
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
                f"{len(signers)} trusted signer(s), {threshold} required: "
                f"{len(signatures)} signature(s) found{detail}",
                evidence,
            )


class AttestationCheck(Check):
    """Which verified in-toto attestations name this image, and are the required ones there?"""

    family = "attestation"

    def run(self, context: CheckContext) -> Iterable[CheckResult]:
        trust, found, _errors = _collect(context)
        required = context.options.get("attestation_types") or ()
        if isinstance(required, str):
            required = (required,)
        if not _configured(trust):
            yield _skip("attestation.verified", "no trust inputs given for attestations")
            return
        attestations = [(w, r) for w, r in found if _is_attestation(r)]
        verified = [(w, r) for w, r in attestations if r.verified and r.statement is not None]
        statements = [r.statement for _, r in verified if r.statement is not None]
        context.shared.setdefault(SHARED_ATTESTATIONS, []).extend(statements)
        types = sorted({str(s.get("predicateType", "")) for s in statements})
        evidence = {
            "attestations": [_evidence(w, r) for w, r in attestations],
            "predicate_types": types,
            "kinds": sorted({predicate_kind(t) for t in types}),
        }
        if not attestations:
            status = Status.FAIL if required else Status.SKIP
            yield CheckResult(
                "attestation.verified",
                status,
                Severity.HIGH if required else Severity.INFO,
                "no attestations attached",
                evidence,
            )
            return
        missing = [
            t for t in required if t not in types and t not in {predicate_kind(x) for x in types}
        ]
        if missing:
            yield CheckResult(
                "attestation.verified",
                Status.FAIL,
                Severity.HIGH,
                f"no verified attestation of type {', '.join(missing)}",
                evidence,
            )
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


def checks() -> tuple[Check, ...]:
    """The trust checks, in the order ``chainproof verify`` should run them."""
    return (SignatureCheck(), AttestationCheck())
