"""The checks ``chainproof verify`` runs, in order. Capabilities add theirs here."""

from __future__ import annotations

from chainproof.checks.integrity import IntegrityCheck
from chainproof.checks.interface import Check


def default_checks() -> list[Check]:
    """Integrity first: it streams the layers once and later checks reuse what it saw."""
    from chainproof.lint.check import LintCheck
    from chainproof.sbom.check import SbomCheck
    from chainproof.trust.check import checks as trust_checks
    from chainproof.vuln.check import VulnCheck

    # Order matters: the SBOM needs the layer pass, the vulnerability match needs the SBOM and
    # the VEX statements that the attestation check verified.
    return [IntegrityCheck(), *trust_checks(), SbomCheck(), VulnCheck(), LintCheck()]
