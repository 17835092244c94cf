"""One SARIF writer (``report/sarif.py``) for lint and scan, with the bytes each wrote before.

The oracle is the pair of writers as they were (``_sarif_before.py``): the same findings must
give the same document, byte for byte, on the real lint corpus, on the sample Windows image
scan, and on hand-made edge cases (no CVSS score, no purl, an inline suppression). The small
golden files pin the documents themselves, so the oracle cannot drift with the writer.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from chainproof.checks.interface import Severity
from chainproof.lint import lint_file, render
from chainproof.report import sarif
from chainproof.vuln import report
from chainproof.vuln.matcher import Finding, MatchResult
from chainproof.vuln.sample import scan_sample
from tests.report import _sarif_before as before

DATA = Path(__file__).parent / "data"
LINT_CORPUS = sorted((Path(__file__).parents[1] / "lint" / "data").rglob("*.Dockerfile"))


def _edge_result() -> MatchResult:
    return MatchResult(
        findings=[
            Finding(
                "GHSA-xxxx", ("GHSA-xxxx",), "package", "left-pad", "1.0", "", "npm",
                Severity.LOW, None, "", "", False, "", ("osv:x",),
            ),
            Finding(
                "CVE-2024-1", ("CVE-2024-1", "GHSA-y"), "package", "lib", "2.0",
                "pkg:npm/lib@2.0", "npm", Severity.MEDIUM, 5.25, "2.1", "", False, "a title",
                ("osv:y",),
            ),
            Finding(
                "CVE-2024-1", ("CVE-2024-1",), "package", "lib2", "2.0", "pkg:npm/lib2@2.0",
                "npm", Severity.CRITICAL, 9.8, "", "", True, "a title", ("osv:y",),
            ),
        ]
    )  # fmt: skip


def test_lint_corpus_same_bytes_as_before() -> None:
    assert len(LINT_CORPUS) > 20
    findings = [f for path in LINT_CORPUS for f in lint_file(path)]
    assert any(f.suppressed is not None for f in findings), "the corpus has an inline ignore"
    now = render.dumps(render.sarif(findings))
    assert now == before.dumps(before.lint_sarif(findings))
    document = json.loads(now)
    assert len(document["runs"][0]["results"]) == len(findings)


def test_lint_suppression_and_paths() -> None:
    real = lint_file(LINT_CORPUS[0])
    assert real, f"{LINT_CORPUS[0]} has findings"
    odd = [replace(real[0], file="\\build\\Dockerfile", line=0, end_line=0, suppressed="ok")]
    now = render.dumps(render.sarif(odd))
    assert now == before.dumps(before.lint_sarif(odd))
    result = json.loads(now)["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "build/Dockerfile"
    )
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "endLine": 1}
    assert result["suppressions"] == [{"kind": "inSource", "justification": "ok"}]


def test_lint_empty_document() -> None:
    now = render.dumps(render.sarif([]))
    assert now + "\n" == (DATA / "lint-empty.sarif.json").read_text()
    assert now == before.dumps(before.lint_sarif([]))


@pytest.mark.parametrize(
    ("result", "target", "golden"),
    [
        (_edge_result(), "docker-archive:save.tar", "scan-edge.sarif.json"),
        (MatchResult(), "x", "scan-empty.sarif.json"),
    ],
)
def test_scan_golden(result: MatchResult, target: str, golden: str) -> None:
    now = report.render_sarif(result, target)
    assert now + "\n" == (DATA / golden).read_text()
    assert now == before.render_sarif(result, target)


def test_scan_sample_same_bytes_as_before(tmp_path: Path) -> None:
    result = scan_sample(tmp_path)
    assert result.findings
    now = report.render_sarif(result, "oci:sample:ltsc2022-2023-12")
    assert now == before.render_sarif(result, "oci:sample:ltsc2022-2023-12")


def test_writer_emits_fields_in_order_and_only_when_set() -> None:
    rule = sarif.Rule("R1", "short", default_level="error", properties={"tags": ["t"]})
    result = sarif.Result(
        "R1",
        sarif.level("medium"),
        "msg",
        (sarif.Location("a/b", sarif.Region(2, 3), logical_name="pkg"),),
        rule_index=0,
    )
    document = sarif.sarif_log([rule], [result], information_uri="https://example.test")
    driver = document["runs"][0]["tool"]["driver"]
    assert list(driver) == ["name", "version", "informationUri", "rules"]
    assert driver["rules"] == [
        {
            "id": "R1",
            "shortDescription": {"text": "short"},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["t"]},
        }
    ]
    written = document["runs"][0]["results"][0]
    assert list(written) == ["ruleId", "ruleIndex", "level", "message", "locations"]
    assert written["level"] == "warning"
    assert written["locations"][0]["logicalLocations"] == [{"name": "pkg"}]
    assert sarif.level("unheard-of", default="warning") == "warning"
    assert document["$schema"] == sarif.SCHEMA and document["version"] == "2.1.0"
