"""The checks ``chainproof verify`` runs, in order, each configured from the requirements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.errors import UsageError
from chainproof.pipeline.integrity import IntegrityCheck

if TYPE_CHECKING:
    from chainproof.checks.interface import Check
    from chainproof.oci.open import OpenOptions
    from chainproof.policy.requirements import Requirements

#: Every check family, in the order the pipeline runs them.
FAMILIES = ("integrity", "signature", "attestation", "sbom", "vuln", "lint", "provenance")


def build_checks(
    requirements: Requirements,
    open_options: OpenOptions,
    families: frozenset[str] | None = None,
) -> list[Check]:
    """Integrity first: it streams the layers once and later checks reuse what it saw.

    Order matters: the SBOM needs the layer pass, the vulnerability match needs the SBOM and
    the VEX statements that the attestation check verified.
    """
    from chainproof.lint.check import LintCheck
    from chainproof.sbom.check import SbomCheck
    from chainproof.trust.check import checks as trust_checks
    from chainproof.vuln.check import VulnCheck

    checks: list[Check] = [
        IntegrityCheck(),
        *trust_checks(requirements.trust),
        SbomCheck(),
        VulnCheck(requirements.vuln),
        LintCheck(requirements.lint),
    ]
    if requirements.base_images:
        from chainproof.provenance.base_image import BaseImageCheck

        checks.append(BaseImageCheck(requirements.base_images, open_options))
    if families is None:
        return checks
    # Integrity always runs: every other family reads what its layer pass verified, and
    # nothing is looked at before it is verified.
    return [c for c in checks if c.family in families or c.family == "integrity"]


def parse_families(text: str) -> frozenset[str]:
    """``--checks integrity,sbom`` → the families, refusing unknown names."""
    wanted = frozenset(f.strip() for f in text.split(",") if f.strip())
    unknown = wanted - set(FAMILIES)
    if unknown:
        raise UsageError(
            f"unknown check family {', '.join(sorted(unknown))}; choose from {', '.join(FAMILIES)}"
        )
    return wanted
