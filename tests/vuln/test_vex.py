from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from chainproof.errors import MalformedError, UnsupportedError
from chainproof.vuln.sbom_input import read_sbom
from chainproof.vuln.scan import scan_components
from chainproof.vuln.vex import parse_vex, read_vex

from .conftest import DATA

SBOM = DATA / "trivy-windows-servercore.cdx.json"


def _package_ids(findings: list) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(f.component, f.vuln_id) for f in findings if f.kind == "package"}


def test_openvex_suppresses_and_annotates(fixture_db: Path) -> None:
    result = scan_components(read_sbom(SBOM), fixture_db, vex=read_vex(DATA / "openvex.json"))
    assert _package_ids(result.findings) == {("System.Text.Json", "CVE-2024-43485")}
    (stj,) = [f for f in result.findings if f.kind == "package"]
    assert stj.vex_status == "under_investigation"
    (suppressed,) = result.suppressed
    assert (suppressed.vuln_id, suppressed.vex_status, suppressed.vex_justification) == (
        "CVE-2024-21907",
        "not_affected",
        "vulnerable_code_not_in_execute_path",
    )


def test_cyclonedx_vex_later_statement_wins(fixture_db: Path) -> None:
    statements = read_vex(DATA / "openvex.json") + read_vex(DATA / "cyclonedx-vex.json")
    result = scan_components(read_sbom(SBOM), fixture_db, vex=statements)
    assert _package_ids(result.findings) == set()
    assert {f.vuln_id for f in result.suppressed} == {"CVE-2024-21907", "CVE-2024-43485"}
    assert len([f for f in result.findings if f.kind == "windows"]) == 36


def test_vex_for_another_version_does_not_apply(fixture_db: Path) -> None:
    doc = json.loads((DATA / "openvex.json").read_text())
    doc["statements"][0]["products"] = ["pkg:nuget/Newtonsoft.Json@12.0.3"]
    statements = parse_vex(json.dumps(doc).encode(), "v")
    result = scan_components(read_sbom(SBOM), fixture_db, vex=statements)
    assert ("Newtonsoft.Json", "CVE-2024-21907") in _package_ids(result.findings)


def test_windows_finding_suppressed_by_product_name(fixture_db: Path) -> None:
    doc = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "statements": [
            {
                "vulnerability": "CVE-2024-20674",
                "products": ["Windows Server 2022 (Server Core installation)"],
                "status": "not_affected",
                "justification": "vulnerable_code_not_present",
            }
        ],
    }
    result = scan_components(
        read_sbom(SBOM), fixture_db, vex=parse_vex(json.dumps(doc).encode(), "v")
    )
    assert [f.vuln_id for f in result.suppressed] == ["CVE-2024-20674"]
    assert len([f for f in result.findings if f.kind == "windows"]) == 35


def test_vex_as_in_toto_attestation_in_dsse(fixture_db: Path) -> None:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha256": "0" * 64}}],
        "predicateType": "https://openvex.dev/ns/v0.2.0",
        "predicate": json.loads((DATA / "openvex.json").read_text()),
    }
    envelope = {
        "payloadType": "application/vnd.in-toto+json",
        "payload": base64.b64encode(json.dumps(statement).encode()).decode(),
        "signatures": [],
    }
    statements = parse_vex(json.dumps(envelope).encode(), "att")
    assert {s.status for s in statements} == {"not_affected", "under_investigation"}
    result = scan_components(read_sbom(SBOM), fixture_db, vex=statements)
    assert [f.vuln_id for f in result.suppressed] == ["CVE-2024-21907"]


def test_bad_vex_documents() -> None:
    with pytest.raises(UnsupportedError):
        parse_vex(b'{"hello": 1}', "x")
    with pytest.raises(MalformedError, match="unknown status"):
        parse_vex(b'{"statements": [{"vulnerability": "CVE-1", "status": "maybe"}]}', "x")
    with pytest.raises(MalformedError, match="base64"):
        parse_vex(b'{"payloadType": "x", "payload": "***"}', "x")
