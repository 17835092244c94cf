"""Rendering scan results: table (rich), JSON and SARIF 2.1.0."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from chainproof._version import __version__
from chainproof.report import sarif

if TYPE_CHECKING:
    from chainproof.vuln.matcher import Finding, MatchResult

SCAN_SCHEMA = "chainproof.scan/v1"
INFORMATION_URI = "https://github.com/chainproof/chainproof"


def to_json(result: MatchResult, target: str) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for f in result.findings:
        counts[str(f.severity)] = counts.get(str(f.severity), 0) + 1
    return {
        "schema": SCAN_SCHEMA,
        "target": target,
        "components": result.components,
        "not_installed": result.not_installed,
        "findings": [f.to_json() for f in result.findings],
        "suppressed": [f.to_json() for f in result.suppressed],
        "summary": counts,
        "notes": result.notes,
    }


def render_json(result: MatchResult, target: str) -> str:
    return json.dumps(to_json(result, target), indent=2)


def _fix(f: Finding) -> str:
    if f.kb and f.fixed:
        return f"{f.kb} ({f.fixed})"
    return f.fixed or f.kb or "no fix"


def render_table(result: MatchResult, target: str, *, width: int = 140) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    table = Table(title=f"{target}: {len(result.findings)} vulnerabilities")
    for column in ("severity", "id", "component", "installed", "fixed by", "source"):
        table.add_column(column)
    for f in result.findings:
        table.add_row(
            str(f.severity)
            + (" (exploited)" if f.exploited else "")
            + (f" [vex: {f.vex_status}]" if f.vex_status else ""),
            f.vuln_id,
            f.component,
            f.version,
            _fix(f),
            ", ".join(f.sources),
        )
    console.print(table)
    for f in result.suppressed:
        console.print(
            f"suppressed by VEX: {f.vuln_id} in {f.component} {f.version} "
            f"({f.vex_status}{': ' + f.vex_justification if f.vex_justification else ''})"
        )
    for note in result.notes:
        console.print(f"note: {note}")
    return buffer.getvalue()


def render_sarif(result: MatchResult, target: str) -> str:
    rules: dict[str, sarif.Rule] = {}
    results: list[sarif.Result] = []
    for f in result.findings:
        rules.setdefault(
            f.vuln_id,
            sarif.Rule(
                id=f.vuln_id,
                short_description=f.title or f.vuln_id,
                properties={
                    "security-severity": f"{f.cvss_score:.1f}" if f.cvss_score else "",
                    "tags": ["security", f.kind],
                },
            ),
        )
        results.append(
            sarif.Result(
                rule_id=f.vuln_id,
                level=sarif.level(str(f.severity), default="warning"),
                message=f"{f.component} {f.version} is affected by {f.vuln_id}; fixed by {_fix(f)}",
                locations=(sarif.Location(target, logical_name=f.purl or f.component),),
                properties={"ids": list(f.ids), "fixed": f.fixed, "kb": f.kb},
            )
        )
    document = sarif.sarif_log(list(rules.values()), results, information_uri=INFORMATION_URI)
    return sarif.dumps(document)


_CDX_STATE = {
    "not_affected": "not_affected",
    "fixed": "resolved",
    "affected": "exploitable",
    "under_investigation": "in_triage",
}


def _bom_ref(f: Finding) -> str:
    return f.purl or f"{f.component}@{f.version}"


def render_cyclonedx(result: MatchResult, target: str) -> str:
    """A CycloneDX 1.6 BOM of the affected components with their ``vulnerabilities``."""
    findings = [*result.findings, *result.suppressed]
    components: dict[str, dict[str, Any]] = {}
    for f in findings:
        ref = _bom_ref(f)
        entry: dict[str, Any] = {
            "bom-ref": ref,
            "type": "operating-system" if f.kind == "windows" else "library",
            "name": f.component,
            "version": f.version,
        }
        if f.purl:
            entry["purl"] = f.purl
        components.setdefault(ref, entry)
    vulnerabilities: list[dict[str, Any]] = []
    for f in findings:
        source = f.sources[0].split(":", 1)[0] if f.sources else ""
        vuln: dict[str, Any] = {
            "bom-ref": f"{f.vuln_id}/{_bom_ref(f)}",
            "id": f.vuln_id,
            "source": {"name": {"msrc": "MSRC", "osv": "OSV"}.get(source, source)},
            "references": [{"id": i, "source": {"name": "alias"}} for i in f.ids if i != f.vuln_id],
            "ratings": [
                {
                    "severity": str(f.severity),
                    **({"score": f.cvss_score, "method": "CVSSv31"} if f.cvss_score else {}),
                }
            ],
            "affects": [{"ref": _bom_ref(f)}],
        }
        if f.kb or f.fixed:
            vuln["recommendation"] = (
                f"Install {f.kb} (build {f.fixed})"
                if f.kb and f.kind in ("windows", "dotnet-framework")
                else f"Upgrade to {f.fixed or f.kb}"
            )
        if f.vex_status:
            vuln["analysis"] = {"state": _CDX_STATE[f.vex_status]}
            if f.vex_justification:
                vuln["analysis"]["detail"] = f.vex_justification
        vulnerabilities.append(vuln)
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "tools": {
                "components": [
                    {"type": "application", "name": "chainproof", "version": __version__}
                ]
            },
            "component": {"type": "container", "name": target, "bom-ref": "target"},
        },
        "components": list(components.values()),
        "vulnerabilities": vulnerabilities,
    }
    return json.dumps(bom, indent=2)
