"""``chainproof policy explain`` and ``policy test``."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pytest

from chainproof.cli.main import main
from tests.policy.conftest import Sample, write_policy

if TYPE_CHECKING:
    from pathlib import Path

POLICY = """
schema: chainproof.policy/v1
name: contoso
registries: {{allow: [mcr.microsoft.com, contoso.azurecr.io]}}
rules:
  - name: microsoft
    description: Microsoft base images
    match: {{images: ["mcr.microsoft.com/windows/**"]}}
    require_digest: true
    vulnerabilities: {{max_patch_age_days: 60}}
  - name: samples
    match: {{images: ["oci:**"]}}
    signatures: {{keys: [{key}]}}
waivers:
  - {{check: vuln.*, vulnerability: CVE-2024-21307, reason: mitigated, expires: 2027-01-31}}
"""


def test_explain(tmp_path: Path, sample: Sample, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_policy(tmp_path, POLICY.format(key=sample.key))
    image = "mcr.microsoft.com/windows/servercore@sha256:" + "c" * 64
    assert main(["policy", "explain", "--format", "json", str(path), image]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in report["rules"]] == ["microsoft"]
    assert report["rules"][0]["requires"]["vulnerabilities"] == {"max_patch_age_days": 60}
    assert report["denied_without_reading"] is False
    assert report["waivers"][0]["vulnerability"] == "cve-2024-21307"
    assert main(["policy", "explain", str(path), "docker.io/library/nginx:1"]) == 0
    text = capsys.readouterr().out
    assert "registry docker.io is not on the policy's allow list" in text
    assert "denied from the reference alone" in text


def test_policy_test_directory(
    tmp_path: Path, sample: Sample, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(sample.directory, tmp_path / "images" / "signed")
    write_policy(tmp_path, POLICY.format(key=sample.key))
    tests = tmp_path / "tests"
    tests.mkdir()
    write_policy(
        tests,
        """
        schema: chainproof.policy-test/v1
        policy: ../policy.yaml
        today: 2026-12-01
        cases:
          - name: the signed sample is admitted
            image: oci:../images/signed:ltsc2022
            expect: pass
            checks: {signature.verified: pass, policy.match: pass}
          - name: an unmatched image is denied
            image: ghcr.io/someone/else:1
            expect: fail
            checks: {policy.match: fail}
          - name: a wrong expectation is reported
            image: ghcr.io/someone/else:1
            expect: pass
        """,
        "cases.yaml",
    )
    assert main(["policy", "test", "--format", "json", str(tmp_path)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["cases"] == 3 and report["failed"] == 1
    passed = {r["case"]: r["passed"] for r in report["results"]}
    assert passed == {
        "the signed sample is admitted": True,
        "an unmatched image is denied": True,
        "a wrong expectation is reported": False,
    }
    [wrong] = [r for r in report["results"] if not r["passed"]]
    assert wrong["problems"] == [
        "verdict fail, expected pass (failing: policy.match, policy.registry)"
    ]


def test_policy_test_without_test_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test", str(tmp_path)]) == 2
    assert "no test files" in capsys.readouterr().err
