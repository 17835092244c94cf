"""The two SARIF writers as they were before ``report/sarif.py`` (commit cd9f427), kept verbatim.

They are the oracle of ``test_sarif.py``: the one writer must give the same bytes for every input
these gave, whatever the lint rules and advisories say by then. Not used by chainproof itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chainproof import __version__
from chainproof.checks.interface import Severity
from chainproof.lint.model import Finding as LintFinding
from chainproof.lint.rules import RULES
from chainproof.vuln.matcher import MatchResult
from chainproof.vuln.report import _fix

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
#: GitHub ranks security alerts by this CVSS-like number (critical ≥ 9, high ≥ 7, medium ≥ 4).
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def _rule_json(rule_id: str) -> dict[str, Any]:
    rule = RULES[rule_id]
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.name.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.doc},
        "help": {"text": rule.doc, "markdown": rule.doc},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": ["security", "dockerfile", rule.scope],
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "precision": "high",
        },
    }


def lint_sarif(findings: Sequence[LintFinding]) -> dict[str, Any]:
    rule_ids = sorted({f.rule for f in findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": _LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file.replace("\\", "/").lstrip("/")},
                        "region": {
                            "startLine": max(f.line, 1),
                            "endLine": max(f.end_line, f.line, 1),
                        },
                    }
                }
            ],
            "partialFingerprints": {"chainproofFinding/v1": f"{f.rule}:{f.file}:{f.message}"},
            "properties": {"security-severity": _SECURITY_SEVERITY[f.severity]},
        }
        if f.suppressed is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "chainproof",
                        "version": __version__,
                        "rules": [_rule_json(rid) for rid in rule_ids],
                    }
                },
                "results": results,
            }
        ],
    }


def render_sarif(result: MatchResult, target: str) -> str:
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for f in result.findings:
        rules.setdefault(
            f.vuln_id,
            {
                "id": f.vuln_id,
                "shortDescription": {"text": f.title or f.vuln_id},
                "properties": {
                    "security-severity": f"{f.cvss_score:.1f}" if f.cvss_score else "",
                    "tags": ["security", f.kind],
                },
            },
        )
        results.append(
            {
                "ruleId": f.vuln_id,
                "level": _SARIF_LEVEL.get(str(f.severity), "warning"),
                "message": {
                    "text": f"{f.component} {f.version} is affected by {f.vuln_id}; "
                    f"fixed by {_fix(f)}"
                },
                "locations": [
                    {
                        "physicalLocation": {"artifactLocation": {"uri": target}},
                        "logicalLocations": [{"name": f.purl or f.component}],
                    }
                ],
                "properties": {"ids": list(f.ids), "fixed": f.fixed, "kb": f.kb},
            }
        )
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "chainproof",
                        "version": __version__,
                        "informationUri": "https://github.com/chainproof/chainproof",
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2)


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False)
