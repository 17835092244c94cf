from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainproof.cli import main as cli_main

from .conftest import DATA


def test_import_status_scan(
    tmp_path: Path, cvrf_xml: Path, windows_fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "a.db")
    assert (
        cli_main.main(
            ["db", "import", "--db", db, str(cvrf_xml), str(windows_fixtures / "ghsa-nuget")]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "2024-Jan: 0 advisories, 862 MSRC fixes, 0 skipped" in out

    assert cli_main.main(["db", "status", "--db", db, "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["msrc_fixes"] == 862 and status["advisories"] == 2
    assert status["stale"] is True  # newest advisory is from 2024

    assert cli_main.main(["db", "status", "--db", db]) == 0
    captured = capsys.readouterr()
    assert "warning: advisory data is" in captured.err

    sbom = str(DATA / "trivy-windows-servercore.cdx.json")
    assert cli_main.main(["scan", "--sbom", sbom, "--db", db, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["schema"] == "chainproof.scan/v1"
    assert len(report["findings"]) == 38
    assert {f["kb"] for f in report["findings"] if f["kind"] == "windows"} == {"KB5034129"}

    assert cli_main.main(["scan", "--sbom", sbom, "--db", db, "--fail-on", "critical"]) == 1
    table = capsys.readouterr().out
    assert "KB5034129 (10.0.20348.2227)" in table
    assert "installation type unknown" in table

    assert cli_main.main(["scan", "--sbom", sbom, "--db", db, "--format", "sarif"]) == 0
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"][0]["results"]) == 38


def test_fail_on_threshold_not_reached(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "a.db")
    assert cli_main.main(["db", "import", "--db", db, str(DATA / "osv")]) == 0
    sbom = str(DATA / "syft-debian.spdx.json")
    # the test records are medium at most
    assert cli_main.main(["scan", "--sbom", sbom, "--db", db, "--fail-on", "high"]) == 0
    assert cli_main.main(["scan", "--sbom", sbom, "--db", db, "--fail-on", "medium"]) == 1
    capsys.readouterr()
    assert (
        cli_main.main(["scan", "--sbom", sbom, "--db", db, "--ignore-unfixed", "--format", "json"])
        == 0
    )
    ids = [f["component"] for f in json.loads(capsys.readouterr().out)["findings"]]
    assert "Requests_Toolbelt" not in ids and "requests" in ids


def test_bad_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "a.db")
    bad = tmp_path / "bad.xml"
    bad.write_text("<cvrf:cvrfdoc xmlns:cvrf='http://www.icasi.org/CVRF/schema/cvrf/1.1'><x>")
    assert cli_main.main(["db", "import", "--db", db, str(bad)]) == 2
    assert "malformed XML" in capsys.readouterr().err
    assert cli_main.main(["scan", "--sbom", str(tmp_path / "none.json"), "--db", db]) == 2
    assert cli_main.main(["db", "status", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no advisory database" in capsys.readouterr().err
    notsbom = tmp_path / "x.json"
    notsbom.write_text("{}")
    assert cli_main.main(["scan", "--sbom", str(notsbom), "--db", db]) == 2
    assert "not a CycloneDX or SPDX" in capsys.readouterr().err


def test_scan_with_vex(fixture_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sbom = str(DATA / "trivy-windows-servercore.cdx.json")
    argv = ["scan", "--sbom", sbom, "--db", str(fixture_db), "--vex", str(DATA / "openvex.json")]
    assert cli_main.main([*argv, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [f["id"] for f in report["suppressed"]] == ["CVE-2024-21907"]
    assert report["suppressed"][0]["vex"]["status"] == "not_affected"
    assert cli_main.main(argv) == 0
    assert "suppressed by VEX: CVE-2024-21907" in capsys.readouterr().out


def test_cyclonedx_output_reads_back_as_vex(
    fixture_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sbom = str(DATA / "trivy-windows-servercore.cdx.json")
    argv = ["scan", "--sbom", sbom, "--db", str(fixture_db), "--format", "cyclonedx"]
    assert cli_main.main([*argv, "--vex", str(DATA / "openvex.json")]) == 0
    bom = json.loads(capsys.readouterr().out)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    vulns = {(v["id"], v["affects"][0]["ref"]): v for v in bom["vulnerabilities"]}
    assert len(vulns) == 38
    win = [v for v in bom["vulnerabilities"] if v["source"]["name"] == "MSRC"]
    assert {v["recommendation"] for v in win} == {"Install KB5034129 (build 10.0.20348.2227)"}
    nj = vulns[("CVE-2024-21907", "pkg:nuget/Newtonsoft.Json@9.0.1")]
    assert nj["analysis"]["state"] == "not_affected"
    assert nj["recommendation"] == "Upgrade to 13.0.1"
    # the output is itself a CycloneDX VEX document chainproof reads back
    out = tmp_path / "out.cdx.json"
    out.write_text(json.dumps(bom))
    from chainproof.vuln.vex import read_vex

    assert sorted(s.status for s in read_vex(out)) == ["not_affected", "under_investigation"]
