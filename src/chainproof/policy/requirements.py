"""What a policy requires of one image reference: the configuration of every check.

:meth:`chainproof.policy.Policy.requirements_for` merges the rules that apply to a reference
into one :class:`Requirements` (strictest wins, ``docs/policy.md`` "Several rules"); the
verification pipeline builds its checks from it, and :meth:`~chainproof.policy.Policy.evaluate`
judges the results against it afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chainproof.lint.config import LintConfig
from chainproof.trust.check import TrustConfig
from chainproof.vuln.check import VulnConfig

if TYPE_CHECKING:
    from chainproof.checks.interface import CheckResult
    from chainproof.provenance.base_image import BaseImageRequirement
    from chainproof.sbom.model import Sbom


@dataclass(frozen=True)
class WindowsRequirement:
    #: Hardening checks whose insecure value fails the image ("all": every one).
    enforce: frozenset[str] | str = frozenset()
    skip: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Requirements:
    reference: str
    #: Names of the rules that apply, in file order.
    rules: tuple[str, ...]
    #: Results decided from the reference alone (rule match, registry lists, digest pinning).
    gate: tuple[CheckResult, ...]
    trust: TrustConfig = field(default_factory=TrustConfig)
    vuln: VulnConfig = field(default_factory=VulnConfig)
    lint: LintConfig | None = None
    base_images: tuple[BaseImageRequirement, ...] = ()
    windows: WindowsRequirement = field(default_factory=WindowsRequirement)
    #: Indexes of the applying rules in the policy (for the evaluation after the checks).
    rule_indexes: tuple[int, ...] = ()

    @property
    def blocked(self) -> bool:
        """The reference alone decides: the image is denied without being read."""
        return any(result.blocking for result in self.gate)


@dataclass(frozen=True)
class ImageFacts:
    """What verification found about one platform image, for the policy's judgement."""

    reference: str
    digest: str
    platform: str
    os_version: str
    config: dict[str, Any]
    results: tuple[CheckResult, ...]
    sbom: Sbom | None = None
    attestations: tuple[dict[str, Any], ...] = ()

    @property
    def labels(self) -> dict[str, str]:
        labels = self.config.get("config", {}).get("Labels") if self.config else None
        if not isinstance(labels, dict):
            return {}
        return {str(k): str(v) for k, v in labels.items()}

    @property
    def signers(self) -> tuple[str, ...]:
        """Identities of the signers whose signatures verified."""
        out: list[str] = []
        for result in self.results:
            if result.id == "signature.verified":
                out += [str(s) for s in result.evidence.get("signers", ())]
        return tuple(dict.fromkeys(out))
