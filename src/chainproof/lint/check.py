"""``lint.*`` results in ``chainproof verify``: the image's history and config, linted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.checks.interface import Check, CheckResult, Severity, Status
from chainproof.lint.config import LintConfig
from chainproof.lint.history import lint_history
from chainproof.lint.model import SEVERITY_ORDER

if TYPE_CHECKING:
    from collections.abc import Iterable

    from chainproof.checks.context import CheckContext


class LintCheck(Check):
    """One result per finding (``lint.<rule id>``), or one ``lint.history`` pass.

    Findings at or above the config's ``fail_on`` fail; lower ones warn.
    """

    family = "lint"

    def __init__(self, config: LintConfig | None = None) -> None:
        # In verify, history findings gate admission of the image, so without a config only
        # high and critical ones fail; `chainproof lint` keeps its stricter default.
        self.config = config or LintConfig(fail_on=Severity.HIGH)

    def run(self, context: CheckContext) -> Iterable[CheckResult]:
        config = self.config
        findings = lint_history(context.image.config, config, name=context.image.reference)
        threshold = SEVERITY_ORDER[config.fail_on]
        if not findings:
            yield CheckResult(
                "lint.history",
                Status.PASS,
                config.fail_on,
                f"no findings in {len(context.image.config.history)} history entries",
            )
            return
        for f in findings:
            status = Status.FAIL if SEVERITY_ORDER[f.severity] >= threshold else Status.WARN
            yield CheckResult(
                id=f"lint.{f.rule}",
                status=status,
                severity=f.severity,
                message=f"{f.name}: {f.message}",
                evidence={"history_index": f.line, **f.evidence},
            )
