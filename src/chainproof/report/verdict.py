"""The one result type shared by the CLI, the admission service and the audit log.

``chainproof.verdict/v1`` (docs/verdict.md): the image, ``pass``/``fail``, every check result
and, when a policy decided, which policy (name and digest), which of its rules applied and
which waivers were used. Fields are only ever added to v1; a field changing meaning would be v2.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from chainproof.checks.interface import CheckResult, Status

SCHEMA = "chainproof.verdict/v1"


@dataclass(frozen=True)
class ImageIdentity:
    reference: str
    digest: str
    platform: str
    os_version: str

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "digest": self.digest,
            "platform": self.platform,
            "os_version": self.os_version,
        }


@dataclass(frozen=True)
class WaiverUse:
    """A waiver that turned a failing result into a warning (or expired and did not)."""

    check: str
    vulnerability: str
    reason: str
    expires: str
    applied_to: tuple[str, ...]
    expired: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "reason": self.reason,
            "expires": self.expires,
            "applied_to": list(self.applied_to),
            "expired": self.expired,
        }
        if self.vulnerability:
            out["vulnerability"] = self.vulnerability
        return out


@dataclass(frozen=True)
class PolicySection:
    name: str
    #: ``sha256:`` of the policy document in canonical JSON (RFC 8785).
    digest: str
    #: ``sha256:`` over every file the policy names (keys, trust stores, VEX, Rego, lists).
    material_digest: str
    rules_matched: tuple[str, ...]
    waivers: tuple[WaiverUse, ...] = ()
    #: Where the policy came from: a file, or "command line" for the implicit one.
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": self.digest,
            "material_digest": self.material_digest,
            "source": self.source,
            "rules_matched": list(self.rules_matched),
            "waivers": [w.to_json() for w in self.waivers],
        }


@dataclass(frozen=True)
class Verdict:
    image: ImageIdentity
    checks: tuple[CheckResult, ...]
    policy: PolicySection | None = field(default=None)

    @property
    def passed(self) -> bool:
        # Fail closed: a verdict with no checks at all has verified nothing.
        return bool(self.checks) and not any(c.blocking for c in self.checks)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    @property
    def failing(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.blocking)

    def summary(self) -> dict[str, int]:
        counts = Counter(str(c.status) for c in self.checks)
        return {str(s): counts.get(str(s), 0) for s in Status}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "image": self.image.to_json(),
            "verdict": self.verdict,
            "checks": [c.to_json() for c in self.checks],
            "summary": self.summary(),
        }
        if self.policy is not None:
            out["policy"] = self.policy.to_json()
        return out
