"""What a verification concluded, as frozen dataclasses that render to JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Schema id of ``chainproof attestation verify --format json``.
SCHEMA = "chainproof.attestation/v1"


@dataclass(frozen=True)
class Finding:
    """One property that was checked, whether it held, and why."""

    name: str
    passed: bool
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "message": self.message}


@dataclass(frozen=True)
class AttestationResult:
    """The outcome of verifying one piece of evidence.

    ``claims`` holds what the evidence states (measurement, host_data, report_data, chip_id,
    TCB, policy flags, ...), hex strings for byte fields; it is what a relying party may use
    only when ``verified`` is true.
    """

    format: str
    findings: tuple[Finding, ...]
    claims: dict[str, Any] = field(default_factory=dict, hash=False)
    verified_at: str = ""

    @property
    def verified(self) -> bool:
        return bool(self.findings) and all(f.passed for f in self.findings)

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.passed)

    def finding(self, name: str) -> Finding | None:
        return next((f for f in self.findings if f.name == name), None)

    def with_findings(self, *extra: Finding) -> AttestationResult:
        return AttestationResult(
            format=self.format,
            findings=(*self.findings, *extra),
            claims=self.claims,
            verified_at=self.verified_at,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "format": self.format,
            "verified": self.verified,
            "verified_at": self.verified_at,
            "findings": [f.to_json() for f in self.findings],
            "claims": self.claims,
        }
