"""Findings as text, JSON (``chainproof.lint/v1``) and SARIF 2.1.0 for code scanning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainproof.checks.interface import Severity
from chainproof.lint.model import SEVERITY_ORDER, Finding
from chainproof.lint.rules import RULES
from chainproof.report import sarif as sarif_writer

if TYPE_CHECKING:
    from collections.abc import Sequence

#: GitHub ranks security alerts by this CVSS-like number (critical ≥ 9, high ≥ 7, medium ≥ 4).
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def text(findings: Sequence[Finding]) -> str:
    lines = []
    suppressed = 0
    for f in findings:
        if f.suppressed is not None:
            suppressed += 1
            continue
        span = f"{f.line}" if f.end_line == f.line else f"{f.line}-{f.end_line}"
        lines.append(f"{f.file}:{span}: {f.severity.value.upper()} {f.rule} {f.name}: {f.message}")
    active = len(findings) - suppressed
    summary = f"{active} finding{'s' if active != 1 else ''}"
    if suppressed:
        summary += f", {suppressed} suppressed inline"
    lines.append(summary)
    return "\n".join(lines)


def to_json(findings: Sequence[Finding], files: Sequence[str]) -> dict[str, Any]:
    counts: dict[str, int] = {s.value: 0 for s in Severity}
    for f in findings:
        if f.suppressed is None:
            counts[f.severity.value] += 1
    return {
        "schema": "chainproof.lint/v1",
        "files": list(files),
        "findings": [f.to_json() for f in findings],
        "summary": {
            "by_severity": counts,
            "suppressed": sum(f.suppressed is not None for f in findings),
        },
    }


def _rule(rule_id: str) -> sarif_writer.Rule:
    rule = RULES[rule_id]
    return sarif_writer.Rule(
        id=rule.id,
        name="".join(part.capitalize() for part in rule.name.split("-")),
        short_description=rule.title,
        full_description=rule.doc,
        help_text=rule.doc,
        help_markdown=rule.doc,
        default_level=sarif_writer.level(rule.severity),
        properties={
            "tags": ["security", "dockerfile", rule.scope],
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "precision": "high",
        },
    )


def sarif(findings: Sequence[Finding]) -> dict[str, Any]:
    rule_ids = sorted({f.rule for f in findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    results = [
        sarif_writer.Result(
            rule_id=f.rule,
            rule_index=index[f.rule],
            level=sarif_writer.level(f.severity),
            message=f.message,
            locations=(
                sarif_writer.Location(
                    f.file.replace("\\", "/").lstrip("/"),
                    sarif_writer.Region(max(f.line, 1), max(f.end_line, f.line, 1)),
                ),
            ),
            partial_fingerprints={"chainproofFinding/v1": f"{f.rule}:{f.file}:{f.message}"},
            properties={"security-severity": _SECURITY_SEVERITY[f.severity]},
            suppressed=f.suppressed,
        )
        for f in findings
    ]
    return sarif_writer.sarif_log([_rule(rid) for rid in rule_ids], results)


def dumps(document: dict[str, Any]) -> str:
    return sarif_writer.dumps(document)


def at_or_above(findings: Sequence[Finding], threshold: Severity) -> list[Finding]:
    level = SEVERITY_ORDER[threshold]
    return [f for f in findings if f.suppressed is None and SEVERITY_ORDER[f.severity] >= level]
