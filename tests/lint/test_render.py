"""Text, JSON and SARIF 2.1.0 output."""

from __future__ import annotations

import json
from pathlib import Path

from chainproof.lint import lint_file, lint_text, render
from chainproof.lint.rules import RULES, render_markdown

DATA = Path(__file__).parent / "data"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "lint-rules.md"


def test_sarif_has_what_github_code_scanning_requires() -> None:
    findings = lint_file(DATA / "windows/legacy-tls-winrm.Dockerfile") + lint_file(
        DATA / "windows/powershell-nested-cmd.Dockerfile"
    )
    doc = json.loads(render.dumps(render.sarif(findings)))
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-2.1.0.json")
    [run] = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "chainproof"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert 0 < float(rule["properties"]["security-severity"]) <= 10
    assert len(run["results"]) == len(findings)
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith("/")
        region = location["region"]
        assert 1 <= region["startLine"] <= region["endLine"]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert suppressed == [
        r for r in run["results"] if r["ruleId"] == "CP017" and "suppressions" in r
    ]
    assert suppressed[0]["suppressions"][0]["kind"] == "inSource"


def test_json_document() -> None:
    findings = lint_text("FROM ubuntu:latest\nUSER root\n", "Dockerfile")
    doc = json.loads(render.dumps(render.to_json(findings, ["Dockerfile"])))
    assert doc["schema"] == "chainproof.lint/v1"
    assert doc["files"] == ["Dockerfile"]
    assert {f["rule"] for f in doc["findings"]} == {"CP102", "CP017"}
    assert doc["summary"]["by_severity"]["medium"] == 2
    first = doc["findings"][0]
    assert set(first) >= {"rule", "name", "severity", "message", "file", "line", "end_line"}


def test_text_lines_and_summary() -> None:
    findings = lint_text(
        "FROM ubuntu:latest\n# chainproof ignore=CP017 test image\nUSER root\n", "D"
    )
    out = render.text(findings).splitlines()
    assert (
        out[0]
        == "D:1: MEDIUM CP102 base-image-latest: base image ubuntu:latest uses the latest tag"
    )
    assert out[-1] == "1 finding, 1 suppressed inline"


def test_rule_ids_are_stable_and_documented() -> None:
    assert all(rule_id == rule.id and rule.doc for rule_id, rule in RULES.items())
    assert DOCS.read_text() == render_markdown() + "\n"
