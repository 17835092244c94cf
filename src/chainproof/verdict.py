"""The one result type shared by the CLI, the admission service and the audit log."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
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
class Verdict:
    image: ImageIdentity
    checks: tuple[CheckResult, ...]

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
        return {
            "schema": SCHEMA,
            "image": self.image.to_json(),
            "verdict": self.verdict,
            "checks": [c.to_json() for c in self.checks],
            "summary": self.summary(),
        }
