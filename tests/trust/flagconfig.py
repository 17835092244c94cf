"""Trust configuration the way the command line builds it: flags → implicit policy → checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chainproof.checks.context import CheckContext
from chainproof.policy.flags import CheckFlags, TrustFlags, command_line_policy
from chainproof.trust.check import AttestationCheck, SignatureCheck, TrustConfig

if TYPE_CHECKING:
    from chainproof.checks.interface import CheckResult
    from chainproof.oci.image import PlatformImage
    from chainproof.oci.sources.interface import ImageSource


def trust_config(reference: str = "registry.example/app:1", **flags: Any) -> TrustConfig:
    """``keys=[...]``, ``threshold=2``, ``certificate_identity=…``: the verify flags' names."""
    for name in ("keys", "attestation_types"):
        if name in flags:
            flags[name] = tuple(flags[name])
    policy = command_line_policy(CheckFlags(trust=TrustFlags(**flags)))
    return policy.requirements_for(reference).trust


@dataclass
class Case:
    """One image to check and the configuration to check it with."""

    context: CheckContext
    config: TrustConfig


def case(image: PlatformImage, source: ImageSource, reference: str = "", **flags: Any) -> Case:
    config = trust_config(reference or "registry.example/app:1", **flags)
    return Case(CheckContext(image, source), config)


def run(kind: type[SignatureCheck | AttestationCheck], subject: Case) -> dict[str, CheckResult]:
    return {r.id: r for r in kind(subject.config).run(subject.context)}
