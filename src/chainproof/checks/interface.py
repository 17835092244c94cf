"""The check pipeline's extension point.

A :class:`Check` looks at a verification subject (one platform image, with its source) and
yields :class:`CheckResult` values. The verification pipeline (:mod:`chainproof.pipeline`)
builds its checks from the policy's requirements — each check gets its typed configuration in
its constructor — runs them and folds the results into a
:class:`chainproof.report.verdict.Verdict`. This module imports no capability: capabilities
import it, and the pipeline imports them (dependencies point one way).
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from chainproof.checks.context import CheckContext
    from chainproof.layers.scan import EntryConsumer


class Status(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"
    ERROR = "error"


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


@dataclass(frozen=True)
class CheckResult:
    """One finding. ``id`` is dotted: ``family.name`` (``integrity.layer``)."""

    id: str
    status: Status
    severity: Severity
    message: str
    evidence: dict[str, Any] = field(default_factory=dict, hash=False)
    #: Compliance controls this result bears on (``NIST-800-190:4.1.1``, ``CIS-Docker:4.5``);
    #: filled from :mod:`chainproof.report.controls` when the verdict is assembled.
    controls: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        """Whether this result makes the verdict fail."""
        return self.status in (Status.FAIL, Status.ERROR)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": str(self.status),
            "severity": str(self.severity),
            "message": self.message,
            "evidence": self.evidence,
            **({"controls": list(self.controls)} if self.controls else {}),
        }


class Check(abc.ABC):
    """A family of related results computed over one subject."""

    #: Family prefix of every id this check yields ("integrity", "signature", ...).
    family: str

    def layer_consumers(self, context: CheckContext) -> Sequence[EntryConsumer]:
        """Consumers this check wants fed during the one shared layer pass (SBOM catalogers,
        file linters). Called for every check before any check runs."""
        del context
        return ()

    @abc.abstractmethod
    def run(self, context: CheckContext) -> Iterable[CheckResult]:
        """Yield results. Expected problems are results, not exceptions; an unexpected
        chainproof Error is turned into an ``error`` result by the pipeline."""
