"""The checks ``chainproof verify`` runs, in order. Capabilities add theirs here."""

from __future__ import annotations

from chainproof.checks.integrity import IntegrityCheck
from chainproof.checks.interface import Check
from chainproof.errors import UsageError


def default_checks() -> list[Check]:
    """Integrity first: it streams the layers once and later checks reuse what it saw."""
    from chainproof.lint.check import LintCheck
    from chainproof.sbom.check import SbomCheck
    from chainproof.trust.check import checks as trust_checks
    from chainproof.vuln.check import VulnCheck

    # Order matters: the SBOM needs the layer pass, the vulnerability match needs the SBOM and
    # the VEX statements that the attestation check verified.
    return [IntegrityCheck(), *trust_checks(), SbomCheck(), VulnCheck(), LintCheck()]


def select_checks(families: str) -> list[Check]:
    """The default checks whose family is in the comma-separated ``families``.

    Integrity always runs: every other family reads what its layer pass verified, and nothing
    is looked at before it is verified.
    """
    wanted = {f.strip() for f in families.split(",") if f.strip()}
    checks = default_checks()
    known = {c.family for c in checks}
    unknown = wanted - known
    if unknown:
        raise UsageError(
            f"unknown check family {', '.join(sorted(unknown))!s}; "
            f"choose from {', '.join(sorted(known))}"
        )
    return [c for c in checks if c.family in wanted or c.family == "integrity"]
